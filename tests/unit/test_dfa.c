// SPDX-License-Identifier: MIT
/*
 * The automaton against the reference matcher on random globs and strings
 * (AP_SEED=N replays a run), plus its structural promises: minimal, dead 0
 * and start 1, byte-identical rebuilds, -E2BIG instead of unbounded growth.
 */
#include <errno.h>
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

static uint64_t rng, seed;

static void seed_rng(void)
{
	const char *e = getenv("AP_SEED");

	seed = e ? strtoull(e, NULL, 0) : ((uint64_t)time(NULL) << 8 | 1);
	rng = seed;
}

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const char *const gpiece[] = {
	"a", "b", "c", "/", "/", "/", ".", "x", "*", "**", "**/", "/**",
	"/**/", "?", "[abc]", "[a-c]", "[!a]", "[^/b]", "[]a]", "\\*", "\\?",
	"\\[", "\\a", "a**b", "**/*.py", "**/downloads/**", "**/*credentials*",
	".py", "downloads", "credentials", "[/]", "\\\\",
};

static void random_glob(char *g, size_t cap)
{
	size_t n = 1 + rnd() % 5, l = 0;

	if (rnd() % 3)
		g[l++] = '/';
	for (size_t i = 0; i < n; i++) {
		const char *p = gpiece[rnd() % N_ELEMS(gpiece)];
		size_t pl = strlen(p);

		if (l + pl + 1 >= cap)
			break;
		memcpy(g + l, p, pl);
		l += pl;
	}
	g[l] = '\0';
}

static const char *const spiece[] = {
	"a", "b", "c", "/", "/", "/", ".", "x", "*", "?", "[", "]", "\\",
	".py", "downloads", "credentials", "ab", "abc", "my-credentials.json",
	"\x01", "\xff",
};

static void random_string(char *s, size_t len)
{
	size_t l = 0;

	if (len && rnd() % 4)
		s[l++] = '/';
	while (l < len) {
		const char *p = spiece[rnd() % N_ELEMS(spiece)];
		size_t pl = strlen(p);

		if (l + pl > len)
			pl = len - l;
		memcpy(s + l, p, pl);
		l += pl;
	}
	s[len] = '\0';
}

/* Every state reachable, no two states equivalent (naive refinement). */
static void assert_minimal(const struct ap_dfa *d)
{
	uint32_t n = d->nstates, nc = d->nclasses, blocks = 0, prev = 0;
	uint32_t *blk = calloc(n, sizeof(*blk)), *nb = calloc(n, sizeof(*nb));
	uint8_t *seen = calloc(n, 1);
	uint32_t *q = calloc(n, sizeof(*q)), qh = 0, qt = 0;

	assert_true(n >= 2);
	assert_int_equal(d->accept[0], 0);
	for (uint32_t c = 0; c < nc; c++)
		assert_int_equal(d->trans[c], 0);
	seen[1] = seen[0] = 1;
	q[qt++] = 1;
	while (qh < qt) {
		uint32_t s = q[qh++];

		for (uint32_t c = 0; c < nc; c++) {
			uint32_t t = d->trans[s * nc + c];

			assert_true(t < n);
			/* BFS numbering: a new state is the next number */
			if (!seen[t]) {
				assert_int_equal(t, qt + 1);
				seen[t] = 1;
				q[qt++] = t;
			}
		}
	}
	for (uint32_t s = 0; s < n; s++)
		assert_true(seen[s]);
	for (uint32_t s = 0; s < n; s++)
		blk[s] = d->accept[s];
	for (prev = 0;;) {
		blocks = 0;
		for (uint32_t s = 0; s < n; s++) {
			uint32_t r;

			for (r = 0; r < s; r++) {
				uint32_t c;

				if (blk[r] != blk[s])
					continue;
				for (c = 0; c < nc; c++)
					if (blk[d->trans[r * nc + c]] !=
					    blk[d->trans[s * nc + c]])
						break;
				if (c == nc)
					break;
			}
			nb[s] = r == s ? blocks++ : nb[r];
		}
		memcpy(blk, nb, n * sizeof(*nb));
		if (blocks == prev)
			break;
		prev = blocks;
	}
	/* the start may equal dead only when nothing can match */
	assert_true(blocks == n || (blocks == n - 1 && blk[0] == blk[1]));
	free(blk);
	free(nb);
	free(seen);
	free(q);
}

