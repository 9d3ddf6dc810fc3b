// SPDX-License-Identifier: MIT
/* `check` output, human and JSON (contract in summary.h). */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "summary.h"

static const char *const op_names[] = {
#define X(e, s) s,
	AP_OPS(X)
#undef X
};

static const struct {
	const char *name;
	uint32_t bit;
} guard_items[] = {
#define X(e, s, v) { s, v },
	AP_GUARD_ITEMS(X)
#undef X
};

/* What each session-guard item forbids and how each mode stops it (the
 * path items are the guard rule's clauses; the others are system calls the
 * supervisor (enforce/sysguard.c) and the engine (bpf/engine_guard.bpf.h)
 * check themselves). Indexed like guard_items. */
#define GUARD_KILL_AT_ENTRY \
	"the engine kills the process with SIGKILL at the system call's entry; " \
	"the kill lands before the call returns to user space"
#define GUARD_DENY_OR_KILL \
	"; where the kernel does not let the engine deny, it kills the process " \
	"at the system call's entry instead"
static const struct {
	const char *what;
	const char *supervised;  /* block */
	enum ap_effect tp_effect;
	const char *tracepoint;
} guard_how[] = {
	{ "ptrace, process_vm_writev or write /proc/PID/mem of a process outside "
	  "the session",
	  "the seccomp supervisor fails ptrace attach/seize, process_vm_writev and "
	  "the open of /proc/PID/mem for writing with EPERM",
	  AP_EFFECT_BLOCK,
	  "the engine fails ptrace attach/seize and process_vm_writev with EPERM "
	  "(fmod_ret on security_ptrace_access_check)" GUARD_DENY_OR_KILL "; an open "
	  "of /proc/PID/mem for writing kills the process when the open returns, "
	  "before anything is written" },
	{ "change its root or mount namespace: chroot, pivot_root, setns, unshare "
	  "or clone of a mount or user namespace",
	  "the seccomp supervisor fails chroot, pivot_root, setns and unshare/clone "
	  "with CLONE_NEWNS or CLONE_NEWUSER with EPERM (clone3 fails with ENOSYS, "
	  "so libc falls back to clone)",
	  AP_EFFECT_KILL,
	  GUARD_KILL_AT_ENTRY "; the root or namespace it changed dies with it" },
	{ "leave the session's cgroup (write cgroup.procs or cgroup.threads)",
	  "the seccomp supervisor fails the open of cgroup.procs/cgroup.threads "
	  "for writing with EPERM: no pid is ever written",
	  AP_EFFECT_KILL,
	  "the engine kills the process with SIGKILL when the open for writing "
	  "returns, before it can write a pid" },
	{ "signal the actplane engine",
	  "the seccomp supervisor fails kill, tkill, tgkill, rt_sigqueueinfo and "
	  "pidfd signals aimed at the engine with EPERM",
	  AP_EFFECT_BLOCK,
	  "the engine fails every signal aimed at it with EPERM (fmod_ret on "
	  "security_task_kill)" GUARD_DENY_OR_KILL },
	{ "write, rename or remove the policy file or .actplane/",
	  "the seccomp supervisor fails the open for writing, truncate, rename, "
	  "link and removal with EPERM before they take effect",
	  AP_EFFECT_KILL,
	  "the engine kills the process with SIGKILL: for an open for writing "
	  "when the open returns, before anything is written (O_TRUNC has "
	  "already truncated); for truncate, rename, link and removal at the "
	  "system call's entry, so the call itself may still take effect" },
};
_Static_assert(sizeof(guard_how) / sizeof(guard_how[0]) ==
	       sizeof(guard_items) / sizeof(guard_items[0]), "guard item table");

/* ---- text helpers ---- */

static void put_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

enum { PREC_OR = 1, PREC_AND = 2, PREC_NOT = 3 };

static void put_expr(FILE *f, const struct ap_expr *e, int prec)
{
	int my;

	switch (e->kind) {
	case AP_EXPR_LABEL:
		fputs(e->label, f);
		return;
	case AP_EXPR_TRUE:
		fputs("true", f);
		return;
	case AP_EXPR_NOT:
		fputs("not ", f);
		put_expr(f, e->l, PREC_NOT);
		return;
	case AP_EXPR_AND:
	case AP_EXPR_OR:
		my = e->kind == AP_EXPR_AND ? PREC_AND : PREC_OR;
		if (my < prec)
			fputc('(', f);
		put_expr(f, e->l, my);
		fputs(e->kind == AP_EXPR_AND ? " and " : " or ", f);
		put_expr(f, e->r, my + 1);
		if (my < prec)
			fputc(')', f);
		return;
	}
}

