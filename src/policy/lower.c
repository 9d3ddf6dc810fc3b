// SPDX-License-Identifier: MIT
/*
 * Lowering a parsed policy to the kernel tables (contract in lower.h).
 * docs/rule-language.md describes the rules this file and lower_rules.c
 * enforce: how labels are declared, how relative patterns are anchored,
 * what is a warning.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lower_int.h"

bool ap_lower__limit(struct lower *L, int idx, uint32_t n, uint32_t max,
		     const struct ap_span *loc, const char *what)
{
	if (n < max)
		return true;
	if (!L->full[idx])
		ap_error_at(L->d, loc, "too many %s: at most %u fit the kernel tables",
			    what, max);
	L->full[idx] = true;
	return false;
}

/* ---- labels ---- */

static int label_find(const struct ap_compiled *c, const char *name)
{
	for (uint32_t i = 0; i < c->nlabels; i++)
		if (!strcmp(c->labels[i].name, name))
			return (int)i;
	return -1;
}

int ap_lower__label_lookup(const char *name, void *ctx)
{
	return label_find(ctx, name);
}

static int label_declare(struct lower *L, const char *name,
			 const struct ap_span *loc)
{
	struct ap_compiled *c = L->c;
	int i = label_find(c, name);

	if (i >= 0)
		return i;
	if (!ap_lower__limit(L, CAP_LABELS, c->nlabels, AP_MAX_LABELS, loc, "labels"))
		return -1;
	GROW(L, labels, nlabels, CAP_LABELS);
	memset(&c->labels[c->nlabels], 0, sizeof(c->labels[0]));
	c->labels[c->nlabels].name = ap_arena__strdup(c->arena, name);
	if (loc) {
		c->labels[c->nlabels].loc = *loc;
		c->labels[c->nlabels].has_loc = true;
	}
	return (int)c->nlabels++;
}

/* ---- patterns ---- */

static bool is_glob_seg(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strchr("*?[\\", s[i]))
			return true;
	return false;
}

/* Collapse "//", drop "." segments, resolve ".." against a literal parent.
 * Returns false when a ".." is left after a wildcard segment. */
static bool normalize(char *p)
{
	size_t segs[512];
	unsigned nseg = 0;
	char *out = p + 1, *in = p + 1;
	size_t len = strlen(p);
	bool ok = true, trailing = len > 1 && p[len - 1] == '/';

	while (*in) {
		char *end = strchr(in, '/');
		size_t n = end ? (size_t)(end - in) : strlen(in);

		if (n == 0 || (n == 1 && in[0] == '.')) {
			/* nothing */
		} else if (n == 2 && in[0] == '.' && in[1] == '.' && nseg &&
			   nseg < 512 && !is_glob_seg(p + segs[nseg - 1],
					   (size_t)(out - 1 - (p + segs[nseg - 1])))) {
			out = p + segs[--nseg];
		} else if (n == 2 && in[0] == '.' && in[1] == '.' && !nseg) {
			/* "/.." is "/" */
		} else {
			if (n == 2 && in[0] == '.' && in[1] == '.')
				ok = false;
			if (nseg < 512)
				segs[nseg++] = (size_t)(out - p);
			memmove(out, in, n);
			out += n;
			*out++ = '/';
		}
		in += n;
		if (*in == '/')
			in++;
	}
	if (out > p + 1 && !trailing)
		out--; /* the last '/' we wrote (kept when the glob ended in one) */
	*out = '\0';
	return ok;
}

