// SPDX-License-Identifier: MIT
#include "feedback.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "agent/sbuf.h"
#include "common/log.h"
#include "engine/event_json.h"
#include "policy/ast.h"

/* Longest text taken from the system (a path, argv) shown in a line; the
 * JSON line keeps them whole. Long feedback pushes its first line out of
 * the agent's context, which is what it is for. */
#define FB_FIELD_MAX 240

static const char *effect_name(unsigned e)
{
	return ap_ev__effect_name(e);
}

static const char *op_name(unsigned op)
{
	return ap_ev__op_name(op);
}

/* ---- rendering the clause as written ---- */

static void put_quoted(struct ap_sbuf *b, const char *s)
{
	ap_sbuf__putc(b, '"');
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			ap_sbuf__putc(b, '\\');
		if ((unsigned char)*s < 0x20)
			ap_sbuf__printf(b, "\\x%02x", (unsigned char)*s);
		else
			ap_sbuf__putc(b, *s);
	}
	ap_sbuf__putc(b, '"');
}

static void put_pat(struct ap_sbuf *b, const struct ap_pat *p)
{
	static const char *const kw[] = {
		[AP_PATSYN_FILE] = "file ", [AP_PATSYN_EXEC] = "exec ",
		[AP_PATSYN_ENDPOINT] = "endpoint ",
	};
	if (p->syn != AP_PATSYN_DEFAULT && p->syn <= AP_PATSYN_ENDPOINT)
		ap_sbuf__puts(b, kw[p->syn]);
	put_quoted(b, p->text);
}

static void put_args(struct ap_sbuf *b, const struct ap_strlist *l)
{
	for (uint32_t i = 0; i < l->n; i++) {
		ap_sbuf__putc(b, ' ');
		put_quoted(b, l->v[i].text);
	}
}

/* prec: 0 or, 1 and, 2 not/atom */
static void put_expr(struct ap_sbuf *b, const struct ap_expr *e, int prec)
{
	int mine;

	if (!e) {
		ap_sbuf__puts(b, "true");
		return;
	}
	switch (e->kind) {
	case AP_EXPR_LABEL:
		ap_sbuf__puts(b, e->label);
		return;
	case AP_EXPR_TRUE:
		ap_sbuf__puts(b, "true");
		return;
	case AP_EXPR_NOT:
		ap_sbuf__puts(b, "not ");
		put_expr(b, e->l, 2);
		return;
	case AP_EXPR_AND:
	case AP_EXPR_OR:
		mine = e->kind == AP_EXPR_OR ? 0 : 1;
		if (mine < prec)
			ap_sbuf__putc(b, '(');
		put_expr(b, e->l, mine);
		ap_sbuf__puts(b, e->kind == AP_EXPR_OR ? " or " : " and ");
		put_expr(b, e->r, mine + 1);
		if (mine < prec)
			ap_sbuf__putc(b, ')');
		return;
	}
}

static void put_since(struct ap_sbuf *b, const struct ap_condition *c)
{
	for (uint32_t i = 0; i < c->nsince; i++) {
		ap_sbuf__puts(b, i ? " or " : " since ");
		ap_sbuf__printf(b, "%s ", op_name(c->since[i].op));
		put_quoted(b, c->since[i].pat.text);
	}
}

static void put_cond(struct ap_sbuf *b, const struct ap_condition *c)
{
	switch (c->kind) {
	case AP_C_TARGET:
		ap_sbuf__puts(b, c->negate ? "target not " : "target ");
		put_quoted(b, c->pat.text);
		break;
	case AP_C_LINEAGE:
		ap_sbuf__puts(b, "lineage-includes exec ");
		put_quoted(b, c->pat.text);
		break;
	case AP_C_AFTER:
		ap_sbuf__puts(b, "after exec ");
		put_quoted(b, c->pat.text);
		put_args(b, &c->args);
		if (c->passed)
			ap_sbuf__puts(b, " passed");
		put_since(b, c);
		break;
	}
}

