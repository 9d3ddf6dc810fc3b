/* SPDX-License-Identifier: Dual BSD/GPL */
/*
 * The policy automaton, walked one byte per bpf_loop step over a string in
 * the per-CPU scratch. The tables are the blob's (bpf/abi.h "the DFA");
 * one pass matches a string against every pattern of the policy.
 */
#ifndef AP_ENGINE_DFA_BPF_H
#define AP_ENGINE_DFA_BPF_H

#include "engine_maps.bpf.h"

/* the tables and their maps (ap_dfa_classes, ap_dfa_trans, ap_dfa_accept,
 * ap_accept_sets) are the automaton's own (dfa.bpf.h, dfa_abi.h); the engine
 * walks them over counted strings in its scratch rather than NUL-terminated
 * buffers, so it has its own step */
#include "dfa.bpf.h"

/* the strings live in the first part of struct ap_scratch: buf[2], norm[2] */
#define AP_SCR_STR_BYTES (2 * AP_BUF_SIZE + 2 * AP_PATH_MAX)

struct ap_eng_dfa_walk {
	__u32 state;
	__u32 pos;   /* offset of the string in the scratch */
};

static __always_inline __u32 ap_dfa_next(__u32 state, __u8 ch)
{
	__u32 zero = 0, idx, key;
	struct ap_dfa_kconf *cl = bpf_map_lookup_elem(&ap_dfa_classes, &zero);
	struct ap_dfa_trans_chunk *chunk;

	if (!cl)
		return AP_DFA_DEAD;
	idx = state * cl->nclasses + cl->classes[ch];
	key = idx / AP_DFA_TRANS_CHUNK;
	chunk = bpf_map_lookup_elem(&ap_dfa_trans, &key);
	return chunk ? chunk->next[idx & (AP_DFA_TRANS_CHUNK - 1)] : AP_DFA_DEAD;
}

static long ap_dfa_str_step(__u32 i, struct ap_eng_dfa_walk *w)
{
	struct ap_scratch *s = ap_scr();
	__u32 idx = w->pos + i;

	if (!s || idx >= AP_SCR_STR_BYTES) {
		w->state = AP_DFA_DEAD;
		return 1;
	}
	w->state = ap_dfa_next(w->state, ((__u8 *)s)[idx]);
	return w->state == AP_DFA_DEAD;
}

/* Walk len bytes at scratch offset pos from state; returns the end state. */
static __always_inline __u32 ap_dfa_run_str(__u32 state, __u32 pos, __u32 len)
{
	struct ap_eng_dfa_walk w = { .state = state, .pos = pos };

	if (state == AP_DFA_DEAD || !len)
		return state;
	bpf_loop(len, ap_dfa_str_step, &w, 0);
	return w.state;
}

/* OR the accept set of `state` into dst. */
static __always_inline void ap_dfa_accept_or(__u32 state, struct ap_accept_set *dst)
{
	__u16 *acc;
	__u32 id;
	struct ap_accept_set *set;

	if (state == AP_DFA_DEAD)
		return;
	acc = bpf_map_lookup_elem(&ap_dfa_accept, &state);
	if (!acc || !*acc)
		return;
	id = *acc;
	set = bpf_map_lookup_elem(&ap_accept_sets, &id);
	if (!set)
		return;
#pragma unroll
	for (int k = 0; k < AP_PATTERN_WORDS; k++)
		dst->bits[k] |= set->bits[k];
}

static __always_inline bool ap_set_has(const struct ap_accept_set *s, __u32 id)
{
	if (id >= AP_MAX_PATTERNS)
		return false;
	return (s->bits[id / 64] >> (id % 64)) & 1;
}

static __always_inline bool ap_set_empty(const struct ap_accept_set *s)
{
	__u64 any = 0;

#pragma unroll
	for (int k = 0; k < AP_PATTERN_WORDS; k++)
		any |= s->bits[k];
	return !any;
}

static __always_inline void ap_set_clear(struct ap_accept_set *s)
{
#pragma unroll
	for (int k = 0; k < AP_PATTERN_WORDS; k++)
		s->bits[k] = 0;
}

/* the patterns the string at scratch offset `off` matches, into set[which]
 * (cleared first). Separately verified. */
__attribute__((noinline)) int ap_match_g(__u32 off, __u32 len, int which)
{
	struct ap_scratch *s = ap_scr();
	struct ap_accept_set *set;
	__u32 st;

	if (!s)
		return 0;
	set = which ? &s->set2 : &s->set;
	ap_set_clear(set);
	st = ap_dfa_run_str(AP_DFA_START, off, len);
	ap_dfa_accept_or(st, set);
	return st != AP_DFA_DEAD;
}

/*
 * Renaming or removing a directory is that operation on every path below
 * it (policy-language.md section 3): OR into set[which] the patterns that
 * match "P/" followed by one byte no pattern names. That adds "P/" + "**"
 * and "P/" + "*" (and patterns ending in "**"), not a pattern like "**" +
 * "/" + "*.py", which needs more than an unknown byte; for a plain file P
 * the patterns it adds cannot matter.
 */
__attribute__((noinline)) int ap_match_below_g(__u32 off, __u32 len, int which)
{
	struct ap_scratch *s;
	__u32 st = ap_dfa_run_str(AP_DFA_START, off, len);

	st = ap_dfa_next(st, '/');
	st = ap_dfa_next(st, 0x03);
	s = ap_scr();
	if (!s)
		return 0;
	ap_dfa_accept_or(st, which ? &s->set2 : &s->set);
	return 0;
}

#endif