/* The absolute glob the DFA sees for a path or program pattern. */
static const char *lower_glob(struct lower *L, const char *text, bool program,
			      const struct ap_span *loc)
{
	struct ap_arena *a = L->c->arena;
	const char *root = L->pol->root ? L->pol->root : "/";
	size_t tl = strlen(text);
	char *g;

	if (program && !strchr(text, '/'))
		return ap_arena__printf(a, "/**/%s", text);
	if (text[0] == '/') {
		g = ap_arena__strdup(a, text);
	} else if (text[0] == '*' && text[1] == '*') {
		g = ap_arena__printf(a, "/%s", text);
	} else {
		if (text[0] == '~')
			ap_warning_at(L->d, loc,
				      "'~' is not expanded: \"%s\" is relative to the project root "
				      "(write an absolute path, or \"**/%s\")",
				      text, text[1] == '/' ? text + 2 : text + 1);
		g = ap_arena__printf(a, "%s/%s", root, text);
	}
	if (tl > 1 && text[tl - 1] == '/')
		ap_warning_at(L->d, loc,
			      "\"%s\" ends in '/', which no path does, so it never matches "
			      "(write \"%s**\" for everything below it)", text, text);
	if (!normalize(g))
		ap_warning_at(L->d, loc,
			      "\"%s\" has '..' after a wildcard: paths are matched once "
			      "resolved, so it never matches", text);
	return g;
}

/* Intern pattern (kind, lowered); returns its id or -1 (error reported). */
static int pattern_add(struct lower *L, enum ap_pattern_kind kind,
		       const char *text, const char *lowered,
		       const struct ap_span *loc)
{
	struct ap_compiled *c = L->c;
	const char *err = NULL;
	size_t off = 0;
	int rc;

	for (uint32_t i = 0; i < c->npatterns; i++)
		if (c->patterns[i].kind == kind &&
		    !strcmp(c->patterns[i].lowered, lowered))
			return (int)i;
	if (strlen(lowered) + 2 > AP_PATH_MAX) {
		ap_error_at(L->d, loc, "pattern is longer than PATH_MAX (%d bytes) "
			    "once made absolute", AP_PATH_MAX);
		return -1;
	}
	if (!ap_lower__limit(L, CAP_PATTERNS, c->npatterns, AP_MAX_PATTERNS, loc,
		   "distinct patterns"))
		return -1;
	rc = ap_dfa_builder__add(L->b, c->npatterns, kind, lowered, &err, &off);
	if (rc) {
		ap_error_at(L->d, loc, "invalid pattern \"%s\": %s", text,
			    err ? err : "rejected by the automaton builder");
		return -1;
	}
	if (ap_glob_is_empty(kind, lowered))
		ap_warning_at(L->d, loc, "pattern \"%s\" can never match", text);
	GROW(L, patterns, npatterns, CAP_PATTERNS);
	c->patterns[c->npatterns] = (struct ap_compiled_pattern){
		.text = ap_arena__strdup(c->arena, text),
		.lowered = lowered,
		.kind = kind,
	};
	return (int)c->npatterns++;
}

int ap_lower__path_pattern(struct lower *L, const struct ap_pat *p, bool program)
{
	const char *g = lower_glob(L, p->text, program, &p->loc);

	return pattern_add(L, program ? AP_PAT_PROGRAM : AP_PAT_PATH, p->text, g,
			   &p->loc);
}

/* Arguments as a sorted, duplicate-free set of ARG pattern ids. */
int ap_lower__args(struct lower *L, const struct ap_strlist *args,
		   uint16_t *out, uint8_t *n)
{
	unsigned k = 0;

	if (args->n > AP_MAX_ARGS) {
		ap_error_at(L->d, &args->v[AP_MAX_ARGS].loc,
			    "too many arguments: at most %d per pattern", AP_MAX_ARGS);
		return -1;
	}
	for (uint32_t i = 0; i < args->n; i++) {
		int id = pattern_add(L, AP_PAT_ARG, args->v[i].text,
				     ap_arena__strdup(L->c->arena, args->v[i].text),
				     &args->v[i].loc);
		bool dup = false;

		if (id < 0)
			return -1;
		for (unsigned j = 0; j < k; j++)
			dup |= out[j] == id;
		if (!dup)
			out[k++] = (uint16_t)id;
	}
	qsort(out, k, sizeof(*out), sort_u16);
	*n = (uint8_t)k;
	return 0;
}

/* ---- endpoints ---- */

