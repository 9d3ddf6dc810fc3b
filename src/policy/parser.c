// SPDX-License-Identifier: MIT
/*
 * The DSL parser: recursive descent over the lexer's tokens, building
 * struct ap_program in the policy's arena.
 *
 * Grammar (policy-language.md section 2) and the choices made where it is
 * silent:
 *
 *   program  := decl*
 *   decl     := source | declassify | endorse | rule
 *   source   := 'source' LABEL '=' ('file'|'endpoint') STRING
 *             | 'source' LABEL '=' 'exec' STRING STRING*
 *   keep     := ('declassify'|'endorse') LABEL 'by' 'exec' STRING
 *   rule     := 'rule' NAME ':' clause+ ['because' STRING]
 *   clause   := EFFECT OP [KIND] STRING STRING* ['if' expr]
 *               ['unless' cond ('or' cond)*]
 *   expr     := and ('or' and)*        and := not ('and' not)*
 *   not      := 'not' not | LABEL | 'true' | '(' expr ')'
 *   cond     := 'target' ['not'] STRING
 *             | 'lineage-includes' 'exec' STRING
 *             | 'after' 'exec' STRING STRING* ['passed']
 *               ['since' event ('or' event)*]
 *   event    := ('write'|'read'|'unlink') STRING | 'exec' STRING
 *
 * - Newlines are only whitespace. A clause ends where the next token cannot
 *   continue it: an effect keyword starts the next clause, 'because' or a
 *   declaration keyword ends the rule.
 * - Keywords are reserved: they cannot be labels. Rule names may be any
 *   name, keywords included (the position makes them unambiguous).
 * - 'or' after an unless-condition continues the unless-list. Inside a
 *   'since' list, 'or' followed by an event keyword (write, read, unlink,
 *   exec) continues the since-list; 'or' followed by a condition keyword
 *   (target, lineage-includes, after) ends it and starts the next
 *   unless-condition. So `unless after exec "make" since write "a" or exec
 *   "b" or target "c"` has two conditions: the gate with two since-events,
 *   and the target test.
 * - Conditions after 'unless' are joined only with 'or' ('and' is an
 *   error); one 'if' and one 'unless' per clause, 'if' first; 'passed'
 *   comes before 'since'.
 * - Pattern kinds: exec takes a program glob (no keyword or 'exec') or a
 *   path glob ('file': the executed file by path); open, read, write,
 *   unlink and rename take 'file'; connect and recv take 'endpoint'. Any
 *   other combination is an error. Argument strings are only allowed on
 *   exec clauses, exec sources and 'after exec' gates (at most
 *   AP_MAX_ARGS); at most AP_MAX_UNLESS conditions per clause.
 * - Empty pattern or argument strings are errors; so are a rule without
 *   clauses, a second 'because', a clause after 'because' and a rule name
 *   declared twice in the policy (across all blocks).
 *
 * An inline policy (`--rule TEXT`) may also be bare clauses, before any
 * rule: they form one rule named "inline" (`--rule 'kill exec "git"'`).
 *
 * Error recovery: after an error the parser skips to the next token that
 * starts a line and is a declaration keyword, an effect keyword or
 * 'because', and carries on, so one run reports every independent error.
 * Lexical errors are reported by the lexer; the parser then resyncs
 * without adding an error of its own.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "front_int.h"
#include "lexer.h"

#define MAX_DEPTH 128

struct parser {
	struct ap_policy *pol;
	struct ap_arena *a;
	struct ap_diags *d;
	const struct ap_src *src;
	uint32_t si;
	struct ap_lexer lx;
	struct ap_token tok;       /* current */
	struct ap_token peek;      /* one token of lookahead */
	bool has_peek;
	uint32_t prev_end;         /* end offset of the last consumed token */
	bool reported;             /* an error was reported at reported_off */
	uint32_t reported_off;
	unsigned depth;
	struct ap_program *prog;   /* what is being appended to */
	size_t cap_src, cap_keep, cap_rule;
};

static const enum ap_kw effects_kw[] = { AP_KW_NOTIFY, AP_KW_BLOCK, AP_KW_KILL, AP_KW_ASK };
static const enum ap_kw ops_kw[] = { AP_KW_EXEC, AP_KW_OPEN, AP_KW_READ, AP_KW_WRITE,
				     AP_KW_UNLINK, AP_KW_RENAME, AP_KW_CONNECT, AP_KW_RECV };
static const enum ap_kw decl_kw[] = { AP_KW_SOURCE, AP_KW_DECLASSIFY, AP_KW_ENDORSE, AP_KW_RULE };
static const enum ap_kw kinds_kw[] = { AP_KW_FILE, AP_KW_ENDPOINT, AP_KW_EXEC };
static const enum ap_kw cond_kw[] = { AP_KW_TARGET, AP_KW_LINEAGE, AP_KW_AFTER };
static const enum ap_kw event_kw[] = { AP_KW_WRITE, AP_KW_READ, AP_KW_UNLINK, AP_KW_EXEC };

#define N(a) (sizeof(a) / sizeof((a)[0]))

