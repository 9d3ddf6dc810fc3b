// SPDX-License-Identifier: MIT
/*
 * Glob syntax, one feature at a time, against the reference matcher and the
 * automaton; syntax errors with their offsets; and the reference matcher
 * against fnmatch(3), the external oracle, on globs without `**`.
 */
#include <errno.h>
#include <fnmatch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "policy/dfa.h"

/* ref and a one-pattern DFA must agree, and equal `want` */
static void check(enum ap_pattern_kind kind, const char *glob, const char *s,
		  bool want)
{
	struct ap_dfa_builder *b = ap_dfa_builder__new();
	struct ap_dfa *d = NULL;
	const char *err = NULL;
	size_t off = 0;
	unsigned a;

	assert_non_null(b);
	if (ap_dfa_builder__add(b, 7, kind, glob, &err, &off))
		fail_msg("glob \"%s\": %s at %zu", glob, err, off);
	assert_int_equal(ap_dfa_builder__build(b, &d), 0);
	a = ap_dfa__match(d, kind, s, strlen(s));
	if (ap_glob_match_ref(kind, glob, s) != want)
		fail_msg("ref: kind %d glob \"%s\" string \"%s\": want %d",
			 kind, glob, s, want);
	if (ap_accept_set__has(&d->sets[a], 7) != want)
		fail_msg("dfa: kind %d glob \"%s\" string \"%s\": want %d",
			 kind, glob, s, want);
	ap_dfa__free(d);
	ap_dfa_builder__free(b);
}

#define YES(g, s) check(AP_PAT_PATH, g, s, true)
#define NO(g, s) check(AP_PAT_PATH, g, s, false)

static void star(void **state)
{
	YES("/a/*.c", "/a/x.c");
	YES("/a/*.c", "/a/.c");
	NO("/a/*.c", "/a/b/x.c");
	NO("/a/*.c", "/a/x.cc");
	YES("/a/*", "/a/");          /* `*` may be empty */
	NO("/a/*", "/a/b/c");
	YES("/*/*", "/a/b");
	YES("*", "abc");
	NO("*", "/abc");
}

static void double_star_component(void **state)
{
	YES("/x/**", "/x/y");
	YES("/x/**", "/x/y/z");
	NO("/x/**", "/x");
	NO("/x/**", "/x/");          /* strictly below; documented */
	NO("/x/**", "/xy");
	YES("/a/**/b", "/a/b");
	YES("/a/**/b", "/a/x/b");
	YES("/a/**/b", "/a/x/y/b");
	YES("/a/**/b", "/a//b");
	NO("/a/**/b", "/ab");
	NO("/a/**/b", "/a/xb");
	NO("/a/**/b", "/a/b/c");
	YES("**/*.py", "/x.py");
	YES("**/*.py", "/a/b/x.py");
	YES("**/*.py", "x.py");
	NO("**/*.py", "/a/x.pyc");
	YES("**/downloads/**", "/home/u/downloads/f");
	YES("**/downloads/**", "/downloads/a/b");
	NO("**/downloads/**", "/home/u/downloads");
	NO("**/downloads/**", "/home/u/mydownloads/f");
	YES("**/*credentials*", "/a/my-credentials.json");
	YES("**/*credentials*", "/credentials");
	NO("**/*credentials*", "/credentials/x");
	YES("/**", "/a");
	NO("/**", "/");
	YES("**", "/");
	YES("/a/**/**/b", "/a/b");
	YES("/a/**/**/b", "/a/x/y/b");
	YES("/a/***/b", "/a/b");     /* three or more stars are `**` */
}

static void double_star_infix(void **state)
{
	/* not a whole component: a `*` that may cross '/' */
	YES("/a**b", "/ab");
	YES("/a**b", "/a/x/b");
	YES("/x/**y", "/x/y");
	YES("/x/**y", "/x/a/b/y");
	NO("/x/**y", "/x/a/b/z");
	YES("/x**/y", "/x/q/y");
	NO("/x**/y", "/xy");
	YES("**.py", "/a/b.py");
}

static void question(void **state)
{
	YES("/a?", "/ab");
	NO("/a?", "/a/");
	NO("/a?", "/a");
	NO("/a?", "/abc");
	YES("/??", "/\xff\x01");
}

static void classes(void **state)
{
	YES("/[abc]", "/b");
	NO("/[abc]", "/d");
	YES("/[a-c]x", "/cx");
	NO("/[a-c]x", "/dx");
	YES("/[!a]", "/b");
	NO("/[!a]", "/a");
	NO("/[!a]", "//");
	YES("/[^a]", "/b");
	NO("/[^a]", "/a");
	YES("/[]a]", "/]");
	YES("/[]a]", "/a");
	YES("/[!]a]", "/b");
	NO("/[!]a]", "/]");
	YES("/[a-]", "/-");
	YES("/[-a]", "/-");
	YES("/[\\]]", "/]");
	YES("/[*?]", "/?");
	NO("/[*?]", "/x");
	NO("/x[/]y", "/x/y");        /* classes never match '/' */
	NO("/x[!a]y", "/x/y");
	YES("/[a-c-e]", "/-");
}

