// SPDX-License-Identifier: MIT
/*
 * Many globs -> one minimal DFA over byte classes.
 *
 * 1. Every glob is parsed into a token program (glob_int.h): a tiny NFA
 *    whose states are positions and whose epsilon moves only go forward.
 * 2. Byte classes: the coarsest partition of 0..255 that no token set
 *    splits, with NUL, '/', and the AP_DFA_PREFIX_* bytes alone.
 * 3. Subset construction over the union of the NFAs, with a hash set of
 *    canonical (sorted) NFA-state sets and hard limits on states and on
 *    the bytes those sets take, so a pathological policy fails fast with
 *    -E2BIG instead of consuming memory.
 * 4. Moore refinement starting from "same accept set" to the minimal DFA.
 * 5. BFS renumbering from the start state in class order (dead = 0,
 *    start = 1), accept sets numbered by first appearance: the output is a
 *    pure function of the patterns and their order.
 * 6. Only when allowed (ap_dfa_builder__set_max_groups) and one automaton
 *    is too big: several automata over the same classes, concatenated into
 *    one table with their starts at 1..ngroups.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/dfa.h"
#include "policy/glob_int.h"

/* Limits on the unminimized automaton (the minimal one must then fit
 * AP_MAX_DFA_STATES): 4x the final limit, and the memory its NFA-state sets
 * and transition rows may take. */
#define BUILD_MAX_STATES (4u * AP_MAX_DFA_STATES)
#define BUILD_MAX_SET_WORDS (1u << 25)  /* 128 MiB of NFA state ids */
#define BUILD_MAX_TRANS (1u << 24)      /* 64 MiB of transitions */
/* When a too-big automaton can still be split into groups, give up on it
 * sooner: minimization removed a third of the states at most on the
 * benchmarks (bench/compile_dfa.c), and a premature "too big" only costs a
 * split, never a wrong answer. */
#define SPLIT_MAX_STATES (AP_MAX_DFA_STATES + AP_MAX_DFA_STATES / 2)

struct pat {
	unsigned id;
	enum ap_pattern_kind kind;
	struct ap_gprog prog;
};

struct ap_dfa_builder {
	struct pat *pats;
	size_t npats, cap;
	unsigned max_groups;
};

struct ap_dfa_builder *ap_dfa_builder__new(void)
{
	return calloc(1, sizeof(struct ap_dfa_builder));
}

void ap_dfa_builder__free(struct ap_dfa_builder *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->npats; i++)
		free(b->pats[i].prog.tok);
	free(b->pats);
	free(b);
}

int ap_dfa_builder__add(struct ap_dfa_builder *b, unsigned id,
			enum ap_pattern_kind kind, const char *glob,
			const char **err, size_t *err_off)
{
	struct ap_gprog prog;
	int ret;

	if (id >= AP_MAX_PATTERNS || kind > AP_PAT_UNIX) {
		*err = id >= AP_MAX_PATTERNS ? "pattern id out of range"
					     : "unknown pattern kind";
		*err_off = 0;
		return -EINVAL;
	}
	ret = ap_glob__parse(kind, glob, true, &prog, err, err_off);
	if (ret)
		return ret;
	if (b->npats == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct pat *p = realloc(b->pats, cap * sizeof(*p));

		if (!p) {
			free(prog.tok);
			*err = "out of memory";
			return -ENOMEM;
		}
		b->pats = p;
		b->cap = cap;
	}
	b->pats[b->npats++] = (struct pat){ .id = id, .kind = kind, .prog = prog };
	return 0;
}

void ap_dfa__free(struct ap_dfa *d)
{
	if (!d)
		return;
	free(d->trans);
	free(d->accept);
	free(d->sets);
	free(d);
}

unsigned ap_dfa__run(const struct ap_dfa *d, const char *s, size_t n)
{
	unsigned st = AP_DFA_START;

	for (size_t i = 0; i < n && st != AP_DFA_DEAD; i++)
		st = d->trans[(size_t)st * d->nclasses +
			      d->classes[(unsigned char)s[i]]];
	return d->accept[st];
}