static void put_clause(struct ap_sbuf *b, const struct ap_clause_ast *cl)
{
	ap_sbuf__printf(b, "%s %s ", effect_name(cl->effect), op_name(cl->op));
	put_pat(b, &cl->pat);
	put_args(b, &cl->args);
	if (cl->cond) {
		ap_sbuf__puts(b, " if ");
		put_expr(b, cl->cond, 0);
	}
	for (uint32_t i = 0; i < cl->nunless; i++) {
		ap_sbuf__puts(b, i ? " or " : " unless ");
		put_cond(b, &cl->unless[i]);
	}
}

int ap_feedback__find_clause(const struct ap_rule_ast *rule, enum ap_op op,
			     enum ap_effect effect)
{
	int same_op = -1, same_eff = -1;

	if (!rule || !rule->nclauses)
		return -1;
	if (op == AP_OP_SEND)
		op = AP_OP_CONNECT;
	for (uint32_t i = 0; i < rule->nclauses; i++) {
		const struct ap_clause_ast *cl = &rule->clauses[i];
		/* an open for reading or writing is reported as open by some
		 * modes and as read/write by others */
		bool op_ok = cl->op == op ||
			     (op == AP_OP_OPEN && (cl->op == AP_OP_READ || cl->op == AP_OP_WRITE)) ||
			     (cl->op == AP_OP_OPEN && (op == AP_OP_READ || op == AP_OP_WRITE));
		if (op_ok && cl->effect == effect)
			return (int)i;
		if (op_ok && same_op < 0)
			same_op = (int)i;
		if (cl->effect == effect && same_eff < 0)
			same_eff = (int)i;
	}
	if (same_op >= 0)
		return same_op;
	if (same_eff >= 0)
		return same_eff;
	return 0;
}

/* ---- the entry's lines ---- */

static void put_shell_word(struct ap_sbuf *b, const char *s)
{
	bool plain = *s != '\0';

	for (const char *p = s; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789-_./=:,+@%^", *p))
			plain = false;
	if (plain) {
		ap_sbuf__puts(b, s);
		return;
	}
	ap_sbuf__putc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			ap_sbuf__puts(b, "'\\''");
		else
			ap_sbuf__putc(b, *s);
	}
	ap_sbuf__putc(b, '\'');
}

static void put_command(struct ap_sbuf *b, const char *const *argv,
			unsigned argc)
{
	struct ap_sbuf cmd = { 0 };

	for (unsigned i = 0; i < argc; i++) {
		if (i)
			ap_sbuf__putc(&cmd, ' ');
		put_shell_word(&cmd, argv[i] ? argv[i] : "");
	}
	ap_sbuf__put_text(b, cmd.s ? cmd.s : "", FB_FIELD_MAX);
	ap_sbuf__free(&cmd);
}

static const char *verb_of(const struct ap_fb_match *m)
{
	switch (m->action) {
	case AP_ACTION_KILLED:   return "killed";
	case AP_ACTION_BLOCKED:  return "blocked";
	case AP_ACTION_HELD:     return "held for approval";
	case AP_ACTION_DENIED:   return "denied until approved";
	case AP_ACTION_REPORTED: return "reported (allowed)";
	case AP_ACTION_AUDITED:  return "audited";
	default:                 return "stopped";
	}
}