static char *expr_text(const struct ap_expr *e)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	if (!f)
		return NULL;
	if (e)
		put_expr(f, e, 0);
	else
		fputs("true", f);
	fclose(f);
	return buf;
}

static void put_args(FILE *f, const struct ap_strlist *a)
{
	for (uint32_t i = 0; i < a->n; i++) {
		fputc(' ', f);
		put_quoted(f, a->v[i].text);
	}
}

static const char *syn_kw(enum ap_pat_syntax s)
{
	return s == AP_PATSYN_FILE ? "file " : s == AP_PATSYN_EXEC ? "exec " :
	       s == AP_PATSYN_ENDPOINT ? "endpoint " : "";
}

static void put_cond_dsl(FILE *f, const struct ap_condition *co)
{
	switch (co->kind) {
	case AP_C_TARGET:
		fputs(co->negate ? "target not " : "target ", f);
		put_quoted(f, co->pat.text);
		break;
	case AP_C_LINEAGE:
		fputs("lineage-includes exec ", f);
		put_quoted(f, co->pat.text);
		break;
	case AP_C_AFTER:
		fputs("after exec ", f);
		put_quoted(f, co->pat.text);
		put_args(f, &co->args);
		if (co->passed)
			fputs(" passed", f);
		for (uint32_t i = 0; i < co->nsince; i++) {
			fputs(i ? " or " : " since ", f);
			fprintf(f, "%s ", op_names[co->since[i].op]);
			put_quoted(f, co->since[i].pat.text);
		}
		break;
	}
}

char *ap_clause__dsl(const struct ap_clause_ast *cl)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	if (!f)
		return NULL;
	fprintf(f, "%s %s %s", ap_effect__name(cl->effect), op_names[cl->op],
		syn_kw(cl->pat.syn));
	put_quoted(f, cl->pat.text);
	put_args(f, &cl->args);
	if (cl->cond) {
		fputs(" if ", f);
		put_expr(f, cl->cond, 0);
	}
	for (uint32_t i = 0; i < cl->nunless; i++) {
		fputs(i ? " or " : " unless ", f);
		put_cond_dsl(f, &cl->unless[i]);
	}
	fclose(f);
	return buf;
}

static void put_cond_words(FILE *f, const struct ap_condition *co)
{
	switch (co->kind) {
	case AP_C_TARGET:
		fprintf(f, "the target %s ", co->negate ? "does not match" : "matches");
		put_quoted(f, co->pat.text);
		break;
	case AP_C_LINEAGE:
		fputs("the process or an ancestor ran ", f);
		put_quoted(f, co->pat.text);
		break;
	case AP_C_AFTER:
		put_quoted(f, co->pat.text);
		put_args(f, &co->args);
		fputs(co->passed ? " ran and exited 0 earlier in the session" :
		      " ran earlier in the session", f);
		for (uint32_t i = 0; i < co->nsince; i++) {
			const struct ap_event *ev = &co->since[i];

			fputs(i ? " or " : " with no ", f);
			fprintf(f, "%s of ", ev->op == AP_OP_WRITE ? "write" :
				ev->op == AP_OP_READ ? "read" : ev->op == AP_OP_UNLINK ?
				"removal" : "run");
			put_quoted(f, ev->pat.text);
		}
		if (co->nsince)
			fputs(" since", f);
		break;
	}
}

char *ap_clause__words(const struct ap_clause_ast *cl)
{
	static const char *const verbs[] = {
		[AP_OP_EXEC] = "runs", [AP_OP_OPEN] = "opens", [AP_OP_READ] = "reads",
		[AP_OP_WRITE] = "writes", [AP_OP_UNLINK] = "removes",
		[AP_OP_RENAME] = "renames", [AP_OP_CONNECT] = "connects or sends to",
		[AP_OP_RECV] = "receives from",
	};
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	if (!f)
		return NULL;
	if (cl->cond && cl->cond->kind != AP_EXPR_TRUE) {
		fputs("a process carrying ", f);
		put_expr(f, cl->cond, 0);
	} else {
		fputs("any process", f);
	}
	fprintf(f, " %s ", cl->op < AP_OP__POLICY_COUNT ? verbs[cl->op] : "?");
	if (cl->pat.syn == AP_PATSYN_FILE && cl->op == AP_OP_EXEC)
		fputs("the file ", f);
	put_quoted(f, cl->pat.text);
	if (cl->args.n)
		fprintf(f, " with argument%s", cl->args.n > 1 ? "s" : "");
	put_args(f, &cl->args);
	for (uint32_t i = 0; i < cl->nunless; i++) {
		fputs(i ? ", or " : ", unless ", f);
		put_cond_words(f, &cl->unless[i]);
	}
	fclose(f);
	return buf;
}