static void escapes(void **state)
{
	YES("/a\\*", "/a*");
	NO("/a\\*", "/ab");
	YES("/\\[x]", "/[x]");
	YES("/a\\?", "/a?");
	NO("/a\\?", "/ab");
	YES("/\\a", "/a");
	YES("/\\\\", "/\\");
	YES("/\\**", "/*abc");
	NO("/\\**", "/abc");
}

static void arg_kind(void **state)
{
	check(AP_PAT_ARG, "*", "a/b", true);
	check(AP_PAT_ARG, "?", "/", true);
	check(AP_PAT_ARG, "[!a]", "/", true);
	check(AP_PAT_ARG, "[/]", "/", true);
	check(AP_PAT_ARG, "push", "push", true);
	check(AP_PAT_ARG, "push", "pushx", false);
	check(AP_PAT_ARG, "--force*", "--force-with-lease", true);
	check(AP_PAT_ARG, "**/.env", ".env", true);
	check(AP_PAT_ARG, "**/.env", "x/y/.env", true);
	check(AP_PAT_ARG, "*", "", true);
	check(AP_PAT_UNIX, "/run/*.sock", "/run/docker.sock", true);
	check(AP_PAT_UNIX, "/run/*.sock", "/run/a/docker.sock", false);
	check(AP_PAT_UNIX, "@dbus-*", "@dbus-x", true);
}

static void long_strings(void **state)
{
	size_t n = 10000;
	char *s = malloc(n + 1);

	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		s[i] = i % 10 == 0 ? '/' : 'a' + i % 7;
	memcpy(s + n - 5, "/x.py", 6);
	YES("**/*.py", s);
	YES("/**", s);
	NO("/*", s);
	s[n - 1] = 'q';
	NO("**/*.py", s);
	free(s);
}

static void check_err(const char *glob, const char *msg, size_t want_off)
{
	struct ap_dfa_builder *b = ap_dfa_builder__new();
	const char *err = NULL;
	size_t off = 999;

	assert_int_equal(ap_dfa_builder__add(b, 0, AP_PAT_PATH, glob, &err,
					     &off), -EINVAL);
	assert_non_null(err);
	if (!strstr(err, msg) || off != want_off)
		fail_msg("glob \"%s\": got \"%s\" at %zu, want \"%s\" at %zu",
			 glob, err, off, msg, want_off);
	assert_false(ap_glob_match_ref(AP_PAT_PATH, glob, glob));
	ap_dfa_builder__free(b);
}

static void syntax_errors(void **state)
{
	struct ap_dfa_builder *b = ap_dfa_builder__new();
	const char *err;
	size_t off;

	check_err("/a[bc", "unterminated", 2);
	check_err("[", "unterminated", 0);
	check_err("/x/[]", "unterminated", 3);
	check_err("/x/[!]", "unterminated", 3);
	check_err("/a\\", "trailing backslash", 2);
	check_err("/[a\\", "trailing backslash", 3);
	check_err("/[z-a]", "reversed range", 2);
	assert_int_equal(ap_dfa_builder__add(b, AP_MAX_PATTERNS, AP_PAT_PATH,
					     "/x", &err, &off), -EINVAL);
	assert_int_equal(ap_dfa_builder__add(b, 0, (enum ap_pattern_kind)9,
					     "/x", &err, &off), -EINVAL);
	ap_dfa_builder__free(b);
}

static void kinds_are_isolated(void **state)
{
	struct ap_dfa_builder *b = ap_dfa_builder__new();
	struct ap_dfa *d;
	const char *err;
	size_t off;

	assert_int_equal(ap_dfa_builder__add(b, 0, AP_PAT_PATH, "**", &err, &off), 0);
	assert_int_equal(ap_dfa_builder__add(b, 1, AP_PAT_ARG, "*", &err, &off), 0);
	assert_int_equal(ap_dfa_builder__add(b, 2, AP_PAT_UNIX, "**", &err, &off), 0);
	assert_int_equal(ap_dfa_builder__add(b, 3, AP_PAT_PROGRAM, "*", &err, &off), 0);
	assert_int_equal(ap_dfa_builder__build(b, &d), 0);
	/* path -> only 0; arg -> only 1; unix -> only 2; program glob `*`
	 * matches "x" but never a prefixed string */
	assert_int_equal(d->sets[ap_dfa__match(d, AP_PAT_PATH, "/a", 2)].bits[0], 1);
	assert_int_equal(d->sets[ap_dfa__match(d, AP_PAT_ARG, "/a", 2)].bits[0], 2);
	assert_int_equal(d->sets[ap_dfa__match(d, AP_PAT_UNIX, "/a", 2)].bits[0], 4);
	assert_int_equal(d->sets[ap_dfa__match(d, AP_PAT_ARG, "x", 1)].bits[0], 2);
	assert_int_equal(d->sets[ap_dfa__match(d, AP_PAT_PATH, "x", 1)].bits[0], 1 | 8);
	assert_false(ap_glob_match_ref(AP_PAT_PATH, "**", "\x01x"));
	assert_int_equal(ap_dfa__run(d, "\x01x", 2), ap_dfa__match(d, AP_PAT_ARG, "x", 1));
	ap_dfa__free(d);
	ap_dfa_builder__free(b);
}