static void line_first(struct ap_sbuf *b, const struct ap_fb_match *m)
{
	ap_sbuf__puts(b, AP_FEEDBACK_TEXT_PREFIX);
	ap_sbuf__puts(b, verb_of(m));
	if (m->action == AP_ACTION_AUDITED)
		ap_sbuf__printf(b, " (would be %s)", effect_name(m->effect));
	ap_sbuf__printf(b, ": %s ", op_name(m->op));
	if (m->op == AP_OP_EXEC && m->argv && m->argc) {
		ap_sbuf__putc(b, '`');
		put_command(b, m->argv, m->argc);
		ap_sbuf__putc(b, '`');
		if (m->target && *m->target) {
			ap_sbuf__puts(b, " (");
			ap_sbuf__put_text(b, m->target, FB_FIELD_MAX);
			ap_sbuf__putc(b, ')');
		}
	} else {
		ap_sbuf__put_text(b, m->target && *m->target ? m->target : "?",
				  FB_FIELD_MAX);
		if (m->target2 && *m->target2) {
			ap_sbuf__puts(b, " -> ");
			ap_sbuf__put_text(b, m->target2, FB_FIELD_MAX);
		}
	}
	if (m->comm && *m->comm) {
		ap_sbuf__puts(b, " by ");
		ap_sbuf__put_text(b, m->comm, 64);
	}
	if (m->pid > 0)
		ap_sbuf__printf(b, "%s(pid %d)", m->comm && *m->comm ? " " : " by ",
				m->pid);
	ap_sbuf__putc(b, '\n');
}

static bool is_guard(const struct ap_fb_match *m)
{
	return !m->rule_ast && m->rule && !strcmp(m->rule, "session-guard");
}

static const struct ap_condition *find_cond(const struct ap_clause_ast *cl,
					    enum ap_cond_syntax kind)
{
	for (uint32_t i = 0; cl && i < cl->nunless; i++)
		if (cl->unless[i].kind == kind)
			return &cl->unless[i];
	return NULL;
}

static void put_gate_cmd(struct ap_sbuf *b, const struct ap_condition *c)
{
	ap_sbuf__put_text(b, c->pat.text, FB_FIELD_MAX);
	for (uint32_t i = 0; i < c->args.n; i++) {
		ap_sbuf__putc(b, ' ');
		ap_sbuf__put_text(b, c->args.v[i].text, FB_FIELD_MAX);
	}
}

static void put_since_words(struct ap_sbuf *b, const struct ap_condition *c)
{
	for (uint32_t i = 0; i < c->nsince; i++) {
		ap_sbuf__puts(b, i ? (i + 1 == c->nsince ? " or " : ", ") : "");
		ap_sbuf__printf(b, "%s of ", op_name(c->since[i].op));
		ap_sbuf__put_text(b, c->since[i].pat.text, FB_FIELD_MAX);
	}
}

/* A label of the match that the policy lets a program remove. */
static const char *declassifier(const struct ap_fb_match *m,
				const char **label)
{
	if (m->declass_label && m->declass_prog) {
		*label = m->declass_label;
		return m->declass_prog;
	}
	if (!m->prog)
		return NULL;
	for (unsigned i = 0; i < m->nlabels; i++)
		for (uint32_t k = 0; k < m->prog->nkeeps; k++) {
			const struct ap_keep_decl *kd = &m->prog->keeps[k];
			if (kd->kind == AP_KEEP_DECLASSIFY &&
			    !strcmp(kd->label, m->labels[i])) {
				*label = kd->label;
				return kd->program.text;
			}
		}
	return NULL;
}

/* retry: whether trying the same thing again can succeed, and next: the
 * concrete step the rule itself allows. */
