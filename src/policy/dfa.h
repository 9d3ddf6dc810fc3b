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
 * '/', `**` any run including '/' (`a/**` + `/b` also matches `a/b`; `a/**`
 * does not match `a`), `?` one byte except '/', `[abc]` `[a-z]` `[!x]`
 * classes (never matching '/'), `\` escapes the next byte. For AP_PAT_ARG
 * patterns '/' is an ordinary byte (`*` and `?` match it). Matching is on the
 * whole string, of any length.
 *
 * The builder takes globs as the DFA sees them: absolute for paths and
 * programs (lowering prefixes the project root, `/**` + `/` for base-name
 * program globs); it adds the AP_DFA_PREFIX_* byte for ARG and UNIX itself.
 */
#ifndef AP_POLICY_DFA_H
#define AP_POLICY_DFA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "../../bpf/abi.h"

struct ap_dfa {
	uint32_t nstates;        /* including dead (0) and start (1) */
	uint32_t nclasses;
	uint8_t classes[256];
	uint16_t *trans;         /* nstates * nclasses */
	uint16_t *accept;        /* nstates; accept-set id, 0 = none */
	uint32_t naccept;        /* including the empty set 0 */
	struct ap_accept_set *sets;
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
 * AP_MAX_ACCEPT_SETS. The same patterns added in the same order always
 * give byte-identical tables. */
int ap_dfa_builder__build(struct ap_dfa_builder *b, struct ap_dfa **out);

void ap_dfa__free(struct ap_dfa *d);

/* Run the automaton over s (n bytes, no prefix added). Returns the
 * accept-set id reached (0 = nothing matched). */
unsigned ap_dfa__run(const struct ap_dfa *d, const char *s, size_t n);
/* Same, for a string of the given kind (adds the prefix byte). */
unsigned ap_dfa__match(const struct ap_dfa *d, enum ap_pattern_kind kind,
		       const char *s, size_t n);
static inline bool ap_accept_set__has(const struct ap_accept_set *set,
				      unsigned id)
{
	return set->bits[id / 64] >> (id % 64) & 1;
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