unsigned ap_dfa__match(const struct ap_dfa *d, enum ap_pattern_kind kind,
		       const char *s, size_t n)
{
	unsigned st = AP_DFA_START;

	if (kind == AP_PAT_ARG || kind == AP_PAT_UNIX) {
		unsigned char pfx = kind == AP_PAT_ARG ? AP_DFA_PREFIX_ARG
						       : AP_DFA_PREFIX_UNIX;

		st = d->trans[(size_t)st * d->nclasses + d->classes[pfx]];
	}
	for (size_t i = 0; i < n && st != AP_DFA_DEAD; i++)
		st = d->trans[(size_t)st * d->nclasses +
			      d->classes[(unsigned char)s[i]]];
	return d->accept[st];
}

/* ---- growable arrays ---- */

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap ? *cap : 64;
	void *q;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	q = realloc(*p, c * elem);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

/* two words per multiply: the serial chain is what costs here */
static uint64_t hash_words(const uint32_t *w, size_t n, uint64_t h)
{
	size_t i = 0;

	for (; i + 1 < n; i += 2) {
		h ^= (uint64_t)w[i] | (uint64_t)w[i + 1] << 32;
		h *= 0x9e3779b97f4a7c15ull;
	}
	if (i < n)
		h = (h ^ w[i]) * 0x9e3779b97f4a7c15ull;
	h ^= n;
	return h ^ h >> 29 ^ h >> 41;
}

/* ---- construction state ---- */

struct nfa {
	size_t n;           /* NFA states */
	uint32_t *pat;      /* pattern index of each state */
	uint8_t *flags;     /* NF_* */
	uint8_t *skip;      /* epsilon jump, 0 = none */
	uint64_t (*mask)[4]; /* class mask of the token at this position */
};
#define NF_STAR   0x01
#define NF_ACCEPT 0x04

struct subsets {
	uint32_t *words;    /* concatenated sorted NFA-state sets */
	size_t nwords, capwords;
	uint32_t *off, *len;
	uint8_t *is_start;
	size_t n, cap;
	uint32_t *table;    /* open addressing, UINT32_MAX empty */
	size_t tcap;
};

#define ACC_TABLE (2 * AP_MAX_ACCEPT_SETS)
_Static_assert((ACC_TABLE & (ACC_TABLE - 1)) == 0 && ACC_TABLE <= 65536,
	       "accept-set table: power of two, ids fit __u16");

struct build {
	const struct ap_dfa_builder *b;
	const struct pat *const *pats; /* this automaton's patterns */
	size_t npats;
	size_t max_states;  /* unminimized */
	struct nfa nfa;
	uint8_t cls[256];
	unsigned ncls;
	unsigned cls_arg, cls_unix;
	struct subsets ss;
	uint32_t *trans;    /* ss.n * ncls */
	size_t captrans;
	uint32_t *acc;      /* pre-minimization accept id per state */
	size_t capacc;
	struct ap_accept_set *sets;
	size_t nsets, capsets;
	uint16_t *acctab;   /* ACC_TABLE slots of set ids, 0 empty */
	uint32_t *seeds;    /* members bucketed by class (successors()) */
	size_t capseeds;
	uint32_t bstart[257], bfill[256];
	uint32_t *stamp;    /* per NFA state, for dedup while collecting */
	uint32_t curstamp;
	uint32_t *tmp;      /* collected set */
	size_t ntmp, captmp;
};

static void compute_classes(struct build *B)
{
	const struct ap_dfa_builder *b = B->b;
	uint8_t cls[256], map[512];
	unsigned n = 1;

	/* refine "all bytes equal" by every token set and the fixed singletons */
	memset(cls, 0, sizeof(cls));
	for (size_t p = 0; p <= b->npats; p++) {
		size_t ntok = p < b->npats ? b->pats[p].prog.ntok : 4;

		for (size_t t = 0; t < ntok; t++) {
			uint64_t single[4] = { 0 };
			const uint64_t *set = single;
			unsigned m = 0;

			if (p < b->npats) {
				set = b->pats[p].prog.tok[t].set;
			} else {
				static const unsigned char fixed[4] = {
					0, '/', AP_DFA_PREFIX_ARG, AP_DFA_PREFIX_UNIX
				};
				single[fixed[t] >> 6] = 1ull << (fixed[t] & 63);
			}
			memset(map, 0xff, 2 * n);
			for (unsigned c = 0; c < 256; c++) {
				unsigned k = cls[c] * 2 + ap_gset_has(set, c);

				if (map[k] == 0xff)
					map[k] = m++;
				cls[c] = map[k];
			}
			n = m;
		}
	}
	/* canonical numbering: by the smallest byte of each class */
	memset(map, 0xff, 256);
	B->ncls = 0;
	for (unsigned c = 0; c < 256; c++) {
		if (map[cls[c]] == 0xff)
			map[cls[c]] = B->ncls++;
		B->cls[c] = map[cls[c]];
	}
	B->cls_arg = B->cls[(unsigned char)AP_DFA_PREFIX_ARG];
	B->cls_unix = B->cls[(unsigned char)AP_DFA_PREFIX_UNIX];
}