static void lines_retry_next(struct ap_sbuf *b, const struct ap_fb_match *m,
			     const struct ap_clause_ast *cl)
{
	const struct ap_condition *after = find_cond(cl, AP_C_AFTER);
	const struct ap_condition *tgt = find_cond(cl, AP_C_TARGET);
	const struct ap_condition *lin = find_cond(cl, AP_C_LINEAGE);
	const char *label = NULL, *decl;

	if (m->action == AP_ACTION_AUDITED) {
		ap_sbuf__puts(b, "retry: audit mode: nothing was enforced, the operation went ahead\n");
		ap_sbuf__printf(b, "next: under enforcement this would be %s; avoid relying on it\n",
				m->effect == AP_EFFECT_KILL ? "killed" :
				m->effect == AP_EFFECT_NOTIFY ? "reported" : "refused");
		return;
	}
	if (m->effect == AP_EFFECT_NOTIFY || m->action == AP_ACTION_REPORTED) {
		ap_sbuf__puts(b, "retry: not needed: nothing was stopped, the operation went ahead\n");
		ap_sbuf__puts(b, "next: no action needed; the user has been told about it\n");
		return;
	}
	if (m->effect == AP_EFFECT_ASK) {
		ap_sbuf__puts(b, "retry: not until a person approves it (one approval lets the same operation through once)\n");
		ap_sbuf__printf(b, "next: a person can approve with `actplane approve %s` from outside this session; wait for it or take another path\n",
				m->approval && *m->approval ? m->approval : "ID");
		return;
	}
	if (is_guard(m)) {
		ap_sbuf__puts(b, "retry: no: the session guard protects the policy, the engine and the session's boundaries\n");
		ap_sbuf__puts(b, "next: this cannot be lifted from inside the session; do the task another way or ask the user\n");
		return;
	}
	if (after) {
		ap_sbuf__puts(b, "retry: only after `");
		put_gate_cmd(b, after);
		ap_sbuf__printf(b, "` has run%s in this session", after->passed ? " and passed" : "");
		if (after->nsince) {
			ap_sbuf__puts(b, " with no ");
			put_since_words(b, after);
			ap_sbuf__puts(b, " since");
		}
		ap_sbuf__puts(b, "\nnext: run `");
		put_gate_cmd(b, after);
		ap_sbuf__printf(b, "`%s, then retry", after->passed ? " (it must succeed)" : "");
		if (after->nsince)
			ap_sbuf__puts(b, "; run it again after any change it depends on");
		ap_sbuf__putc(b, '\n');
		return;
	}
	ap_sbuf__puts(b, "retry: retrying it unchanged will be stopped again\n");
	if (tgt) {
		ap_sbuf__printf(b, "next: the same %s is allowed on targets %smatching ",
				op_name(cl->op), tgt->negate ? "not " : "");
		ap_sbuf__put_text(b, tgt->pat.text, FB_FIELD_MAX);
		ap_sbuf__puts(b, "; use one of those instead\n");
	} else if (lin) {
		ap_sbuf__puts(b, "next: it is allowed when started through ");
		ap_sbuf__put_text(b, lin->pat.text, FB_FIELD_MAX);
		ap_sbuf__puts(b, "; run it that way\n");
	} else if ((decl = declassifier(m, &label))) {
		ap_sbuf__printf(b, "next: the process carries %s; only data passed through ", label);
		ap_sbuf__put_text(b, decl, FB_FIELD_MAX);
		ap_sbuf__printf(b, " loses %s, or ask the user\n", label);
	} else {
		ap_sbuf__puts(b, "next: do not do this from the agent's session; take another path or ask the user to do it\n");
	}
}

static void put_json(struct ap_sbuf *b, const struct ap_fb_match *m,
		     const char *rule_text, uint64_t ts_ns, unsigned count,
		     const struct ap_sbuf *text)
{
	struct json_object *o = json_object_new_object();
	char ts[40], id[48];
	const char *s;
	size_t len;

	ap_ev__format_ts(ts_ns, ts, sizeof(ts));
	snprintf(id, sizeof(id), "%llx-%x", (unsigned long long)ts_ns,
		 (unsigned)getpid());
	json_object_object_add(o, "actplane", json_object_new_int(1));
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "ts", json_object_new_string(ts));
	json_object_object_add(o, "ts_unix",
			       json_object_new_int64((int64_t)(ts_ns / 1000000000ull)));
	json_object_object_add(o, "rule", json_object_new_string(m->rule ? m->rule : ""));
	if (rule_text)
		json_object_object_add(o, "clause", json_object_new_string(rule_text));
	json_object_object_add(o, "effect", json_object_new_string(effect_name(m->effect)));
	json_object_object_add(o, "action", json_object_new_string(ap_ev__action_name(m->action)));
	json_object_object_add(o, "op", json_object_new_string(op_name(m->op)));
	json_object_object_add(o, "target", json_object_new_string(m->target ? m->target : ""));
	if (m->argv) {
		struct json_object *a = json_object_new_array();
		for (unsigned i = 0; i < m->argc; i++)
			json_object_array_add(a, json_object_new_string(m->argv[i] ? m->argv[i] : ""));
		json_object_object_add(o, "argv", a);
	}
	if (m->pid)
		json_object_object_add(o, "pid", json_object_new_int(m->pid));
	if (m->comm)
		json_object_object_add(o, "comm", json_object_new_string(m->comm));
	if (m->approval)
		json_object_object_add(o, "approval", json_object_new_string(m->approval));
	json_object_object_add(o, "retry",
			       json_object_new_boolean(m->effect == AP_EFFECT_NOTIFY ||
						       m->action == AP_ACTION_REPORTED ||
						       m->action == AP_ACTION_AUDITED));
	/* the next step, for tools: the text's "next:" line */
	s = text->s ? strstr(text->s, "\nnext: ") : NULL;
	if (s) {
		s += 7;
		len = strcspn(s, "\n");
		json_object_object_add(o, "next", json_object_new_string_len(s, (int)len));
	}
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(s);
	/* drop the closing brace: the padded count goes last so a writer can
	 * rewrite it in place */
	ap_sbuf__put_n(b, s, len - 1);
	ap_sbuf__printf(b, ",\"count\":%-*u}\n", AP_FEEDBACK_COUNT_WIDTH, count);
	json_object_put(o);
}