static bool kw_in(enum ap_kw k, const enum ap_kw *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == k)
			return true;
	return false;
}

static bool is_effect(const struct ap_token *t)
{
	return t->kind == AP_TOK_NAME && kw_in(t->kw, effects_kw, N(effects_kw));
}

static bool is_decl(const struct ap_token *t)
{
	return t->kind == AP_TOK_NAME && kw_in(t->kw, decl_kw, N(decl_kw));
}

static bool is_kw(const struct ap_token *t, enum ap_kw k)
{
	return t->kind == AP_TOK_NAME && t->kw == k;
}

static void advance(struct parser *p)
{
	p->prev_end = p->tok.off + p->tok.len;
	if (p->has_peek) {
		p->tok = p->peek;
		p->has_peek = false;
	} else {
		ap_lexer__next(&p->lx, &p->tok);
	}
}

static const struct ap_token *peek(struct parser *p)
{
	if (!p->has_peek) {
		ap_lexer__next(&p->lx, &p->peek);
		p->has_peek = true;
	}
	return &p->peek;
}

static struct ap_span tok_span(const struct parser *p, const struct ap_token *t)
{
	return (struct ap_span){ p->si, t->off, t->len };
}

static struct ap_span span_from(const struct parser *p, uint32_t start)
{
	return (struct ap_span){ p->si, start, p->prev_end > start ? p->prev_end - start : 0 };
}

static char *tok_text(struct parser *p, const struct ap_token *t)
{
	return ap_arena__strndup(p->a, p->src->text + t->off, t->len);
}

/*
 * "expected WHAT, found X", with a suggestion when X is a plain name close
 * to one of the keywords that would have fitted. Silent on lexer errors and
 * on a token already reported.
 *
 * expected(): WHAT is required here. When X starts a later line, the thing
 * is missing at the end of the previous one, so that is where the caret
 * goes ("found the end of the line"). unexpected(): X cannot follow what
 * came before; the caret is on X.
 */
static void report(struct parser *p, const char *what, const enum ap_kw *cands,
		   size_t ncands, bool required)
{
	struct ap_span sp = tok_span(p, &p->tok);
	const char *names[AP_KW__COUNT];
	const char *sugg = NULL;
	char found[128];

	if (p->tok.kind == AP_TOK_ERROR ||
	    (p->reported && p->reported_off == p->tok.off))
		return;
	p->reported = true;
	p->reported_off = p->tok.off;
	if (required && p->prev_end && (p->tok.bol || p->tok.kind == AP_TOK_EOF)) {
		sp = (struct ap_span){ p->si, p->prev_end, 0 };
		ap_error_at(p->d, &sp, "expected %s, found the end of the %s", what,
			    p->tok.kind == AP_TOK_EOF ? "text" : "line");
		return;
	}
	ap_tok__describe(&p->tok, p->src, found, sizeof(found));
	if (p->tok.kind == AP_TOK_NAME && p->tok.kw == AP_KW_NONE && ncands) {
		char word[64];

		for (size_t i = 0; i < ncands && i < AP_KW__COUNT; i++)
			names[i] = ap_kw__name(cands[i]);
		snprintf(word, sizeof(word), "%.*s", (int)p->tok.len,
			 p->src->text + p->tok.off);
		sugg = ap_suggest(word, names, (unsigned)ncands);
	}
	if (sugg)
		ap_error_at(p->d, &sp, "expected %s, found %s (did you mean '%s'?)",
			    what, found, sugg);
	else
		ap_error_at(p->d, &sp, "expected %s, found %s", what, found);
}

static void expected(struct parser *p, const char *what, const enum ap_kw *cands,
		     size_t ncands)
{
	report(p, what, cands, ncands, true);
}

static void unexpected(struct parser *p, const char *what, const enum ap_kw *cands,
		       size_t ncands)
{
	report(p, what, cands, ncands, false);
}

/* A misspelt effect or declaration keyword at the start of a line
 * ("blok exec ...") is a place to resume too, so its error is reported. */
static bool near_keyword(const struct parser *p, const struct ap_token *t)
{
	static const char *const starts[] = { "notify", "block", "kill", "ask", "because",
		"source", "declassify", "endorse", "rule" };
	char word[64];

	/* keywords are lower case; a LABEL on a continuation line is not one */
	if (t->kind != AP_TOK_NAME || t->kw != AP_KW_NONE || t->len >= sizeof(word) ||
	    !(p->src->text[t->off] >= 'a' && p->src->text[t->off] <= 'z'))
		return false;
	memcpy(word, p->src->text + t->off, t->len);
	word[t->len] = '\0';
	return ap_suggest(word, starts, N(starts)) != NULL;
}

/* Skip to a token that can restart parsing; see the header comment. With
 * top_only, effect keywords and 'because' do not count (no rule is open). */
static void sync(struct parser *p, bool top_only)
{
	for (;;) {
		const struct ap_token *t = &p->tok;

		if (t->kind == AP_TOK_EOF)
			return;
		if (t->bol && (is_decl(t) || near_keyword(p, t) ||
			       (!top_only && (is_effect(t) || is_kw(t, AP_KW_BECAUSE)))))
			return;
		advance(p);
	}
}