static void property_random(void **state)
{
	enum { NBATCH = 80, NPAT = 32, NSTR = 80 };
	static char globs[NPAT][96];
	static enum ap_pattern_kind kinds[NPAT];
	char *s = malloc(4200);
	unsigned long checks = 0, states = 0;
	int too_big = 0;

	seed_rng();
	for (int batch = 0; batch < NBATCH; batch++) {
		struct ap_dfa_builder *b = ap_dfa_builder__new();
		struct ap_dfa *d = NULL;

		for (int p = 0; p < NPAT; p++) {
			const char *err;
			size_t off;

			random_glob(globs[p], sizeof(globs[p]));
			kinds[p] = (enum ap_pattern_kind)(rnd() % 4);
			if (ap_dfa_builder__add(b, p * 21, kinds[p], globs[p],
						&err, &off))
				fail_msg("seed %#llx: \"%s\": %s at %zu",
					 (unsigned long long)seed, globs[p],
					 err, off);
		}
		int ret = ap_dfa_builder__build(b, &d);
		if (ret == -E2BIG && ++too_big < NBATCH / 10) {
			/* random unanchored globs can legitimately blow
			 * up; a few such batches are fine, most must fit */
			ap_dfa_builder__free(b);
			batch--;
			continue;
		}
		if (ret) {
			for (int p = 0; p < NPAT; p++)
				printf("  %d %s\n", kinds[p], globs[p]);
			fail_msg("seed %#llx: build failed: %d",
				 (unsigned long long)seed, ret);
		}
		states += d->nstates;
		if (batch < 8)
			assert_minimal(d);
		for (int i = 0; i < NSTR; i++) {
			size_t len = i < 3 ? 4000 + rnd() % 100 : rnd() % 24;
			enum ap_pattern_kind sk = (enum ap_pattern_kind)(rnd() % 4);
			const struct ap_accept_set *set;

			random_string(s, len);
			/* a path-kind string that starts with a prefix byte
			 * is an argv/socket string to the automaton (the
			 * engine's paths are absolute); path globs must not
			 * match it, which kinds_are_isolated checks */
			if (sk < AP_PAT_ARG && len &&
			    (s[0] == AP_DFA_PREFIX_ARG || s[0] == AP_DFA_PREFIX_UNIX))
				s[0] = 'a';
			set = &d->sets[ap_dfa__match(d, sk, s, len)];
			for (int p = 0; p < NPAT; p++) {
				/* a string is matched against its kind's
				 * patterns; PATH and PROGRAM share a domain */
				bool same = kinds[p] == sk ||
					    (kinds[p] < AP_PAT_ARG && sk < AP_PAT_ARG);
				bool want = same && ap_glob_match_ref(kinds[p], globs[p], s);

				if (ap_accept_set__has(set, p * 21) != want)
					fail_msg("seed %#llx: glob \"%s\" (kind %d) string \"%.60s\" (%zu bytes, kind %d): dfa %d ref %d",
						 (unsigned long long)seed, globs[p],
						 kinds[p], s, len, sk, !want, want);
				checks++;
			}
		}
		ap_dfa__free(d);
		ap_dfa_builder__free(b);
	}
	printf("property: %lu (pattern, string) checks, mean %lu states, %d batches too big, seed %#llx\n",
	       checks, states / NBATCH, too_big, (unsigned long long)seed);
	free(s);
}

static struct ap_dfa *build_list(const char *const *globs, size_t n, int *ret)
{
	struct ap_dfa_builder *b = ap_dfa_builder__new();
	struct ap_dfa *d = NULL;
	const char *err;
	size_t off;

	for (size_t i = 0; i < n; i++)
		assert_int_equal(ap_dfa_builder__add(b, i, AP_PAT_PATH, globs[i],
						     &err, &off), 0);
	*ret = ap_dfa_builder__build(b, &d);
	ap_dfa_builder__free(b);
	return d;
}

