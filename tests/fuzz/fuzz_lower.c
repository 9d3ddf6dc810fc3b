// SPDX-License-Identifier: MIT
/*
 * Fuzz the compiler past the front end: parse, lower (labels, DNF,
 * endpoints, conditions, the automaton), serialise, and check that the blob
 * we wrote passes our own validating view. Host names never resolve here.
 * Build (libFuzzer + ASan + UBSan), from the repository root:
 *   clang -std=gnu11 -g -O1 -D_GNU_SOURCE -Isrc -I. \
 *     -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
 *     src/policy/{diag,lexer,parser,policy,yaml,domains,dfa,dfa_min,glob,guard}.c \
 *     src/policy/{lower,lower_rules,dnf,endpoint,blob}.c \
 *     src/common/arena.c src/common/log.c tests/fuzz/fuzz_lower.c \
 *     -lyaml -lcrypto -lbpf -o fuzz_lower
 *   ./fuzz_lower -dict=tests/fuzz/policy.dict -max_len=4096 CORPUS_DIR
 * (seed the corpus with the golden and example policies)
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "policy/blob.h"
#include "policy/lower.h"
#include "policy/policy.h"

static int noresolve(const char *h, struct ap_endpoint *o, unsigned m, void *c)
{
	(void)h; (void)o; (void)m; (void)c;
	return -ENOENT;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ap_load_opts o = { .cwd = "/proj" };
	struct ap_lower_opts lo = { .resolve = noresolve, .degraded_effects = 6 };
	struct ap_diags d = { 0 };
	struct ap_policy *pol = NULL;
	struct ap_compiled *c = NULL;
	char *text = malloc(size + 1);
	void *blob;
	size_t bs;

	memcpy(text, data, size);
	text[size] = 0;
	if (!ap_policy_load_buffer("f.yaml", text, size, &o, &d, &pol) &&
	    !ap_lower(pol, &lo, &d, &c)) {
		if (!ap_compiled__to_blob(c, &blob, &bs)) {
			struct ap_blob_view v;
			const char *why;
			if (ap_blob__view(blob, bs, &v, &why))
				abort(); /* our own blob must validate */
			free(blob);
		}
	}
	ap_compiled__free(c);
	ap_diags__free(&d);
	ap_policy__free(pol);
	free(text);
	return 0;
}
