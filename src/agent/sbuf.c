// SPDX-License-Identifier: MIT
#include "sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool grow(struct ap_sbuf *b, size_t need)
{
	size_t cap;
	char *n;

	if (b->oom)
		return false;
	if (b->len + need + 1 <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + need + 1)
		cap *= 2;
	n = realloc(b->s, cap);
	if (!n) {
		b->oom = true;
		return false;
	}
	b->s = n;
	b->cap = cap;
	return true;
}

void ap_sbuf__put_n(struct ap_sbuf *b, const char *s, size_t n)
{
	if (!grow(b, n))
		return;
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void ap_sbuf__puts(struct ap_sbuf *b, const char *s)
{
	ap_sbuf__put_n(b, s, strlen(s));
}

void ap_sbuf__putc(struct ap_sbuf *b, char c)
{
	ap_sbuf__put_n(b, &c, 1);
}

void ap_sbuf__printf(struct ap_sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !grow(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void ap_sbuf__put_text(struct ap_sbuf *b, const char *s, size_t max)
{
	size_t start = b->len;

	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (max && b->len - start >= max) {
			ap_sbuf__puts(b, "...");
			return;
		}
		if (c == '\n')
			ap_sbuf__puts(b, "\\n");
		else if (c == '\t')
			ap_sbuf__puts(b, "\\t");
		else if (c < 0x20 || c == 0x7f)
			ap_sbuf__printf(b, "\\x%02x", c);
		else
			ap_sbuf__putc(b, (char)c);
	}
}

void ap_sbuf__free(struct ap_sbuf *b)
{
	if (!b)
		return;
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
	b->oom = false;
}