int ap_feedback__format(const struct ap_fb_match *m, unsigned count,
			char **out)
{
	struct ap_sbuf b = { 0 }, rule_text = { 0 };
	const struct ap_clause_ast *cl = NULL;
	const char *because = m->because;
	uint64_t ts_ns = m->ts_ns ? m->ts_ns : ap_ev__now_ns();
	int ci = m->clause;

	if (m->rule_ast) {
		if (ci < 0 || (uint32_t)ci >= m->rule_ast->nclauses)
			ci = ap_feedback__find_clause(m->rule_ast, m->op, m->effect);
		if (ci >= 0)
			cl = &m->rule_ast->clauses[ci];
		if (!because)
			because = m->rule_ast->because;
	}
	if (cl)
		put_clause(&rule_text, cl);

	line_first(&b, m);
	ap_sbuf__puts(&b, "rule ");
	ap_sbuf__put_text(&b, m->rule && *m->rule ? m->rule : "?", 128);
	if (cl) {
		ap_sbuf__puts(&b, ": ");
		ap_sbuf__put_text(&b, rule_text.s, 2 * FB_FIELD_MAX);
	} else if (is_guard(m)) {
		ap_sbuf__puts(&b, ": built in, protects the session");
	}
	if (m->degraded)
		ap_sbuf__puts(&b, " (carried out as a fallback on this kernel)");
	ap_sbuf__putc(&b, '\n');
	if (because && *because) {
		ap_sbuf__puts(&b, "because: ");
		ap_sbuf__put_text(&b, because, 2 * FB_FIELD_MAX);
		ap_sbuf__putc(&b, '\n');
	}
	if (m->nlabels && m->labels) {
		ap_sbuf__puts(&b, "why: the process carries ");
		for (unsigned i = 0; i < m->nlabels && i < 8; i++) {
			if (i)
				ap_sbuf__puts(&b, ", ");
			ap_sbuf__put_text(&b, m->labels[i], 64);
		}
		if (m->prov && *m->prov) {
			ap_sbuf__puts(&b, " (acquired: ");
			ap_sbuf__put_text(&b, m->prov, FB_FIELD_MAX);
			ap_sbuf__putc(&b, ')');
		}
		ap_sbuf__putc(&b, '\n');
	}
	lines_retry_next(&b, m, cl);

	struct ap_sbuf text_copy = b; /* borrowed view for the "next" field */
	struct ap_sbuf json = { 0 };
	put_json(&json, m, cl ? rule_text.s : NULL, ts_ns, count ? count : 1,
		 &text_copy);
	ap_sbuf__put_n(&b, json.s, json.len);
	ap_sbuf__free(&json);
	ap_sbuf__free(&rule_text);
	if (b.oom) {
		ap_sbuf__free(&b);
		return -ENOMEM;
	}
	*out = b.s;
	return 0;
}

