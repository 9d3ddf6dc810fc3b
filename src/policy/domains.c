// SPDX-License-Identifier: MIT
/*
 * Domains (form B): which rules a session enforces.
 *
 * A domain's effective rules are its parent's effective rules, minus the
 * ones it disables, plus its own binds. Only an inherited rule bound
 * `default` may be disabled; a rule bound `locked` anywhere up the chain
 * stays locked below (re-binding it cannot unlock it, and binding an
 * inherited default rule as locked locks it from there down). A bind or
 * disable names a rule block (all rules of the block) or a rule declared in
 * one; the block key is looked up first.
 *
 * Every domain is checked, not only the selected one, so `check` finds an
 * error in any domain of the file. Form A, and form B without domains,
 * enforce every declared rule.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "front_int.h"

struct eff {
	int8_t *mode;          /* per rule: -1 absent, else enum ap_bind_mode */
	uint32_t *from;        /* per rule: domain index whose bind gives the mode */
	struct ap_span *where; /* per rule: that bind */
	enum { E_TODO, E_BUSY, E_DONE, E_BROKEN } state;
	bool bind_errors;      /* a bind named nothing: "no rules" would repeat it */
};

struct dctx {
	struct ap_policy *pol;
	struct ap_diags *d;
	struct eff *eff;
	uint32_t *sel;         /* scratch: rule indices a name resolves to */
};

static int find_domain(const struct ap_policy *pol, const char *name)
{
	for (uint32_t i = 0; i < pol->ndomains; i++)
		if (!strcmp(pol->domains[i].name, name))
			return (int)i;
	return -1;
}

static char *domain_list(struct ap_policy *pol)
{
	size_t n = 1;
	char *s;

	for (uint32_t i = 0; i < pol->ndomains; i++)
		n += strlen(pol->domains[i].name) + 2;
	s = ap_arena__alloc(pol->arena, n);
	for (uint32_t i = 0; i < pol->ndomains; i++) {
		if (i)
			strcat(s, ", ");
		strcat(s, pol->domains[i].name);
	}
	return s;
}

static const char *suggest_domain(struct ap_policy *pol, const char *name)
{
	const char **c = ap_arena__alloc(pol->arena, sizeof(*c) * (pol->ndomains + 1));

	for (uint32_t i = 0; i < pol->ndomains; i++)
		c[i] = pol->domains[i].name;
	return ap_suggest(name, c, pol->ndomains);
}

/* Rules a bind/disable name stands for: a block's rules, else the rule of
 * that name. Returns the count (0: unknown, -1: a block without rules, -2:
 * a block whose text was not readable, reported already). */
static int resolve(struct dctx *x, const char *name)
{
	struct ap_policy *pol = x->pol;

	for (uint32_t b = 0; b < pol->nblocks; b++) {
		if (strcmp(pol->blocks[b].name, name))
			continue;
		for (uint32_t i = 0; i < pol->blocks[b].nrules; i++)
			x->sel[i] = pol->blocks[b].first_rule + i;
		if (pol->blocks[b].broken)
			return -2;
		return pol->blocks[b].nrules ? (int)pol->blocks[b].nrules : -1;
	}
	for (uint32_t r = 0; r < pol->prog.nrules; r++)
		if (!strcmp(pol->prog.rules[r].name, name)) {
			x->sel[0] = r;
			return 1;
		}
	return 0;
}

static void unknown_rule(struct dctx *x, const struct ap_span *loc, const char *name,
			 int got)
{
	struct ap_policy *pol = x->pol;
	const char **c;
	const char *s;
	uint32_t n = 0;

	if (got == -2)
		return;
	if (got < 0) {
		ap_error_at(x->d, loc, "rule block '%s' declares no rules", name);
		return;
	}
	c = ap_arena__alloc(pol->arena, sizeof(*c) * (pol->nblocks + pol->prog.nrules + 1));
	for (uint32_t i = 0; i < pol->nblocks; i++)
		c[n++] = pol->blocks[i].name;
	for (uint32_t i = 0; i < pol->prog.nrules; i++)
		c[n++] = pol->prog.rules[i].name;
	s = ap_suggest(name, c, n);
	if (s)
		ap_error_at(x->d, loc, "unknown rule '%s' (did you mean '%s'?)", name, s);
	else
		ap_error_at(x->d, loc, "unknown rule '%s'", name);
}

static bool is_block(const struct ap_policy *pol, const char *name)
{
	for (uint32_t b = 0; b < pol->nblocks; b++)
		if (!strcmp(pol->blocks[b].name, name))
			return true;
	return false;
}

/* Does one of dom's own binds cover rule r? (clobbers x->sel) */
static bool binds_name(struct dctx *x, const struct ap_domain *dom, uint32_t r)
{
	for (uint32_t b = 0; b < dom->nbinds; b++) {
		int m = resolve(x, dom->binds[b].rule);

		for (int j = 0; j < m; j++)
			if (x->sel[j] == r)
				return true;
	}
	return false;
}

