// SPDX-License-Identifier: MIT
/*
 * The compiled blob into the engine's policy maps. Tables keep their blob
 * indices (conds, gates, since, lineage, sources, keeps and endpoints are
 * referred to by index), except clauses, which the kernel keeps sorted by
 * op so that an operation walks only its own clauses.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/log.h"
#include "engine_int.h"
#include "policy/blob.h"
#include "policy/dfa.h"
#include "engine.skel.h"

int ap_clause_order__build(const struct ap_blob_view *b, struct ap_clause_order *o)
{
	uint32_t n = b->hdr->nclauses, slot = 0;

	memset(o, 0, sizeof(*o));
	o->idx = calloc(n ? n : 1, sizeof(*o->idx));
	if (!o->idx)
		return -ENOMEM;
	for (unsigned op = 0; op < AP_OP__COUNT; op++) {
		o->first[op] = slot;
		for (uint32_t i = 0; i < n; i++)
			if (b->clauses[i].op == op)
				o->idx[slot++] = i;
		o->count[op] = slot - o->first[op];
	}
	o->n = slot; /* clauses with an op the kernel never sees are dropped */
	return 0;
}

void ap_clause_order__free(struct ap_clause_order *o)
{
	if (!o)
		return;
	free(o->idx);
	o->idx = NULL;
}

unsigned ap_engine__degraded_mask(const struct ap_blob_view *b)
{
	unsigned m = 0;

	for (uint32_t i = 0; i < b->hdr->nclauses; i++) {
		unsigned e = b->clauses[i].effect;

		if (e == AP_EFFECT_BLOCK || e == AP_EFFECT_ASK)
			m |= 1u << e;
	}
	return m;
}

