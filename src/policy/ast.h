/* SPDX-License-Identifier: MIT */
/*
 * The policy as parsed: YAML document plus DSL blocks.
 *
 * Ownership: every node, string and array below hangs off the policy's arena
 * (struct ap_arena) and lives exactly as long as the struct ap_policy that
 * owns it; nothing is freed individually. ap_policy__free() releases all.
 *
 * Locations are byte offsets into a source (struct ap_src); the diagnostic
 * printer turns them into FILE:LINE:COL of the file the user edits (the YAML
 * file, not the embedded block).
 */
#ifndef AP_POLICY_AST_H
#define AP_POLICY_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "../../bpf/abi.h"
#include "../common/arena.h"

/* A span in one source text. src indexes ap_policy.srcs. */
struct ap_span {
	uint32_t src;
	uint32_t off;
	uint32_t len;
};

/*
 * One text the parser reads: the YAML file itself, or a DSL block taken out
 * of it. For a block, line_map[i] gives for the block's line i (0-based) the
 * 1-based line and the 0-based byte column in the parent file where that line
 * starts, so errors point into the file the user edits.
 */
struct ap_src {
	const char *name;      /* file name as shown in diagnostics */
	const char *text;      /* NUL-terminated */
	size_t len;
	int parent;            /* index of the containing source, -1 for a file */
	uint32_t nlines;
	uint32_t *map_line;    /* per block line: 1-based line in parent (NULL: identity) */
	uint32_t *map_col;     /* per block line: 0-based column offset in parent */
};

enum ap_pat_syntax {
	AP_PATSYN_DEFAULT = 0, /* no kind keyword: implied by the op */
	AP_PATSYN_FILE,
	AP_PATSYN_EXEC,
	AP_PATSYN_ENDPOINT,
};

struct ap_pat {
	const char *text;        /* unescaped */
	enum ap_pat_syntax syn;  /* explicit kind keyword, if any */
	struct ap_span loc;
};

struct ap_strlist {
	struct ap_pat *v;        /* ARG strings use ap_pat for their span */
	uint32_t n;
};

enum ap_expr_kind { AP_EXPR_LABEL, AP_EXPR_TRUE, AP_EXPR_NOT, AP_EXPR_AND, AP_EXPR_OR };

struct ap_expr {
	enum ap_expr_kind kind;
	const char *label;       /* AP_EXPR_LABEL */
	struct ap_expr *l, *r;   /* NOT uses l */
	struct ap_span loc;
};

/* `since` event: write/read/unlink "PATH-GLOB" or exec "PROGRAM-GLOB" */
struct ap_event {
	enum ap_op op;
	struct ap_pat pat;
	struct ap_span loc;
};

enum ap_cond_syntax { AP_C_TARGET, AP_C_LINEAGE, AP_C_AFTER };

struct ap_condition {
	enum ap_cond_syntax kind;
	bool negate;             /* target not "P" */
	bool passed;             /* after ... passed */
	struct ap_pat pat;       /* target pattern / program glob */
	struct ap_strlist args;  /* after exec "G" "ARG"... */
	struct ap_event *since;
	uint32_t nsince;
	struct ap_span loc;
};

struct ap_clause_ast {
	enum ap_effect effect;
	enum ap_op op;
	struct ap_pat pat;
	struct ap_strlist args;
	struct ap_expr *cond;    /* `if`; NULL means true */
	struct ap_condition *unless;
	uint32_t nunless;
	struct ap_span loc;
};

struct ap_rule_ast {
	const char *name;
	struct ap_span name_loc;
	struct ap_clause_ast *clauses;
	uint32_t nclauses;
	const char *because;     /* NULL when absent */
	struct ap_span because_loc;
	struct ap_span loc;
};

enum ap_source_syntax { AP_S_FILE, AP_S_ENDPOINT, AP_S_EXEC };

struct ap_source_decl {
	const char *label;
	struct ap_span label_loc;
	enum ap_source_syntax kind;
	struct ap_pat pat;
	struct ap_strlist args;  /* exec sources */
	struct ap_span loc;
};

struct ap_keep_decl {
	enum ap_keep_kind kind;  /* declassify / endorse */
	const char *label;
	struct ap_span label_loc;
	struct ap_pat program;
	struct ap_span loc;
};

/* The result of parsing one DSL block. */
struct ap_program {
	struct ap_source_decl *sources;
	uint32_t nsources;
	struct ap_keep_decl *keeps;
	uint32_t nkeeps;
	struct ap_rule_ast *rules;
	uint32_t nrules;
};

enum ap_bind_mode { AP_BIND_DEFAULT, AP_BIND_LOCKED };

/* A rule after domain selection: what the policy enforces. */
struct ap_effective_rule {
	struct ap_rule_ast *rule;
	enum ap_bind_mode mode;
	const char *domain;      /* where it was bound */
};

enum ap_guard_mode { AP_GUARD_ENFORCE = 0, AP_GUARD_NOTIFY_ONLY };

/* Form B: one entry of `rules:`. Its DSL rules are prog.rules[first_rule ..
 * first_rule + nrules); `bind` may name the block key or a rule. */
struct ap_rule_block {
	const char *name;
	struct ap_span loc;      /* the key */
	uint32_t src;            /* source index of its DSL block */
	uint32_t first_rule, nrules;
	bool broken;             /* its text was missing or unreadable (already
				  * reported): binds naming it are not */
};

/* Form B: `bind: [{rule: R, mode: default|locked}]` */
struct ap_bind {
	const char *rule;
	struct ap_span loc;      /* the rule name */
	enum ap_bind_mode mode;
};

struct ap_domain {
	const char *name;
	struct ap_span loc;      /* the key */
	const char *parent;      /* NULL: a root domain */
	struct ap_span parent_loc;
	struct ap_bind *binds;
	uint32_t nbinds;
	const char **disable;
	struct ap_span *disable_loc;
	uint32_t ndisable;
};

struct ap_policy {
	struct ap_arena *arena;
	struct ap_src *srcs;
	uint32_t nsrcs;

	const char *path;        /* the policy file, or "<rule>" */
	const char *root;        /* project root: the policy file's directory (absolute) */
	int version;
	bool form_b;

	/* every DSL block merged: sources and keeps from all blocks; all rules
	 * declared (form A: the one block; form B: each named rule block) */
	struct ap_program prog;

	/* after domain selection; form A: every rule, mode default */
	struct ap_effective_rule *rules;
	uint32_t nrules;
	const char *domain;      /* selected domain, NULL in form A */

	const char **seed;       /* run.seed label names */
	struct ap_span *seed_loc;
	uint32_t nseed;
	bool seed_given;         /* run.seed present; when false, seed already
				  * holds the default: [AGENT] if a source
				  * declares AGENT, else nothing */

	const char *feedback_path; /* feedback.path, NULL = default */

	enum ap_guard_mode guard;
	uint32_t guard_allow;    /* AP_GUARD_* bits lowered by `guard: {allow: [...]}` */

	uint8_t sha256[32];      /* of the policy file bytes (or --rule text) */

	/* form B structure, as written (empty in form A) */
	struct ap_rule_block *blocks;
	uint32_t nblocks;
	struct ap_domain *domains;
	uint32_t ndomains;
	const char *default_domain;
	struct ap_span default_domain_loc;
	struct ap_span domains_loc;  /* the `domains` key */

	size_t srcs_cap;         /* allocation bookkeeping for srcs */
};

#endif /* AP_POLICY_AST_H */