/* The pattern string at the current token. */
static bool parse_string(struct parser *p, struct ap_pat *out, enum ap_pat_syntax syn,
			 const char *what)
{
	if (p->tok.kind != AP_TOK_STRING) {
		char buf[96];

		snprintf(buf, sizeof(buf), "a string (%s)", what);
		expected(p, buf, NULL, 0);
		return false;
	}
	out->text = p->tok.str;
	out->syn = syn;
	out->loc = tok_span(p, &p->tok);
	/* an empty string is an error of meaning, not of syntax: go on */
	if (!*out->text)
		ap_error_at(p->d, &out->loc, "empty %s", what);
	advance(p);
	return true;
}

/* Extra argument strings: any STRING tokens at the current position. When
 * not_allowed is set they are an error saying so; reported once, skipped,
 * and parsing goes on (the error is one of meaning, not of syntax). */
static bool parse_args(struct parser *p, struct ap_strlist *out, const char *not_allowed)
{
	size_t cap = 0;
	bool reported = false;

	while (p->tok.kind == AP_TOK_STRING) {
		struct ap_span sp = tok_span(p, &p->tok);

		if (not_allowed || out->n >= AP_MAX_ARGS) {
			if (!reported && not_allowed)
				ap_error_at(p->d, &sp, "%s", not_allowed);
			else if (!reported)
				ap_error_at(p->d, &sp, "too many argument patterns (at most %d)",
					    AP_MAX_ARGS);
			reported = true;
			advance(p);
			continue;
		}
		out->v = ap_arena__grow(p->a, out->v, sizeof(*out->v), out->n, &cap,
					out->n + 1);
		if (!parse_string(p, &out->v[out->n], AP_PATSYN_DEFAULT,
				  "argument pattern"))
			return false;
		out->n++;
	}
	return true;
}

static const char *label_or_null(struct parser *p, const char *after)
{
	char buf[96];

	if (p->tok.kind == AP_TOK_NAME && p->tok.kw != AP_KW_NONE) {
		struct ap_span sp = tok_span(p, &p->tok);

		ap_error_at(p->d, &sp, "'%s' is a keyword and cannot be used as a label",
			    ap_kw__name(p->tok.kw));
		return NULL;
	}
	if (p->tok.kind != AP_TOK_NAME) {
		snprintf(buf, sizeof(buf), "a label name after '%s'", after);
		expected(p, buf, NULL, 0);
		return NULL;
	}
	return tok_text(p, &p->tok);
}

/* ---- declarations ---- */

static bool parse_source(struct parser *p)
{
	struct ap_source_decl s = { 0 };
	uint32_t start = p->tok.off;
	enum ap_pat_syntax syn;

	advance(p); /* source */
	s.label_loc = tok_span(p, &p->tok);
	s.label = label_or_null(p, "source");
	if (!s.label)
		return false;
	advance(p);
	if (p->tok.kind != AP_TOK_EQ) {
		expected(p, "'=' after the label", NULL, 0);
		return false;
	}
	advance(p);
	if (!(p->tok.kind == AP_TOK_NAME && kw_in(p->tok.kw, kinds_kw, N(kinds_kw)))) {
		expected(p, "a source kind (file, endpoint, exec)", kinds_kw, N(kinds_kw));
		return false;
	}
	switch (p->tok.kw) {
	case AP_KW_FILE: s.kind = AP_S_FILE; syn = AP_PATSYN_FILE; break;
	case AP_KW_ENDPOINT: s.kind = AP_S_ENDPOINT; syn = AP_PATSYN_ENDPOINT; break;
	default: s.kind = AP_S_EXEC; syn = AP_PATSYN_EXEC; break;
	}
	advance(p);
	if (!parse_string(p, &s.pat, syn, "pattern"))
		return false;
	if (!parse_args(p, &s.args, s.kind == AP_S_EXEC ? NULL :
			"only 'exec' sources take argument patterns"))
		return false;
	s.loc = span_from(p, start);
	p->prog->sources = ap_arena__grow(p->a, p->prog->sources, sizeof(s),
					  p->prog->nsources, &p->cap_src,
					  p->prog->nsources + 1);
	p->prog->sources[p->prog->nsources++] = s;
	return true;
}