static int fill_array(struct bpf_map *map, const void *base, size_t elem,
		      uint32_t n, const char *what)
{
	int fd = bpf_map__fd(map);

	for (uint32_t i = 0; i < n; i++) {
		if (bpf_map_update_elem(fd, &i, (const char *)base + (size_t)i * elem,
					BPF_ANY)) {
			int err = -errno;

			ap_err("engine: filling %s[%u]: %s", what, i, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* an ap_dfa that points into the blob (the automaton's own fill code) */
static void dfa_of_blob(const struct ap_blob_view *b, struct ap_dfa *d)
{
	memset(d, 0, sizeof(*d));
	d->nstates = b->hdr->ndfa_states;
	d->nclasses = b->hdr->ndfa_classes;
	if (b->dfa_classes)
		memcpy(d->classes, b->dfa_classes, sizeof(d->classes));
	d->trans = (uint16_t *)b->dfa_trans;
	d->accept = (uint16_t *)b->dfa_accept;
	d->naccept = b->hdr->naccept;
	d->sets = (struct ap_accept_set *)b->accept_sets;
	d->ngroups = AP_BLOB_DFA_GROUPS(b->hdr->flags); /* lower.c may split the DFA */
}

int ap_engine_maps__fill(struct engine_bpf *skel, const struct ap_blob_view *b,
			 const struct ap_clause_order *o)
{
	const struct ap_blob_header *h = b->hdr;
	struct ap_dfa d;
	int fd = bpf_map__fd(skel->maps.ap_clauses), err;

	for (uint32_t slot = 0; slot < o->n; slot++) {
		if (bpf_map_update_elem(fd, &slot, &b->clauses[o->idx[slot]], BPF_ANY)) {
			err = -errno;
			ap_err("engine: filling clauses: %s", strerror(-err));
			return err;
		}
	}
	if ((err = fill_array(skel->maps.ap_conds, b->conds, sizeof(*b->conds),
			      h->nconds, "conds")) ||
	    (err = fill_array(skel->maps.ap_gates, b->gates, sizeof(*b->gates),
			      h->ngates, "gates")) ||
	    (err = fill_array(skel->maps.ap_since, b->since, sizeof(*b->since),
			      h->nsince, "since")) ||
	    (err = fill_array(skel->maps.ap_lineage, b->lineage, sizeof(*b->lineage),
			      h->nlineage, "lineage")) ||
	    (err = fill_array(skel->maps.ap_sources, b->sources, sizeof(*b->sources),
			      h->nsources, "sources")) ||
	    (err = fill_array(skel->maps.ap_keeps, b->keeps, sizeof(*b->keeps),
			      h->nkeeps, "keeps")) ||
	    (err = fill_array(skel->maps.ap_endpoints, b->endpoints,
			      sizeof(*b->endpoints), h->nendpoints, "endpoints")))
		return err;
	if (!h->ndfa_states)
		return 0;
	dfa_of_blob(b, &d);
	err = ap_dfa__fill_maps(&d, bpf_map__fd(skel->maps.ap_dfa_classes),
				bpf_map__fd(skel->maps.ap_dfa_trans),
				bpf_map__fd(skel->maps.ap_dfa_accept),
				bpf_map__fd(skel->maps.ap_accept_sets));
	if (err)
		ap_err("engine: filling the automaton: %s", strerror(err < 0 ? -err : err));
	return err;
}

/* ---- names of existing files, for hard links made before the session ---- */
static struct {
	struct ap_dfa dfa;
	int fd;
	long budget;
	long added;
} learn;

static int learn_one(const char *path, const struct stat *st, int type,
		     struct FTW *ftw)
{
	struct ap_file_key k = { 0 };
	struct ap_accept_set cur;
	unsigned id;

	if (learn.budget-- <= 0)
		return 1;
	/* every file, not only those already linked twice: a link made during
	 * the session must still carry the patterns of this name */
	if (type != FTW_F)
		return 0;
	id = ap_dfa__run(&learn.dfa, path, strlen(path));
	if (!id || id >= learn.dfa.naccept)
		return 0;
	k.ino = st->st_ino;
	/* the kernel's s_dev encoding (MKDEV: major << 20 | minor) */
	k.dev = (uint32_t)(major(st->st_dev) << 20 | minor(st->st_dev));
	if (bpf_map_lookup_elem(learn.fd, &k, &cur))
		memset(&cur, 0, sizeof(cur));
	for (int w = 0; w < AP_PATTERN_WORDS; w++)
		cur.bits[w] |= learn.dfa.sets[id].bits[w];
	if (!bpf_map_update_elem(learn.fd, &k, &cur, BPF_ANY))
		learn.added++;
	return 0;
}

/* A glob without wildcards names one file: unescape it into out. */
static bool glob_literal(const char *glob, char *out, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; glob[i]; i++) {
		char c = glob[i];

		if (c == '*' || c == '?' || c == '[')
			return false;
		if (c == '\\' && glob[i + 1])
			c = glob[++i];
		if (n + 1 >= size)
			return false;
		out[n++] = c;
	}
	out[n] = 0;
	return n > 0;
}

long ap_engine_maps__learn_names(struct engine_bpf *skel,
				 const struct ap_blob_view *b, long budget)
{
	char dir[AP_PATH_MAX];

	if (!b->hdr->ndfa_states)
		return 0;
	dfa_of_blob(b, &learn.dfa);
	learn.fd = bpf_map__fd(skel->maps.ap_inode_pats);
	learn.budget = budget;
	learn.added = 0;
	for (uint32_t i = 0; i < b->hdr->npatterns && learn.budget > 0; i++) {
		const struct ap_pattern_meta *pm = &b->patterns[i];
		const char *glob = ap_blob__str(b, pm->lowered);

		if (pm->kind != AP_PAT_PATH && pm->kind != AP_PAT_PROGRAM)
			continue;
		/* one file (the session guard's policy file, a rule on one
		 * path): look at it, not at the whole directory around it */
		if (glob_literal(glob, dir, sizeof(dir))) {
			struct stat st;
			struct FTW ftw = { 0 };

			if (!lstat(dir, &st))
				learn_one(dir, &st, S_ISREG(st.st_mode) ? FTW_F : FTW_SL, &ftw);
			continue;
		}
		if (ap_glob_literal_dir(glob, dir, sizeof(dir)) || !strcmp(dir, "/") ||
		    !dir[0])
			continue; /* "**" patterns: too wide to walk at load */
		nftw(dir, learn_one, 16, FTW_PHYS | FTW_MOUNT);
	}
	return learn.added;
}
