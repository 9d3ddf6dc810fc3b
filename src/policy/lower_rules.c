// SPDX-License-Identifier: MIT
/*
 * Lowering the rules (lower_int.h): each DSL clause, its target and its
 * `unless` conditions, becomes one kernel clause per DNF term of its `if`;
 * a clause another rule always overrides is reported as shadowed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lower_int.h"

/* one DSL clause as lowered, for the shadowing check */
struct lclause {
	const struct ap_clause_ast *ast;
	uint32_t rule;
	uint8_t op, effect, target_kind, nargs, nunless;
	uint16_t target, target_count;
	uint16_t args[AP_MAX_ARGS];
	uint16_t unless[AP_MAX_UNLESS];
	struct ap_dnf_term *terms;
	unsigned nterms;
};

/* ---- conditions ---- */

static int cond_add(struct lower *L, const struct ap_cond *k,
		    const struct ap_span *loc)
{
	struct ap_compiled *c = L->c;

	for (uint32_t i = 0; i < c->nconds; i++)
		if (!memcmp(&c->conds[i], k, sizeof(*k)))
			return (int)i;
	if (!ap_lower__limit(L, CAP_CONDS, c->nconds, AP_MAX_CONDS, loc, "conditions"))
		return -1;
	GROW(L, conds, nconds, CAP_CONDS);
	c->conds[c->nconds] = *k;
	return (int)c->nconds++;
}

static int since_add(struct lower *L, const struct ap_event *ev)
{
	struct ap_compiled *c = L->c;
	struct ap_since s = { .op = (uint8_t)ev->op };
	int id = ap_lower__path_pattern(L, &ev->pat, ev->op == AP_OP_EXEC);

	if (id < 0)
		return -1;
	s.pattern = (uint16_t)id;
	for (uint32_t i = 0; i < c->nsince; i++)
		if (!memcmp(&c->since[i], &s, sizeof(s)))
			return (int)i;
	if (!ap_lower__limit(L, CAP_SINCE, c->nsince, AP_MAX_SINCE, &ev->loc,
		   "distinct `since` events"))
		return -1;
	GROW(L, since, nsince, CAP_SINCE);
	c->since[c->nsince] = s;
	return (int)c->nsince++;
}

static int gate_add(struct lower *L, const struct ap_condition *co)
{
	struct ap_compiled *c = L->c;
	struct ap_gate g = { .passed = co->passed };
	int id = ap_lower__path_pattern(L, &co->pat, true);

	if (id < 0 || ap_lower__args(L, &co->args, g.args, &g.nargs))
		return -1;
	g.program = (uint16_t)id;
	for (uint32_t i = 0; i < co->nsince; i++) {
		int s = since_add(L, &co->since[i]);

		if (s < 0)
			return -1;
		g.since_mask |= 1ull << s;
	}
	for (uint32_t i = 0; i < c->ngates; i++)
		if (!memcmp(&c->gates[i], &g, sizeof(g)))
			return (int)i;
	if (!ap_lower__limit(L, CAP_GATES, c->ngates, AP_MAX_GATES, &co->loc,
		   "distinct `after exec` gates"))
		return -1;
	GROW(L, gates, ngates, CAP_GATES);
	c->gates[c->ngates] = g;
	return (int)c->ngates++;
}

static int lineage_add(struct lower *L, const struct ap_condition *co)
{
	struct ap_compiled *c = L->c;
	int id = ap_lower__path_pattern(L, &co->pat, true);

	if (id < 0)
		return -1;
	for (uint32_t i = 0; i < c->nlineage; i++)
		if (c->lineage[i].program == id)
			return (int)i;
	if (!ap_lower__limit(L, CAP_LINEAGE, c->nlineage, AP_MAX_LINEAGE, &co->loc,
		   "distinct `lineage-includes` programs"))
		return -1;
	GROW(L, lineage, nlineage, CAP_LINEAGE);
	c->lineage[c->nlineage] = (struct ap_lineage){ .program = (uint16_t)id };
	return (int)c->nlineage++;
}