int ap_lower__endpoint_range(struct lower *L, const struct ap_pat *p,
			     uint16_t *first, uint16_t *count)
{
	struct ap_compiled *c = L->c;
	struct ap_endpoint tmp[AP_MAX_ENDPOINTS];
	const char *why = NULL;
	bool is_host = false;
	uint16_t port = 0;
	int n;

	for (uint32_t i = 0; i < L->neps; i++)
		if (!strcmp(L->eps[i].text, p->text)) {
			*first = L->eps[i].first;
			*count = L->eps[i].count;
			return 0;
		}
	if (!strncmp(p->text, "unix:", 5)) {
		const char *u = p->text + 5;
		const char *g;
		int id;

		if (!*u || (u[0] == '@' && !u[1])) {
			ap_error_at(L->d, &p->loc, "empty Unix socket name in \"%s\"",
				    p->text);
			return -1;
		}
		g = u[0] == '@' ? ap_arena__strdup(c->arena, u) :
		    lower_glob(L, u, false, &p->loc);
		id = pattern_add(L, AP_PAT_UNIX, p->text, g, &p->loc);
		if (id < 0)
			return -1;
		memset(tmp, 0, sizeof(tmp[0]));
		tmp[0].family = AF_UNIX;
		tmp[0].unix_pattern = (uint16_t)id;
		n = 1;
		/* the same socket by its other spellings (/var/run -> /run) */
		if (u[0] != '@') {
			char (*alt)[AP_PATH_MAX] = calloc(3, AP_PATH_MAX);
			int na = alt ? ap_endpoint__unix_aliases(g, alt, 3) : -ENOMEM;

			for (int i = 0; i < na; i++) {
				id = pattern_add(L, AP_PAT_UNIX, p->text,
						 ap_arena__strdup(c->arena, alt[i]), &p->loc);
				if (id < 0) {
					free(alt);
					return -1;
				}
				tmp[n] = tmp[0];
				tmp[n++].unix_pattern = (uint16_t)id;
			}
			free(alt);
		}
	} else {
		n = ap_endpoint__parse(p->text, tmp, AP_MAX_ENDPOINTS,
				       L->opts ? L->opts->resolve : NULL,
				       L->opts ? L->opts->resolve_ctx : NULL,
				       &is_host, &port, &why);
		if (n == -ENOSPC) {
			ap_error_at(L->d, &p->loc, "\"%s\" resolves to more than %d addresses",
				    p->text, AP_MAX_ENDPOINTS);
			return -1;
		}
		if (n < 0) {
			ap_error_at(L->d, &p->loc, "invalid endpoint \"%s\": %s",
				    p->text, why);
			return -1;
		}
		/* "*" means every IP endpoint; Unix sockets only match unix: */
		if (n == 1 && tmp[0].family == 0) {
			tmp[1] = tmp[0];
			tmp[0].family = 2;
			tmp[1].family = 10;
			n = 2;
		}
		if (is_host && n == 0)
			ap_warning_at(L->d, &p->loc,
				      "host name in \"%s\" does not resolve now: the pattern "
				      "matches nothing until it does", p->text);
		else if (is_host)
			ap_warning_at(L->d, &p->loc,
				      "host name in endpoint pattern \"%s\": resolved when the "
				      "policy loads, its addresses may change", p->text);
	}
	if (c->nendpoints + (uint32_t)n > AP_MAX_ENDPOINTS) {
		ap_lower__limit(L, CAP_ENDPOINTS, AP_MAX_ENDPOINTS, AP_MAX_ENDPOINTS, &p->loc,
		      "endpoint entries");
		return -1;
	}
	*first = (uint16_t)c->nendpoints;
	*count = (uint16_t)n;
	for (int i = 0; i < n; i++) {
		GROW(L, endpoints, nendpoints, CAP_ENDPOINTS);
		c->endpoints[c->nendpoints++] = tmp[i];
	}
	if (is_host) {
		GROW(L, hosts, nhosts, CAP_HOSTS);
		c->hosts[c->nhosts++] = (struct ap_compiled_host){
			.name = ap_arena__strdup(c->arena, p->text),
			.port = port, .first = *first, .count = (uint32_t)n,
		};
	}
	L->eps = ap_arena__grow(c->arena, L->eps, sizeof(*L->eps), L->neps,
				&c->cap[CAP_EPTEXT], L->neps + 1);
	L->eps[L->neps++] = (struct ep_text){ p->text, *first, *count };
	return 0;
}

