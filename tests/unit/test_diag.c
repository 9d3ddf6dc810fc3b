// SPDX-License-Identifier: MIT
#include "policy_fe_test.h"

static void test_caret_and_format(void **state)
{
	struct ap_policy *pol = ap_policy__new();
	struct ap_diags d = { 0 };
	const char *text = "line one\n    kill exec \"curl\" if SECRT\n";
	unsigned si = ap_policy__add_src(pol, "actplane.yaml", text, strlen(text), -1);
	struct ap_span sp = { si, 9 + 24, 5 };

	(void)state;
	ap_error_at(&d, &sp, "unknown label '%s' (did you mean '%s'?)", "SECRT", "SECRET");
	sp.len = 0;
	ap_warning_at(&d, &sp, "zero-length span");
	ap_note_at(&d, NULL, "no place");
	assert_int_equal(d.nerrors, 1);
	assert_int_equal(d.nwarnings, 1);
	fe_assert_output(&d, pol,
		"actplane.yaml:2:25: error: unknown label 'SECRT' (did you mean 'SECRET'?)\n"
		"    2 |     kill exec \"curl\" if SECRT\n"
		"      |                         ^~~~~\n"
		"actplane.yaml:2:25: warning: zero-length span\n"
		"    2 |     kill exec \"curl\" if SECRT\n"
		"      |                         ^\n"
		"actplane: note: no place\n");
	ap_diags__free(&d);
	ap_diags__free(&d); /* twice is fine */
	ap_policy__free(pol);
	ap_policy__free(NULL);
}

static void test_tabs_and_utf8(void **state)
{
	struct ap_policy *pol = ap_policy__new();
	struct ap_diags d = { 0 };
	const char *text = "\tk\xc3\xa9y: \t\"x\" bad\n";
	unsigned si = ap_policy__add_src(pol, "f", text, strlen(text), -1);
	struct ap_span sp = { si, 12, 3 }; /* "bad": bytes 12..14 */

	(void)state;
	ap_error_at(&d, &sp, "m");
	/* the tabs are copied, the two-byte character takes one column */
	fe_assert_output(&d, pol,
		"f:1:13: error: m\n"
		"    1 | \tk\xc3\xa9y: \t\"x\" bad\n"
		"      | \t     \t    ^~~\n");
	ap_diags__free(&d);
	ap_policy__free(pol);
}

static void test_span_clipped_to_line_and_wide_numbers(void **state)
{
	struct ap_policy *pol = ap_policy__new();
	struct ap_diags d = { 0 };
	char *text = malloc(200100);
	size_t o = 0;
	unsigned si;
	struct ap_span sp;

	(void)state;
	for (int i = 0; i < 100000; i++) {
		text[o++] = 'x';
		text[o++] = '\n';
	}
	memcpy(text + o, "abc\r\ndef", 8);
	si = ap_policy__add_src(pol, "f", text, o + 8, -1);
	sp = (struct ap_span){ si, (uint32_t)o + 1, 50 };
	ap_error_at(&d, &sp, "m");
	/* line numbers wider than five digits widen the gutter; the \r is not
	 * shown and the tildes stop at the end of the line */
	fe_assert_output(&d, pol,
		"f:100001:2: error: m\n"
		"100001 | abc\n"
		"       |  ^~\n");
	ap_diags__free(&d);
	ap_policy__free(pol);
	free(text);
}