/* How a clause's op reads its pattern: program, path or endpoint. */
enum tkind { TK_PROGRAM, TK_PATH, TK_ENDPOINT, TK_BAD };

static enum tkind target_kind_of(enum ap_op op, enum ap_pat_syntax syn)
{
	switch (op) {
	case AP_OP_EXEC:
		return syn == AP_PATSYN_DEFAULT || syn == AP_PATSYN_EXEC ? TK_PROGRAM :
		       syn == AP_PATSYN_FILE ? TK_PATH : TK_BAD;
	case AP_OP_CONNECT:
	case AP_OP_RECV:
		return syn == AP_PATSYN_DEFAULT || syn == AP_PATSYN_ENDPOINT ?
		       TK_ENDPOINT : TK_BAD;
	default:
		return syn == AP_PATSYN_DEFAULT || syn == AP_PATSYN_FILE ? TK_PATH : TK_BAD;
	}
}

static const char *const op_names[] = {
#define X(e, s) s,
	AP_OPS(X)
#undef X
};

static int target_lower(struct lower *L, enum tkind tk, const struct ap_pat *p,
			uint8_t *kind, uint16_t *target, uint16_t *count)
{
	int id;

	if (tk == TK_ENDPOINT) {
		*kind = AP_TGT_ENDPOINT;
		return ap_lower__endpoint_range(L, p, target, count);
	}
	id = ap_lower__path_pattern(L, p, tk == TK_PROGRAM);
	if (id < 0)
		return -1;
	*kind = AP_TGT_PATTERN;
	*target = (uint16_t)id;
	*count = 1;
	return 0;
}

static int unless_lower(struct lower *L, const struct ap_clause_ast *cl,
			enum tkind tk, struct lclause *lc)
{
	if (cl->nunless > AP_MAX_UNLESS) {
		ap_error_at(L->d, &cl->unless[AP_MAX_UNLESS].loc,
			    "too many `unless` conditions: at most %d per clause",
			    AP_MAX_UNLESS);
		return -1;
	}
	for (uint32_t i = 0; i < cl->nunless; i++) {
		const struct ap_condition *co = &cl->unless[i];
		struct ap_cond k = { 0 };
		int id = -1;
		bool dup = false;

		switch (co->kind) {
		case AP_C_TARGET: {
			uint16_t t = 0, n = 0;

			k.kind = AP_COND_TARGET;
			k.negate = co->negate;
			if (target_lower(L, tk, &co->pat, &k.target_kind, &t, &n))
				return -1;
			k.arg = t;
			k.count = n;
			break;
		}
		case AP_C_LINEAGE:
			k.kind = AP_COND_LINEAGE;
			id = lineage_add(L, co);
			if (id < 0)
				return -1;
			k.arg = (uint16_t)id;
			break;
		case AP_C_AFTER:
			k.kind = AP_COND_AFTER;
			id = gate_add(L, co);
			if (id < 0)
				return -1;
			k.arg = (uint16_t)id;
			break;
		}
		id = cond_add(L, &k, &co->loc);
		if (id < 0)
			return -1;
		for (unsigned j = 0; j < lc->nunless; j++)
			dup |= lc->unless[j] == id;
		if (!dup)
			lc->unless[lc->nunless++] = (uint16_t)id;
	}
	qsort(lc->unless, lc->nunless, sizeof(lc->unless[0]), sort_u16);
	return 0;
}

/* ---- rules ---- */

static bool subset16(const uint16_t *a, unsigned na, const uint16_t *b, unsigned nb)
{
	for (unsigned i = 0; i < na; i++) {
		bool found = false;

		for (unsigned j = 0; j < nb && !found; j++)
			found = a[i] == b[j];
		if (!found)
			return false;
	}
	return true;
}