static bool parse_keep(struct parser *p)
{
	struct ap_keep_decl k = { 0 };
	uint32_t start = p->tok.off;
	const char *kwname = ap_kw__name(p->tok.kw);
	char buf[96];

	k.kind = p->tok.kw == AP_KW_DECLASSIFY ? AP_KEEP_DECLASSIFY : AP_KEEP_ENDORSE;
	advance(p);
	k.label_loc = tok_span(p, &p->tok);
	k.label = label_or_null(p, kwname);
	if (!k.label)
		return false;
	advance(p);
	if (!is_kw(&p->tok, AP_KW_BY)) {
		static const enum ap_kw by[] = { AP_KW_BY };

		expected(p, "'by' after the label", by, 1);
		return false;
	}
	advance(p);
	if (!is_kw(&p->tok, AP_KW_EXEC)) {
		static const enum ap_kw ex[] = { AP_KW_EXEC };

		snprintf(buf, sizeof(buf), "'exec' after 'by' (the %s gate is a program)",
			 kwname);
		expected(p, buf, ex, 1);
		return false;
	}
	advance(p);
	if (!parse_string(p, &k.program, AP_PATSYN_EXEC, "program pattern"))
		return false;
	if (p->tok.kind == AP_TOK_STRING) {
		struct ap_span sp = tok_span(p, &p->tok);

		ap_error_at(p->d, &sp, "a '%s' gate takes no argument patterns", kwname);
		return false;
	}
	k.loc = span_from(p, start);
	p->prog->keeps = ap_arena__grow(p->a, p->prog->keeps, sizeof(k),
					p->prog->nkeeps, &p->cap_keep,
					p->prog->nkeeps + 1);
	p->prog->keeps[p->prog->nkeeps++] = k;
	return true;
}

/* ---- expressions ---- */

static struct ap_expr *parse_or(struct parser *p);

static struct ap_expr *new_expr(struct parser *p, enum ap_expr_kind kind)
{
	struct ap_expr *e = ap_arena__alloc(p->a, sizeof(*e));

	e->kind = kind;
	return e;
}

static struct ap_expr *parse_not(struct parser *p)
{
	struct ap_expr *e = NULL;
	uint32_t start = p->tok.off;

	if (++p->depth > MAX_DEPTH) {
		struct ap_span sp = tok_span(p, &p->tok);

		ap_error_at(p->d, &sp, "expression nested too deeply (more than %d levels)",
			    MAX_DEPTH);
		goto cleanup;
	}
	if (is_kw(&p->tok, AP_KW_NOT)) {
		struct ap_expr *sub;

		advance(p);
		sub = parse_not(p);
		if (!sub)
			goto cleanup;
		e = new_expr(p, AP_EXPR_NOT);
		e->l = sub;
	} else if (is_kw(&p->tok, AP_KW_TRUE)) {
		advance(p);
		e = new_expr(p, AP_EXPR_TRUE);
	} else if (p->tok.kind == AP_TOK_NAME && p->tok.kw == AP_KW_NONE) {
		e = new_expr(p, AP_EXPR_LABEL);
		e->label = tok_text(p, &p->tok);
		advance(p);
	} else if (p->tok.kind == AP_TOK_LPAREN) {
		struct ap_span open = tok_span(p, &p->tok);

		advance(p);
		e = parse_or(p);
		if (!e)
			goto cleanup;
		if (p->tok.kind != AP_TOK_RPAREN) {
			static const enum ap_kw ao[] = { AP_KW_AND, AP_KW_OR };

			expected(p, "')' to close the '(' (or 'and', 'or')", ao, N(ao));
			if (p->tok.kind != AP_TOK_ERROR)
				ap_note_at(p->d, &open, "the '(' is here");
			e = NULL;
			goto cleanup;
		}
		advance(p);
	} else {
		expected(p, "a label, 'true', 'not' or '('", NULL, 0);
		goto cleanup;
	}
	e->loc = span_from(p, start);
cleanup:
	p->depth--;
	return e;
}

static struct ap_expr *parse_binary(struct parser *p, enum ap_kw op)
{
	uint32_t start = p->tok.off;
	struct ap_expr *l = op == AP_KW_OR ? parse_binary(p, AP_KW_AND) : parse_not(p);

	while (l && is_kw(&p->tok, op)) {
		struct ap_expr *r, *e;

		advance(p);
		r = op == AP_KW_OR ? parse_binary(p, AP_KW_AND) : parse_not(p);
		if (!r)
			return NULL;
		e = new_expr(p, op == AP_KW_OR ? AP_EXPR_OR : AP_EXPR_AND);
		e->l = l;
		e->r = r;
		e->loc = span_from(p, start);
		l = e;
	}
	return l;
}

static struct ap_expr *parse_or(struct parser *p)
{
	return parse_binary(p, AP_KW_OR);
}

/* ---- conditions ---- */

static bool parse_event(struct parser *p, struct ap_event *ev)
{
	uint32_t start = p->tok.off;

	switch (p->tok.kw) {
	case AP_KW_WRITE: ev->op = AP_OP_WRITE; break;
	case AP_KW_READ: ev->op = AP_OP_READ; break;
	case AP_KW_UNLINK: ev->op = AP_OP_UNLINK; break;
	default: ev->op = AP_OP_EXEC; break;
	}
	advance(p);
	if (!parse_string(p, &ev->pat, ev->op == AP_OP_EXEC ? AP_PATSYN_EXEC :
			  AP_PATSYN_DEFAULT, ev->op == AP_OP_EXEC ? "program pattern" :
			  "path pattern"))
		return false;
	if (p->tok.kind == AP_TOK_STRING) {
		struct ap_span sp = tok_span(p, &p->tok);

		ap_error_at(p->d, &sp, "a 'since' event takes no argument patterns");
		return false;
	}
	ev->loc = span_from(p, start);
	return true;
}

