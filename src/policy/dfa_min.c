// SPDX-License-Identifier: MIT
/*
 * DFA minimization for dfa.c (interface in glob_int.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/dfa.h"
#include "policy/glob_int.h"

/*
 * Hopcroft's partition refinement, starting from "same accept set"; block[]
 * ends as the coarsest stable partition. Blocks live as ranges of elems[];
 * marking a state moves it to the front of its block's range. The worklist
 * holds whole blocks (all classes at once): a block that splits keeps its
 * place in it and its smaller half is added, which with one flag for every
 * class is the usual "both halves if it was waiting, else the smaller".
 */
struct part {
	uint32_t *elems, *loc, *blk;      /* per state */
	uint32_t *first, *end, *mid;      /* per block; [first, mid) marked */
	uint32_t *work, *touched;         /* block stacks */
	uint32_t nb, nwork, ntouched;
};

static void part_mark(struct part *P, uint32_t s)
{
	uint32_t b = P->blk[s], p = P->loc[s], q = P->mid[b], o;

	if (p < q)
		return;
	if (q == P->first[b])
		P->touched[P->ntouched++] = b;
	o = P->elems[q];
	P->elems[q] = s;
	P->loc[s] = q;
	P->elems[p] = o;
	P->loc[o] = p;
	P->mid[b] = q + 1;
}

/* Split the touched blocks into marked and unmarked states; the smaller
 * part becomes a new block and goes on the worklist. */
static void part_split(struct part *P)
{
	while (P->ntouched) {
		uint32_t b = P->touched[--P->ntouched], z = P->nb;

		if (P->mid[b] == P->end[b]) {
			P->mid[b] = P->first[b];
			continue;
		}
		if (P->mid[b] - P->first[b] <= P->end[b] - P->mid[b]) {
			P->first[z] = P->first[b];
			P->end[z] = P->mid[b];
			P->first[b] = P->mid[b];
		} else {
			P->first[z] = P->mid[b];
			P->end[z] = P->end[b];
			P->end[b] = P->mid[b];
		}
		P->mid[b] = P->first[b];
		P->mid[z] = P->first[z];
		for (uint32_t k = P->first[z]; k < P->end[z]; k++)
			P->blk[P->elems[k]] = z;
		P->nb++;
		P->work[P->nwork++] = z;
	}
}