static void test_block_maps_to_yaml_line(void **state)
{
	struct ap_diags d = { 0 };
	int err;
	struct ap_policy *pol = fe_load_yaml(
		"version: 1\n"
		"policy: |\n"
		"  rule r:\n"
		"    kill exec \"curl\" if SECRT\n"
		"    kill exce \"x\"\n", NULL, &d, &err);
	char *h;

	(void)state;
	assert_int_equal(err, -EINVAL);
	/* the parse error: line 5 of the file, column of 'exce' in the file */
	fe_assert_output(&d, pol,
		"p.yaml:5:10: error: expected an operation (exec, open, read, write, unlink, "
		"rename, connect, recv), found 'exce' (did you mean 'exec'?)\n"
		"    5 |     kill exce \"x\"\n"
		"      |          ^~~~\n");
	h = ap_diag__headline(&d.v[0], pol->srcs, pol->nsrcs);
	assert_string_equal(h, "p.yaml:5:10: error: expected an operation (exec, open, read, "
			    "write, unlink, rename, connect, recv), found 'exce' (did you mean 'exec'?)");
	free(h);
	{
		/* a span in the block, located by hand: label SECRT */
		struct ap_span sp = { 1, (uint32_t)(strlen("rule r:\n  kill exec \"curl\" if ")), 5 };
		const char *file, *lt;
		unsigned line, col, ll;

		assert_int_equal(ap_diag__locate(pol->srcs, pol->nsrcs, &sp, &file, &line, &col,
						 &lt, &ll), 0);
		assert_string_equal(file, "p.yaml");
		assert_int_equal(line, 4);
		assert_int_equal(col, 25);
		assert_int_equal(ll, strlen("    kill exec \"curl\" if SECRT"));
		sp.src = 7;
		assert_int_equal(ap_diag__locate(pol->srcs, pol->nsrcs, &sp, &file, &line,
						 &col, &lt, &ll), -EINVAL);
	}
	ap_diags__free(&d);
	ap_policy__free(pol);
}

static void test_headline_without_place(void **state)
{
	struct ap_diags d = { 0 };
	char *h;

	(void)state;
	ap_diags__add(&d, AP_DIAG_ERROR, NULL, "no policy found");
	h = ap_diag__headline(&d.v[0], NULL, 0);
	assert_string_equal(h, "actplane: error: no policy found");
	free(h);
	ap_diags__free(&d);
}

static void test_error_limit(void **state)
{
	struct ap_diags d = { .max_errors = 2 };

	(void)state;
	for (int i = 0; i < 5; i++) {
		ap_diags__add(&d, AP_DIAG_ERROR, NULL, "e%d", i);
		ap_diags__add(&d, AP_DIAG_NOTE, NULL, "n%d", i);
	}
	assert_int_equal(d.nerrors, 5);
	assert_int_equal(d.n, 4); /* two errors with their notes */
	fe_assert_output(&d, NULL,
		"actplane: error: e0\nactplane: note: n0\n"
		"actplane: error: e1\nactplane: note: n1\n"
		"actplane: note: 3 more errors not shown\n");
	ap_diags__free(&d);
}

static void test_suggest(void **state)
{
	static const char *const ops[] = { "exec", "open", "read", "write", "unlink",
					   "rename", "connect", "recv" };
	static const char *const labels[] = { "SECRET", "AGENT", "NET" };

	(void)state;
	assert_string_equal(ap_suggest("opne", ops, 8), "open");      /* transposition */
	assert_string_equal(ap_suggest("exce", ops, 8), "exec");
	assert_string_equal(ap_suggest("conect", ops, 8), "connect");
	assert_string_equal(ap_suggest("wrte", ops, 8), "write");
	assert_string_equal(ap_suggest("SECRT", labels, 3), "SECRET");
	assert_string_equal(ap_suggest("agent", labels, 3), "AGENT");  /* case */
	assert_null(ap_suggest("xyz", ops, 8));
	assert_null(ap_suggest("banana", ops, 8));
	assert_null(ap_suggest("", ops, 8));
	assert_null(ap_suggest("open", ops, 8)); /* an exact match is no suggestion */
	assert_null(ap_suggest("x", labels, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caret_and_format),
		cmocka_unit_test(test_tabs_and_utf8),
		cmocka_unit_test(test_span_clipped_to_line_and_wide_numbers),
		cmocka_unit_test(test_block_maps_to_yaml_line),
		cmocka_unit_test(test_headline_without_place),
		cmocka_unit_test(test_error_limit),
		cmocka_unit_test(test_suggest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