static bool is_event(const struct ap_token *t)
{
	return t->kind == AP_TOK_NAME && kw_in(t->kw, event_kw, N(event_kw));
}

static bool parse_cond(struct parser *p, struct ap_condition *c)
{
	uint32_t start = p->tok.off;
	static const enum ap_kw ex[] = { AP_KW_EXEC };

	if (is_kw(&p->tok, AP_KW_NOT)) {
		struct ap_span sp = tok_span(p, &p->tok);

		ap_error_at(p->d, &sp, "'not' cannot negate an unless-condition; "
			    "write 'target not \"PATTERN\"', or move the test into 'if'");
		return false;
	}
	if (!(p->tok.kind == AP_TOK_NAME && kw_in(p->tok.kw, cond_kw, N(cond_kw)))) {
		expected(p, "a condition (target, lineage-includes, after)", cond_kw,
			 N(cond_kw));
		return false;
	}
	switch (p->tok.kw) {
	case AP_KW_TARGET:
		c->kind = AP_C_TARGET;
		advance(p);
		if (is_kw(&p->tok, AP_KW_NOT)) {
			c->negate = true;
			advance(p);
		}
		if (!parse_string(p, &c->pat, AP_PATSYN_DEFAULT, "pattern"))
			return false;
		if (p->tok.kind == AP_TOK_STRING) {
			struct ap_span sp = tok_span(p, &p->tok);

			ap_error_at(p->d, &sp, "'target' takes one pattern; "
				    "write 'or target \"...\"' for another");
			return false;
		}
		break;
	case AP_KW_LINEAGE:
		c->kind = AP_C_LINEAGE;
		advance(p);
		if (!is_kw(&p->tok, AP_KW_EXEC)) {
			expected(p, "'exec' after 'lineage-includes'", ex, 1);
			return false;
		}
		advance(p);
		if (!parse_string(p, &c->pat, AP_PATSYN_EXEC, "program pattern"))
			return false;
		if (p->tok.kind == AP_TOK_STRING) {
			struct ap_span sp = tok_span(p, &p->tok);

			ap_error_at(p->d, &sp,
				    "'lineage-includes' takes no argument patterns");
			return false;
		}
		break;
	default: {
		size_t cap = 0;
		struct ap_span passed_loc = { 0 };

		c->kind = AP_C_AFTER;
		advance(p);
		if (!is_kw(&p->tok, AP_KW_EXEC)) {
			expected(p, "'exec' after 'after'", ex, 1);
			return false;
		}
		advance(p);
		if (!parse_string(p, &c->pat, AP_PATSYN_EXEC, "program pattern"))
			return false;
		if (!parse_args(p, &c->args, NULL))
			return false;
		if (is_kw(&p->tok, AP_KW_PASSED)) {
			c->passed = true;
			passed_loc = tok_span(p, &p->tok);
			advance(p);
		}
		if (is_kw(&p->tok, AP_KW_SINCE)) {
			advance(p);
			for (;;) {
				if (!is_event(&p->tok)) {
					expected(p, "an event (write, read, unlink, exec) after 'since'",
						 event_kw, N(event_kw));
					return false;
				}
				if (c->nsince >= AP_MAX_SINCE) {
					struct ap_span sp = tok_span(p, &p->tok);

					ap_error_at(p->d, &sp, "too many 'since' events (at most %d)",
						    AP_MAX_SINCE);
					return false;
				}
				c->since = ap_arena__grow(p->a, c->since, sizeof(*c->since),
							  c->nsince, &cap, c->nsince + 1);
				if (!parse_event(p, &c->since[c->nsince]))
					return false;
				c->nsince++;
				if (!(is_kw(&p->tok, AP_KW_OR) && is_event(peek(p))))
					break;
				advance(p); /* or */
			}
		}
		if (is_kw(&p->tok, AP_KW_PASSED)) {
			struct ap_span sp = tok_span(p, &p->tok);

			if (c->passed) {
				ap_error_at(p->d, &sp, "'passed' given twice");
				ap_note_at(p->d, &passed_loc, "first given here");
			} else {
				ap_error_at(p->d, &sp, "'passed' must come before 'since'");
			}
			return false;
		}
		break;
	}
	}
	c->loc = span_from(p, start);
	return true;
}

/* ---- clauses and rules ---- */

static enum ap_op kw_op(enum ap_kw k)
{
	switch (k) {
	case AP_KW_EXEC: return AP_OP_EXEC;
	case AP_KW_OPEN: return AP_OP_OPEN;
	case AP_KW_READ: return AP_OP_READ;
	case AP_KW_WRITE: return AP_OP_WRITE;
	case AP_KW_UNLINK: return AP_OP_UNLINK;
	case AP_KW_RENAME: return AP_OP_RENAME;
	case AP_KW_CONNECT: return AP_OP_CONNECT;
	default: return AP_OP_RECV;
	}
}

