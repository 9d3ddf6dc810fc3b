/* SPDX-License-Identifier: MIT */
/*
 * Glob patterns compiled into one deterministic automaton.
 *
 * Every pattern of a policy (paths, programs, argv elements, Unix socket
 * names) is added with its id; the builder makes one DFA over byte classes
 * whose accepting states carry the set of patterns matched, so the kernel
 * matches a string against every pattern in a single pass (bpf/dfa.bpf.h
 * walks the same tables as ap_dfa__match()).
 *
 * Glob syntax (policy-language.md section 3): `*` any run of bytes except
 * '/', `**` any run including '/' (`a/` `**` `/b` also matches `a/b`; `a/` `**`
 * does not match `a`), `?` one byte except '/', `[abc]` `[a-z]` `[!x]`
 * classes (never matching '/'), `\` escapes the next byte. For AP_PAT_ARG
 * patterns '/' is an ordinary byte (`*` and `?` match it). Matching is on the
 * whole string, of any length.
 *
 * The builder takes globs as the DFA sees them: absolute for paths and
 * programs (lowering prefixes the project root, `/` `**` `/` for base-name
 * program globs); it adds the AP_DFA_PREFIX_* byte for ARG and UNIX itself.
 */
#ifndef AP_POLICY_DFA_H
#define AP_POLICY_DFA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "../../bpf/abi.h"
#include "../../bpf/dfa_abi.h"

struct ap_dfa {
	uint32_t nstates;        /* including dead (0) and start (1) */
	uint32_t nclasses;
	uint8_t classes[256];
	uint16_t *trans;         /* nstates * nclasses */
	uint16_t *accept;        /* nstates; accept-set id, 0 = none */
	uint32_t naccept;        /* including the empty set 0 */
	struct ap_accept_set *sets;
	/* Independent automata sharing the tables, states 1..ngroups their
	 * starts (1 unless ap_dfa_builder__set_max_groups allowed more). A
	 * string's patterns are the union over the groups: with ngroups > 1
	 * use ap_dfa__match_set (ap_dfa__run/match walk group 0 only). */
	uint32_t ngroups;
};

struct ap_dfa_builder;

struct ap_dfa_builder *ap_dfa_builder__new(void);
void ap_dfa_builder__free(struct ap_dfa_builder *b);

/* Add pattern `id` (< AP_MAX_PATTERNS). On a syntax error returns -EINVAL
 * and sets *err to a static message and *err_off to the byte offset in
 * glob where it was found. */
int ap_dfa_builder__add(struct ap_dfa_builder *b, unsigned id,
			enum ap_pattern_kind kind, const char *glob,
			const char **err, size_t *err_off);

/* Build the minimal DFA. -E2BIG when it would exceed AP_MAX_DFA_STATES or
 * AP_MAX_ACCEPT_SETS, or when the automaton before minimization would pass
 * 4 * AP_MAX_DFA_STATES (this bounds the memory a build takes to a few
 * hundred MiB and its time to seconds). The same patterns added in the same
 * order always give byte-identical tables. */
int ap_dfa_builder__build(struct ap_dfa_builder *b, struct ap_dfa **out);

/*
 * Allow up to n (1..AP_DFA_MAX_GROUPS, default 1) automata when one would
 * exceed the limits. One automaton over all patterns is a product: every
 * glob that can match anywhere (`**` + `/.env*`) multiplies the states of
 * the anchored ones. Groups make it a sum at the price of one walk per group
 * in the kernel. Globs that match anywhere are grouped apart first; a group
 * still too big is halved. Only a caller that stores ngroups (and a kernel
 * side that walks every group) may raise it.
 */
int ap_dfa_builder__set_max_groups(struct ap_dfa_builder *b, unsigned n);

void ap_dfa__free(struct ap_dfa *d);

/* Run the automaton over s (n bytes, no prefix added). Returns the
 * accept-set id reached (0 = nothing matched). */
unsigned ap_dfa__run(const struct ap_dfa *d, const char *s, size_t n);
/* Same, for a string of the given kind (adds the prefix byte). */
unsigned ap_dfa__match(const struct ap_dfa *d, enum ap_pattern_kind kind,
		       const char *s, size_t n);
/* Union of every group's accept set for a string of the given kind, into
 * *out; returns nonzero when some pattern matched. */
unsigned ap_dfa__match_set(const struct ap_dfa *d, enum ap_pattern_kind kind,
			   const char *s, size_t n, struct ap_accept_set *out);
static inline bool ap_accept_set__has(const struct ap_accept_set *set,
				      unsigned id)
{
	return set->bits[id / 64] >> (id % 64) & 1;
}

/*
 * Kernel tables (layout in bpf/dfa_abi.h, walker in bpf/dfa.bpf.h). Size the
 * maps of an opened, not yet loaded object (bpf_map__set_max_entries on
 * ap_dfa_trans, ap_dfa_accept, ap_accept_sets), then fill them once it is
 * loaded (ap_dfa_classes gets nclasses, nstates and the class map). A DFA
 * that wraps blob sections may point its arrays into the blob. 0 or -errno.
 */
struct bpf_map;
int ap_dfa__size_maps(const struct ap_dfa *d, struct bpf_map *trans,
		      struct bpf_map *accept, struct bpf_map *sets);
int ap_dfa__fill_maps(const struct ap_dfa *d, int classes_fd, int trans_fd,
		      int accept_fd, int sets_fd);
/* entries ap_dfa_trans needs: ceil(nstates * nclasses / AP_DFA_TRANS_CHUNK) */
static inline uint32_t ap_dfa__trans_chunks(const struct ap_dfa *d)
{
	return (uint32_t)(((uint64_t)d->nstates * d->nclasses +
			   AP_DFA_TRANS_CHUNK - 1) / AP_DFA_TRANS_CHUNK);
}

/* Reference matcher (plain backtracking over the glob), the oracle the
 * property tests compare the DFA with. */
bool ap_glob_match_ref(enum ap_pattern_kind kind, const char *glob,
		       const char *s);

/* True when the glob can never match any string of its kind (e.g. an
 * empty class). */
bool ap_glob_is_empty(enum ap_pattern_kind kind, const char *glob);

/* The literal directory prefix of an absolute glob ("/a/b/c*" -> "/a/b"),
 * written to buf; used to learn existing names at load time. */
int ap_glob_literal_dir(const char *glob, char *buf, size_t size);

#endif
