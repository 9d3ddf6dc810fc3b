// SPDX-License-Identifier: MIT
/* The blob view: a blob from disk is untrusted, so every truncation or
 * corruption must be refused (or, for harmless bytes, leave every index in
 * range), never read out of bounds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy/blob.h"
#include "policy/lower.h"
#include "policy/policy.h"

static const char *policy =
	"version: 1\n"
	"policy: |\n"
	"  source AGENT = exec \"claude\"\n"
	"  source SECRET = file \"**/.env*\"\n"
	"  rule no-push:\n"
	"    kill exec \"git\" \"push\" if AGENT\n"
	"    because \"no\"\n"
	"  rule no-exfil:\n"
	"    block connect endpoint \"*\" if SECRET unless target \"127.0.0.1:8080\"\n"
	"  rule tests:\n"
	"    ask exec \"git\" \"commit\" unless after exec \"make\" \"test\" passed since write \"src/**\"\n";

struct blob {
	__u64 *mem;  /* 8-aligned */
	size_t size;
};

static void make_blob(struct blob *b)
{
	struct ap_load_opts o = { .cwd = "/proj" };
	struct ap_diags d = { 0 };
	struct ap_policy *pol = NULL;
	struct ap_compiled *c = NULL;
	void *buf;

	assert_int_equal(ap_policy_load_buffer("t.yaml", policy, strlen(policy), &o, &d,
					       &pol), 0);
	assert_int_equal(ap_lower(pol, NULL, &d, &c), 0);
	assert_int_equal(ap_compiled__to_blob(c, &buf, &b->size), 0);
	b->mem = calloc(1, b->size + 8);
	memcpy(b->mem, buf, b->size);
	free(buf);
	ap_compiled__free(c);
	ap_diags__free(&d);
	ap_policy__free(pol);
}

static int view(const struct blob *b, size_t size)
{
	struct ap_blob_view v;
	const char *why = NULL;
	int err = ap_blob__view(b->mem, size, &v, &why);

	if (err)
		assert_non_null(why);
	return err;
}

static struct ap_blob_header *hdr(struct blob *b)
{
	return (struct ap_blob_header *)b->mem;
}

static void *sec(struct blob *b, enum ap_section s)
{
	return (char *)b->mem + hdr(b)->sec[s].offset;
}

static void test_valid(void **state)
{
	struct blob b;
	struct ap_blob_view v;
	const char *why = NULL;

	make_blob(&b);
	assert_int_equal(ap_blob__view(b.mem, b.size, &v, &why), 0);
	assert_int_equal(v.hdr->nrules, 3 + 1); /* and the built-in session-guard */
	assert_int_equal(v.hdr->nlabels, 2);
	assert_int_equal(v.hdr->ngates, 1);
	assert_int_equal(v.hdr->nsince, 1);
	assert_string_equal(ap_blob__str(&v, v.rule_meta[0].name), "no-push");
	assert_string_equal(ap_blob__str(&v, 0xffffffffu), "");
	assert_int_equal(v.hdr->total_size, b.size);
	assert_int_equal(b.size % 8, 0);
	for (int s = 0; s < AP_SEC__COUNT; s++)
		assert_int_equal(v.hdr->sec[s].offset % 8, 0);
	free(b.mem);
}

static void test_truncated(void **state)
{
	struct blob b;

	make_blob(&b);
	assert_int_equal(view(&b, 0), -EINVAL);
	assert_int_equal(view(&b, sizeof(struct ap_blob_header) - 1), -EINVAL);
	assert_int_equal(view(&b, sizeof(struct ap_blob_header)), -EINVAL);
	assert_int_equal(view(&b, b.size - 8), -EINVAL);
	assert_int_equal(view(&b, b.size - 1), -EINVAL);
	/* a lying total_size does not help */
	hdr(&b)->total_size = (__u32)(b.size - 8);
	assert_int_equal(view(&b, b.size - 8), -EINVAL);
	assert_int_equal(ap_blob__view(NULL, 100, &(struct ap_blob_view){ 0 }, NULL),
			 -EINVAL);
	free(b.mem);
}