static enum ap_effect kw_effect(enum ap_kw k)
{
	switch (k) {
	case AP_KW_NOTIFY: return AP_EFFECT_NOTIFY;
	case AP_KW_BLOCK: return AP_EFFECT_BLOCK;
	case AP_KW_KILL: return AP_EFFECT_KILL;
	default: return AP_EFFECT_ASK;
	}
}

static const char *syn_name(enum ap_pat_syntax syn)
{
	return syn == AP_PATSYN_FILE ? "file" : syn == AP_PATSYN_EXEC ? "exec" : "endpoint";
}

/* Report an op/pattern-kind combination that means nothing; see the header
 * comment for the table. Returns true when reported. */
static bool kind_mismatch(struct parser *p, const struct ap_span *sp, enum ap_kw opkw,
			  enum ap_pat_syntax syn)
{
	switch (opkw) {
	case AP_KW_EXEC:
		if (syn != AP_PATSYN_ENDPOINT)
			return false;
		ap_error_at(p->d, sp, "an 'exec' clause takes a program pattern ('exec') "
			    "or a file pattern ('file'), not 'endpoint'");
		return true;
	case AP_KW_CONNECT:
	case AP_KW_RECV:
		if (syn == AP_PATSYN_ENDPOINT)
			return false;
		ap_error_at(p->d, sp, "a '%s' clause takes an endpoint pattern, not '%s'%s",
			    ap_kw__name(opkw), syn_name(syn), syn == AP_PATSYN_FILE ?
			    " (a Unix socket is written endpoint \"unix:PATH\")" : "");
		return true;
	default:
		if (syn == AP_PATSYN_FILE)
			return false;
		ap_error_at(p->d, sp, "a '%s' clause takes a file pattern, not '%s'",
			    ap_kw__name(opkw), syn_name(syn));
		return true;
	}
}

/* What may follow a complete clause; everything else is an error. */
static bool clause_ends(const struct ap_token *t)
{
	return t->kind == AP_TOK_EOF || is_effect(t) || is_decl(t) ||
	       is_kw(t, AP_KW_BECAUSE);
}

static bool parse_clause(struct parser *p, struct ap_clause_ast *c)
{
	uint32_t start = p->tok.off;
	size_t cap = 0;
	bool since_open = false;
	enum ap_kw opkw;

	c->effect = kw_effect(p->tok.kw);
	advance(p);
	if (!(p->tok.kind == AP_TOK_NAME && kw_in(p->tok.kw, ops_kw, N(ops_kw)))) {
		expected(p, "an operation (exec, open, read, write, unlink, rename, connect, recv)",
			 ops_kw, N(ops_kw));
		return false;
	}
	c->op = kw_op(p->tok.kw);
	opkw = p->tok.kw;
	advance(p);
	c->pat.syn = AP_PATSYN_DEFAULT;
	if (p->tok.kind == AP_TOK_NAME && kw_in(p->tok.kw, kinds_kw, N(kinds_kw))) {
		enum ap_pat_syntax syn = p->tok.kw == AP_KW_FILE ? AP_PATSYN_FILE :
					 p->tok.kw == AP_KW_EXEC ? AP_PATSYN_EXEC :
					 AP_PATSYN_ENDPOINT;
		struct ap_span sp = tok_span(p, &p->tok);

		/* reported, then parsed on: the rest may hold other errors */
		kind_mismatch(p, &sp, opkw, syn);
		c->pat.syn = syn;
		advance(p);
	}
	if (!parse_string(p, &c->pat, c->pat.syn, "pattern"))
		return false;
	if (!parse_args(p, &c->args, c->op == AP_OP_EXEC ? NULL :
			"argument patterns are only allowed on 'exec' clauses"))
		return false;

	if (is_kw(&p->tok, AP_KW_IF)) {
		advance(p);
		p->depth = 0;
		c->cond = parse_or(p);
		if (!c->cond)
			return false;
	}
	if (is_kw(&p->tok, AP_KW_UNLESS)) {
		advance(p);
		for (;;) {
			struct ap_condition *cd;

			if (c->nunless >= AP_MAX_UNLESS) {
				struct ap_span sp = tok_span(p, &p->tok);

				ap_error_at(p->d, &sp,
					    "too many unless-conditions in one clause (at most %d)",
					    AP_MAX_UNLESS);
				return false;
			}
			c->unless = ap_arena__grow(p->a, c->unless, sizeof(*c->unless),
						   c->nunless, &cap, c->nunless + 1);
			cd = &c->unless[c->nunless];
			if (!parse_cond(p, cd))
				return false;
			c->nunless++;
			since_open = cd->kind == AP_C_AFTER && cd->nsince;
			if (!is_kw(&p->tok, AP_KW_OR))
				break;
			advance(p);
			if (!(p->tok.kind == AP_TOK_NAME &&
			      kw_in(p->tok.kw, cond_kw, N(cond_kw)))) {
				if (since_open)
					expected(p, "an event (write, read, unlink, exec) or a "
						 "condition (target, lineage-includes, after) after 'or'",
						 cond_kw, N(cond_kw));
				else
					expected(p, "a condition (target, lineage-includes, after) "
						 "after 'or'", cond_kw, N(cond_kw));
				return false;
			}
		}
	}
	c->loc = span_from(p, start);

	if (clause_ends(&p->tok))
		return true;
	{
		struct ap_span sp = tok_span(p, &p->tok);

		if (is_kw(&p->tok, AP_KW_IF)) {
			ap_error_at(p->d, &sp, c->nunless ? "'if' must come before 'unless'" :
				    "a clause takes one 'if'; combine labels with 'and' and 'or'");
		} else if (is_kw(&p->tok, AP_KW_UNLESS)) {
			ap_error_at(p->d, &sp, "a clause takes one 'unless'; "
				    "join its conditions with 'or'");
		} else if (is_kw(&p->tok, AP_KW_AND) && c->nunless) {
			ap_error_at(p->d, &sp, "unless-conditions are joined with 'or' "
				    "(the clause does not apply when any of them holds); "
				    "'and' is not allowed here");
		} else if (c->nunless) {
			static const enum ap_kw k[] = { AP_KW_OR, AP_KW_NOTIFY, AP_KW_BLOCK,
				AP_KW_KILL, AP_KW_ASK, AP_KW_BECAUSE, AP_KW_RULE };

			unexpected(p, "'or', the next clause or 'because'", k, N(k));
		} else if (c->cond) {
			static const enum ap_kw k[] = { AP_KW_AND, AP_KW_OR, AP_KW_UNLESS,
				AP_KW_NOTIFY, AP_KW_BLOCK, AP_KW_KILL, AP_KW_ASK, AP_KW_BECAUSE,
				AP_KW_RULE };

			unexpected(p, "'and', 'or', 'unless', the next clause or 'because'",
				 k, N(k));
		} else {
			static const enum ap_kw k[] = { AP_KW_IF, AP_KW_UNLESS, AP_KW_NOTIFY,
				AP_KW_BLOCK, AP_KW_KILL, AP_KW_ASK, AP_KW_BECAUSE, AP_KW_RULE };

			unexpected(p, "'if', 'unless', the next clause or 'because'", k, N(k));
		}
	}
	return false;
}