static void compute(struct dctx *x, uint32_t di);

static void compute(struct dctx *x, uint32_t di)
{
	struct ap_policy *pol = x->pol;
	struct ap_domain *dom = &pol->domains[di];
	struct eff *e = &x->eff[di], *pe = NULL;
	uint32_t nr = pol->prog.nrules;
	int pi = -1;

	if (e->state != E_TODO)
		return;
	e->state = E_BUSY;
	if (dom->parent) {
		pi = find_domain(pol, dom->parent);
		if (pi < 0) {
			const char *s = suggest_domain(pol, dom->parent);

			if (s)
				ap_error_at(x->d, &dom->parent_loc, "unknown parent domain '%s' "
					    "(did you mean '%s'?)", dom->parent, s);
			else
				ap_error_at(x->d, &dom->parent_loc, "unknown parent domain '%s'",
					    dom->parent);
			e->state = E_BROKEN;
			return;
		}
		if (x->eff[pi].state == E_BUSY) {
			/* the chain from pi down to here is a cycle */
			char *chain = ap_arena__strdup(pol->arena, dom->name);
			uint32_t cur = (uint32_t)pi;

			for (uint32_t guard = 0; guard <= pol->ndomains; guard++) {
				chain = ap_arena__printf(pol->arena, "%s -> %s", chain,
							 pol->domains[cur].name);
				int nx;

				if (cur == di || !pol->domains[cur].parent)
					break;
				nx = find_domain(pol, pol->domains[cur].parent);
				if (nx < 0)
					break;
				cur = (uint32_t)nx;
			}
			ap_error_at(x->d, &dom->parent_loc, "domain parents form a cycle: %s",
				    chain);
			e->state = E_BROKEN;
			return;
		}
		compute(x, (uint32_t)pi);
		if (x->eff[pi].state == E_BROKEN) {
			e->state = E_BROKEN;
			return;
		}
		pe = &x->eff[pi];
	}
	for (uint32_t r = 0; r < nr; r++)
		e->mode[r] = pe ? pe->mode[r] : -1;
	if (pe) {
		memcpy(e->from, pe->from, nr * sizeof(*e->from));
		memcpy(e->where, pe->where, nr * sizeof(*e->where));
	}

	for (uint32_t i = 0; i < dom->ndisable; i++) {
		const char *name = dom->disable[i];
		const struct ap_span *loc = &dom->disable_loc[i];
		const char *what = is_block(pol, name) ? "rule block" : "rule";
		int n = resolve(x, name);
		bool reported = false;

		if (n <= 0) {
			unknown_rule(x, loc, name, n);
			continue;
		}
		for (int k = 0; k < n; k++) {
			uint32_t r = x->sel[k];

			if (pe && pe->mode[r] == AP_BIND_LOCKED) {
				ap_error_at(x->d, loc, "rule '%s' is locked by domain '%s' and "
					    "cannot be disabled below it",
					    pol->prog.rules[r].name, pol->domains[pe->from[r]].name);
				ap_note_at(x->d, &pe->where[r], "locked here");
				continue;
			}
			if (pe && pe->mode[r] >= 0) {
				e->mode[r] = -1;
				continue;
			}
			/* not inherited: one error for the name as written */
			if (reported)
				continue;
			reported = true;
			if (binds_name(x, dom, r))
				ap_error_at(x->d, loc, "%s '%s' is bound by domain '%s' itself, "
					    "not inherited; remove the bind instead of disabling it",
					    what, name, dom->name);
			else if (!pe)
				ap_error_at(x->d, loc, "domain '%s' has no parent: only inherited "
					    "rules can be disabled", dom->name);
			else
				ap_error_at(x->d, loc, "%s '%s' is not inherited by domain '%s' "
					    "(its parent '%s' does not apply it)",
					    what, name, dom->name, dom->parent);
			/* binds_name() reused the scratch: restore this name's set */
			resolve(x, name);
		}
	}

	for (uint32_t b = 0; b < dom->nbinds; b++) {
		const struct ap_bind *bd = &dom->binds[b];
		int n;

		for (uint32_t o = 0; o < b; o++)
			if (!strcmp(dom->binds[o].rule, bd->rule)) {
				ap_error_at(x->d, &bd->loc, "rule '%s' is bound twice in domain '%s'",
					    bd->rule, dom->name);
				ap_note_at(x->d, &dom->binds[o].loc, "first bound here");
				goto next;
			}
		n = resolve(x, bd->rule);
		if (n <= 0) {
			unknown_rule(x, &bd->loc, bd->rule, n);
			e->bind_errors = true;
			continue;
		}
		for (int k = 0; k < n; k++) {
			uint32_t r = x->sel[k];

			if (e->mode[r] < (int8_t)bd->mode) {
				e->mode[r] = (int8_t)bd->mode;
				e->from[r] = di;
				e->where[r] = bd->loc;
			}
		}
next:;
	}
	e->state = E_DONE;
}