static void deterministic(void **state)
{
	static const char *const g[] = {
		"/home/u/proj/**", "**/*.py", "**/.env*", "/etc/passwd",
		"/home/u/proj/src/*.[ch]", "**/*credentials*", "/tmp/**/x",
	};
	int r1, r2;
	struct ap_dfa *a = build_list(g, N_ELEMS(g), &r1);
	struct ap_dfa *b = build_list(g, N_ELEMS(g), &r2);

	assert_int_equal(r1, 0);
	assert_int_equal(r2, 0);
	assert_int_equal(a->nstates, b->nstates);
	assert_int_equal(a->nclasses, b->nclasses);
	assert_int_equal(a->naccept, b->naccept);
	assert_memory_equal(a->classes, b->classes, 256);
	assert_memory_equal(a->trans, b->trans,
			    a->nstates * a->nclasses * sizeof(*a->trans));
	assert_memory_equal(a->accept, b->accept, a->nstates * sizeof(*a->accept));
	assert_memory_equal(a->sets, b->sets, a->naccept * sizeof(*a->sets));
	assert_minimal(a);
	/* accept set 0 is empty, the others are not and are distinct */
	for (uint32_t i = 0; i < a->naccept; i++) {
		struct ap_accept_set z = { 0 };

		assert_true((memcmp(&a->sets[i], &z, sizeof(z)) == 0) == (i == 0));
		for (uint32_t j = 0; j < i; j++)
			assert_memory_not_equal(&a->sets[i], &a->sets[j], sizeof(z));
	}
	ap_dfa__free(a);
	ap_dfa__free(b);
}

static void classes_partition(void **state)
{
	static const char *const g[] = { "/a[b-d]*", "**/x?" };
	int ret;
	struct ap_dfa *d = build_list(g, N_ELEMS(g), &ret);

	assert_int_equal(ret, 0);
	/* NUL, \x01, \x02, '/', a, b-d, x, everything else */
	assert_int_equal(d->nclasses, 8);
	assert_int_equal(d->classes[0], 0);
	assert_int_equal(d->classes['b'], d->classes['d']);
	assert_int_not_equal(d->classes['a'], d->classes['b']);
	assert_int_equal(d->classes['e'], d->classes['z']);
	assert_int_equal(d->classes['e'], d->classes[0xff]);
	assert_int_not_equal(d->classes['/'], d->classes['e']);
	ap_dfa__free(d);
}

static void no_patterns(void **state)
{
	struct ap_dfa *d = build_list(NULL, 0, &(int){ 0 });

	assert_non_null(d);
	assert_int_equal(d->nstates, 2);
	assert_int_equal(ap_dfa__run(d, "/x", 2), 0);
	assert_int_equal(d->naccept, 1);
	ap_dfa__free(d);
}

static void too_big(void **state)
{
	char g[64], *globs[16];
	int ret;
	struct ap_dfa *d;

	/* "the 18th byte from the end is a": 2^18 minimal states */
	snprintf(g, sizeof(g), "**/*a%s", "?????????????????");
	d = build_list((const char *const[]){ g }, 1, &ret);
	assert_int_equal(ret, -E2BIG);
	assert_null(d);
	/* 2^16 states after minimization: over the final limit only */
	snprintf(g, sizeof(g), "**/*a%s", "???????????????");
	d = build_list((const char *const[]){ g }, 1, &ret);
	assert_int_equal(ret, -E2BIG);
	assert_null(d);
	/* 14 independent letters: 2^14 accept sets > AP_MAX_ACCEPT_SETS */
	for (int i = 0; i < 14; i++) {
		globs[i] = malloc(16);
		snprintf(globs[i], 16, "**/*%c*", 'a' + i);
	}
	d = build_list((const char *const *)globs, 14, &ret);
	assert_int_equal(ret, -E2BIG);
	assert_null(d);
	/* 12 letters fit */
	d = build_list((const char *const *)globs, 12, &ret);
	assert_int_equal(ret, 0);
	assert_int_equal(d->naccept, 1 << 12);
	ap_dfa__free(d);
	for (int i = 0; i < 14; i++)
		free(globs[i]);
}