static const struct ap_rule_ast *find_rule(const struct ap_program *prog,
					   const char *name)
{
	for (uint32_t i = 0; i < prog->nrules; i++)
		if (!strcmp(prog->rules[i].name, name))
			return &prog->rules[i];
	return NULL;
}

static void parse_rule_body(struct parser *p, struct ap_rule_ast *rp, uint32_t start);

static void parse_rule(struct parser *p)
{
	struct ap_rule_ast r = { 0 };
	uint32_t start = p->tok.off;
	const struct ap_rule_ast *dup;

	advance(p); /* rule */
	if (p->tok.kind != AP_TOK_NAME) {
		expected(p, "a rule name after 'rule'", NULL, 0);
		sync(p, true);
		return;
	}
	r.name = tok_text(p, &p->tok);
	r.name_loc = tok_span(p, &p->tok);
	advance(p);
	dup = find_rule(p->prog, r.name);
	if (dup) {
		ap_error_at(p->d, &r.name_loc, "duplicate rule '%s'", r.name);
		ap_note_at(p->d, &dup->name_loc, "'%s' is first declared here", r.name);
	}
	if (p->tok.kind != AP_TOK_COLON) {
		expected(p, "':' after the rule name", NULL, 0);
		/* a forgotten colon: carry on if the clauses follow */
		if (!is_effect(&p->tok))
			sync(p, false);
	} else {
		advance(p);
	}
	parse_rule_body(p, &r, start);
}

/* Clauses and 'because' of a rule whose header was read, then the rule is
 * added to the program. */