static int build_nfa(struct build *B)
{
	struct nfa *N = &B->nfa;
	size_t g = 0;

	for (size_t p = 0; p < B->npats; p++)
		N->n += B->pats[p]->prog.ntok + 1;
	N->pat = calloc(N->n + 1, sizeof(*N->pat));
	N->flags = calloc(N->n + 1, sizeof(*N->flags));
	N->skip = calloc(N->n + 1, sizeof(*N->skip));
	N->mask = calloc(N->n + 1, sizeof(*N->mask));
	B->stamp = calloc(N->n + 1, sizeof(*B->stamp));
	if (!N->pat || !N->flags || !N->skip || !N->mask || !B->stamp)
		return -ENOMEM;
	for (size_t p = 0; p < B->npats; p++) {
		const struct ap_gprog *pr = &B->pats[p]->prog;

		for (size_t i = 0; i <= pr->ntok; i++, g++) {
			N->pat[g] = p;
			if (i == pr->ntok) {
				N->flags[g] = NF_ACCEPT;
				continue;
			}
			N->flags[g] = pr->tok[i].star ? NF_STAR : 0;
			N->skip[g] = pr->tok[i].skip;
			for (unsigned c = 0; c < 256; c++)
				if (ap_gset_has(pr->tok[i].set, c))
					N->mask[g][B->cls[c] >> 6] |=
						1ull << (B->cls[c] & 63);
		}
	}
	return 0;
}

/* Add g and its epsilon closure to B->tmp. The star chain goes first and
 * skips after it, so the members come out (nearly) ascending. */
static int tmp_add_closure(struct build *B, uint32_t g)
{
	uint32_t first = g, last;

	/* a member already in the set brought its whole closure with it */
	if (B->stamp[g] == B->curstamp)
		return 0;
	for (;; g++) {
		if (B->stamp[g] != B->curstamp) {
			B->stamp[g] = B->curstamp;
			if (grow((void **)&B->tmp, &B->captmp, B->ntmp + 1,
				 sizeof(*B->tmp)))
				return -ENOMEM;
			B->tmp[B->ntmp++] = g;
		}
		if (!(B->nfa.flags[g] & NF_STAR))
			break;
	}
	last = g;
	for (g = first; g <= last; g++)
		if (B->nfa.skip[g]) {
			int ret = tmp_add_closure(B, g + B->nfa.skip[g]);

			if (ret)
				return ret;
		}
	return 0;
}

/* insertion sort: the collected sets are almost sorted already */
static void sort_u32(uint32_t *a, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		uint32_t v = a[i];
		size_t j = i;

		while (j > 0 && a[j - 1] > v) {
			a[j] = a[j - 1];
			j--;
		}
		a[j] = v;
	}
}

static int ss_rehash(struct subsets *ss, size_t tcap)
{
	uint32_t *t = malloc(tcap * sizeof(*t));

	if (!t)
		return -ENOMEM;
	memset(t, 0xff, tcap * sizeof(*t));
	for (size_t i = 0; i < ss->n; i++) {
		uint64_t h = hash_words(ss->words + ss->off[i], ss->len[i],
					ss->is_start[i] ? 7 : 3);
		size_t k = h & (tcap - 1);

		while (t[k] != UINT32_MAX)
			k = (k + 1) & (tcap - 1);
		t[k] = i;
	}
	free(ss->table);
	ss->table = t;
	ss->tcap = tcap;
	return 0;
}

