/* SPDX-License-Identifier: MIT */
/*
 * Lowering: a parsed policy (ast.h) becomes the fixed tables of bpf/abi.h.
 *
 * ap_lower() checks what only the whole policy can tell (labels, limits,
 * patterns that never match, shadowed clauses), expands every `if`
 * expression into disjunctive normal form (one kernel clause per term),
 * dedupes patterns, conditions, gates and `since` events, and builds the
 * automaton. Errors and warnings go to diags, each at the offending place.
 *
 * Ownership: struct ap_compiled owns every table and string it points to
 * (one arena plus the DFA); it does not refer to the policy after ap_lower()
 * returns, except through the spans in ap_compiled_* (which index the
 * policy's sources, for diagnostics printed while the policy is alive).
 * ap_compiled__free() accepts NULL. On failure (-EINVAL: see diags) *out is
 * still set when the policy got far enough to be described, so `check` can
 * print what it knows; the caller always frees it.
 *
 * The built-in session-guard (policy-language.md section 7) is always the
 * last rule of the table (ap_compiled.guard_rule), after the policy's own,
 * which may therefore number at most AP_MAX_RULES - 1. Its clauses carry
 * AP_CLAUSE_F_SESSION_GUARD, require no label and are the path items:
 * `files` (write, rename and remove of the policy file and of
 * ROOT/.actplane and everything below it) and `cgroup` (write of any
 * cgroup.procs / cgroup.threads: moving a process out of the session's
 * cgroup). Their effect is block, kill when the target kernel cannot deny
 * (opts->degraded_effects has block: the guard is never "degraded", the
 * contract makes it kill there), notify with `guard: notify`; an item in
 * `guard: {allow: [...]}` has no clauses. The other items (ptrace,
 * namespaces, signal) are system calls the modes check themselves
 * (enforce/sysguard.h, the engine); they find the rule by its name. The
 * rule has no AST (rule_info[].ast is NULL) and no source line.
 *
 * ap_compiled__to_blob() serialises the tables (layout in abi.h) into one
 * malloc'd buffer: the same policy always gives the same bytes (no pointers,
 * no time, zeroed padding, tables in declaration order).
 */
#ifndef AP_POLICY_LOWER_H
#define AP_POLICY_LOWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "../../bpf/abi.h"
#include "ast.h"
#include "diag.h"
#include "dfa.h"

/* Resolve a host name to addresses: fill up to max entries of out (family,
 * prefix = full length, addr) and return how many, or -errno. */
typedef int (*ap_resolve_fn)(const char *host, struct ap_endpoint *out,
			     unsigned max, void *ctx);

struct ap_lower_opts {
	/* effects (bit 1 << enum ap_effect) the target kernel cannot honour:
	 * rules with such an effect get ap_rule_meta.degraded */
	uint32_t degraded_effects;
	ap_resolve_fn resolve;   /* NULL: getaddrinfo() */
	void *resolve_ctx;
};

/* The most DNF terms one `if` expression may expand to. */
#define AP_MAX_DNF_TERMS 64

struct ap_compiled_label {
	const char *name;
	struct ap_span loc;      /* first declaration */
	bool has_loc;
	bool sourced, seeded, declassified, endorsed, used;
};

struct ap_compiled_rule {
	const char *name;
	const char *because;     /* "" when absent */
	uint32_t line;
	struct ap_span loc;
	enum ap_effect effect;   /* strongest among its clauses */
	bool degraded;
	bool locked;             /* bound with mode: locked */
	const char *domain;      /* where it was bound, NULL in form A */
	const struct ap_rule_ast *ast; /* valid while the policy lives */
	uint32_t first_clause;   /* kernel clauses [first, first + nkclauses) */
	uint32_t nkclauses;
	uint32_t *terms;         /* per DSL clause: its kernel clauses (DNF terms) */
};

struct ap_compiled_pattern {
	const char *text;        /* as written */
	const char *lowered;     /* as the DFA sees it (no prefix byte) */
	enum ap_pattern_kind kind;
};

/* A host name in an endpoint pattern, resolved at load into endpoints
 * [first, first + count); kept so the engine can resolve it again. */
struct ap_compiled_host {
	const char *name;
	uint16_t port;
	uint32_t first, count;
};

struct ap_compiled {
	struct ap_arena *arena;
	const char *policy_path;
	const char *root;
	const char *domain;      /* NULL in form A */
	uint8_t sha256[32];
	uint64_t seed_labels, declared_labels;
	uint32_t flags;          /* AP_BLOB_F_* */
	uint32_t guard_allow;
	uint32_t guard_rule;     /* index of session-guard: the last rule */
	uint8_t *guard_items;    /* per kernel clause of the guard rule (from
				  * its first_clause): the AP_GUARD_* item */