/* ---- shared facts ---- */

static enum ap_effect guard_effect(const struct ap_summary *s)
{
	if (s->c && s->c->guard_rule < s->c->nrules)
		return s->c->rule_info[s->c->guard_rule].effect;
	if (s->pol && s->pol->guard == AP_GUARD_NOTIFY_ONLY)
		return AP_EFFECT_NOTIFY;
	return s->caps->mode == AP_MODE_TRACEPOINT ? AP_EFFECT_KILL : AP_EFFECT_BLOCK;
}

/* the policy's own rules (the built-in guard has no AST) */
static uint32_t user_rules(const struct ap_compiled *c)
{
	uint32_t n = 0;

	for (uint32_t r = 0; r < c->nrules; r++)
		n += c->rule_info[r].ast != NULL;
	return n;
}

static const char *guard_op_list(const struct ap_compiled *c, const char *glob,
				 char *buf, size_t size)
{
	const struct ap_compiled_rule *g = &c->rule_info[c->guard_rule];
	size_t n = 0;

	buf[0] = '\0';
	for (uint32_t k = g->first_clause; k < g->first_clause + g->nkclauses; k++) {
		const struct ap_clause *cl = &c->clauses[k];

		if (cl->target >= c->npatterns || strcmp(c->patterns[cl->target].text, glob))
			continue;
		n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s",
				      n ? "|" : "", op_names[cl->op]);
	}
	return buf;
}

/* each distinct pattern of the guard's clauses of `item`, once: fn(glob, ops) */
static void guard_patterns(const struct ap_compiled *c, uint32_t item,
			   void (*fn)(void *ctx, const char *glob, const char *ops),
			   void *ctx)
{
	const struct ap_compiled_rule *g;
	char ops[64];

	if (!c || c->guard_rule >= c->nrules || !c->guard_items)
		return;
	g = &c->rule_info[c->guard_rule];
	for (uint32_t i = 0; i < g->nkclauses; i++) {
		const struct ap_clause *cl = &c->clauses[g->first_clause + i];
		bool seen = false;

		if (c->guard_items[i] != item || cl->target >= c->npatterns)
			continue;
		for (uint32_t j = 0; j < i && !seen; j++)
			seen = c->clauses[g->first_clause + j].target == cl->target;
		if (!seen)
			fn(ctx, c->patterns[cl->target].text,
			   guard_op_list(c, c->patterns[cl->target].text, ops, sizeof(ops)));
	}
}

static const char *src_kind(enum ap_source_syntax k)
{
	return k == AP_S_FILE ? "file" : k == AP_S_EXEC ? "exec" : "endpoint";
}

static unsigned count_degraded(const struct ap_summary *s)
{
	unsigned n = 0;

	for (uint32_t r = 0; s->c && r < s->c->nrules; r++)
		n += s->c->rule_info[r].degraded;
	return n;
}

/* ---- human ---- */

static void print_label(const struct ap_summary *s, uint32_t i, FILE *out)
{
	const struct ap_compiled_label *l = &s->c->labels[i];
	const struct ap_program *pg = &s->pol->prog;
	const char *sep = "";

	fprintf(out, "  %-12s bit %-2u ", l->name, i);
	for (uint32_t k = 0; k < pg->nsources; k++) {
		if (strcmp(pg->sources[k].label, l->name))
			continue;
		fprintf(out, "%ssource %s ", sep, src_kind(pg->sources[k].kind));
		put_quoted(out, pg->sources[k].pat.text);
		put_args(out, &pg->sources[k].args);
		sep = "; ";
	}
	for (uint32_t k = 0; k < pg->nkeeps; k++) {
		if (strcmp(pg->keeps[k].label, l->name))
			continue;
		fprintf(out, "%s%s by exec ", sep,
			pg->keeps[k].kind == AP_KEEP_ENDORSE ? "endorse" : "declassify");
		put_quoted(out, pg->keeps[k].program.text);
		sep = "; ";
	}
	if (l->seeded) {
		fprintf(out, "%sseeded: the command `run` starts carries it", sep);
		sep = "; ";
	}
	if (!l->sourced && !l->seeded && !l->endorsed)
		fprintf(out, "%snothing gives it", sep);
	fputc('\n', out);
}

