// SPDX-License-Identifier: MIT
#include "policy_fe_test.h"

#include "policy/lexer.h"

struct lx {
	struct ap_policy *pol;
	struct ap_diags d;
	struct ap_lexer l;
};

static void lx_open(struct lx *x, const char *text)
{
	unsigned si;

	memset(x, 0, sizeof(*x));
	x->pol = ap_policy__new();
	si = ap_policy__add_src(x->pol, "t", text, strlen(text), -1);
	ap_lexer__init(&x->l, &x->pol->srcs[si], si, x->pol->arena, &x->d);
}

static void lx_close(struct lx *x)
{
	ap_diags__free(&x->d);
	ap_policy__free(x->pol);
}

static struct ap_token next(struct lx *x)
{
	struct ap_token t;

	ap_lexer__next(&x->l, &t);
	return t;
}

static void test_tokens_and_offsets(void **state)
{
	struct lx x;
	struct ap_token t;

	(void)state;
	lx_open(&x, "rule no-push:\n  kill exec \"git\" ( ) = # c\n lineage-includes");
	t = next(&x);
	assert_int_equal(t.kind, AP_TOK_NAME);
	assert_int_equal(t.kw, AP_KW_RULE);
	assert_int_equal(t.off, 0);
	assert_int_equal(t.len, 4);
	assert_true(t.bol);
	t = next(&x);
	assert_int_equal(t.kind, AP_TOK_NAME);
	assert_int_equal(t.kw, AP_KW_NONE);
	assert_int_equal(t.off, 5);
	assert_int_equal(t.len, 7); /* dashes belong to names */
	assert_false(t.bol);
	t = next(&x);
	assert_int_equal(t.kind, AP_TOK_COLON);
	t = next(&x);
	assert_int_equal(t.kw, AP_KW_KILL);
	assert_true(t.bol);
	assert_int_equal(t.off, 16);
	t = next(&x);
	assert_int_equal(t.kw, AP_KW_EXEC);
	t = next(&x);
	assert_int_equal(t.kind, AP_TOK_STRING);
	assert_string_equal(t.str, "git");
	assert_int_equal(t.off, 26);
	assert_int_equal(t.len, 5);
	assert_int_equal(next(&x).kind, AP_TOK_LPAREN);
	assert_int_equal(next(&x).kind, AP_TOK_RPAREN);
	assert_int_equal(next(&x).kind, AP_TOK_EQ);
	t = next(&x); /* the comment is skipped */
	assert_int_equal(t.kw, AP_KW_LINEAGE);
	assert_true(t.bol);
	t = next(&x);
	assert_int_equal(t.kind, AP_TOK_EOF);
	assert_int_equal(x.d.nerrors, 0);
	lx_close(&x);
}

static void test_every_keyword(void **state)
{
	(void)state;
	for (int k = 1; k < AP_KW__COUNT; k++) {
		const char *name = ap_kw__name((enum ap_kw)k);

		assert_int_equal(ap_kw__lookup(name, strlen(name)), k);
	}
	assert_int_equal(ap_kw__lookup("Rule", 4), AP_KW_NONE);
	assert_int_equal(ap_kw__lookup("rules", 5), AP_KW_NONE);
	assert_null(ap_kw__name(AP_KW_NONE));
}

static void test_string_escapes(void **state)
{
	struct lx x;
	struct ap_token t;

	(void)state;
	lx_open(&x, "\"a\\\"b\" \"c\\\\d\" \"\\*.py\" \"x\\[y\" \"\"");
	t = next(&x);
	assert_string_equal(t.str, "a\"b");
	assert_int_equal(t.len, 6);
	t = next(&x);
	assert_string_equal(t.str, "c\\d");
	t = next(&x); /* other escapes are kept for the glob compiler */
	assert_string_equal(t.str, "\\*.py");
	t = next(&x);
	assert_string_equal(t.str, "x\\[y");
	t = next(&x);
	assert_int_equal(t.kind, AP_TOK_STRING);
	assert_string_equal(t.str, "");
	assert_int_equal(next(&x).kind, AP_TOK_EOF);
	assert_int_equal(x.d.nerrors, 0);
	lx_close(&x);
}

