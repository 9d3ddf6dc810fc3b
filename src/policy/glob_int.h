/* SPDX-License-Identifier: MIT */
/*
 * Private to glob.c, dfa.c and dfa_min.c: a parsed glob as a linear token
 * program, and the automaton minimizer.
 *
 * A glob of n tokens is an NFA over positions 0..n (n accepts): token i
 * either consumes one byte of `set` (i -> i+1) or, when `star`, loops on
 * `set` at i with an epsilon move to i+1; `skip` adds an epsilon move
 * i -> i+skip. The optional directory group (whole-component `**` then '/')
 * is three tokens: an empty star as its entry carrying skip = 3, a star on
 * every byte, and '/'; the skip leaves from the entry, which has consumed
 * nothing. Every epsilon move goes forward, so closures are small and need
 * no fixpoint.
 */
#ifndef AP_POLICY_GLOB_INT_H
#define AP_POLICY_GLOB_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/dfa.h"

struct ap_gtok {
	uint64_t set[4]; /* bytes this token consumes */
	uint8_t star;    /* loop on set, epsilon to the next position */
	uint8_t skip;    /* epsilon from this position to position + skip */
};

struct ap_gprog {
	struct ap_gtok *tok;
	size_t ntok;
};

static inline bool ap_gset_has(const uint64_t set[4], unsigned char c)
{
	return set[c >> 6] >> (c & 63) & 1;
}

/* Parse glob for kind. With `prefixed`, ARG and UNIX programs start with a
 * token consuming their AP_DFA_PREFIX_* byte (what the automaton sees).
 * 0, -ENOMEM, or -EINVAL with *err (static) and *err_off set. The caller
 * frees p->tok. */
int ap_glob__parse(enum ap_pattern_kind kind, const char *glob, bool prefixed,
		   struct ap_gprog *p, const char **err, size_t *err_off);

/*
 * The coarsest partition of the n states of a complete DFA (trans: n rows
 * of ncls successors) that refines "same acc[] value" (values < nacc) and
 * is stable under every class, by Hopcroft's algorithm. block[s] gets the
 * block of state s, *nblocks their number; the numbering is arbitrary,
 * only the partition is determined. *spare is a buffer the caller no
 * longer needs (or NULL): it is reused, and set to NULL when taken.
 * 0, -ENOMEM, or -E2BIG when more than AP_MAX_DFA_STATES blocks remain or
 * n > AP_DFA_MIN_MAX_STATES.
 */
/* realloc *p to hold at least `need` elements of `elem` bytes (capacity
 * doubles from 64); 0 or -ENOMEM, *p untouched on failure */
int ap_dfa__grow(void **p, size_t *cap, size_t need, size_t elem);

#define AP_DFA_MIN_MAX_STATES ((1u << 24) - 1)
int ap_dfa__minimize(const uint32_t *trans, size_t n, unsigned ncls,
		     const uint32_t *acc, size_t nacc, void **spare,
		     uint32_t *block, uint32_t *nblocks);

#endif