static void print_enforcement(const struct ap_summary *s, enum ap_effect e,
			      const char *indent, FILE *out)
{
	struct ap_enforcement en;

	ap_enforcement__describe(e, s->caps, s->fallback, &en);
	if (en.degraded)
		fprintf(out, "%s%s: degraded: %s; %s\n", indent, ap_effect__name(e),
			en.why, en.how);
	else
		fprintf(out, "%s%s: %s\n", indent, ap_effect__name(e), en.how);
}

static void print_guard_pattern(void *ctx, const char *glob, const char *ops)
{
	FILE *out = ctx;

	fprintf(out, "      %s ", ops);
	put_quoted(out, glob);
	fputc('\n', out);
}

/* The built-in session-guard: each item, its clauses, how each mode stops
 * it. */
static void print_guard(const struct ap_summary *s, FILE *out)
{
	uint32_t allow = s->pol ? s->pol->guard_allow : 0;
	bool notify = s->pol && s->pol->guard == AP_GUARD_NOTIFY_ONLY;
	enum ap_effect eff = guard_effect(s);
	bool any = false;

	fprintf(out, "\n%s (built in):\n", AP_GUARD_RULE_NAME);
	fputs("    guards:", out);
	for (size_t i = 0; i < sizeof(guard_items) / sizeof(guard_items[0]); i++)
		if (!(allow & guard_items[i].bit)) {
			fprintf(out, " %s", guard_items[i].name);
			any = true;
		}
	fputs(any ? "\n" : " nothing\n", out);
	if (allow) {
		fputs("    allowed by the policy:", out);
		for (size_t i = 0; i < sizeof(guard_items) / sizeof(guard_items[0]); i++)
			if (allow & guard_items[i].bit)
				fprintf(out, " %s", guard_items[i].name);
		fputc('\n', out);
	}
	if (notify)
		fputs("    lowered by the policy to notify (guard: notify)\n", out);
	fputs("    because ", out);
	put_quoted(out, AP_GUARD_BECAUSE);
	fputc('\n', out);
	if (!AP_GUARD_ENFORCED) {
		fputs("    enforced: NOT YET: this version does not enforce the session guard;\n"
		      "    a process of the session can still ptrace, change namespaces, leave\n"
		      "    the cgroup, signal actplane or edit .actplane/ (see 'issues')\n", out);
		return;
	}
	if (!any)
		return;
	print_enforcement(s, eff, "    enforced: ", out);
	fputs(notify ? "    reported when a process of the session does any of:\n" :
	      "    a process of the session may not:\n", out);
	for (size_t i = 0; i < sizeof(guard_items) / sizeof(guard_items[0]); i++) {
		if (allow & guard_items[i].bit)
			continue;
		fprintf(out, "    %s: %s\n", guard_items[i].name, guard_how[i].what);
		guard_patterns(s->c, guard_items[i].bit, print_guard_pattern, out);
		if (notify) {
			fputs("      every mode: notify: reported, the operation proceeds\n", out);
			continue;
		}
		fprintf(out, "      supervised mode: block: %s\n", guard_how[i].supervised);
		fprintf(out, "      tracepoint mode: %s: %s\n",
			ap_effect__name(guard_how[i].tp_effect), guard_how[i].tracepoint);
	}
}