/* ---- labels in expressions ---- */

static void expr_labels(struct lower *L, const struct ap_expr *e, bool effective)
{
	struct ap_compiled *c = L->c;
	const char *cands[AP_MAX_LABELS];
	const char *s;
	int i;

	if (!e)
		return;
	if (e->kind != AP_EXPR_LABEL) {
		expr_labels(L, e->l, effective);
		expr_labels(L, e->r, effective);
		return;
	}
	i = label_find(c, e->label);
	if (i >= 0) {
		L->named[i] = true;
		if (effective && !c->labels[i].used) {
			c->labels[i].used = true;
			/* endorse is a way to gain a label; declassify only
			 * removes one */
			if (!c->labels[i].sourced && !c->labels[i].seeded &&
			    !c->labels[i].endorsed)
				ap_warning_at(L->d, &e->loc,
					      "label '%s' is never sourced, seeded or endorsed: "
					      "no process can carry it", e->label);
		}
		return;
	}
	for (uint32_t k = 0; k < c->nlabels; k++)
		cands[k] = c->labels[k].name;
	s = ap_suggest(e->label, cands, c->nlabels);
	if (s)
		ap_error_at(L->d, &e->loc, "unknown label '%s' (did you mean '%s'?)",
			    e->label, s);
	else
		ap_error_at(L->d, &e->loc,
			    "unknown label '%s' (declare it with `source %s = ...` "
			    "or list it in run.seed)", e->label, e->label);
}

static void labels_collect(struct lower *L)
{
	const struct ap_policy *pol = L->pol;
	const struct ap_program *pg = &pol->prog;
	struct ap_compiled *c = L->c;
	int i;

	for (uint32_t k = 0; k < pg->nsources; k++) {
		i = label_declare(L, pg->sources[k].label, &pg->sources[k].label_loc);
		if (i >= 0)
			c->labels[i].sourced = true;
	}
	for (uint32_t k = 0; k < pg->nkeeps; k++) {
		i = label_declare(L, pg->keeps[k].label, &pg->keeps[k].label_loc);
		if (i < 0)
			continue;
		if (pg->keeps[k].kind == AP_KEEP_ENDORSE)
			c->labels[i].endorsed = true;
		else
			c->labels[i].declassified = true;
	}
	if (pol->seed_given) {
		for (uint32_t k = 0; k < pol->nseed; k++) {
			const struct ap_span *loc = pol->seed_loc ? &pol->seed_loc[k] : NULL;

			i = label_declare(L, pol->seed[k], loc);
			if (i < 0)
				continue;
			c->labels[i].seeded = true;
			c->seed_labels |= 1ull << i;
		}
	} else if ((i = label_find(c, "AGENT")) >= 0 && c->labels[i].sourced) {
		c->labels[i].seeded = true;
		c->seed_labels |= 1ull << i;
	}
	c->declared_labels = c->nlabels >= 64 ? ~0ull : (1ull << c->nlabels) - 1;

	/* effective rules mark labels used; every declared rule is checked */
	for (uint32_t r = 0; r < pol->nrules; r++)
		for (uint32_t k = 0; k < pol->rules[r].rule->nclauses; k++)
			expr_labels(L, pol->rules[r].rule->clauses[k].cond, true);
	for (uint32_t r = 0; r < pg->nrules; r++) {
		bool eff = false;

		for (uint32_t k = 0; k < pol->nrules; k++)
			eff |= pol->rules[k].rule == &pg->rules[r];
		if (eff)
			continue;
		for (uint32_t k = 0; k < pg->rules[r].nclauses; k++)
			expr_labels(L, pg->rules[r].clauses[k].cond, false);
	}
	/* a seed label nothing else names is most likely a typo */
	for (uint32_t k = 0; k < c->nlabels; k++) {
		const struct ap_compiled_label *l = &c->labels[k];
		const char *cands[AP_MAX_LABELS], *s;
		unsigned n = 0;

		if (!l->seeded || l->sourced || l->endorsed || l->declassified ||
		    L->named[k] || !l->has_loc)
			continue;
		for (uint32_t j = 0; j < c->nlabels; j++)
			if (j != k)
				cands[n++] = c->labels[j].name;
		s = ap_suggest(l->name, cands, n);
		if (s)
			ap_warning_at(L->d, &l->loc, "seed label '%s' is named by no rule or "
				      "source (did you mean '%s'?)", l->name, s);
		else
			ap_warning_at(L->d, &l->loc, "seed label '%s' is named by no rule "
				      "or source", l->name);
	}
}

