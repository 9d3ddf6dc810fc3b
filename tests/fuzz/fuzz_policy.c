// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the policy front end: the input is a policy file
 * (YAML with DSL blocks) and, NUL-terminated, an inline `--rule` text. Every
 * path is parsed, domain-selected, printed (diagnostics with excerpts and
 * headlines, to /dev/null) and freed, so ASan/UBSan/LSan see all of it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

static FILE *sink;

static void run(struct ap_policy *pol, struct ap_diags *d)
{
	if (pol) {
		ap_diags__print(d, pol->srcs, pol->nsrcs, sink);
		for (unsigned i = 0; i < d->n; i++)
			free(ap_diag__headline(&d->v[i], pol->srcs, pol->nsrcs));
	}
	ap_diags__free(d);
	ap_policy__free(pol);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ap_load_opts opts = { .cwd = "/" };
	struct ap_diags d = { 0 };
	struct ap_policy *pol = NULL;
	char *text;

	if (!sink)
		sink = fopen("/dev/null", "w");
	if (!sink)
		abort();
	ap_policy_load_buffer("fuzz.yaml", (const char *)data, size, &opts, &d, &pol);
	run(pol, &d);

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	opts.rule_text = text;
	pol = NULL;
	ap_policy_load(&opts, &d, &pol);
	run(pol, &d);

	/* and once more with a --domain, to reach selection errors */
	opts.rule_text = NULL;
	opts.domain = "session";
	pol = NULL;
	ap_policy_load_buffer("fuzz.yaml", text, size, &opts, &d, &pol);
	run(pol, &d);
	free(text);
	return 0;
}
