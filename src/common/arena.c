// SPDX-License-Identifier: MIT
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ap_block {
	struct ap_block *next;
	size_t size, used;
	_Alignas(16) unsigned char data[];
};

struct ap_arena {
	struct ap_block *head;
};

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n, sz);

	if (!p) {
		fprintf(stderr, "actplane: out of memory\n");
		abort();
	}
	return p;
}

struct ap_arena *ap_arena__new(void)
{
	return xcalloc(1, sizeof(struct ap_arena));
}

void ap_arena__free(struct ap_arena *a)
{
	struct ap_block *b, *n;

	if (!a)
		return;
	for (b = a->head; b; b = n) {
		n = b->next;
		free(b);
	}
	free(a);
}

void *ap_arena__alloc(struct ap_arena *a, size_t size)
{
	struct ap_block *b = a->head;
	void *p;

	size = (size + 15) & ~(size_t)15;
	if (!b || b->size - b->used < size) {
		size_t bs = size > 16384 ? size : 16384;

		b = xcalloc(1, sizeof(*b) + bs);
		b->size = bs;
		b->next = a->head;
		a->head = b;
	}
	p = b->data + b->used;
	b->used += size;
	return p;
}

char *ap_arena__strndup(struct ap_arena *a, const char *s, size_t n)
{
	char *p = ap_arena__alloc(a, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *ap_arena__strdup(struct ap_arena *a, const char *s)
{
	return ap_arena__strndup(a, s, strlen(s));
}

char *ap_arena__printf(struct ap_arena *a, const char *fmt, ...)
{
	va_list ap, ap2;
	int n;
	char *p;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	p = ap_arena__alloc(a, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return p;
}

void *ap_arena__grow(struct ap_arena *a, void *old, size_t elem, size_t n,
		     size_t *cap, size_t need)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return old;
	ncap = *cap ? *cap * 2 : 8;
	while (ncap < need)
		ncap *= 2;
	p = ap_arena__alloc(a, ncap * elem);
	if (old && n)
		memcpy(p, old, n * elem);
	*cap = ncap;
	return p;
}