/* ---- sources, keeps ---- */

static void sources_lower(struct lower *L)
{
	const struct ap_program *pg = &L->pol->prog;
	struct ap_compiled *c = L->c;

	for (uint32_t k = 0; k < pg->nsources; k++) {
		const struct ap_source_decl *sd = &pg->sources[k];
		struct ap_source s = { 0 };
		int bit = label_find(c, sd->label), id;

		if (bit < 0 || !ap_lower__limit(L, CAP_SOURCES, c->nsources, AP_MAX_SOURCES,
				      &sd->loc, "sources"))
			continue;
		s.label = (uint8_t)bit;
		s.count = 1;
		switch (sd->kind) {
		case AP_S_FILE:
			s.kind = AP_SRC_FILE;
			id = ap_lower__path_pattern(L, &sd->pat, false);
			if (id < 0)
				continue;
			s.pattern = (uint16_t)id;
			break;
		case AP_S_EXEC:
			s.kind = AP_SRC_EXEC;
			id = ap_lower__path_pattern(L, &sd->pat, true);
			if (id < 0 || ap_lower__args(L, &sd->args, s.args, &s.nargs))
				continue;
			s.pattern = (uint16_t)id;
			break;
		case AP_S_ENDPOINT:
			s.kind = AP_SRC_ENDPOINT;
			if (ap_lower__endpoint_range(L, &sd->pat, &s.pattern, &s.count))
				continue;
			break;
		}
		GROW(L, sources, nsources, CAP_SOURCES);
		c->sources[c->nsources++] = s;
	}
	for (uint32_t k = 0; k < pg->nkeeps; k++) {
		const struct ap_keep_decl *kd = &pg->keeps[k];
		int bit = label_find(c, kd->label), id;

		if (bit < 0 || !ap_lower__limit(L, CAP_KEEPS, c->nkeeps, AP_MAX_KEEPS, &kd->loc,
				      "declassify/endorse declarations"))
			continue;
		id = ap_lower__path_pattern(L, &kd->program, true);
		if (id < 0)
			continue;
		GROW(L, keeps, nkeeps, CAP_KEEPS);
		c->keeps[c->nkeeps++] = (struct ap_keep){
			.kind = (uint8_t)kd->kind, .label = (uint8_t)bit,
			.program = (uint16_t)id,
		};
	}
}

/* ---- the built-in session-guard (lower.h) ---- */