	struct ap_compiled_label *labels;   uint32_t nlabels;
	struct ap_rule *rules;               /* nrules, kernel view */
	struct ap_compiled_rule *rule_info;  uint32_t nrules;
	struct ap_clause *clauses;           uint32_t nclauses;
	struct ap_cond *conds;               uint32_t nconds;
	struct ap_gate *gates;               uint32_t ngates;
	struct ap_since *since;              uint32_t nsince;
	struct ap_lineage *lineage;          uint32_t nlineage;
	struct ap_source *sources;           uint32_t nsources;
	struct ap_keep *keeps;               uint32_t nkeeps;
	struct ap_endpoint *endpoints;       uint32_t nendpoints;
	struct ap_compiled_pattern *patterns; uint32_t npatterns;
	struct ap_compiled_host *hosts;      uint32_t nhosts;
	struct ap_dfa *dfa;                  /* NULL until built */

	size_t cap[16];          /* growth bookkeeping, internal */
};

int ap_lower(const struct ap_policy *pol, const struct ap_lower_opts *opts,
	     struct ap_diags *diags, struct ap_compiled **out);

/* *buf is malloc'd, caller frees. 0 or -ENOMEM/-EINVAL. */
int ap_compiled__to_blob(const struct ap_compiled *c, void **buf, size_t *size);

void ap_compiled__free(struct ap_compiled *c);

#define AP_GUARD_RULE_NAME "session-guard"
/* the `because` of the built-in rule */
#define AP_GUARD_BECAUSE \
	"actplane's session guard: the policy, .actplane/ and the session's " \
	"cgroup are not the agent's to change"

/* One path clause of the session guard, before lowering. */
struct ap_guard_spec {
	enum ap_op op;           /* WRITE, RENAME or UNLINK */
	uint32_t item;           /* AP_GUARD_FILES or AP_GUARD_CGROUP */
	const char *glob;        /* absolute, glob bytes of real paths escaped */
};
#define AP_GUARD_MAX_SPECS 32

/* The guard's path clauses for pol (its root, policy file, guard_allow;
 * `guard: notify` is the caller's business): the policy file's absolute
 * name (rebuilt from pol->root, since pol->path may be relative to another
 * directory; none for --rule) and, when the file or ROOT/.actplane is a
 * symbolic link, also what it resolves to. Strings live in arena a.
 * Returns how many entries of out (AP_GUARD_MAX_SPECS) it filled. */
unsigned ap_guard__specs(const struct ap_policy *pol, struct ap_arena *a,
			 struct ap_guard_spec *out);

/* Parse one endpoint pattern (policy-language.md section 3) into entries.
 * unix patterns are not handled here (the caller adds the DFA pattern).
 * Returns the number of entries, -EINVAL with *why set (static text), or
 * -ENOSPC when more than max entries would be needed. *host is set (to an
 * arena copy) when the text named a host that was resolved or tried;
 * unresolvable hosts return 0 entries with *why explaining. */
int ap_endpoint__parse(const char *text, struct ap_endpoint *out,
		       unsigned max, ap_resolve_fn resolve, void *ctx,
		       bool *is_host, uint16_t *port, const char **why);

/* "10.0.0.0/8:443", "[::1]:22", "*" ... for summaries. */
void ap_endpoint__format(const struct ap_endpoint *e, char *buf, size_t size);

/* Other spellings of an absolute Unix socket path glob that reach the same
 * socket, resolved now (when the policy loads): the literal directory part
 * (the whole path when it has no wildcard) through realpath, and the twin
 * of either under /var/run <-> /run, /var/lock <-> /run/lock (always, so the
 * compiled policy does not depend on this machine). Up to max distinct strings,
 * none equal to glob, into out; returns how many, or -errno. */
int ap_endpoint__unix_aliases(const char *glob, char (*out)[AP_PATH_MAX], int max);

/* Expand an `if` expression (NULL = true) into DNF terms over label bits.
 * lookup maps a label name to its bit or -1. Returns the number of terms
 * (0: never holds), -E2BIG past max, -ENOENT for an unknown label (the
 * offending node in *bad). */
struct ap_dnf_term {
	uint64_t require, forbid;
};
int ap_expr__dnf(const struct ap_expr *e,
		 int (*lookup)(const char *name, void *ctx), void *ctx,
		 struct ap_dnf_term *out, unsigned max,
		 const struct ap_expr **bad);

#endif