/* Find or add the sorted set B->tmp; *id gets its DFA state number. */
static int ss_intern(struct build *B, bool is_start, uint32_t *id)
{
	struct subsets *ss = &B->ss;
	uint64_t h;
	size_t k;
	int ret;

	sort_u32(B->tmp, B->ntmp);
	h = hash_words(B->tmp, B->ntmp, is_start ? 7 : 3);
	for (k = h & (ss->tcap - 1); ss->table[k] != UINT32_MAX;
	     k = (k + 1) & (ss->tcap - 1)) {
		uint32_t i = ss->table[k];

		if (ss->len[i] == B->ntmp && ss->is_start[i] == is_start &&
		    !memcmp(ss->words + ss->off[i], B->tmp,
			    B->ntmp * sizeof(*B->tmp))) {
			*id = i;
			return 0;
		}
	}
	if (ss->n >= B->max_states ||
	    ss->nwords + B->ntmp > BUILD_MAX_SET_WORDS ||
	    (ss->n + 1) * B->ncls > BUILD_MAX_TRANS)
		return -E2BIG;
	if (grow((void **)&ss->words, &ss->capwords, ss->nwords + B->ntmp,
		 sizeof(*ss->words)))
		return -ENOMEM;
	if (ss->n == ss->cap) {
		size_t cap = ss->cap ? ss->cap * 2 : 256;
		uint32_t *o = realloc(ss->off, cap * sizeof(*o));

		if (!o)
			return -ENOMEM;
		ss->off = o;
		if (!(o = realloc(ss->len, cap * sizeof(*o))))
			return -ENOMEM;
		ss->len = o;
		uint8_t *s = realloc(ss->is_start, cap);
		if (!s)
			return -ENOMEM;
		ss->is_start = s;
		ss->cap = cap;
	}
	memcpy(ss->words + ss->nwords, B->tmp, B->ntmp * sizeof(*B->tmp));
	ss->off[ss->n] = ss->nwords;
	ss->len[ss->n] = B->ntmp;
	ss->is_start[ss->n] = is_start;
	ss->nwords += B->ntmp;
	*id = ss->n++;
	ss->table[k] = *id;
	if (ss->n * 2 > ss->tcap) {
		ret = ss_rehash(ss, ss->tcap * 2);
		if (ret)
			return ret;
	}
	return 0;
}

/* accept set of DFA state i -> pre-minimization id (0 = empty) */
static int intern_accept(struct build *B, uint32_t i, uint32_t *acc)
{
	const struct subsets *ss = &B->ss;
	struct ap_accept_set set = { 0 };
	bool any = false;
	uint64_t h;
	size_t k;

	for (uint32_t m = 0; m < ss->len[i]; m++) {
		uint32_t g = ss->words[ss->off[i] + m];

		if (B->nfa.flags[g] & NF_ACCEPT) {
			unsigned id = B->pats[B->nfa.pat[g]]->id;

			set.bits[id / 64] |= 1ull << (id % 64);
			any = true;
		}
	}
	if (!any) {
		*acc = 0;
		return 0;
	}
	/* the table holds at most AP_MAX_ACCEPT_SETS ids: never over half full */
	h = hash_words((const uint32_t *)set.bits, sizeof(set) / 4, 11);
	for (k = h & (ACC_TABLE - 1); B->acctab[k];
	     k = (k + 1) & (ACC_TABLE - 1))
		if (!memcmp(&B->sets[B->acctab[k]], &set, sizeof(set))) {
			*acc = B->acctab[k];
			return 0;
		}
	if (B->nsets >= AP_MAX_ACCEPT_SETS)
		return -E2BIG;
	if (grow((void **)&B->sets, &B->capsets, B->nsets + 1, sizeof(set)))
		return -ENOMEM;
	B->sets[B->nsets] = set;
	B->acctab[k] = B->nsets;
	*acc = B->nsets++;
	return 0;
}

/* At the very start the prefix bytes only advance patterns of their own
 * kind: a path glob never matches an argv element or a socket name. */
static bool advances(const struct build *B, bool is_start, uint32_t m, unsigned c)
{
	if (!is_start || (c != B->cls_arg && c != B->cls_unix))
		return true;
	return (int)B->pats[B->nfa.pat[m]]->kind ==
	       (c == B->cls_arg ? AP_PAT_ARG : AP_PAT_UNIX);
}

/* The transitions of DFA state i on every class. Members are distributed
 * into per-class buckets (a counting sort over the classes each member's
 * token consumes) so a literal position costs one class, not all of them. */