static void all_rules(struct ap_policy *pol)
{
	pol->rules = ap_arena__alloc(pol->arena, sizeof(*pol->rules) * (pol->prog.nrules + 1));
	pol->nrules = pol->prog.nrules;
	for (uint32_t r = 0; r < pol->prog.nrules; r++) {
		pol->rules[r].rule = &pol->prog.rules[r];
		pol->rules[r].mode = AP_BIND_DEFAULT;
		pol->rules[r].domain = NULL;
	}
	pol->domain = NULL;
}

int ap_domains__resolve(struct ap_policy *pol, const char *want, struct ap_diags *diags)
{
	struct dctx x = { .pol = pol, .d = diags };
	unsigned errors0 = diags->nerrors;
	uint32_t nr = pol->prog.nrules, nd = pol->ndomains;
	int sel = -1;

	if (!pol->form_b || !nd) {
		all_rules(pol);
		if (want)
			ap_diags__add(diags, AP_DIAG_ERROR, NULL, "--domain '%s' given, but "
				      "the policy defines no domains", want);
		if (pol->default_domain)
			ap_error_at(diags, &pol->default_domain_loc, "unknown domain '%s' in "
				    "'default_domain' (the policy defines no domains)",
				    pol->default_domain);
		return diags->nerrors > errors0 ? -EINVAL : 0;
	}
	x.eff = ap_arena__alloc(pol->arena, sizeof(*x.eff) * nd);
	x.sel = ap_arena__alloc(pol->arena, sizeof(*x.sel) * (nr + 1));
	for (uint32_t i = 0; i < nd; i++) {
		x.eff[i].mode = ap_arena__alloc(pol->arena, nr + 1);
		x.eff[i].from = ap_arena__alloc(pol->arena, sizeof(uint32_t) * (nr + 1));
		x.eff[i].where = ap_arena__alloc(pol->arena, sizeof(struct ap_span) * (nr + 1));
	}
	for (uint32_t i = 0; i < nd; i++) {
		uint32_t cnt = 0;

		compute(&x, i);
		if (x.eff[i].state != E_DONE)
			continue;
		for (uint32_t r = 0; r < nr; r++)
			cnt += x.eff[i].mode[r] >= 0;
		if (!cnt && !x.eff[i].bind_errors)
			ap_error_at(diags, &pol->domains[i].loc, "domain '%s' enforces no "
				    "rules: bind some, or inherit them from a parent",
				    pol->domains[i].name);
	}

	/* selection */
	if (want) {
		sel = find_domain(pol, want);
		if (sel < 0) {
			const char *s = suggest_domain(pol, want);

			if (s)
				ap_error_at(diags, &pol->domains_loc, "unknown domain '%s' given "
					    "with --domain (did you mean '%s'?)", want, s);
			else
				ap_error_at(diags, &pol->domains_loc, "unknown domain '%s' given "
					    "with --domain (the policy defines: %s)", want,
					    domain_list(pol));
		}
	} else if (pol->default_domain) {
		sel = find_domain(pol, pol->default_domain);
		if (sel < 0) {
			const char *s = suggest_domain(pol, pol->default_domain);

			if (s)
				ap_error_at(diags, &pol->default_domain_loc, "unknown domain '%s' "
					    "in 'default_domain' (did you mean '%s'?)",
					    pol->default_domain, s);
			else
				ap_error_at(diags, &pol->default_domain_loc, "unknown domain '%s' "
					    "in 'default_domain' (the policy defines: %s)",
					    pol->default_domain, domain_list(pol));
		}
	} else if ((sel = find_domain(pol, "session")) >= 0) {
		/* the conventional name */
	} else if (nd == 1) {
		sel = 0;
	} else {
		ap_error_at(diags, &pol->domains_loc, "several domains (%s) and none "
			    "selected: pass --domain NAME, set 'default_domain', or name "
			    "one 'session'", domain_list(pol));
	}
	/* a default_domain that names nothing is an error even when --domain
	 * overrides it */
	if (want && pol->default_domain && find_domain(pol, pol->default_domain) < 0)
		ap_error_at(diags, &pol->default_domain_loc, "unknown domain '%s' in "
			    "'default_domain'", pol->default_domain);

	pol->rules = ap_arena__alloc(pol->arena, sizeof(*pol->rules) * (nr + 1));
	pol->nrules = 0;
	if (sel >= 0) {
		struct eff *e = &x.eff[sel];

		pol->domain = pol->domains[sel].name;
		for (uint32_t r = 0; e->state == E_DONE && r < nr; r++) {
			if (e->mode[r] < 0)
				continue;
			pol->rules[pol->nrules].rule = &pol->prog.rules[r];
			pol->rules[pol->nrules].mode = (enum ap_bind_mode)e->mode[r];
			pol->rules[pol->nrules].domain = pol->domains[e->from[r]].name;
			pol->nrules++;
		}
	}
	return diags->nerrors > errors0 ? -EINVAL : 0;
}