static void test_header_corruption(void **state)
{
	struct blob b;

	make_blob(&b);
	hdr(&b)->magic ^= 1;
	assert_int_equal(view(&b, b.size), -EINVAL);
	hdr(&b)->magic ^= 1;
	hdr(&b)->abi_version++;
	assert_int_equal(view(&b, b.size), -EPROTO);
	hdr(&b)->abi_version--;
	hdr(&b)->nrules++;
	assert_int_equal(view(&b, b.size), -EINVAL);
	hdr(&b)->nrules--;
	hdr(&b)->sec[AP_SEC_CLAUSES].offset += 4;
	assert_int_equal(view(&b, b.size), -EINVAL);
	hdr(&b)->sec[AP_SEC_CLAUSES].offset -= 4;
	hdr(&b)->seed_labels = 1ull << 10;
	assert_int_equal(view(&b, b.size), -EINVAL);
	hdr(&b)->seed_labels = 1;
	hdr(&b)->root = 0x7fffffff;
	assert_int_equal(view(&b, b.size), -EINVAL);
	hdr(&b)->root = 0;
	assert_int_equal(view(&b, b.size), 0);
	free(b.mem);
}

static void test_table_corruption(void **state)
{
	struct blob b;
	struct ap_clause *cl;
	__u16 *trans;
	char *strings;
	struct ap_accept_set *sets;
	struct ap_gate *g;

	make_blob(&b);
	cl = sec(&b, AP_SEC_CLAUSES);
	cl[0].rule = 99;
	assert_int_equal(view(&b, b.size), -EINVAL);
	cl[0].rule = 0;
	cl[0].target = 999;
	assert_int_equal(view(&b, b.size), -EINVAL);
	cl[0].target = 0;
	cl[0].require = 1ull << 40;
	assert_int_equal(view(&b, b.size), -EINVAL);
	cl[0].require = 1;
	cl[0].nunless = 1;
	cl[0].unless[0] = 200;
	assert_int_equal(view(&b, b.size), -EINVAL);
	cl[0].nunless = 0;
	cl[0].unless[0] = 0;
	assert_int_equal(view(&b, b.size), 0);

	trans = sec(&b, AP_SEC_DFA_TRANS);
	trans[3] = 0xfff0;
	assert_int_equal(view(&b, b.size), -EINVAL);
	trans[3] = 0;

	strings = sec(&b, AP_SEC_STRINGS);
	strings[hdr(&b)->sec[AP_SEC_STRINGS].size - 1] = 'x';
	assert_int_equal(view(&b, b.size), -EINVAL);
	strings[hdr(&b)->sec[AP_SEC_STRINGS].size - 1] = '\0';

	sets = sec(&b, AP_SEC_ACCEPT_SETS);
	sets[0].bits[AP_PATTERN_WORDS - 1] = 1ull << 63;
	assert_int_equal(view(&b, b.size), -EINVAL);
	sets[0].bits[AP_PATTERN_WORDS - 1] = 0;

	g = sec(&b, AP_SEC_GATES);
	g->since_mask = 1ull << 5;
	assert_int_equal(view(&b, b.size), -EINVAL);
	g->since_mask = 1;
	assert_int_equal(view(&b, b.size), 0);
	free(b.mem);
}

/* Flip random bytes: the view either refuses or every index it accepted
 * is in range (checked by walking the tables). */
static void test_random_flips(void **state)
{
	struct blob b;
	__u64 *orig;
	unsigned seed = 12345, accepted = 0;

	make_blob(&b);
	orig = malloc(b.size);
	memcpy(orig, b.mem, b.size);
	for (int it = 0; it < 4000; it++) {
		struct ap_blob_view v;
		const char *why;
		int nflips = 1 + it % 4;

		memcpy(b.mem, orig, b.size);
		for (int k = 0; k < nflips; k++) {
			size_t at = (size_t)rand_r(&seed) % b.size;

			((unsigned char *)b.mem)[at] ^= (unsigned char)(1 + rand_r(&seed) % 255);
		}
		if (ap_blob__view(b.mem, b.size, &v, &why))
			continue;
		accepted++;
		for (__u32 i = 0; i < v.hdr->nclauses; i++) {
			assert_true(v.clauses[i].rule < v.hdr->nrules);
			if (v.clauses[i].target_kind == AP_TGT_PATTERN)
				assert_true(v.clauses[i].target < v.hdr->npatterns);
		}
		for (size_t i = 0; i < (size_t)v.hdr->ndfa_states * v.hdr->ndfa_classes; i++)
			assert_true(v.dfa_trans[i] < v.hdr->ndfa_states);
	}
	/* flips in text and padding are harmless: some must be accepted */
	assert_true(accepted > 0);
	free(orig);
	free(b.mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_header_corruption),
		cmocka_unit_test(test_table_corruption),
		cmocka_unit_test(test_random_flips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
