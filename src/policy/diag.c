// SPDX-License-Identifier: MIT
/*
 * Diagnostics: recording, locating (through DSL block line maps), printing
 * with a source excerpt and caret, and "did you mean" suggestions.
 */
#include "diag.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	if (!q) {
		fprintf(stderr, "actplane: out of memory\n");
		abort();
	}
	return q;
}

static unsigned max_errors(const struct ap_diags *d)
{
	return d->max_errors ? d->max_errors : 50;
}

void ap_diags__add(struct ap_diags *d, enum ap_diag_level lvl,
		   const struct ap_span *loc, const char *fmt, ...)
{
	struct ap_diag *dg;
	va_list ap, ap2;
	int n;

	if (lvl == AP_DIAG_ERROR) {
		/* past the limit errors are only counted, and the notes that
		 * belong to them are dropped with them (see last_dropped) */
		d->dropping = d->nerrors++ >= max_errors(d);
		if (d->dropping)
			return;
	} else if (lvl == AP_DIAG_NOTE && d->dropping) {
		return;
	} else if (lvl == AP_DIAG_WARNING) {
		d->nwarnings++;
		d->dropping = false;
	}
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		d->v = xrealloc(d->v, d->cap * sizeof(*d->v));
	}
	dg = &d->v[d->n];
	memset(dg, 0, sizeof(*dg));
	dg->level = lvl;
	if (loc) {
		dg->has_loc = true;
		dg->loc = *loc;
	}
	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	dg->msg = xrealloc(NULL, (size_t)(n > 0 ? n : 0) + 1);
	vsnprintf(dg->msg, (size_t)(n > 0 ? n : 0) + 1, fmt, ap2);
	va_end(ap2);
	d->n++;
}

void ap_diags__free(struct ap_diags *d)
{
	if (!d)
		return;
	for (unsigned i = 0; i < d->n; i++)
		free(d->v[i].msg);
	free(d->v);
	d->v = NULL;
	d->n = d->cap = 0;
	d->nerrors = d->nwarnings = 0;
	d->dropping = false;
}

/* Start of the 1-based line `line` in text, or -1. */
static long line_start(const char *text, size_t len, unsigned line)
{
	size_t off = 0;

	for (unsigned l = 1; l < line; l++) {
		const char *nl = memchr(text + off, '\n', len - off);

		if (!nl)
			return -1;
		off = (size_t)(nl - text) + 1;
	}
	return (long)off;
}

int ap_diag__locate(const struct ap_src *srcs, unsigned nsrcs,
		    const struct ap_span *loc, const char **file,
		    unsigned *line, unsigned *col, const char **line_text,
		    unsigned *line_len)
{
	uint32_t si = loc->src;
	size_t off = loc->off;
	unsigned depth = 0;
	const struct ap_src *s;
	unsigned l, c;
	size_t ls, le;

	for (;;) {
		if (si >= nsrcs || ++depth > 16)
			return -EINVAL;
		s = &srcs[si];
		if (off > s->len)
			off = s->len;
		/* line and column inside this source */
		l = 1;
		ls = 0;
		/* memchr, not a byte loop: lowering locates every rule, so this
		 * runs once per rule over the whole policy text */
		for (const char *nl; (nl = memchr(s->text + ls, '\n', off - ls));) {
			l++;
			ls = (size_t)(nl - s->text) + 1;
		}
		c = (unsigned)(off - ls);
		if (s->parent < 0)
			break;
		/* a block: map its line to the parent's line and column */
		if (s->map_line && l - 1 < s->nlines) {
			unsigned pl = s->map_line[l - 1];
			unsigned pc = s->map_col ? s->map_col[l - 1] : 0;
			long pls = line_start(srcs[s->parent].text,
					      srcs[s->parent].len, pl);

			if (pls < 0)
				return -EINVAL;
			off = (size_t)pls + pc + c;
		} else {
			off = c;
		}
		si = (uint32_t)s->parent;
	}
	le = ls;
	while (le < s->len && s->text[le] != '\n')
		le++;
	if (le > ls && s->text[le - 1] == '\r')
		le--;
	*file = s->name;
	*line = l;
	*col = c + 1;
	*line_text = s->text + ls;
	*line_len = (unsigned)(le - ls);
	return 0;
}

static const char *level_name(enum ap_diag_level lvl)
{
	switch (lvl) {
	case AP_DIAG_ERROR: return "error";
	case AP_DIAG_WARNING: return "warning";
	default: return "note";
	}
}