static void is_empty(void **state)
{
	assert_true(ap_glob_is_empty(AP_PAT_PATH, "/x[/]"));
	assert_false(ap_glob_is_empty(AP_PAT_ARG, "x[/]"));
	assert_false(ap_glob_is_empty(AP_PAT_PATH, "/x/**"));
	assert_false(ap_glob_is_empty(AP_PAT_PATH, "/x[!a]"));
	assert_true(ap_glob_is_empty(AP_PAT_PATH, "/x[")); /* invalid */
}

static void literal_dir(void **state)
{
	char buf[64];

	assert_int_equal(ap_glob_literal_dir("/a/b/c*", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/a/b");
	assert_int_equal(ap_glob_literal_dir("/a/b/**", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/a/b");
	assert_int_equal(ap_glob_literal_dir("/a/b/c", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/a/b");
	assert_int_equal(ap_glob_literal_dir("/*.c", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/");
	assert_int_equal(ap_glob_literal_dir("/a\\*b/c?", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/a*b");
	assert_int_equal(ap_glob_literal_dir("**/x", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/");
	assert_int_equal(ap_glob_literal_dir("rel/x", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(ap_glob_literal_dir("/abcdef/g", buf, 4), -ENAMETOOLONG);
}

/* ---- fnmatch(3) as the external oracle ---- */

static uint64_t rng;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static void fnmatch_oracle(void **state)
{
	static const char *const piece[] = {
		"a", "b", "c", "/", "/", ".", "-", "*", "?", "[abc]", "[a-c]",
		"[!a]", "[^b]", "[]a]", "[!]a]", "[a-]", "[-b]", "[\\]]", "[.]",
		"[/]", "[*?]", "\\*", "\\?", "\\[", "\\a", "ab", "]",
	};
	static const char salpha[] = "abc/./-*?[]\\ab";
	char pat[64], s[64];
	unsigned checks = 0;

	rng = getenv("AP_SEED") ? strtoull(getenv("AP_SEED"), NULL, 0)
				: (uint64_t)time(NULL) | 1;
	uint64_t seed = rng;
	for (int i = 0; i < 20000; i++) {
		size_t np = 1 + rnd() % 6, pl = 0, sl = rnd() % 10;
		bool prev_star = false;

		for (size_t k = 0; k < np; k++) {
			const char *p = piece[rnd() % (sizeof(piece) / sizeof(*piece))];

			if (prev_star && p[0] == '*')
				continue; /* no `**`: fnmatch has none */
			prev_star = p[0] == '*';
			memcpy(pat + pl, p, strlen(p));
			pl += strlen(p);
		}
		pat[pl] = '\0';
		for (size_t k = 0; k < sl; k++)
			s[k] = salpha[rnd() % (sizeof(salpha) - 1)];
		s[sl] = '\0';
		for (int kind = 0; kind < 2; kind++) {
			enum ap_pattern_kind k = kind ? AP_PAT_ARG : AP_PAT_PATH;
			bool want = fnmatch(pat, s, kind ? 0 : FNM_PATHNAME) == 0;

			if (ap_glob_match_ref(k, pat, s) != want)
				fail_msg("seed %#llx: glob \"%s\" string \"%s\" kind %d: fnmatch %d",
					 (unsigned long long)seed, pat, s, k, want);
			checks++;
		}
	}
	printf("fnmatch oracle: %u checks, seed %#llx\n", checks,
	       (unsigned long long)seed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(star),
		cmocka_unit_test(double_star_component),
		cmocka_unit_test(double_star_infix),
		cmocka_unit_test(question),
		cmocka_unit_test(classes),
		cmocka_unit_test(escapes),
		cmocka_unit_test(arg_kind),
		cmocka_unit_test(long_strings),
		cmocka_unit_test(syntax_errors),
		cmocka_unit_test(kinds_are_isolated),
		cmocka_unit_test(is_empty),
		cmocka_unit_test(literal_dir),
		cmocka_unit_test(fnmatch_oracle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