/* a covers b: wherever b matches, a matches with an equal or stronger
 * effect. Sound, not complete: same op and target, a's arguments and
 * unless-conditions a subset of b's, each term of b implied by one of a's. */
static bool covers(const struct lclause *a, const struct lclause *b)
{
	if (a->op != b->op || a->effect < b->effect ||
	    a->target_kind != b->target_kind || a->target != b->target ||
	    a->target_count != b->target_count || !b->nterms ||
	    !subset16(a->args, a->nargs, b->args, b->nargs) ||
	    !subset16(a->unless, a->nunless, b->unless, b->nunless))
		return false;
	for (unsigned i = 0; i < b->nterms; i++) {
		bool implied = false;

		for (unsigned j = 0; j < a->nterms && !implied; j++)
			implied = (a->terms[j].require & ~b->terms[i].require) == 0 &&
				  (a->terms[j].forbid & ~b->terms[i].forbid) == 0;
		if (!implied)
			return false;
	}
	return true;
}

static const char *const effect_names[] = {
#define X(e, s) s,
	AP_EFFECTS(X)
#undef X
};

void ap_lower__rules(struct lower *L)
{
	const struct ap_policy *pol = L->pol;
	struct ap_compiled *c = L->c;
	struct lclause *all = NULL;
	size_t nall = 0, capall = 0;

	for (uint32_t r = 0; r < pol->nrules; r++) {
		const struct ap_effective_rule *er = &pol->rules[r];
		const struct ap_rule_ast *ra = er->rule;
		struct ap_compiled_rule *ri;
		struct ap_rule kr = { 0 };
		const char *file;
		unsigned line = 0, col, ll;
		const char *lt;

		/* the last entry of the table is the built-in session-guard */
		if (c->nrules >= AP_MAX_RULES - 1) {
			if (!L->full[CAP_RULES])
				ap_error_at(L->d, &ra->name_loc,
					    "too many rules: at most %u fit the kernel tables "
					    "(one more entry is the built-in %s)",
					    AP_MAX_RULES - 1, AP_GUARD_RULE_NAME);
			L->full[CAP_RULES] = true;
			break;
		}
		if (!strcmp(ra->name, AP_GUARD_RULE_NAME))
			ap_error_at(L->d, &ra->name_loc,
				    "the rule name '%s' is reserved for the built-in session guard",
				    AP_GUARD_RULE_NAME);
		GROW(L, rule_info, nrules, CAP_RULEINFO);
		ri = &c->rule_info[c->nrules];
		memset(ri, 0, sizeof(*ri));
		ri->name = ap_arena__strdup(c->arena, ra->name);
		ri->because = ap_arena__strdup(c->arena, ra->because ? ra->because : "");
		ri->loc = ra->loc;
		if (!ap_diag__locate(pol->srcs, pol->nsrcs, &ra->name_loc, &file,
				     &line, &col, &lt, &ll))
			ri->line = line;
		ri->locked = er->mode == AP_BIND_LOCKED;
		ri->domain = er->domain ? ap_arena__strdup(c->arena, er->domain) : NULL;
		ri->ast = ra;
		ri->first_clause = c->nclauses;
		ri->terms = ap_arena__alloc(c->arena, (ra->nclauses + 1) * sizeof(uint32_t));

		for (uint32_t k = 0; k < ra->nclauses; k++) {
			const struct ap_clause_ast *cl = &ra->clauses[k];
			enum tkind tk = target_kind_of(cl->op, cl->pat.syn);
			struct lclause lc = { .ast = cl, .rule = c->nrules };
			struct ap_dnf_term terms[AP_MAX_DNF_TERMS];
			const struct ap_expr *bad = NULL;
			int nt;

			if (cl->effect > kr.effect)
				kr.effect = (uint8_t)cl->effect;
			if (opts_degraded(L, cl->effect))
				ri->degraded = true;
			if (tk == TK_BAD || cl->op >= AP_OP__POLICY_COUNT) {
				ap_error_at(L->d, &cl->pat.loc,
					    "this pattern kind does not apply to `%s` (%s)",
					    cl->op < AP_OP__COUNT ? op_names[cl->op] : "?",
					    cl->op == AP_OP_EXEC ? "use a program or file pattern" :
					    cl->op == AP_OP_CONNECT || cl->op == AP_OP_RECV ?
					    "use an endpoint" : "use a file pattern");
				continue;
			}
			if (cl->args.n && cl->op != AP_OP_EXEC) {
				ap_error_at(L->d, &cl->args.v[0].loc,
					    "arguments only apply to `exec` clauses");
				continue;
			}
			lc.op = (uint8_t)cl->op;
			lc.effect = (uint8_t)cl->effect;
			if (target_lower(L, tk, &cl->pat, &lc.target_kind, &lc.target,
					 &lc.target_count) ||
			    ap_lower__args(L, &cl->args, lc.args, &lc.nargs) ||
			    unless_lower(L, cl, tk, &lc))
				continue;
			nt = ap_expr__dnf(cl->cond, ap_lower__label_lookup, c, terms,
					  AP_MAX_DNF_TERMS, &bad);
			if (nt == -E2BIG) {
				ap_error_at(L->d, cl->cond ? &cl->cond->loc : &cl->loc,
					    "condition too complex: it expands to more than %d "
					    "alternatives (rewrite it, or split the clause)",
					    AP_MAX_DNF_TERMS);
				continue;
			}
			if (nt < 0)
				continue; /* unknown label: reported by labels_collect */
			if (nt == 0)
				ap_warning_at(L->d, cl->cond ? &cl->cond->loc : &cl->loc,
					      "condition can never hold: this clause never matches");
			for (int t = 0; t < nt; t++) {
				struct ap_clause kc = { 0 };

				if (!ap_lower__limit(L, CAP_CLAUSES, c->nclauses, AP_MAX_CLAUSES,
					   &cl->loc, "kernel clauses (after expanding `or`)"))
					break;
				kc.require = terms[t].require;
				kc.forbid = terms[t].forbid;
				kc.rule = (uint16_t)c->nrules;
				kc.op = lc.op;
				kc.effect = lc.effect;
				kc.target_kind = lc.target_kind;
				kc.target = lc.target;
				kc.target_count = lc.target_count;
				kc.nargs = lc.nargs;
				memcpy(kc.args, lc.args, sizeof(kc.args));
				kc.nunless = lc.nunless;
				memcpy(kc.unless, lc.unless, sizeof(kc.unless));
				GROW(L, clauses, nclauses, CAP_CLAUSES);
				c->clauses[c->nclauses++] = kc;
				ri->terms[k]++;
			}
			lc.terms = ap_arena__alloc(c->arena, sizeof(*terms) * (size_t)(nt + 1));
			memcpy(lc.terms, terms, sizeof(*terms) * (size_t)nt);
			lc.nterms = (unsigned)nt;
			for (size_t j = 0; j < nall; j++) {
				if (all[j].rule == lc.rule || !covers(&all[j], &lc))
					continue;
				ap_warning_at(L->d, &cl->loc,
					      "clause is shadowed by rule '%s' (line %u), which "
					      "matches wherever it does with %s effect (`%s`)",
					      c->rule_info[all[j].rule].name,
					      c->rule_info[all[j].rule].line,
					      all[j].effect == lc.effect ? "the same" : "a stronger",
					      effect_names[all[j].effect]);
				break;
			}
			all = ap_arena__grow(c->arena, all, sizeof(*all), nall, &capall,
					     nall + 1);
			all[nall++] = lc;
		}
		ri->effect = kr.effect;
		ri->nkclauses = c->nclauses - ri->first_clause;
		GROW(L, rules, nrules, CAP_RULES);
		c->rules[c->nrules] = kr;
		c->nrules++;
	}
}