static void parse_rule_body(struct parser *p, struct ap_rule_ast *rp, uint32_t start)
{
	struct ap_rule_ast r = *rp;
	size_t cap = 0;

	for (;;) {
		if (is_effect(&p->tok)) {
			struct ap_clause_ast c = { 0 };
			uint32_t cstart = p->tok.off;

			if (r.because) {
				struct ap_span sp = tok_span(p, &p->tok);

				ap_error_at(p->d, &sp, "'because' must come after the last "
					    "clause of rule '%s'", r.name);
				ap_note_at(p->d, &r.because_loc, "'because' is here");
			}
			if (r.nclauses >= AP_MAX_CLAUSES) {
				struct ap_span sp = tok_span(p, &p->tok);

				ap_error_at(p->d, &sp, "too many clauses in rule '%s' (at most %d)",
					    r.name, AP_MAX_CLAUSES);
				advance(p);
				sync(p, true);
				break;
			}
			if (parse_clause(p, &c)) {
				r.clauses = ap_arena__grow(p->a, r.clauses, sizeof(c),
							   r.nclauses, &cap, r.nclauses + 1);
				r.clauses[r.nclauses++] = c;
			} else {
				/* keep the rule's shape: a broken clause still counts, so
				 * "no clauses" is not reported on top of its error */
				r.clauses = ap_arena__grow(p->a, r.clauses, sizeof(c),
							   r.nclauses, &cap, r.nclauses + 1);
				c.loc = span_from(p, cstart);
				r.clauses[r.nclauses++] = c;
				sync(p, false);
			}
		} else if (is_kw(&p->tok, AP_KW_BECAUSE)) {
			struct ap_span kw = tok_span(p, &p->tok);
			struct ap_pat text = { 0 };

			advance(p);
			if (p->tok.kind != AP_TOK_STRING) {
				expected(p, "a string after 'because'", NULL, 0);
				sync(p, false);
				continue;
			}
			text.text = p->tok.str;
			text.loc = tok_span(p, &p->tok);
			advance(p);
			if (r.because) {
				ap_error_at(p->d, &kw, "rule '%s' already has a 'because' text",
					    r.name);
				ap_note_at(p->d, &r.because_loc, "the first is here");
				continue;
			}
			if (!*text.text)
				ap_warning_at(p->d, &text.loc, "empty 'because' text: the agent "
					      "is told nothing about why");
			r.because = text.text;
			r.because_loc = text.loc;
		} else if (p->tok.kind == AP_TOK_EOF || is_decl(&p->tok)) {
			break;
		} else {
			static const enum ap_kw k[] = { AP_KW_NOTIFY, AP_KW_BLOCK, AP_KW_KILL,
				AP_KW_ASK, AP_KW_BECAUSE };

			if (!r.nclauses)
				unexpected(p, "an effect (notify, block, kill, ask)", k, 4);
			else
				unexpected(p, "the next clause, 'because' or a declaration",
					 k, N(k));
			advance(p);
			sync(p, false);
		}
	}
	r.loc = span_from(p, start);
	if (!r.nclauses)
		ap_error_at(p->d, &r.name_loc, "rule '%s' has no clauses", r.name);
	p->prog->rules = ap_arena__grow(p->a, p->prog->rules, sizeof(r), p->prog->nrules,
					&p->cap_rule, p->prog->nrules + 1);
	p->prog->rules[p->prog->nrules++] = r;
}

static int dsl_parse(struct ap_policy *pol, unsigned src_index,
		     struct ap_program *prog, struct ap_diags *diags, bool inline_rule);

int ap_dsl_parse(struct ap_policy *pol, unsigned src_index,
		 struct ap_program *prog, struct ap_diags *diags)
{
	return dsl_parse(pol, src_index, prog, diags, false);
}

int ap_dsl__parse_inline(struct ap_policy *pol, unsigned src_index,
			 struct ap_program *prog, struct ap_diags *diags)
{
	return dsl_parse(pol, src_index, prog, diags, true);
}

static int dsl_parse(struct ap_policy *pol, unsigned src_index,
		     struct ap_program *prog, struct ap_diags *diags, bool inline_rule)
{
	struct parser p = { 0 };
	unsigned errors0 = diags->nerrors;

	if (src_index >= pol->nsrcs)
		return -EINVAL;
	p.pol = pol;
	p.a = pol->arena;
	p.d = diags;
	p.src = &pol->srcs[src_index];
	p.si = src_index;
	p.prog = prog;
	/* the arrays may be shared with earlier blocks: treat them as full so
	 * the first append copies them */
	p.cap_src = prog->nsources;
	p.cap_keep = prog->nkeeps;
	p.cap_rule = prog->nrules;
	ap_lexer__init(&p.lx, p.src, src_index, p.a, diags);
	advance(&p);
	while (p.tok.kind != AP_TOK_EOF) {
		bool ok = true;

		if (is_kw(&p.tok, AP_KW_SOURCE)) {
			ok = parse_source(&p);
		} else if (is_kw(&p.tok, AP_KW_DECLASSIFY) || is_kw(&p.tok, AP_KW_ENDORSE)) {
			ok = parse_keep(&p);
		} else if (is_kw(&p.tok, AP_KW_RULE)) {
			parse_rule(&p);
			continue;
		} else if (is_effect(&p.tok) && inline_rule && !p.prog->nrules) {
			/* --rule 'kill exec "git"': bare clauses make one rule */
			struct ap_rule_ast r = { 0 };

			r.name = "inline";
			r.name_loc = tok_span(&p, &p.tok);
			parse_rule_body(&p, &r, p.tok.off);
			continue;
		} else if (is_effect(&p.tok)) {
			struct ap_span sp = tok_span(&p, &p.tok);

			ap_error_at(diags, &sp, "a clause must be inside a rule: "
				    "write 'rule NAME:' above it");
			advance(&p);
			sync(&p, true);
			continue;
		} else {
			unexpected(&p, "'source', 'declassify', 'endorse' or 'rule'",
				 decl_kw, N(decl_kw));
			advance(&p);
			sync(&p, true);
			continue;
		}
		if (ok && !is_decl(&p.tok) && !is_effect(&p.tok) && p.tok.kind != AP_TOK_EOF) {
			unexpected(&p, "the next declaration (source, declassify, endorse, rule)",
				 decl_kw, N(decl_kw));
			ok = false;
		}
		if (!ok)
			sync(&p, true);
	}
	return diags->nerrors > errors0 ? -EINVAL : 0;
}