/* Groups: the union over the groups equals the reference matcher. */
static void groups(void **state)
{
	enum { NRAND = 12, NSTR = 400 };
	static char globs[14 + NRAND][96];
	struct ap_dfa_builder *b = ap_dfa_builder__new(), *b2;
	struct ap_dfa *d = NULL, *d2 = NULL;
	size_t npat = 0, off;
	const char *err;
	char s[4200];
	int ret;

	seed_rng();
	assert_int_equal(ap_dfa_builder__set_max_groups(b, 0), -EINVAL);
	assert_int_equal(ap_dfa_builder__set_max_groups(b, AP_DFA_MAX_GROUPS + 1), -EINVAL);
	/* 14 "letter anywhere in the name" globs: 2^14 accept sets at once */
	for (int i = 0; i < 14; i++)
		snprintf(globs[npat++], sizeof(globs[0]), "**/*%c*", "abcx.ypdolnrts"[i]);
	for (int i = 0; i < NRAND; i++)
		random_glob(globs[npat++], sizeof(globs[0]));
	for (int pass = 0; pass < 2; pass++) {
		b2 = pass ? ap_dfa_builder__new() : b;
		for (size_t p = 0; p < npat; p++)
			assert_int_equal(ap_dfa_builder__add(b2, p, AP_PAT_PATH, globs[p],
							     &err, &off), 0);
		assert_int_equal(ap_dfa_builder__set_max_groups(b2, AP_DFA_MAX_GROUPS), 0);
		ret = ap_dfa_builder__build(b2, pass ? &d2 : &d);
		if (ret == -E2BIG) {
			/* random globs on top can exceed even 8 groups */
			printf("groups: seed %#llx too big, skipped\n",
			       (unsigned long long)seed);
			ap_dfa__free(d);
			ap_dfa_builder__free(b);
			if (pass)
				ap_dfa_builder__free(b2);
			return;
		}
		assert_int_equal(ret, 0);
		if (pass)
			ap_dfa_builder__free(b2);
	}
	assert_true(d->ngroups > 1);
	/* reproducible with groups too */
	assert_int_equal(d->nstates, d2->nstates);
	assert_int_equal(d->ngroups, d2->ngroups);
	assert_memory_equal(d->trans, d2->trans,
			    (size_t)d->nstates * d->nclasses * sizeof(*d->trans));
	assert_memory_equal(d->accept, d2->accept, d->nstates * sizeof(*d->accept));
	assert_memory_equal(d->sets, d2->sets, d->naccept * sizeof(*d->sets));
	for (int i = 0; i < NSTR; i++) {
		size_t len = i < 5 ? 4000 + rnd() % 100 : rnd() % 30;
		struct ap_accept_set set;

		random_string(s, len);
		if (len && (s[0] == AP_DFA_PREFIX_ARG || s[0] == AP_DFA_PREFIX_UNIX))
			s[0] = 'a';
		ap_dfa__match_set(d, AP_PAT_PATH, s, len, &set);
		for (size_t p = 0; p < npat; p++)
			if (ap_accept_set__has(&set, p) !=
			    ap_glob_match_ref(AP_PAT_PATH, globs[p], s))
				fail_msg("seed %#llx: %u groups: glob \"%s\" string \"%.60s\": dfa %d",
					 (unsigned long long)seed, d->ngroups, globs[p], s,
					 ap_accept_set__has(&set, p));
	}
	printf("groups: %u groups, %u states, seed %#llx\n", d->ngroups,
	       d->nstates, (unsigned long long)seed);
	ap_dfa__free(d);
	ap_dfa__free(d2);
	ap_dfa_builder__free(b);
}

static void groups_cannot_split_one_pattern(void **state)
{
	struct ap_dfa_builder *b = ap_dfa_builder__new();
	struct ap_dfa *d = NULL;
	const char *err;
	size_t off;

	assert_int_equal(ap_dfa_builder__add(b, 0, AP_PAT_PATH,
					     "**/*a????????????????", &err, &off), 0);
	assert_int_equal(ap_dfa_builder__set_max_groups(b, AP_DFA_MAX_GROUPS), 0);
	assert_int_equal(ap_dfa_builder__build(b, &d), -E2BIG);
	assert_null(d);
	ap_dfa_builder__free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(property_random),
		cmocka_unit_test(deterministic),
		cmocka_unit_test(classes_partition),
		cmocka_unit_test(no_patterns),
		cmocka_unit_test(too_big),
		cmocka_unit_test(groups),
		cmocka_unit_test(groups_cannot_split_one_pattern),
	};

	if (getenv("AP_TEST_FILTER"))
		cmocka_set_test_filter(getenv("AP_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
