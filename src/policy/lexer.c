// SPDX-License-Identifier: MIT
#include "lexer.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const kw_names[AP_KW__COUNT] = {
	[AP_KW_NONE] = NULL,
#define X(e, s) [AP_KW_##e] = s,
	AP_KEYWORDS(X)
#undef X
};

const char *ap_kw__name(enum ap_kw kw)
{
	return (unsigned)kw < AP_KW__COUNT ? kw_names[kw] : NULL;
}

enum ap_kw ap_kw__lookup(const char *s, size_t len)
{
	for (unsigned k = 1; k < AP_KW__COUNT; k++)
		if (strlen(kw_names[k]) == len && !memcmp(kw_names[k], s, len))
			return (enum ap_kw)k;
	return AP_KW_NONE;
}

void ap_lexer__init(struct ap_lexer *lx, const struct ap_src *src,
		    uint32_t src_index, struct ap_arena *arena,
		    struct ap_diags *diags)
{
	memset(lx, 0, sizeof(*lx));
	lx->src = src;
	lx->src_index = src_index;
	lx->bol = true;
	lx->arena = arena;
	lx->diags = diags;
}

static bool name_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(unsigned char c)
{
	return name_start(c) || (c >= '0' && c <= '9') || c == '-';
}

static void lex_error(struct ap_lexer *lx, uint32_t off, uint32_t len,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void lex_error(struct ap_lexer *lx, uint32_t off, uint32_t len,
		      const char *fmt, ...)
{
	struct ap_span sp = { lx->src_index, off, len };
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ap_error_at(lx->diags, &sp, "%s", msg);
}

static bool utf8_valid(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t k = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 :
			   (c & 0xf8) == 0xf0 ? 3 : 9;

		if (k == 9 || (k && c < 0xc2) || i + k >= n + (k ? 0 : 1))
			return false;
		for (size_t j = 1; j <= k; j++)
			if (((unsigned char)s[i + j] & 0xc0) != 0x80)
				return false;
		i += k + 1;
	}
	return true;
}

static void lex_string(struct ap_lexer *lx, struct ap_token *tok)
{
	const char *t = lx->src->text;
	size_t len = lx->src->len, start = lx->pos, i = start + 1;
	char *val, *w;

	/* first pass: find the end */
	while (i < len && t[i] != '"' && t[i] != '\n') {
		if (t[i] == '\\' && i + 1 < len && t[i + 1] != '\n')
			i++;
		i++;
	}
	if (i >= len || t[i] != '"') {
		lex_error(lx, (uint32_t)start, 1,
			  "unterminated string (a string ends with '\"' on the same line)");
		tok->kind = AP_TOK_ERROR;
		tok->len = (uint32_t)(i - start);
		lx->pos = i;
		return;
	}
	tok->kind = AP_TOK_STRING;
	tok->len = (uint32_t)(i + 1 - start);
	lx->pos = i + 1;
	val = w = ap_arena__alloc(lx->arena, i - start);
	for (size_t j = start + 1; j < i; j++) {
		if (t[j] == '\\' && (t[j + 1] == '"' || t[j + 1] == '\\'))
			j++;
		else if (t[j] == '\0') {
			lex_error(lx, (uint32_t)j, 1,
				  "a string cannot contain a NUL byte");
			tok->kind = AP_TOK_ERROR;
		}
		*w++ = t[j];
	}
	*w = '\0';
	tok->str = val;
}