static int successors(struct build *B, uint32_t i)
{
	struct subsets *ss = &B->ss;
	uint32_t len = ss->len[i], off = ss->off[i], total = 0, id;
	bool is_start = ss->is_start[i];
	uint32_t *cnt = B->bstart;
	int ret;

	memset(cnt, 0, (B->ncls + 1) * sizeof(*cnt));
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t k = 0; k < len; k++) {
			uint32_t m = ss->words[off + k];

			if (B->nfa.flags[m] & NF_ACCEPT)
				continue;
			for (int w = 0; w < 4; w++)
				for (uint64_t bits = B->nfa.mask[m][w]; bits; bits &= bits - 1) {
					unsigned c = w * 64 + __builtin_ctzll(bits);

					if (!advances(B, is_start, m, c))
						continue;
					if (pass == 0)
						cnt[c + 1]++;
					else
						B->seeds[B->bfill[c]++] = m;
				}
		}
		if (pass == 0) {
			for (unsigned c = 0; c < B->ncls; c++) {
				cnt[c + 1] += cnt[c];
				B->bfill[c] = cnt[c];
			}
			total = cnt[B->ncls];
			if (grow((void **)&B->seeds, &B->capseeds, total + 1,
				 sizeof(*B->seeds)))
				return -ENOMEM;
		}
	}
	for (unsigned c = 0; c < B->ncls; c++) {
		B->curstamp++;
		B->ntmp = 0;
		for (uint32_t k = cnt[c]; k < cnt[c + 1]; k++) {
			uint32_t m = B->seeds[k];

			ret = tmp_add_closure(B, B->nfa.flags[m] & NF_STAR ? m : m + 1);
			if (ret)
				return ret;
		}
		ret = ss_intern(B, false, &id);
		if (ret)
			return ret;
		B->trans[(size_t)i * B->ncls + c] = id;
	}
	return 0;
}

static int subset_construction(struct build *B)
{
	struct subsets *ss = &B->ss;
	uint32_t id, g = 0;
	int ret;

	ret = ss_rehash(ss, 1024);
	if (ret)
		return ret;
	/* allocated up front so that the empty set compares and copies from
	 * real (if zero-length) buffers */
	if (grow((void **)&B->tmp, &B->captmp, 1, sizeof(*B->tmp)) ||
	    grow((void **)&ss->words, &ss->capwords, 1, sizeof(*ss->words)))
		return -ENOMEM;
	if (grow((void **)&B->sets, &B->capsets, 1, sizeof(*B->sets)))
		return -ENOMEM;
	B->acctab = calloc(ACC_TABLE, sizeof(*B->acctab));
	if (!B->acctab)
		return -ENOMEM;
	memset(&B->sets[0], 0, sizeof(B->sets[0]));
	B->nsets = 1;

	/* state 0: the empty set (dead); state 1: the start */
	B->ntmp = 0;
	ret = ss_intern(B, false, &id);
	if (ret)
		return ret;
	B->curstamp++;
	for (size_t p = 0; p < B->npats; p++) {
		ret = tmp_add_closure(B, g);
		if (ret)
			return ret;
		g += B->pats[p]->prog.ntok + 1;
	}
	ret = ss_intern(B, true, &id);
	if (ret)
		return ret;

	for (uint32_t i = 0; i < ss->n; i++) {
		if (grow((void **)&B->trans, &B->captrans,
			 (size_t)(i + 1) * B->ncls, sizeof(*B->trans)) ||
		    grow((void **)&B->acc, &B->capacc, i + 1, sizeof(*B->acc)))
			return -ENOMEM;
		ret = intern_accept(B, i, &B->acc[i]);
		if (ret)
			return ret;
		ret = successors(B, i);
		if (ret)
			return ret;
	}
	return 0;
}