/* ---- reading entries back ---- */

static unsigned parse_count(const char *json, size_t len, size_t *digits_off)
{
	static const char key[] = "\"count\":";
	const char *p = memmem(json, len, key, sizeof(key) - 1);
	unsigned long v = 0;

	*digits_off = 0;
	if (!p)
		return 1;
	p += sizeof(key) - 1;
	*digits_off = (size_t)(p - json);
	while (p < json + len && *p >= '0' && *p <= '9')
		v = v * 10 + (unsigned)(*p++ - '0');
	return v ? (unsigned)(v > UINT_MAX ? UINT_MAX : v) : 1;
}

static uint64_t parse_ts(const char *json, size_t len)
{
	static const char key[] = "\"ts_unix\":";
	const char *p = memmem(json, len, key, sizeof(key) - 1);
	uint64_t v = 0;

	if (!p)
		return 0;
	for (p += sizeof(key) - 1; p < json + len && *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	return v;
}

size_t ap_feedback__parse(const char *buf, size_t len,
			  int (*fn)(const struct ap_fb_entry *e, void *ctx),
			  void *ctx)
{
	size_t pos = 0, start = 0, done = 0;
	size_t jp = strlen(AP_FEEDBACK_JSON_PREFIX);

	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t eol;

		if (!nl)
			break; /* a line still being written */
		eol = (size_t)(nl - buf);
		if (eol - pos >= jp && !memcmp(buf + pos, AP_FEEDBACK_JSON_PREFIX, jp)) {
			struct ap_fb_entry e = {
				.text = buf + start,
				.text_len = pos - start,
				.json = buf + pos,
				.json_len = eol - pos,
				.off = start,
				.end = eol + 1,
			};
			size_t doff;
			e.count = parse_count(e.json, e.json_len, &doff);
			e.count_off = doff ? pos + doff : 0;
			e.ts_unix = parse_ts(e.json, e.json_len);
			done = eol + 1;
			start = done;
			if (fn && fn(&e, ctx))
				return done;
		}
		pos = eol + 1;
	}
	return done;
}

/* ---- the writer ---- */

struct ap_feedback {
	char *path;
	uid_t uid;
	gid_t gid;
	size_t max_bytes;
	unsigned fold_ms;
	/* the last entry this writer appended, for folding */
	char *last_key;
	uint64_t last_ns;
	dev_t last_dev;
	ino_t last_ino;
	off_t last_end;        /* file size right after that entry */
	off_t last_count_off;  /* where its count digits are */
	unsigned last_count;
};