void ap_lexer__next(struct ap_lexer *lx, struct ap_token *tok)
{
	const char *t = lx->src->text;
	size_t len = lx->src->len;
	unsigned char c;

	memset(tok, 0, sizeof(*tok));
	for (;;) {
		if (lx->pos >= len)
			break;
		c = (unsigned char)t[lx->pos];
		if (c == '\n') {
			lx->bol = true;
			lx->pos++;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
			lx->pos++;
		} else if (c == '#') {
			while (lx->pos < len && t[lx->pos] != '\n')
				lx->pos++;
		} else {
			break;
		}
	}
	tok->off = (uint32_t)lx->pos;
	tok->bol = lx->bol;
	lx->bol = false;
	if (lx->pos >= len) {
		tok->kind = AP_TOK_EOF;
		return;
	}
	c = (unsigned char)t[lx->pos];
	if (name_start(c)) {
		size_t s = lx->pos;

		while (lx->pos < len && name_char((unsigned char)t[lx->pos]))
			lx->pos++;
		tok->kind = AP_TOK_NAME;
		tok->len = (uint32_t)(lx->pos - s);
		tok->kw = ap_kw__lookup(t + s, tok->len);
		return;
	}
	switch (c) {
	case '"':
		lex_string(lx, tok);
		return;
	case ':': tok->kind = AP_TOK_COLON; break;
	case '(': tok->kind = AP_TOK_LPAREN; break;
	case ')': tok->kind = AP_TOK_RPAREN; break;
	case '=': tok->kind = AP_TOK_EQ; break;
	default:
		break;
	}
	if (tok->kind != AP_TOK_EOF) {
		tok->len = 1;
		lx->pos++;
		return;
	}

	/* an error: say what was probably meant */
	tok->kind = AP_TOK_ERROR;
	if (c >= '0' && c <= '9') {
		size_t s = lx->pos;

		while (lx->pos < len && name_char((unsigned char)t[lx->pos]))
			lx->pos++;
		tok->len = (uint32_t)(lx->pos - s);
		lex_error(lx, tok->off, tok->len,
			  "'%.*s' is not a name (names start with a letter or '_')",
			  tok->len > 60 ? 60 : (int)tok->len, t + s);
		return;
	}
	if ((c == '&' || c == '|') && lx->pos + 1 < len && t[lx->pos + 1] == (char)c) {
		tok->len = 2;
		lx->pos += 2;
		lex_error(lx, tok->off, 2, "unexpected '%c%c'; write '%s'", c, c,
			  c == '&' ? "and" : "or");
		return;
	}
	tok->len = 1;
	lx->pos++;
	if (c == '!' || c == '&' || c == '|') {
		lex_error(lx, tok->off, 1, "unexpected '%c'; write '%s'", c,
			  c == '!' ? "not" : c == '&' ? "and" : "or");
	} else if (c == '\'') {
		/* take the whole 'string' so it is one error, not two */
		size_t e = lx->pos;

		while (e < len && t[e] != '\n' && t[e] != '\'')
			e++;
		if (e < len && t[e] == '\'') {
			lx->pos = e + 1;
			tok->len = (uint32_t)(lx->pos - tok->off);
		}
		lex_error(lx, tok->off, tok->len,
			  "strings are written in double quotes, not single quotes");
	} else if (c > 0x20 && c < 0x7f) {
		lex_error(lx, tok->off, 1, "unexpected character '%c'", c);
	} else if (c >= 0x80) {
		/* a run of non-ASCII text is one error, shown as written when it
		 * is valid UTF-8 */
		while (lx->pos < len && (unsigned char)t[lx->pos] >= 0x80)
			lx->pos++;
		tok->len = (uint32_t)(lx->pos - tok->off);
		if (utf8_valid(t + tok->off, tok->len))
			lex_error(lx, tok->off, tok->len, "unexpected '%.*s' "
				  "(names are ASCII letters, digits, '_' and '-')",
				  (int)(tok->len > 60 ? 60 : tok->len), t + tok->off);
		else
			lex_error(lx, tok->off, tok->len, "unexpected byte 0x%02x "
				  "(not UTF-8 text)", c);
	} else {
		lex_error(lx, tok->off, tok->len, "unexpected control character 0x%02x", c);
	}
}

const char *ap_tok__describe(const struct ap_token *tok, const struct ap_src *src,
			     char *buf, size_t size)
{
	int n;

	switch (tok->kind) {
	case AP_TOK_EOF:
		snprintf(buf, size, "the end of the text");
		break;
	case AP_TOK_STRING:
		n = tok->len > 40 ? 40 : (int)tok->len;
		snprintf(buf, size, "string %.*s%s", n, src->text + tok->off,
			 tok->len > 40 ? "...\"" : "");
		break;
	default:
		n = tok->len > 60 ? 60 : (int)tok->len;
		snprintf(buf, size, "'%.*s'", n, src->text + tok->off);
		break;
	}
	return buf;
}