static void guard_lower(struct lower *L)
{
	struct ap_guard_spec specs[AP_GUARD_MAX_SPECS];
	struct ap_compiled *c = L->c;
	struct ap_compiled_rule *ri;
	enum ap_effect eff;
	unsigned n;

	/* block where the mode can deny, else kill: the guard is never
	 * weakened by the kernel, only lowered by the policy */
	eff = L->pol->guard == AP_GUARD_NOTIFY_ONLY ? AP_EFFECT_NOTIFY :
	      opts_degraded(L, AP_EFFECT_BLOCK) ? AP_EFFECT_KILL : AP_EFFECT_BLOCK;
	n = ap_guard__specs(L->pol, c->arena, specs);
	GROW(L, rule_info, nrules, CAP_RULEINFO);
	ri = &c->rule_info[c->nrules];
	memset(ri, 0, sizeof(*ri));
	ri->name = AP_GUARD_RULE_NAME;
	ri->because = AP_GUARD_BECAUSE;
	ri->effect = eff;
	ri->first_clause = c->nclauses;
	c->guard_items = ap_arena__alloc(c->arena, n + 1);
	for (unsigned i = 0; i < n; i++) {
		int id;

		if (c->nclauses >= AP_MAX_CLAUSES || c->npatterns >= AP_MAX_PATTERNS) {
			ap_error_at(L->d, NULL,
				    "the built-in %s does not fit: the policy leaves no room "
				    "in the kernel tables (%u of %u clauses, %u of %u patterns "
				    "used)", AP_GUARD_RULE_NAME, c->nclauses, AP_MAX_CLAUSES,
				    c->npatterns, AP_MAX_PATTERNS);
			break;
		}
		id = pattern_add(L, AP_PAT_PATH, specs[i].glob, specs[i].glob, NULL);
		if (id < 0)
			continue;
		GROW(L, clauses, nclauses, CAP_CLAUSES);
		c->clauses[c->nclauses] = (struct ap_clause){
			.rule = (uint16_t)c->nrules,
			.op = (uint8_t)specs[i].op,
			.effect = (uint8_t)eff,
			.target_kind = AP_TGT_PATTERN,
			.flags = AP_CLAUSE_F_SESSION_GUARD,
			.target = (uint16_t)id,
			.target_count = 1,
		};
		c->guard_items[c->nclauses - ri->first_clause] = (uint8_t)specs[i].item;
		c->nclauses++;
	}
	ri->nkclauses = c->nclauses - ri->first_clause;
	GROW(L, rules, nrules, CAP_RULES);
	c->rules[c->nrules] = (struct ap_rule){ .effect = (uint8_t)eff };
	c->guard_rule = c->nrules++;
}

/* ---- entry points ---- */

int ap_lower(const struct ap_policy *pol, const struct ap_lower_opts *opts,
	     struct ap_diags *diags, struct ap_compiled **out)
{
	struct lower L = { .pol = pol, .opts = opts, .d = diags };
	struct ap_compiled *c;
	unsigned errors0 = diags->nerrors;
	int err = 0;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->arena = ap_arena__new();
	L.c = c;
	L.b = ap_dfa_builder__new();
	if (!L.b) {
		err = -ENOMEM;
		goto cleanup;
	}
	/* a policy too big for one automaton becomes several (their number
	 * travels in the blob flags, AP_BLOB_DFA_GROUPS) */
	err = ap_dfa_builder__set_max_groups(L.b, AP_DFA_MAX_GROUPS);
	if (err)
		goto cleanup;
	c->policy_path = ap_arena__strdup(c->arena, pol->path ? pol->path : "");
	c->root = ap_arena__strdup(c->arena, pol->root ? pol->root : "/");
	c->domain = pol->domain ? ap_arena__strdup(c->arena, pol->domain) : NULL;
	memcpy(c->sha256, pol->sha256, sizeof(c->sha256));
	c->flags = pol->guard == AP_GUARD_NOTIFY_ONLY ? AP_BLOB_F_GUARD_NOTIFY : 0;
	c->guard_allow = pol->guard_allow & AP_GUARD_ALL;

	labels_collect(&L);
	sources_lower(&L);
	ap_lower__rules(&L);
	guard_lower(&L);

	if (diags->nerrors == errors0) {
		err = ap_dfa_builder__build(L.b, &c->dfa);
		if (!err)
			c->flags |= (c->dfa->ngroups > 1 ? c->dfa->ngroups : 1)
				    << AP_BLOB_F_DFA_GROUPS_SHIFT;
		if (err == -E2BIG)
			ap_error_at(diags, NULL,
				    "the policy's patterns need a larger automaton than the "
				    "kernel tables hold (%d states, %d accept sets): use fewer "
				    "or simpler patterns", AP_MAX_DFA_STATES, AP_MAX_ACCEPT_SETS);
		else if (err)
			ap_error_at(diags, NULL, "building the pattern automaton failed: %s",
				    strerror(-err));
	}
	if (diags->nerrors != errors0)
		err = -EINVAL;
cleanup:
	ap_dfa_builder__free(L.b);
	*out = c;
	return err;
}

void ap_compiled__free(struct ap_compiled *c)
{
	if (!c)
		return;
	ap_dfa__free(c->dfa);
	ap_arena__free(c->arena);
	free(c);
}