void ap_summary__print(const struct ap_summary *s, FILE *out)
{
	const struct ap_compiled *c = s->c;
	const struct ap_kernel_caps *k = s->caps;
	unsigned ndeg;

	fprintf(out, "policy: %s\n", s->pol && s->pol->path ? s->pol->path : "-");
	if (!s->valid || !c) {
		fprintf(out, "invalid: %u error%s\n", s->diags->nerrors,
			s->diags->nerrors == 1 ? "" : "s");
		return;
	}
	if (c->domain)
		fprintf(out, "domain: %s\n", c->domain);
	fprintf(out, "mode: %s (BPF-LSM: %s, seccomp user notification: %s, "
		"Landlock ABI: %d; %s)\n", ap_mode__name(k->mode),
		ap_tristate__name(k->bpf_lsm), ap_tristate__name(k->seccomp_notify),
		k->landlock_abi, k->source);
	if (s->fallback)
		fprintf(out, "fallback: %s\n",
			s->fallback == AP_FALLBACK_KILL ? "kill" : "notify");

	fprintf(out, "\nlabels (%u):\n", c->nlabels);
	for (uint32_t i = 0; i < c->nlabels; i++)
		print_label(s, i, out);
	if (!c->nlabels)
		fputs("  none\n", out);

	fprintf(out, "\nrules (%u):\n", user_rules(c));
	for (uint32_t r = 0; r < c->nrules; r++) {
		const struct ap_compiled_rule *ri = &c->rule_info[r];
		bool seen[AP_EFFECT__COUNT] = { false };

		if (!ri->ast)
			continue; /* the built-in guard: its own section */
		fprintf(out, "  %s (line %u, %s", ri->name, ri->line,
			ap_effect__name(ri->effect));
		if (ri->domain)
			fprintf(out, ", bound in %s%s", ri->domain,
				ri->locked ? ", locked" : "");
		fputs(")\n", out);
		for (uint32_t i = 0; i < ri->ast->nclauses; i++) {
			const struct ap_clause_ast *cl = &ri->ast->clauses[i];
			char *dsl = ap_clause__dsl(cl), *words = ap_clause__words(cl);

			fprintf(out, "    %s\n      %s: %s%s\n", dsl ? dsl : "",
				ap_effect__name(cl->effect), words ? words : "",
				ri->terms[i] ? "" : " (never matches)");
			free(dsl);
			free(words);
			seen[cl->effect] = true;
		}
		if (ri->because[0]) {
			fputs("    because ", out);
			put_quoted(out, ri->because);
			fputc('\n', out);
		}
		for (int e = AP_EFFECT__COUNT - 1; e >= 0; e--)
			if (seen[e])
				print_enforcement(s, (enum ap_effect)e, "    enforced: ", out);
	}

	print_guard(s, out);

	ndeg = count_degraded(s);
	if (!ndeg) {
		fputs("\ndegraded: none; every effect is enforced as written on this kernel\n",
		      out);
	} else {
		fprintf(out, "\ndegraded (%u rule%s):\n", ndeg, ndeg == 1 ? "" : "s");
		for (uint32_t r = 0; r < c->nrules; r++) {
			const struct ap_compiled_rule *ri = &c->rule_info[r];
			bool seen[AP_EFFECT__COUNT] = { false };

			if (!ri->degraded || !ri->ast)
				continue;
			for (uint32_t i = 0; i < ri->ast->nclauses; i++)
				seen[ri->ast->clauses[i].effect] = true;
			for (int e = AP_EFFECT__COUNT - 1; e >= 0; e--) {
				struct ap_enforcement en;

				if (!seen[e])
					continue;
				ap_enforcement__describe((enum ap_effect)e, k, s->fallback, &en);
				if (en.degraded)
					fprintf(out, "  %s (%s): %s; %s\n", ri->name,
						ap_effect__name((enum ap_effect)e), en.why, en.how);
			}
		}
		if (k->lsm_why)
			fprintf(out, "  why: %s\n", k->lsm_why);
	}
	fprintf(out, "\ntables: %u rule%s, %u kernel clause%s, %u pattern%s, %u endpoint%s, "
		"%u gate%s, %u since event%s, automaton %u states x %u byte classes\n",
		c->nrules, c->nrules == 1 ? "" : "s", c->nclauses, c->nclauses == 1 ? "" : "s",
		c->npatterns, c->npatterns == 1 ? "" : "s", c->nendpoints,
		c->nendpoints == 1 ? "" : "s", c->ngates, c->ngates == 1 ? "" : "s",
		c->nsince, c->nsince == 1 ? "" : "s", c->dfa ? c->dfa->nstates : 0,
		c->dfa ? c->dfa->nclasses : 0);
}

/* ---- JSON ---- */

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : json_object_new_null();
}

static json_object *jargs(const struct ap_strlist *a)
{
	json_object *arr = json_object_new_array();

	for (uint32_t i = 0; i < a->n; i++)
		json_object_array_add(arr, jstr(a->v[i].text));
	return arr;
}

static json_object *jenforcement(const struct ap_summary *s, enum ap_effect e)
{
	struct ap_enforcement en;
	json_object *o = json_object_new_object();

	ap_enforcement__describe(e, s->caps, s->fallback, &en);
	json_object_object_add(o, "effect", jstr(ap_effect__name(e)));
	json_object_object_add(o, "mode", jstr(ap_mode__name(en.mode)));
	json_object_object_add(o, "degraded", json_object_new_boolean(en.degraded));
	json_object_object_add(o, "lands_as", jstr(ap_effect__name(en.lands_as)));
	json_object_object_add(o, "run_refuses", json_object_new_boolean(en.refused));
	json_object_object_add(o, "how", jstr(en.how));
	json_object_object_add(o, "why", jstr(en.why));
	return o;
}