/* Moore refinement; block[] ends as the coarsest stable partition. */
static int minimize(struct build *B, uint32_t *block, uint32_t *nblocks)
{
	size_t n = B->ss.n, ncls = B->ncls, tcap = 1024;
	uint32_t *nb = malloc(n * sizeof(*nb)), *rep = malloc(n * sizeof(*rep));
	uint32_t *table = NULL, cnt = 0, prev = 0;
	uint32_t *sig = malloc((ncls + 1) * sizeof(*sig));
	int ret = -ENOMEM;

	while (tcap < 2 * n)
		tcap *= 2;
	table = malloc(tcap * sizeof(*table));
	if (!nb || !rep || !table || !sig)
		goto cleanup;
	for (size_t i = 0; i < n; i++) {
		block[i] = B->acc[i];
		if (block[i] + 1 > prev)
			prev = block[i] + 1;
	}
	for (;;) {
		memset(table, 0xff, tcap * sizeof(*table));
		cnt = 0;
		for (size_t i = 0; i < n; i++) {
			const uint32_t *t = B->trans + i * ncls;
			uint64_t h;
			size_t k;

			sig[0] = block[i];
			for (size_t c = 0; c < ncls; c++)
				sig[c + 1] = block[t[c]];
			h = hash_words(sig, ncls + 1, 5);
			for (k = h & (tcap - 1); table[k] != UINT32_MAX;
			     k = (k + 1) & (tcap - 1)) {
				uint32_t r = rep[table[k]];
				const uint32_t *rt = B->trans + (size_t)r * ncls;
				size_t c;

				if (block[r] != sig[0])
					continue;
				for (c = 0; c < ncls; c++)
					if (block[rt[c]] != sig[c + 1])
						break;
				if (c == ncls)
					break;
			}
			if (table[k] == UINT32_MAX) {
				table[k] = cnt;
				rep[cnt++] = i;
			}
			nb[i] = table[k];
		}
		memcpy(block, nb, n * sizeof(*nb));
		/* blocks only ever split, and every state is reachable: past
		 * the limit now means past it at the end */
		if (cnt > AP_MAX_DFA_STATES) {
			ret = -E2BIG;
			goto cleanup;
		}
		if (cnt == prev)
			break;
		prev = cnt;
	}
	*nblocks = cnt;
	ret = 0;
cleanup:
	free(nb);
	free(rep);
	free(table);
	free(sig);
	return ret;
}

/* BFS renumbering from the start in class order; dead is 0, start 1. */
static int emit(struct build *B, const uint32_t *block, uint32_t nblocks,
		struct ap_dfa **out)
{
	size_t ncls = B->ncls;
	uint32_t *num = malloc(nblocks * sizeof(*num));
	uint32_t *rep = malloc(nblocks * sizeof(*rep));
	uint32_t *queue = malloc((nblocks + 1) * sizeof(*queue));
	uint32_t *accnum = malloc(B->nsets * sizeof(*accnum));
	uint32_t n = 0, head = 0, nacc = 1, dead = block[0];
	struct ap_dfa *d = NULL;
	int ret = -ENOMEM;

