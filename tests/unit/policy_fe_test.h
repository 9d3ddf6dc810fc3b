/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the policy front-end unit tests (test_lexer, test_parser,
 * test_diag, test_yaml, test_domains): parse a DSL or YAML text held in a
 * string and render the diagnostics as the user would see them.
 */
#ifndef AP_TESTS_POLICY_FE_TEST_H
#define AP_TESTS_POLICY_FE_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>

#include "policy/policy.h"

/* A DSL text as the only source ("t"), parsed into pol->prog. */
static inline struct ap_policy *fe_parse_dsl(const char *text, struct ap_diags *d)
{
	struct ap_policy *pol = ap_policy__new();
	unsigned si = ap_policy__add_src(pol, "t", text, strlen(text), -1);

	ap_dsl_parse(pol, si, &pol->prog, d);
	return pol;
}

/* A policy file held in memory, named "p.yaml". */
static inline struct ap_policy *fe_load_yaml(const char *text, const char *domain,
					     struct ap_diags *d, int *err)
{
	struct ap_load_opts o = { .cwd = "/", .domain = domain };
	struct ap_policy *pol = NULL;
	int e = ap_policy_load_buffer("p.yaml", text, strlen(text), &o, d, &pol);

	if (err)
		*err = e;
	return pol;
}

/* Everything ap_diags__print writes; caller frees. */
static inline char *fe_render(const struct ap_diags *d, const struct ap_policy *pol)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	ap_diags__print(d, pol ? pol->srcs : NULL, pol ? pol->nsrcs : 0, f);
	fclose(f);
	return buf;
}

/* Assert that the rendered diagnostics contain needle. */
#define fe_assert_has(d, pol, needle)                                             \
	do {                                                                      \
		char *out_ = fe_render(d, pol);                                   \
		if (!strstr(out_, needle))                                        \
			fail_msg("expected in diagnostics:\n%s\n--- got:\n%s",    \
				 needle, out_);                                   \
		free(out_);                                                       \
	} while (0)

/* The whole rendered output must equal want. */
#define fe_assert_output(d, pol, want)                                            \
	do {                                                                      \
		char *out_ = fe_render(d, pol);                                   \
		if (strcmp(out_, want))                                           \
			fail_msg("diagnostics differ; want:\n%s--- got:\n%s",     \
				 want, out_);                                     \
		free(out_);                                                       \
	} while (0)

#endif