static json_object *jcond(const struct ap_condition *co)
{
	json_object *o = json_object_new_object();

	switch (co->kind) {
	case AP_C_TARGET:
		json_object_object_add(o, "kind", jstr("target"));
		json_object_object_add(o, "negate", json_object_new_boolean(co->negate));
		json_object_object_add(o, "pattern", jstr(co->pat.text));
		break;
	case AP_C_LINEAGE:
		json_object_object_add(o, "kind", jstr("lineage-includes"));
		json_object_object_add(o, "program", jstr(co->pat.text));
		break;
	case AP_C_AFTER: {
		json_object *since = json_object_new_array();

		json_object_object_add(o, "kind", jstr("after"));
		json_object_object_add(o, "program", jstr(co->pat.text));
		json_object_object_add(o, "args", jargs(&co->args));
		json_object_object_add(o, "passed", json_object_new_boolean(co->passed));
		for (uint32_t i = 0; i < co->nsince; i++) {
			json_object *ev = json_object_new_object();

			json_object_object_add(ev, "op", jstr(op_names[co->since[i].op]));
			json_object_object_add(ev, "pattern", jstr(co->since[i].pat.text));
			json_object_array_add(since, ev);
		}
		json_object_object_add(o, "since", since);
		break;
	}
	}
	return o;
}

static json_object *jdiags(const struct ap_summary *s)
{
	json_object *arr = json_object_new_array();
	static const char *const lv[] = { "error", "warning", "note" };

	for (unsigned i = 0; i < s->diags->n; i++) {
		const struct ap_diag *d = &s->diags->v[i];
		json_object *o = json_object_new_object();
		const char *file = NULL, *lt;
		unsigned line = 0, col = 0, ll;

		if (d->has_loc && s->pol &&
		    ap_diag__locate(s->pol->srcs, s->pol->nsrcs, &d->loc, &file, &line,
				    &col, &lt, &ll))
			file = NULL;
		json_object_object_add(o, "level", jstr(lv[d->level]));
		json_object_object_add(o, "file", jstr(file));
		json_object_object_add(o, "line", json_object_new_int((int)line));
		json_object_object_add(o, "col", json_object_new_int((int)col));
		json_object_object_add(o, "message", jstr(d->msg));
		json_object_array_add(arr, o);
	}
	return arr;
}

static void jlimit(json_object *o, const char *k, uint32_t used, uint32_t max)
{
	json_object *l = json_object_new_object();

	json_object_object_add(l, "used", json_object_new_int64(used));
	json_object_object_add(l, "max", json_object_new_int64(max));
	json_object_object_add(o, k, l);
}

static json_object *jlabels(const struct ap_summary *s)
{
	const struct ap_compiled *c = s->c;
	const struct ap_program *pg = &s->pol->prog;
	json_object *arr = json_object_new_array();

	for (uint32_t i = 0; i < c->nlabels; i++) {
		const struct ap_compiled_label *l = &c->labels[i];
		json_object *o = json_object_new_object(), *src = json_object_new_array();
		json_object *decl = json_object_new_array(), *endo = json_object_new_array();

		for (uint32_t k = 0; k < pg->nsources; k++) {
			json_object *so;

			if (strcmp(pg->sources[k].label, l->name))
				continue;
			so = json_object_new_object();
			json_object_object_add(so, "kind", jstr(src_kind(pg->sources[k].kind)));
			json_object_object_add(so, "pattern", jstr(pg->sources[k].pat.text));
			json_object_object_add(so, "args", jargs(&pg->sources[k].args));
			json_object_array_add(src, so);
		}
		for (uint32_t k = 0; k < pg->nkeeps; k++)
			if (!strcmp(pg->keeps[k].label, l->name))
				json_object_array_add(pg->keeps[k].kind == AP_KEEP_ENDORSE ?
						      endo : decl,
						      jstr(pg->keeps[k].program.text));
		json_object_object_add(o, "name", jstr(l->name));
		json_object_object_add(o, "bit", json_object_new_int((int)i));
		json_object_object_add(o, "sources", src);
		json_object_object_add(o, "seeded", json_object_new_boolean(l->seeded));
		json_object_object_add(o, "declassified_by", decl);
		json_object_object_add(o, "endorsed_by", endo);
		json_object_object_add(o, "used", json_object_new_boolean(l->used));
		json_object_array_add(arr, o);
	}
	return arr;
}