	if (!num || !rep || !queue || !accnum)
		goto cleanup;
	memset(num, 0xff, nblocks * sizeof(*num));
	memset(accnum, 0xff, B->nsets * sizeof(*accnum));
	accnum[0] = 0;
	for (size_t i = B->ss.n; i-- > 0;)
		rep[block[i]] = i;
	num[dead] = n++;
	/* the start gets 1 even when it is equivalent to dead (no pattern can
	 * match): the walker always begins at AP_DFA_START */
	queue[0] = block[1];
	if (block[1] != dead)
		num[block[1]] = n;
	n++;
	for (uint32_t qn = 1; head < qn; head++) {
		uint32_t r = rep[queue[head]];

		for (size_t c = 0; c < ncls; c++) {
			uint32_t to = block[B->trans[(size_t)r * ncls + c]];

			if (num[to] == UINT32_MAX) {
				num[to] = n++;
				queue[qn++] = to;
			}
		}
	}
	if (n > AP_MAX_DFA_STATES) {
		ret = -E2BIG;
		goto cleanup;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		goto cleanup;
	d->nstates = n;
	d->nclasses = ncls;
	d->ngroups = 1;
	memcpy(d->classes, B->cls, 256);
	d->trans = calloc((size_t)n * ncls, sizeof(*d->trans));
	d->accept = calloc(n, sizeof(*d->accept));
	d->sets = calloc(B->nsets, sizeof(*d->sets));
	if (!d->trans || !d->accept || !d->sets)
		goto cleanup;
	/* walk states in final order so accept ids follow it too */
	{
		uint32_t *byn = malloc(n * sizeof(*byn));

		if (!byn)
			goto cleanup;
		for (uint32_t k = 0; k < nblocks; k++)
			if (num[k] != UINT32_MAX)
				byn[num[k]] = k;
		byn[1] = block[1];
		for (uint32_t s = 0; s < n; s++) {
			uint32_t r = rep[byn[s]], a = B->acc[r];

			if (s == 1 && block[1] == dead) {
				/* trans and accept stay 0 */
				continue;
			}
			for (size_t c = 0; c < ncls; c++)
				d->trans[(size_t)s * ncls + c] =
					num[block[B->trans[(size_t)r * ncls + c]]];
			if (accnum[a] == UINT32_MAX) {
				accnum[a] = nacc;
				d->sets[nacc++] = B->sets[a];
			}
			d->accept[s] = accnum[a];
		}
		free(byn);
	}
	d->naccept = nacc;
	*out = d;
	d = NULL;
	ret = 0;
cleanup:
	ap_dfa__free(d);
	free(num);
	free(rep);
	free(queue);
	free(accnum);
	return ret;
}

/* One automaton for `npats` of the builder's patterns, over the classes
 * of all of them. */
static int build_one(const struct build *classes, const struct pat *const *pats,
		     size_t npats, bool can_split, struct ap_dfa **out)
{
	struct build B = { .b = classes->b, .pats = pats, .npats = npats,
			   .max_states = can_split ? SPLIT_MAX_STATES
						   : BUILD_MAX_STATES };
	uint32_t *block = NULL, nblocks = 0;
	int ret;

	*out = NULL;
	memcpy(B.cls, classes->cls, sizeof(B.cls));
	B.ncls = classes->ncls;
	B.cls_arg = classes->cls_arg;
	B.cls_unix = classes->cls_unix;
	ret = build_nfa(&B);
	if (ret)
		goto cleanup;
	ret = subset_construction(&B);
	if (ret)
		goto cleanup;
	block = malloc(B.ss.n * sizeof(*block));
	if (!block) {
		ret = -ENOMEM;
		goto cleanup;
	}
	ret = minimize(&B, block, &nblocks);
	if (ret)
		goto cleanup;
	ret = emit(&B, block, nblocks, out);
cleanup:
	free(block);
	free(B.nfa.pat);
	free(B.nfa.flags);
	free(B.nfa.skip);
	free(B.nfa.mask);
	free(B.stamp);
	free(B.tmp);
	free(B.seeds);
	free(B.ss.words);
	free(B.ss.off);
	free(B.ss.len);
	free(B.ss.is_start);
	free(B.ss.table);
	free(B.trans);
	free(B.acc);
	free(B.sets);
	free(B.acctab);
	return ret;
}

int ap_dfa_builder__set_max_groups(struct ap_dfa_builder *b, unsigned n)
{
	if (n < 1 || n > AP_DFA_MAX_GROUPS)
		return -EINVAL;
	b->max_groups = n;
	return 0;
}

/* Concatenate group automata (same classes): dead 0, the starts 1..G, then
 * each group's other states in group order; accept ids likewise. */
static int merge_groups(struct ap_dfa *const *g, unsigned ng, struct ap_dfa **out)
{
	uint32_t base[AP_DFA_MAX_GROUPS], abase[AP_DFA_MAX_GROUPS];
	uint32_t n = 1 + ng, na = 1, ncls = g[0]->nclasses;
	struct ap_dfa *d;

	for (unsigned k = 0; k < ng; k++) {
		base[k] = n;
		n += g[k]->nstates - 2;
		abase[k] = na;
		na += g[k]->naccept - 1;
	}
	if (n > AP_MAX_DFA_STATES || na > AP_MAX_ACCEPT_SETS)
		return -E2BIG;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->nstates = n;
	d->nclasses = ncls;
	d->naccept = na;
	d->ngroups = ng;
	memcpy(d->classes, g[0]->classes, sizeof(d->classes));
	d->trans = calloc((size_t)n * ncls, sizeof(*d->trans));
	d->accept = calloc(n, sizeof(*d->accept));
	d->sets = calloc(na, sizeof(*d->sets));
	if (!d->trans || !d->accept || !d->sets) {
		ap_dfa__free(d);
		return -ENOMEM;
	}
	for (unsigned k = 0; k < ng; k++) {
		const struct ap_dfa *s = g[k];

#define MAP(st) ((st) == 0 ? 0u : (st) == 1 ? 1u + k : base[k] + (st) - 2)
		for (uint32_t st = 1; st < s->nstates; st++) {
			uint32_t to = MAP(st);

			for (uint32_t c = 0; c < ncls; c++)
				d->trans[(size_t)to * ncls + c] =
					MAP(s->trans[(size_t)st * ncls + c]);
			d->accept[to] = s->accept[st] ? abase[k] + s->accept[st] - 1 : 0;
		}
#undef MAP
		memcpy(&d->sets[abase[k]], &s->sets[1],
		       (s->naccept - 1) * sizeof(*d->sets));
	}
	*out = d;
	return 0;
}

/* A path-kind glob that can start matching anywhere: "**" + "/x", "*x",
 * and "/" + "**" + "/x" (how base-name program globs are lowered). */
static bool unanchored(const struct pat *p)
{
	const struct ap_gtok *t = p->prog.tok;

	return p->kind < AP_PAT_ARG && p->prog.ntok &&
	       (t[0].star || (p->prog.ntok > 1 && t[1].star && t[1].skip));
}

int ap_dfa_builder__build(struct ap_dfa_builder *b, struct ap_dfa **out)
{
	struct build C = { .b = b };
	const struct pat **order = NULL;
	struct { size_t lo, hi; } grp[AP_DFA_MAX_GROUPS];
	struct ap_dfa *g[AP_DFA_MAX_GROUPS] = { 0 };
	unsigned ng = 0, max = b->max_groups ? b->max_groups : 1;
	size_t n = 0, nanch;
	int ret;

	*out = NULL;
	compute_classes(&C);
	order = malloc((b->npats + 1) * sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < b->npats; i++)
		order[i] = &b->pats[i];
	ret = build_one(&C, order, b->npats, max > 1, out);
	if (ret != -E2BIG || max == 1)
		goto cleanup;

	/* Too big as one automaton: the usual cause is the product of globs
	 * that match anywhere with the anchored ones, so those go apart
	 * first; a group still too big is halved while groups remain. The
	 * order is fixed by the patterns', so the result stays reproducible. */
	for (size_t i = 0; i < b->npats; i++)
		if (!unanchored(&b->pats[i]))
			order[n++] = &b->pats[i];
	if (n) {
		grp[ng].lo = 0;
		grp[ng++].hi = n;
	}
	nanch = n;
	for (size_t i = 0; i < b->npats; i++)
		if (unanchored(&b->pats[i]))
			order[n++] = &b->pats[i];
	if (n > nanch) {
		grp[ng].lo = nanch;
		grp[ng++].hi = n;
	}
	for (unsigned k = 0; k < ng;) {
		bool can_split = ng < max && grp[k].hi - grp[k].lo > 1;

		ret = build_one(&C, order + grp[k].lo, grp[k].hi - grp[k].lo,
				can_split, &g[k]);
		if (ret == -E2BIG && can_split) {
			memmove(&grp[k + 2], &grp[k + 1], (ng - k - 1) * sizeof(grp[0]));
			grp[k + 1].hi = grp[k].hi;
			grp[k].hi = grp[k + 1].lo = (grp[k].lo + grp[k].hi) / 2;
			ng++;
			continue;
		}
		if (ret)
			goto cleanup;
		k++;
	}
	ret = merge_groups(g, ng, out);
cleanup:
	for (unsigned k = 0; k < AP_DFA_MAX_GROUPS; k++)
		ap_dfa__free(g[k]);
	free(order);
	return ret;
}

unsigned ap_dfa__match_set(const struct ap_dfa *d, enum ap_pattern_kind kind,
			   const char *s, size_t n, struct ap_accept_set *out)
{
	unsigned any = 0;

	memset(out, 0, sizeof(*out));
	for (uint32_t k = 0; k < (d->ngroups ? d->ngroups : 1); k++) {
		unsigned st = AP_DFA_START + k;
		const struct ap_accept_set *set;

		if (kind == AP_PAT_ARG || kind == AP_PAT_UNIX)
			st = d->trans[(size_t)st * d->nclasses +
				      d->classes[kind == AP_PAT_ARG
						 ? AP_DFA_PREFIX_ARG
						 : AP_DFA_PREFIX_UNIX]];
		for (size_t i = 0; i < n && st != AP_DFA_DEAD; i++)
			st = d->trans[(size_t)st * d->nclasses +
				      d->classes[(unsigned char)s[i]]];
		if (!d->accept[st])
			continue;
		set = &d->sets[d->accept[st]];
		for (int w = 0; w < AP_PATTERN_WORDS; w++)
			out->bits[w] |= set->bits[w];
		any = 1;
	}
	return any;
}
