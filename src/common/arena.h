/* SPDX-License-Identifier: MIT */
/*
 * A bump allocator for data that dies together (a parsed policy). Blocks are
 * chained; ap_arena__free() releases every allocation at once and accepts
 * NULL. Allocation failure aborts with a message: the callers are compilers
 * of small documents, not long-lived services, and threading ENOMEM through
 * every parser production would obscure them.
 */
#ifndef AP_COMMON_ARENA_H
#define AP_COMMON_ARENA_H

#include <stddef.h>

struct ap_arena;

struct ap_arena *ap_arena__new(void);
void ap_arena__free(struct ap_arena *a);
/* zeroed, 16-aligned */
void *ap_arena__alloc(struct ap_arena *a, size_t size);
char *ap_arena__strdup(struct ap_arena *a, const char *s);
char *ap_arena__strndup(struct ap_arena *a, const char *s, size_t n);
char *ap_arena__printf(struct ap_arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* grow an arena array of elem-size items from *cap to at least need */
void *ap_arena__grow(struct ap_arena *a, void *old, size_t elem, size_t n,
		     size_t *cap, size_t need);

#endif
