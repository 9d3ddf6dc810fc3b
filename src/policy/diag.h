/* SPDX-License-Identifier: MIT */
/*
 * Compiler diagnostics: errors, warnings and notes with a location.
 *
 * Printed as
 *   actplane.yaml:12:5: error: unknown label 'SECRT' (did you mean 'SECRET'?)
 *      12 |     kill exec "curl" if SECRT
 *         |                         ^~~~~
 * where FILE:LINE:COL is in the file the user edits: a span inside a DSL
 * block is mapped through ap_src.map_line/map_col to the YAML file.
 *
 * The list owns its messages; ap_diags__free() accepts NULL-initialised or
 * already freed lists. Printing needs the sources the spans refer to, so it
 * must happen before the policy that owns them is freed.
 */
#ifndef AP_POLICY_DIAG_H
#define AP_POLICY_DIAG_H

#include <stdbool.h>
#include <stdio.h>

#include "ast.h"

enum ap_diag_level { AP_DIAG_ERROR, AP_DIAG_WARNING, AP_DIAG_NOTE };

struct ap_diag {
	enum ap_diag_level level;
	bool has_loc;
	struct ap_span loc;
	char *msg;
};

struct ap_diags {
	struct ap_diag *v;
	unsigned n, cap;
	unsigned nerrors, nwarnings;
	unsigned max_errors;     /* stop recording errors past this; 0 = 50 */
	bool dropping;           /* internal: the last error was past the limit,
				  * so its notes are dropped too */
};

void ap_diags__add(struct ap_diags *d, enum ap_diag_level lvl,
		   const struct ap_span *loc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#define ap_error_at(d, loc, ...) ap_diags__add(d, AP_DIAG_ERROR, loc, __VA_ARGS__)
#define ap_warning_at(d, loc, ...) ap_diags__add(d, AP_DIAG_WARNING, loc, __VA_ARGS__)
#define ap_note_at(d, loc, ...) ap_diags__add(d, AP_DIAG_NOTE, loc, __VA_ARGS__)

/* Map a span to the outermost file: its name, 1-based line and column, and
 * the text of that line (not NUL-terminated; *line_len bytes). */
int ap_diag__locate(const struct ap_src *srcs, unsigned nsrcs,
		    const struct ap_span *loc, const char **file,
		    unsigned *line, unsigned *col, const char **line_text,
		    unsigned *line_len);

/* Print every diagnostic in order, with the source line and a caret. */
void ap_diags__print(const struct ap_diags *d, const struct ap_src *srcs,
		     unsigned nsrcs, FILE *out);

/* "FILE:LINE:COL: level: msg" for one diagnostic, without the source
 * excerpt (used by check --json). Caller frees. */
char *ap_diag__headline(const struct ap_diag *dg, const struct ap_src *srcs,
			unsigned nsrcs);

void ap_diags__free(struct ap_diags *d);

/* Levenshtein-based suggestion: the closest candidate within a distance
 * that makes sense for the word's length, or NULL. */
const char *ap_suggest(const char *word, const char *const *cands, unsigned n);

#endif
