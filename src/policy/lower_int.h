/* SPDX-License-Identifier: MIT */
/*
 * Internal interfaces of the lowering (contract in lower.h), shared by
 * lower.c (the lowering context; labels, patterns, endpoints, sources and
 * the built-in guard; the entry points) and lower_rules.c (rule clauses
 * with their `unless` conditions become kernel clauses; the shadowing
 * check). Not for other modules: they use lower.h.
 *
 * Every table entry lives in the compiled policy's arena; the functions
 * returning an id intern what they are given (equal entries share one)
 * and return -1 once the error is reported in L->d.
 */
#ifndef AP_POLICY_LOWER_INT_H
#define AP_POLICY_LOWER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/arena.h"
#include "lower.h"

enum { CAP_LABELS, CAP_RULES, CAP_CLAUSES, CAP_CONDS, CAP_GATES, CAP_SINCE,
       CAP_LINEAGE, CAP_SOURCES, CAP_KEEPS, CAP_ENDPOINTS, CAP_PATTERNS,
       CAP_HOSTS, CAP_EPTEXT, CAP_RULEINFO };

/* endpoint pattern text -> range, so equal texts share one range */
struct ep_text {
	const char *text;
	uint16_t first, count;
};

struct lower {
	const struct ap_policy *pol;
	const struct ap_lower_opts *opts;
	struct ap_diags *d;
	struct ap_compiled *c;
	struct ap_dfa_builder *b;
	struct ep_text *eps;
	uint32_t neps;
	bool full[16];           /* a limit error was already reported */
	bool named[AP_MAX_LABELS]; /* named by some `if`, effective or not */
};

#define GROW(L, arr, n, idx) \
	((L)->c->arr = ap_arena__grow((L)->c->arena, (L)->c->arr, \
				      sizeof(*(L)->c->arr), (L)->c->n, \
				      &(L)->c->cap[idx], (L)->c->n + 1))

static inline bool opts_degraded(const struct lower *L, enum ap_effect e)
{
	return L->opts && (L->opts->degraded_effects >> e & 1);
}

static inline int sort_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* false (error reported once per table) when table idx already holds
 * n >= max entries */
bool ap_lower__limit(struct lower *L, int idx, uint32_t n, uint32_t max,
		     const struct ap_span *loc, const char *what);

/* ap_expr__dnf()'s label lookup, with ctx the struct ap_compiled */
int ap_lower__label_lookup(const char *name, void *ctx);

/* The pattern id of a path (program: an exec program) pattern. */
int ap_lower__path_pattern(struct lower *L, const struct ap_pat *p, bool program);

/* Arguments as a sorted, duplicate-free set of ARG pattern ids in out[*n];
 * 0 or -1. */
int ap_lower__args(struct lower *L, const struct ap_strlist *args,
		   uint16_t *out, uint8_t *n);

/* The endpoint entries [*first, *first + *count) of an endpoint pattern;
 * 0 or -1. */
int ap_lower__endpoint_range(struct lower *L, const struct ap_pat *p,
			     uint16_t *first, uint16_t *count);

/* lower_rules.c: the policy's effective rules into the rule and clause
 * tables, in order. */
void ap_lower__rules(struct lower *L);

#endif