int ap_feedback__path_for(const char *root, const char *feedback_path,
			  char *buf, size_t size)
{
	const char *p = feedback_path && *feedback_path ? feedback_path
							: AP_FEEDBACK_DEFAULT_PATH;
	int n;

	if (p[0] == '/' || !root || !*root)
		n = snprintf(buf, size, "%s", p);
	else
		n = snprintf(buf, size, "%s%s%s", root,
			     root[strlen(root) - 1] == '/' ? "" : "/", p);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int ap_feedback__new(const struct ap_feedback_opts *opts,
		     struct ap_feedback **out)
{
	struct ap_feedback *fb = calloc(1, sizeof(*fb));
	char path[PATH_MAX], cwd[PATH_MAX];
	const char *root = opts->root;
	int err;

	if (!fb)
		return -ENOMEM;
	if (!root)
		root = getcwd(cwd, sizeof(cwd)) ? cwd : ".";
	err = ap_feedback__path_for(root, opts->path, path, sizeof(path));
	if (err) {
		ap_err("feedback file '%s': path too long", opts->path ? opts->path : "");
		free(fb);
		return err;
	}
	fb->path = strdup(path);
	if (!fb->path) {
		free(fb);
		return -ENOMEM;
	}
	fb->uid = opts->uid;
	fb->gid = opts->gid;
	fb->max_bytes = opts->max_bytes ? opts->max_bytes : AP_FEEDBACK_DEFAULT_MAX_BYTES;
	fb->fold_ms = opts->fold_ms ? opts->fold_ms : AP_FEEDBACK_DEFAULT_FOLD_MS;
	*out = fb;
	return 0;
}

void ap_feedback__free(struct ap_feedback *fb)
{
	if (!fb)
		return;
	free(fb->path);
	free(fb->last_key);
	free(fb);
}

const char *ap_feedback__file(const struct ap_feedback *fb)
{
	return fb->path;
}

static void chown_new(const struct ap_feedback *fb, int fd)
{
	if (fb->uid == (uid_t)-1 && fb->gid == (gid_t)-1)
		return;
	if (fchown(fd, fb->uid, fb->gid))
		ap_debug("feedback file '%s': chown: %s", fb->path, strerror(errno));
}

/* Create the parent directory (one level: .actplane/) owned by the agent's
 * user when it is missing. */
static void ensure_parent(const struct ap_feedback *fb)
{
	char dir[PATH_MAX];
	char *slash;
	int dfd;

	snprintf(dir, sizeof(dir), "%s", fb->path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = '\0';
	if (mkdir(dir, 0755) && errno != EEXIST)
		return;
	if (errno == EEXIST)
		return;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd >= 0) {
		chown_new(fb, dfd);
		close(dfd);
	}
}

/* Open the file for appending, refusing what the agent could have planted:
 * a symlink (O_NOFOLLOW), a FIFO or device (O_NONBLOCK + S_ISREG), a second
 * link to another file. Locked exclusively; re-opened when it was rotated
 * between open and lock. */
/* flock, but never for long: the file belongs to the agent's user, and a
 * process of the agent holding a lock must not stall run's event loop */
static int lock_bounded(int fd, int op, unsigned ms)
{
	for (unsigned i = 0;; i++) {
		if (!flock(fd, op | LOCK_NB))
			return 0;
		if (errno != EWOULDBLOCK || i >= ms)
			return -errno;
		usleep(1000);
	}
}

static int open_locked(struct ap_feedback *fb, struct stat *st, bool *locked)
{
	for (int tries = 0; tries < 5; tries++) {
		struct stat pst;
		bool created = false;
		/* not O_APPEND: Linux would append a pwrite() too, and the fold
		 * rewrites the count in place; appends seek to the end under
		 * the exclusive lock instead */
		int fd = open(fb->path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

		if (fd < 0 && errno == ENOENT) {
			ensure_parent(fb);
			fd = open(fb->path, O_RDWR | O_CREAT | O_EXCL |
					    O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
			created = fd >= 0;
			if (fd < 0 && errno == EEXIST)
				continue;
		}
		if (fd < 0)
			return -errno;
		if (created)
			chown_new(fb, fd);
		*locked = lock_bounded(fd, LOCK_EX, AP_FEEDBACK_LOCK_WAIT_MS) == 0;
		if (!*locked) {
			/* held too long by someone else: append without folding
			 * or rotating, as one O_APPEND write */
			ap_warn("feedback file '%s': locked by another process; appending without the lock",
				fb->path);
			if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_APPEND)) {
				int err = -errno;
				close(fd);
				return err;
			}
		}
		if (fstat(fd, st)) {
			int err = -errno;
			close(fd);
			return err;
		}
		if (!S_ISREG(st->st_mode) || st->st_nlink != 1) {
			close(fd);
			return -EPERM;
		}
		if (stat(fb->path, &pst) == 0 && pst.st_dev == st->st_dev &&
		    pst.st_ino == st->st_ino)
			return fd;
		close(fd); /* rotated under us */
	}
	return -EAGAIN;
}

static int rotate(struct ap_feedback *fb)
{
	char old[PATH_MAX];

	if (snprintf(old, sizeof(old), "%s.1", fb->path) >= (int)sizeof(old))
		return -ENAMETOOLONG;
	if (rename(fb->path, old))
		return -errno;
	return 0;
}

static char *match_key(const struct ap_fb_match *m)
{
	char *k = NULL;

	if (asprintf(&k, "%s\x1f%d\x1f%d\x1f%s\x1f%s\x1f%s", m->rule ? m->rule : "",
		     m->op, m->action, m->target ? m->target : "",
		     m->target2 ? m->target2 : "", m->exe ? m->exe : "") < 0)
		return NULL;
	return k;
}

static int write_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(fd, s, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

int ap_feedback__record(struct ap_feedback *fb, const struct ap_fb_match *m)
{
	struct ap_fb_match mm = *m;
	struct stat st;
	char *key = NULL, *entry = NULL;
	bool locked = false;
	int fd = -1, err;

	if (!mm.ts_ns)
		mm.ts_ns = ap_ev__now_ns();
	key = match_key(&mm);
	if (!key)
		return -ENOMEM;
	fd = open_locked(fb, &st, &locked);
	if (fd < 0) {
		err = fd;
		fd = -1;
		ap_err("feedback file '%s': cannot open for appending: %s", fb->path,
		       strerror(-err));
		goto cleanup;
	}

	/* fold: same match, within the window, and our entry is still last */
	if (locked && fb->last_key && !strcmp(fb->last_key, key) &&
	    mm.ts_ns >= fb->last_ns &&
	    mm.ts_ns - fb->last_ns <= (uint64_t)fb->fold_ms * 1000000ull &&
	    st.st_dev == fb->last_dev && st.st_ino == fb->last_ino &&
	    st.st_size == fb->last_end && fb->last_count_off > 0) {
		char digits[AP_FEEDBACK_COUNT_WIDTH + 1];
		unsigned n = fb->last_count + 1;

		char field[8];

		snprintf(digits, sizeof(digits), "%-*u", AP_FEEDBACK_COUNT_WIDTH, n);
		/* the same inode number may be a new file (rotated, then the
		 * number reused): rewrite only what still is our count field */
		if (pread(fd, field, sizeof(field), fb->last_count_off - 8) == 8 &&
		    !memcmp(field, "\"count\":", 8) &&
		    pwrite(fd, digits, AP_FEEDBACK_COUNT_WIDTH, fb->last_count_off) ==
		    AP_FEEDBACK_COUNT_WIDTH) {
			fb->last_count = n;
			fb->last_ns = mm.ts_ns;
			err = 0;
			goto cleanup;
		}
		/* fall through to a new entry */
	}

	err = ap_feedback__format(&mm, 1, &entry);
	if (err)
		goto cleanup;
	if (locked && st.st_size > 0 && (size_t)st.st_size + strlen(entry) > fb->max_bytes) {
		err = rotate(fb);
		if (err) {
			ap_err("feedback file '%s': cannot rotate: %s", fb->path, strerror(-err));
			goto cleanup;
		}
		close(fd); /* releases the lock on the rotated file */
		fd = open_locked(fb, &st, &locked);
		if (fd < 0) {
			err = fd;
			fd = -1;
			goto cleanup;
		}
	}
	if (lseek(fd, 0, SEEK_END) < 0) {
		err = -errno;
		goto cleanup;
	}
	err = write_all(fd, entry, strlen(entry));
	if (err) {
		ap_err("feedback file '%s': write: %s", fb->path, strerror(-err));
		goto cleanup;
	}
	{
		/* the count digits sit right before "}\n" at the entry's end */
		size_t elen = strlen(entry);
		off_t end = lseek(fd, 0, SEEK_CUR);

		free(fb->last_key);
		fb->last_key = key;
		key = NULL;
		fb->last_ns = mm.ts_ns;
		fb->last_dev = st.st_dev;
		fb->last_ino = st.st_ino;
		fb->last_end = end;
		fb->last_count = 1;
		fb->last_count_off = end > 0 ? end - 2 - AP_FEEDBACK_COUNT_WIDTH : 0;
		if (end < (off_t)elen)
			fb->last_count_off = 0;
	}
cleanup:
	if (fd >= 0)
		close(fd); /* releases the lock */
	free(entry);
	free(key);
	return err;
}
