/* SPDX-License-Identifier: MIT */
/*
 * What `actplane check` prints: a human summary (labels, rules in words, how
 * each effect is enforced on this kernel, what degrades) or one JSON object
 * whose schema docs/rule-language.md documents ("Checking a policy").
 * Output is byte-stable: nothing depends on time or addresses; the paths in
 * it are the policy path as given, the patterns as written and the built-in
 * session-guard's absolute paths (under the project root).
 */
#ifndef AP_POLICY_SUMMARY_H
#define AP_POLICY_SUMMARY_H

#include <stdbool.h>
#include <stdio.h>

#include "ast.h"
#include "diag.h"
#include "kernel_caps.h"
#include "lower.h"

struct ap_summary {
	const struct ap_policy *pol;      /* NULL when loading failed early */
	const struct ap_compiled *c;      /* NULL unless lowering ran */
	const struct ap_kernel_caps *caps;
	enum ap_fallback fallback;
	const struct ap_diags *diags;
	const char *policy_arg;           /* --policy as given, for when loading failed */
	bool valid;
};

void ap_summary__print(const struct ap_summary *s, FILE *out);
/* 0 or -ENOMEM */
int ap_summary__json(const struct ap_summary *s, FILE *out);

/* A clause as DSL text and in words; caller frees. */
char *ap_clause__dsl(const struct ap_clause_ast *cl);
char *ap_clause__words(const struct ap_clause_ast *cl);

#endif