static json_object *jrules(const struct ap_summary *s)
{
	const struct ap_compiled *c = s->c;
	json_object *arr = json_object_new_array();

	for (uint32_t r = 0; r < c->nrules; r++) {
		const struct ap_compiled_rule *ri = &c->rule_info[r];
		json_object *o, *cls;

		if (!ri->ast)
			continue; /* the built-in guard: "guard" */
		o = json_object_new_object();
		cls = json_object_new_array();
		for (uint32_t i = 0; i < ri->ast->nclauses; i++) {
			const struct ap_clause_ast *cl = &ri->ast->clauses[i];
			json_object *co = json_object_new_object(), *un = json_object_new_array();
			char *dsl = ap_clause__dsl(cl), *words = ap_clause__words(cl);
			char *ex = expr_text(cl->cond);
			struct ap_enforcement en;

			ap_enforcement__describe(cl->effect, s->caps, s->fallback, &en);
			json_object_object_add(co, "effect", jstr(ap_effect__name(cl->effect)));
			json_object_object_add(co, "op", jstr(op_names[cl->op]));
			json_object_object_add(co, "pattern", jstr(cl->pat.text));
			json_object_object_add(co, "args", jargs(&cl->args));
			json_object_object_add(co, "if", jstr(ex));
			for (uint32_t u = 0; u < cl->nunless; u++)
				json_object_array_add(un, jcond(&cl->unless[u]));
			json_object_object_add(co, "unless", un);
			json_object_object_add(co, "kernel_clauses",
					       json_object_new_int((int)ri->terms[i]));
			json_object_object_add(co, "lands_as", jstr(ap_effect__name(en.lands_as)));
			json_object_object_add(co, "degraded", json_object_new_boolean(en.degraded));
			json_object_object_add(co, "text", jstr(dsl));
			json_object_object_add(co, "words", jstr(words));
			json_object_array_add(cls, co);
			free(dsl);
			free(words);
			free(ex);
		}
		json_object_object_add(o, "name", jstr(ri->name));
		json_object_object_add(o, "effect", jstr(ap_effect__name(ri->effect)));
		json_object_object_add(o, "because", jstr(ri->because[0] ? ri->because : NULL));
		json_object_object_add(o, "line", json_object_new_int((int)ri->line));
		json_object_object_add(o, "domain", jstr(ri->domain));
		json_object_object_add(o, "bind", jstr(ri->locked ? "locked" : "default"));
		json_object_object_add(o, "degraded", json_object_new_boolean(ri->degraded));
		json_object_object_add(o, "clauses", cls);
		json_object_object_add(o, "enforcement", jenforcement(s, ri->effect));
		json_object_array_add(arr, o);
	}
	return arr;
}

static void jguard_pattern(void *ctx, const char *glob, const char *ops)
{
	json_object *arr = ctx, *p = json_object_new_object(), *o = json_object_new_array();
	char *copy = strdup(ops), *save = NULL;

	for (char *t = copy ? strtok_r(copy, "|", &save) : NULL; t;
	     t = strtok_r(NULL, "|", &save))
		json_object_array_add(o, jstr(t));
	free(copy);
	json_object_object_add(p, "pattern", jstr(glob));
	json_object_object_add(p, "ops", o);
	json_object_array_add(arr, p);
}

static json_object *jguard_mode(enum ap_effect e, const char *how)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "effect", jstr(ap_effect__name(e)));
	json_object_object_add(o, "how", jstr(how));
	return o;
}

static json_object *jguard(const struct ap_summary *s)
{
	json_object *o = json_object_new_object(), *g = json_object_new_array();
	json_object *al = json_object_new_array(), *items = json_object_new_array();
	uint32_t allow = s->pol ? s->pol->guard_allow : 0;
	bool notify = s->pol && s->pol->guard == AP_GUARD_NOTIFY_ONLY;
	const struct ap_compiled *c = s->c;

	for (size_t i = 0; i < sizeof(guard_items) / sizeof(guard_items[0]); i++) {
		json_object *it = json_object_new_object(), *pats = json_object_new_array();
		bool on = !(allow & guard_items[i].bit);
		static const char *const note = "reported, the operation proceeds";

		json_object_array_add(on ? g : al, jstr(guard_items[i].name));
		json_object_object_add(it, "name", jstr(guard_items[i].name));
		json_object_object_add(it, "guarded", json_object_new_boolean(on));
		json_object_object_add(it, "what", jstr(guard_how[i].what));
		guard_patterns(c, guard_items[i].bit, jguard_pattern, pats);
		json_object_object_add(it, "clauses", pats);
		json_object_object_add(it, "supervised", !on ? json_object_new_null() :
				       notify ? jguard_mode(AP_EFFECT_NOTIFY, note) :
				       jguard_mode(AP_EFFECT_BLOCK, guard_how[i].supervised));
		json_object_object_add(it, "tracepoint", !on ? json_object_new_null() :
				       notify ? jguard_mode(AP_EFFECT_NOTIFY, note) :
				       jguard_mode(guard_how[i].tp_effect, guard_how[i].tracepoint));
		json_object_array_add(items, it);
	}
	json_object_object_add(o, "rule", jstr(AP_GUARD_RULE_NAME));
	json_object_object_add(o, "index", c && c->guard_rule < c->nrules ?
			       json_object_new_int((int)c->guard_rule) : json_object_new_null());
	json_object_object_add(o, "effect", jstr(ap_effect__name(guard_effect(s))));
	json_object_object_add(o, "because", jstr(AP_GUARD_BECAUSE));
	json_object_object_add(o, "notify_only", json_object_new_boolean(notify));
	json_object_object_add(o, "guards", g);
	json_object_object_add(o, "allow", al);
	json_object_object_add(o, "enforced", json_object_new_boolean(AP_GUARD_ENFORCED));
	json_object_object_add(o, "enforcement", jenforcement(s, guard_effect(s)));
	json_object_object_add(o, "items", items);
	return o;
}

