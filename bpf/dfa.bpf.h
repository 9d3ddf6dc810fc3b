/* SPDX-License-Identifier: Dual BSD/GPL */
/*
 * The kernel half of the pattern automaton: walks the tables that
 * src/policy/dfa.c builds (layout in dfa_abi.h) over a NUL-terminated string
 * and returns the accept-set id, exactly like ap_dfa__run().
 *
 * Include once per BPF object, after "vmlinux.h" and <bpf/bpf_helpers.h>:
 * this header defines the maps. An object linked from several .bpf.c files
 * defines AP_DFA_MAPS_EXTERN in all but one of them.
 *
 * User space sizes the maps before load (ap_dfa__size_maps) and fills them
 * after (ap_dfa__fill_maps). The walk is a bpf_loop (5.17+) whose callback
 * takes one byte per iteration, so the verifier sees one small body however
 * long the string is (up to AP_DFA_INPUT_MAX bytes), and it stops at NUL or
 * at the dead state.
 */
#ifndef ACTPLANE_DFA_BPF_H
#define ACTPLANE_DFA_BPF_H

#include "dfa_abi.h"

#ifdef AP_DFA_MAPS_EXTERN
#define AP_DFA__MAP extern
#else
#define AP_DFA__MAP
#endif

AP_DFA__MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ap_dfa_kconf);
} ap_dfa_classes SEC(".maps");

/* max_entries: ceil(nstates * nclasses / AP_DFA_TRANS_CHUNK), set before load */
AP_DFA__MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ap_dfa_trans_chunk);
} ap_dfa_trans SEC(".maps");

/* max_entries: nstates */
AP_DFA__MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u16);
} ap_dfa_accept SEC(".maps");

/* max_entries: naccept */
AP_DFA__MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ap_accept_set);
} ap_accept_sets SEC(".maps");

struct ap_dfa__walk {
	const char *buf;                 /* >= AP_DFA_INPUT_MAX bytes */
	const struct ap_dfa_kconf *conf;
	__u32 pos;
	__u32 state;
};

static long ap_dfa__step(__u32 i, void *data)
{
	struct ap_dfa__walk *w = data;
	const struct ap_dfa_trans_chunk *ch;
	__u32 pos = w->pos, idx, key;
	unsigned char c;

	if (pos >= AP_DFA_INPUT_MAX)
		return 1;
	c = w->buf[pos];
	if (!c)
		return 1;
	idx = w->state * w->conf->nclasses + w->conf->classes[c];
	key = idx / AP_DFA_TRANS_CHUNK;
	ch = bpf_map_lookup_elem(&ap_dfa_trans, &key);
	if (!ch) {
		/* tables not filled: match nothing rather than stale data */
		w->state = AP_DFA_DEAD;
		return 1;
	}
	w->state = ch->next[idx & (AP_DFA_TRANS_CHUNK - 1)];
	w->pos = pos + 1;
	return w->state == AP_DFA_DEAD;
}

/* Continue the automaton from `state` over buf[pos..] up to NUL (or the end
 * of the AP_DFA_INPUT_MAX-byte buffer); returns the state reached. `buf`
 * must point into a map value (or stack) of at least AP_DFA_INPUT_MAX
 * bytes. Start from AP_DFA_START; for argv elements and Unix socket names
 * the caller puts the AP_DFA_PREFIX_* byte in front of the string. */
static __always_inline __u32 ap_dfa_feed(__u32 state, const char *buf,
					 __u32 pos)
{
	struct ap_dfa__walk w = { .buf = buf, .pos = pos, .state = state };
	__u32 zero = 0;

	w.conf = bpf_map_lookup_elem(&ap_dfa_classes, &zero);
	if (!w.conf || state == AP_DFA_DEAD)
		return AP_DFA_DEAD;
	bpf_loop(AP_DFA_INPUT_MAX, ap_dfa__step, &w, 0);
	return w.state;
}

/* accept-set id of a state (0: nothing matched) */
static __always_inline __u32 ap_dfa_accept_id(__u32 state)
{
	__u16 *a = bpf_map_lookup_elem(&ap_dfa_accept, &state);

	return a ? *a : 0;
}

/* The whole walk: accept-set id of the string in buf. */
static __always_inline __u32 ap_dfa_walk(const char *buf)
{
	return ap_dfa_accept_id(ap_dfa_feed(AP_DFA_START, buf, 0));
}

static __always_inline const struct ap_accept_set *ap_dfa_accept_set(__u32 id)
{
	return bpf_map_lookup_elem(&ap_accept_sets, &id);
}

static __always_inline int ap_accept_set_has(const struct ap_accept_set *set,
					     __u32 pattern)
{
	if (!set || pattern >= AP_MAX_PATTERNS)
		return 0;
	return set->bits[pattern / 64] >> (pattern % 64) & 1;
}

/* The patterns the string in buf matches, over every group of automata
 * (ap_dfa_kconf.ngroups, states 1..ngroups start them), into *out (a map
 * value or stack); returns nonzero when some pattern matched. Use this, not
 * ap_dfa_walk, when user space allowed more than one group. */
static __always_inline int ap_dfa_walk_set(const char *buf,
					   struct ap_accept_set *out)
{
	const struct ap_dfa_kconf *conf;
	__u32 zero = 0, ng;
	int any = 0;

	for (int k = 0; k < AP_PATTERN_WORDS; k++)
		out->bits[k] = 0;
	conf = bpf_map_lookup_elem(&ap_dfa_classes, &zero);
	if (!conf)
		return 0;
	ng = conf->ngroups ? conf->ngroups : 1;
	for (__u32 g = 0; g < AP_DFA_MAX_GROUPS && g < ng; g++) {
		const struct ap_accept_set *set;
		__u32 id;

		id = ap_dfa_accept_id(ap_dfa_feed(AP_DFA_START + g, buf, 0));
		set = id ? ap_dfa_accept_set(id) : 0;
		if (!set)
			continue;
		for (int k = 0; k < AP_PATTERN_WORDS; k++)
			out->bits[k] |= set->bits[k];
		any = 1;
	}
	return any;
}

/* Did the string in buf match pattern id `pattern`? (group 0 only) */
static __always_inline int ap_dfa_matches(const char *buf, __u32 pattern)
{
	return ap_accept_set_has(ap_dfa_accept_set(ap_dfa_walk(buf)), pattern);
}

#endif /* ACTPLANE_DFA_BPF_H */