int ap_dfa__minimize(const uint32_t *trans, size_t n, unsigned ncls,
		     const uint32_t *acc, size_t nacc, void **spare,
		     uint32_t *block, uint32_t *nblocks)
{
	size_t nedges = n * ncls, capbuf = 0;
	struct part P = { .blk = block };
	/* inverse transitions grouped by target */
	uint32_t *ioff = calloc(n + 1, sizeof(*ioff));
	/* source << 8 | class */
	uint32_t *inv = n <= AP_DFA_MIN_MAX_STATES && ncls <= 256
			? realloc(*spare, nedges * sizeof(*inv)) : NULL;
	uint32_t *cur = malloc(n * sizeof(*cur)), *buf = NULL;
	uint32_t *cnt = calloc(nacc + 1, sizeof(*cnt));
	uint32_t ccnt[256] = { 0 }, cpos[256], clist[256], big = 0;
	int ret = -ENOMEM;

	P.elems = malloc(n * sizeof(*P.elems));
	P.loc = malloc(n * sizeof(*P.loc));
	P.first = malloc(n * sizeof(*P.first));
	P.end = malloc(n * sizeof(*P.end));
	P.mid = malloc(n * sizeof(*P.mid));
	P.work = malloc(n * sizeof(*P.work));
	P.touched = malloc(n * sizeof(*P.touched));
	if (inv)
		*spare = NULL;
	else if (n > AP_DFA_MIN_MAX_STATES || ncls > 256)
		ret = -E2BIG;
	if (!ioff || !inv || !cur || !cnt || !P.elems || !P.loc ||
	    !P.first || !P.end || !P.mid || !P.work || !P.touched)
		goto cleanup;
	/* by runs of one target: a row has a handful of distinct targets,
	 * and incrementing one counter per transition would chain every
	 * store to the next load of the same counter */
	for (size_t e = 0; e < nedges;) {
		size_t r = e + 1;

		while (r < nedges && trans[r] == trans[e])
			r++;
		ioff[trans[e] + 1] += r - e;
		e = r;
	}
	for (size_t t = 0; t < n; t++)
		ioff[t + 1] += ioff[t];
	memcpy(cur, ioff, n * sizeof(*cur));
	for (size_t s = 0; s < n; s++) {
		const uint32_t *row = trans + s * ncls;

		for (size_t c = 0; c < ncls;) {
			uint32_t t = row[c], k = cur[t];

			do
				inv[k++] = (uint32_t)(s << 8 | c++);
			while (c < ncls && row[c] == t);
			cur[t] = k;
		}
	}

	/* initial blocks: states by accept set (counting sort) */
	for (size_t s = 0; s < n; s++)
		cnt[acc[s] + 1]++;
	for (size_t a = 0; a < nacc; a++)
		cnt[a + 1] += cnt[a];
	P.nb = 0;
	for (size_t a = 0; a < nacc; a++)
		if (cnt[a + 1] > cnt[a]) {
			P.first[P.nb] = P.mid[P.nb] = cnt[a];
			P.end[P.nb++] = cnt[a + 1];
		}
	for (size_t s = 0; s < n; s++) {
		uint32_t p = cnt[acc[s]]++;

		P.elems[p] = s;
		P.loc[s] = p;
	}
	for (uint32_t b = 0; b < P.nb; b++) {
		for (uint32_t k = P.first[b]; k < P.end[b]; k++)
			block[P.elems[k]] = b;
		if (P.end[b] - P.first[b] > P.end[big] - P.first[big])
			big = b;
	}
	/* stability against all blocks but one implies it against that one */
	for (uint32_t b = 0; b < P.nb; b++)
		if (b != big)
			P.work[P.nwork++] = b;

	while (P.nwork) {
		uint32_t a = P.work[--P.nwork], nc = 0, total = 0;

		/* the predecessors of a by class, gathered before a splits;
		 * classes in any order: the result is the same partition */
		for (uint32_t k = P.first[a]; k < P.end[a]; k++) {
			uint32_t t = P.elems[k];

			for (uint32_t e = ioff[t]; e < ioff[t + 1]; e++)
				if (!ccnt[inv[e] & 0xff]++)
					clist[nc++] = inv[e] & 0xff;
		}
		for (uint32_t j = 0; j < nc; j++) {
			cpos[clist[j]] = total;
			total += ccnt[clist[j]];
		}
		if (ap_dfa__grow((void **)&buf, &capbuf, total, sizeof(*buf)))
			goto cleanup;
		for (uint32_t k = P.first[a]; k < P.end[a]; k++) {
			uint32_t t = P.elems[k];

			for (uint32_t e = ioff[t]; e < ioff[t + 1]; e++)
				buf[cpos[inv[e] & 0xff]++] = inv[e] >> 8;
		}
		for (uint32_t j = 0, e = 0; j < nc; j++) {
			for (uint32_t end = e + ccnt[clist[j]]; e < end; e++)
				part_mark(&P, buf[e]);
			ccnt[clist[j]] = 0;
			part_split(&P);
		}
	}
	/* every state is reachable, so every block is a state of the result */
	if (P.nb > AP_MAX_DFA_STATES) {
		ret = -E2BIG;
		goto cleanup;
	}
	*nblocks = P.nb;
	ret = 0;
cleanup:
	free(ioff);
	free(inv);
	free(cur);
	free(buf);
	free(cnt);
	free(P.elems);
	free(P.loc);
	free(P.first);
	free(P.end);
	free(P.mid);
	free(P.work);
	free(P.touched);
	return ret;
}