char *ap_diag__headline(const struct ap_diag *dg, const struct ap_src *srcs,
			unsigned nsrcs)
{
	const char *file, *lt;
	unsigned line, col, ll;
	char *out = NULL;

	if (dg->has_loc &&
	    !ap_diag__locate(srcs, nsrcs, &dg->loc, &file, &line, &col, &lt, &ll)) {
		if (asprintf(&out, "%s:%u:%u: %s: %s", file, line, col,
			     level_name(dg->level), dg->msg) < 0)
			out = NULL;
	} else if (asprintf(&out, "actplane: %s: %s", level_name(dg->level),
			    dg->msg) < 0) {
		out = NULL;
	}
	return out;
}

static bool utf8_cont(unsigned char ch)
{
	return (ch & 0xc0) == 0x80;
}

/* The excerpt: the line, then a caret under the span. Tabs are copied into
 * the caret line so both lines expand them alike; a multi-byte character
 * takes one column on screen, so it gets one space or tilde. */
static void print_excerpt(FILE *out, unsigned line, unsigned col,
			  const char *lt, unsigned ll, uint32_t len)
{
	char num[16];
	int w;
	unsigned end;

	w = snprintf(num, sizeof(num), "%u", line);
	if (w < 5)
		w = 5;
	fprintf(out, "%*u | %.*s\n", w, line, (int)ll, lt);
	fprintf(out, "%*s | ", w, "");
	for (unsigned i = 0; i + 1 < col && i < ll; i++) {
		if (lt[i] == '\t')
			fputc('\t', out);
		else if (!utf8_cont((unsigned char)lt[i]))
			fputc(' ', out);
	}
	fputc('^', out);
	end = col - 1 + (len ? len : 1);
	if (end > ll)
		end = ll;
	for (unsigned i = col; i < end; i++) {
		if (utf8_cont((unsigned char)lt[i]))
			continue;
		fputc(lt[i] == '\t' ? '\t' : '~', out);
	}
	fputc('\n', out);
}

void ap_diags__print(const struct ap_diags *d, const struct ap_src *srcs,
		     unsigned nsrcs, FILE *out)
{
	unsigned shown = 0;

	for (unsigned i = 0; i < d->n; i++) {
		const struct ap_diag *dg = &d->v[i];
		const char *file, *lt;
		unsigned line, col, ll;

		if (dg->level == AP_DIAG_ERROR)
			shown++;
		if (dg->has_loc &&
		    !ap_diag__locate(srcs, nsrcs, &dg->loc, &file, &line, &col,
				     &lt, &ll)) {
			fprintf(out, "%s:%u:%u: %s: %s\n", file, line, col,
				level_name(dg->level), dg->msg);
			print_excerpt(out, line, col, lt, ll, dg->loc.len);
		} else {
			fprintf(out, "actplane: %s: %s\n", level_name(dg->level),
				dg->msg);
		}
	}
	if (d->nerrors > shown)
		fprintf(out, "actplane: note: %u more errors not shown\n",
			d->nerrors - shown);
}

/* Optimal string alignment distance (Levenshtein plus adjacent
 * transposition: "opne" is one edit from "open"), ignoring case. */
static unsigned osa_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned *d, r;

	if (la > 64 || lb > 64)
		return 1000;
	d = calloc((la + 1) * (lb + 1), sizeof(*d));
	if (!d)
		return 1000;
#define D(i, j) d[(i) * (lb + 1) + (j)]
	for (size_t i = 0; i <= la; i++)
		D(i, 0) = (unsigned)i;
	for (size_t j = 0; j <= lb; j++)
		D(0, j) = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			unsigned cost = tolower((unsigned char)a[i - 1]) !=
					tolower((unsigned char)b[j - 1]);
			unsigned v = D(i - 1, j) + 1;

			if (D(i, j - 1) + 1 < v)
				v = D(i, j - 1) + 1;
			if (D(i - 1, j - 1) + cost < v)
				v = D(i - 1, j - 1) + cost;
			if (i > 1 && j > 1 &&
			    tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]) &&
			    D(i - 2, j - 2) + 1 < v)
				v = D(i - 2, j - 2) + 1;
			D(i, j) = v;
		}
	}
	r = D(la, lb);
#undef D
	free(d);
	return r;
}

const char *ap_suggest(const char *word, const char *const *cands, unsigned n)
{
	size_t wl = strlen(word);
	/* one edit for short words, then one more per four characters */
	unsigned limit = wl <= 4 ? 1 : (unsigned)(wl + 3) / 4;
	const char *best = NULL;
	unsigned bestd = ~0u;

	if (!wl)
		return NULL;
	for (unsigned i = 0; i < n; i++) {
		unsigned dist;

		if (!cands[i] || !strcmp(cands[i], word))
			continue;
		dist = osa_distance(word, cands[i]);
		/* never suggest a word that shares nothing with the input */
		if (dist > limit || dist >= wl || dist >= strlen(cands[i]))
			continue;
		if (dist < bestd) {
			bestd = dist;
			best = cands[i];
		}
	}
	return best;
}