static void test_unterminated_string(void **state)
{
	struct lx x;
	struct ap_token t;

	(void)state;
	lx_open(&x, "kill \"abc\nnext \"x\\\"");
	next(&x);
	t = next(&x);
	assert_int_equal(t.kind, AP_TOK_ERROR);
	assert_int_equal(x.d.nerrors, 1);
	assert_int_equal(x.d.v[0].loc.off, 5);
	assert_string_equal(x.d.v[0].msg,
			    "unterminated string (a string ends with '\"' on the same line)");
	t = next(&x); /* lexing resumes on the next line */
	assert_int_equal(t.kind, AP_TOK_NAME);
	assert_true(t.bol);
	t = next(&x); /* an escaped quote does not close */
	assert_int_equal(t.kind, AP_TOK_ERROR);
	assert_int_equal(x.d.nerrors, 2);
	lx_close(&x);
}

static void test_bad_characters(void **state)
{
	struct lx x;

	(void)state;
	lx_open(&x, "A && B || !C & 9lives 'x' @ \xc3\xa9t\xff");
	next(&x);
	assert_int_equal(next(&x).kind, AP_TOK_ERROR);
	assert_string_equal(x.d.v[0].msg, "unexpected '&&'; write 'and'");
	assert_int_equal(x.d.v[0].loc.len, 2);
	next(&x);
	next(&x);
	assert_string_equal(x.d.v[1].msg, "unexpected '||'; write 'or'");
	next(&x);
	assert_string_equal(x.d.v[2].msg, "unexpected '!'; write 'not'");
	assert_int_equal(next(&x).kind, AP_TOK_NAME);
	next(&x);
	assert_string_equal(x.d.v[3].msg, "unexpected '&'; write 'and'");
	next(&x);
	assert_string_equal(x.d.v[4].msg,
			    "'9lives' is not a name (names start with a letter or '_')");
	assert_int_equal(x.d.v[4].loc.len, 6);
	next(&x);
	assert_string_equal(x.d.v[5].msg,
			    "strings are written in double quotes, not single quotes");
	assert_int_equal(x.d.v[5].loc.len, 3);
	next(&x);
	assert_string_equal(x.d.v[6].msg, "unexpected character '@'");
	next(&x);
	assert_string_equal(x.d.v[7].msg,
			    "unexpected '\xc3\xa9' (names are ASCII letters, digits, '_' and '-')");
	assert_int_equal(next(&x).kind, AP_TOK_NAME);
	next(&x);
	assert_string_equal(x.d.v[8].msg, "unexpected byte 0xff (not UTF-8 text)");
	assert_int_equal(next(&x).kind, AP_TOK_EOF);
	assert_int_equal(x.d.nerrors, 9);
	lx_close(&x);
}

static void test_nul_bytes(void **state)
{
	static const char text[] = "\"a\0b\" \0";
	struct ap_policy *pol = ap_policy__new();
	struct ap_diags d = { 0 };
	struct ap_lexer l;
	struct ap_token t;
	unsigned si = ap_policy__add_src(pol, "t", text, sizeof(text) - 1, -1);

	(void)state;
	ap_lexer__init(&l, &pol->srcs[si], si, pol->arena, &d);
	ap_lexer__next(&l, &t);
	assert_int_equal(t.kind, AP_TOK_ERROR);
	assert_string_equal(d.v[0].msg, "a string cannot contain a NUL byte");
	ap_lexer__next(&l, &t); /* a NUL outside a string is not the end */
	assert_int_equal(t.kind, AP_TOK_ERROR);
	assert_string_equal(d.v[1].msg, "unexpected control character 0x00");
	ap_lexer__next(&l, &t);
	assert_int_equal(t.kind, AP_TOK_EOF);
	ap_diags__free(&d);
	ap_policy__free(pol);
}

static void test_describe(void **state)
{
	struct lx x;
	struct ap_token t;
	char buf[128];

	(void)state;
	lx_open(&x, "opne \"x\" :");
	t = next(&x);
	assert_string_equal(ap_tok__describe(&t, x.l.src, buf, sizeof(buf)), "'opne'");
	t = next(&x);
	assert_string_equal(ap_tok__describe(&t, x.l.src, buf, sizeof(buf)), "string \"x\"");
	t = next(&x);
	assert_string_equal(ap_tok__describe(&t, x.l.src, buf, sizeof(buf)), "':'");
	t = next(&x);
	assert_string_equal(ap_tok__describe(&t, x.l.src, buf, sizeof(buf)),
			    "the end of the text");
	lx_close(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokens_and_offsets),
		cmocka_unit_test(test_every_keyword),
		cmocka_unit_test(test_string_escapes),
		cmocka_unit_test(test_unterminated_string),
		cmocka_unit_test(test_bad_characters),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
