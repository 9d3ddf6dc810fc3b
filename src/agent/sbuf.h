/* SPDX-License-Identifier: MIT */
/*
 * A growable string for building feedback text and JSON-RPC answers.
 * Zero-initialise; on allocation failure the buffer sets oom and ignores
 * further appends, so callers check once at the end. s is NUL-terminated
 * (or NULL while empty); ap_sbuf__free() releases it and accepts an empty one.
 */
#ifndef AP_AGENT_SBUF_H
#define AP_AGENT_SBUF_H

#include <stdbool.h>
#include <stddef.h>

struct ap_sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

void ap_sbuf__put_n(struct ap_sbuf *b, const char *s, size_t n);
void ap_sbuf__puts(struct ap_sbuf *b, const char *s);
void ap_sbuf__putc(struct ap_sbuf *b, char c);
void ap_sbuf__printf(struct ap_sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Text from the system (paths, argv, names) on one line: control characters
 * become \n, \t, \xNN so it can never start a line of its own; cut past max
 * bytes with "..." (0 = no limit). */
void ap_sbuf__put_text(struct ap_sbuf *b, const char *s, size_t max);
void ap_sbuf__free(struct ap_sbuf *b);

#endif