int ap_summary__json(const struct ap_summary *s, FILE *out)
{
	const struct ap_compiled *c = s->c;
	const struct ap_kernel_caps *k = s->caps;
	json_object *root = json_object_new_object(), *kern, *lim;

	if (!root)
		return -ENOMEM;
	json_object_object_add(root, "valid", json_object_new_boolean(s->valid));
	json_object_object_add(root, "policy", jstr(s->pol && s->pol->path ? s->pol->path :
						    s->policy_arg));
	json_object_object_add(root, "domain", jstr(s->pol ? s->pol->domain : NULL));
	json_object_object_add(root, "mode", jstr(ap_mode__name(k->mode)));
	json_object_object_add(root, "fallback", jstr(
		s->fallback == AP_FALLBACK_KILL ? "kill" :
		s->fallback == AP_FALLBACK_NOTIFY ? "notify" : NULL));
	kern = json_object_new_object();
	json_object_object_add(kern, "bpf_lsm", jstr(ap_tristate__name(k->bpf_lsm)));
	json_object_object_add(kern, "seccomp_notify",
			       jstr(ap_tristate__name(k->seccomp_notify)));
	json_object_object_add(kern, "landlock_abi", json_object_new_int(k->landlock_abi));
	json_object_object_add(kern, "source", jstr(k->source));
	json_object_object_add(kern, "why", jstr(k->lsm_why));
	json_object_object_add(root, "kernel", kern);
	if (s->valid && c && s->pol) {
		json_object_object_add(root, "labels", jlabels(s));
		json_object_object_add(root, "rules", jrules(s));
		json_object_object_add(root, "guard", jguard(s));
		json_object_object_add(root, "degraded_rules",
				       json_object_new_int((int)count_degraded(s)));
		lim = json_object_new_object();
		jlimit(lim, "labels", c->nlabels, AP_MAX_LABELS);
		jlimit(lim, "rules", c->nrules, AP_MAX_RULES);
		jlimit(lim, "clauses", c->nclauses, AP_MAX_CLAUSES);
		jlimit(lim, "patterns", c->npatterns, AP_MAX_PATTERNS);
		jlimit(lim, "conds", c->nconds, AP_MAX_CONDS);
		jlimit(lim, "gates", c->ngates, AP_MAX_GATES);
		jlimit(lim, "since", c->nsince, AP_MAX_SINCE);
		jlimit(lim, "lineage", c->nlineage, AP_MAX_LINEAGE);
		jlimit(lim, "sources", c->nsources, AP_MAX_SOURCES);
		jlimit(lim, "keeps", c->nkeeps, AP_MAX_KEEPS);
		jlimit(lim, "endpoints", c->nendpoints, AP_MAX_ENDPOINTS);
		jlimit(lim, "dfa_states", c->dfa ? c->dfa->nstates : 0, AP_MAX_DFA_STATES);
		jlimit(lim, "accept_sets", c->dfa ? c->dfa->naccept : 0, AP_MAX_ACCEPT_SETS);
		json_object_object_add(root, "limits", lim);
	}
	json_object_object_add(root, "diagnostics", jdiags(s));
	fputs(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
					     JSON_C_TO_STRING_SPACED |
					     JSON_C_TO_STRING_NOSLASHESCAPE), out);
	fputc('\n', out);
	json_object_put(root);
	return 0;
}
