// SPDX-License-Identifier: MIT
/*
 * The kernel walker (bpf/dfa.bpf.h) against the user-space automaton: load
 * bpf/dfa_test.bpf.c, fill its maps from an ap_dfa, run it with
 * BPF_PROG_RUN over random strings (up to 4,095 bytes) and compare accept-set
 * ids. Needs root and BPF; skipped with a reason otherwise.
 */
#include <errno.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "policy/dfa.h"
#include "dfa_test.skel.h"

static uint64_t rng;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static const char *const patterns[] = {
	"/home/u/proj/**", "**/*.py", "**/downloads/**", "**/*credentials*",
	"/home/u/proj/src/*.c", "/etc/passwd", "/tmp/[a-c]?x/**", "/**/b",
	"**/.env*", "/home/u/proj/src/mod1/**/*.c", "/x/a**b", "/**",
};
static const char *const arg_patterns[] = { "push", "--force*", "*/*", "-?" };
static const char *const unix_patterns[] = { "/run/docker.sock", "@dbus-*" };

static int libbpf_quiet(enum libbpf_print_level lvl, const char *fmt,
			va_list ap)
{
	return lvl == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

/* EINVAL/EACCES from a load are the verifier refusing the walker: a test
 * failure, not a missing feature (EPERM, ENOSYS, EOPNOTSUPP...) */
static bool verifier_rejected(int ret)
{
	return ret == -EINVAL || ret == -EACCES;
}

static void random_string(char *s, size_t len)
{
	static const char frag[][12] = {
		"/", "/", "/", "home", "u", "proj", "src", "mod1", "a", "b",
		"c", "x", ".py", ".c", "downloads", "credentials", ".env",
		"**", "ab", "passwd", "etc", "tmp", "-", "push", "@", "\xff",
	};
	size_t n = 0;

	while (n < len) {
		const char *f = frag[rnd() % (sizeof(frag) / sizeof(frag[0]))];
		size_t fl = strlen(f);

		if (n + fl > len)
			fl = len - n;
		memcpy(s + n, f, fl);
		n += fl;
	}
	s[len] = '\0';
}

static void kernel_matches_user_space(void **state)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	struct dfa_test_bpf *skel = NULL;
	struct ap_dfa_builder *b = NULL;
	struct ap_dfa *d = NULL;
	const char *err;
	size_t off;
	unsigned id = 0, checks = 0;
	int fd, ret;
	char *s;

	if (geteuid() != 0) {
		printf("skip: loading BPF programs needs root\n");
		skip();
	}
	rng = getenv("AP_SEED") ? strtoull(getenv("AP_SEED"), NULL, 0)
				: (uint64_t)time(NULL) | 1;
	b = ap_dfa_builder__new();
	assert_non_null(b);
	for (size_t i = 0; i < sizeof(patterns) / sizeof(*patterns); i++)
		assert_int_equal(ap_dfa_builder__add(b, id++, AP_PAT_PATH,
						     patterns[i], &err, &off), 0);
	for (size_t i = 0; i < sizeof(arg_patterns) / sizeof(*arg_patterns); i++)
		assert_int_equal(ap_dfa_builder__add(b, id++, AP_PAT_ARG,
						     arg_patterns[i], &err, &off), 0);
	for (size_t i = 0; i < sizeof(unix_patterns) / sizeof(*unix_patterns); i++)
		assert_int_equal(ap_dfa_builder__add(b, id++, AP_PAT_UNIX,
						     unix_patterns[i], &err, &off), 0);
	assert_int_equal(ap_dfa_builder__build(b, &d), 0);

	libbpf_set_print(libbpf_quiet);
	skel = dfa_test_bpf__open();
	if (!skel) {
		printf("skip: cannot open the BPF object: %s\n", strerror(errno));
		goto skip_cleanup;
	}
	assert_int_equal(ap_dfa__size_maps(d, skel->maps.ap_dfa_trans,
					   skel->maps.ap_dfa_accept,
					   skel->maps.ap_accept_sets), 0);
	ret = dfa_test_bpf__load(skel);
	if (ret && !verifier_rejected(ret)) {
		printf("skip: BPF unavailable (load: %s)\n", strerror(-ret));
		goto skip_cleanup;
	}
	assert_int_equal(ret, 0);
	assert_int_equal(ap_dfa__fill_maps(d,
		bpf_map__fd(skel->maps.ap_dfa_classes),
		bpf_map__fd(skel->maps.ap_dfa_trans),
		bpf_map__fd(skel->maps.ap_dfa_accept),
		bpf_map__fd(skel->maps.ap_accept_sets)), 0);
	fd = bpf_program__fd(skel->progs.ap_dfa_test_run);
	s = skel->bss->ap_dfa_test_input;

	for (int i = 0; i < 3000; i++) {
		size_t len = i % 10 == 0 ? 3900 + rnd() % 195 : 1 + rnd() % 120;
		unsigned want;
		char kind = 0;

		random_string(s + 1, len);
		switch (rnd() % 6) {
		case 0: kind = AP_DFA_PREFIX_ARG; break;
		case 1: kind = AP_DFA_PREFIX_UNIX; break;
		default: s[1] = '/'; break;
		}
		if (kind) {
			s[0] = kind;
		} else {
			memmove(s, s + 1, len + 1);
		}
		want = ap_dfa__run(d, s, strlen(s));
		ret = bpf_prog_test_run_opts(fd, &opts);
		assert_int_equal(ret, 0);
		if (opts.retval != want)
			fail_msg("seed %#llx: kernel %u, user %u for \"%.80s...\" (%zu bytes)",
				 (unsigned long long)rng, opts.retval, want, s,
				 strlen(s));
		checks++;
	}
	/* a path of exactly AP_PATH_MAX - 1 bytes, every byte walked */
	memset(s, 'a', AP_PATH_MAX - 1);
	memcpy(s, "/home/u/proj/", 13);
	memcpy(s + AP_PATH_MAX - 4, ".py", 4);
	assert_int_equal(strlen(s), AP_PATH_MAX - 1);
	assert_int_equal(bpf_prog_test_run_opts(fd, &opts), 0);
	assert_int_equal(opts.retval, ap_dfa__run(d, s, strlen(s)));
	assert_true(ap_accept_set__has(&d->sets[opts.retval], 0));
	assert_true(ap_accept_set__has(&d->sets[opts.retval], 1));
	printf("kernel walker: %u strings agree (%u states, %u classes)\n",
	       checks + 1, d->nstates, d->nclasses);
	dfa_test_bpf__destroy(skel);
	ap_dfa__free(d);
	ap_dfa_builder__free(b);
	return;
skip_cleanup:
	dfa_test_bpf__destroy(skel);
	ap_dfa__free(d);
	ap_dfa_builder__free(b);
	skip();
}

/* With several groups of automata the kernel's union must equal user
 * space's, and both the reference matcher. */
static void kernel_groups_union(void **state)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	static const char *const extra[] = {
		"/home/u/proj/**", "/home/u/proj/src/*.c", "/etc/passwd", "/x/a**b",
	};
	struct dfa_test_bpf *skel = NULL;
	struct ap_dfa_builder *b = NULL;
	struct ap_dfa *d = NULL;
	char globs[14 + 4][32], *s;
	const char *err;
	size_t off, npat = 0;
	int fd, ret;

	if (geteuid() != 0) {
		printf("skip: loading BPF programs needs root\n");
		skip();
	}
	rng = getenv("AP_SEED") ? strtoull(getenv("AP_SEED"), NULL, 0)
				: (uint64_t)time(NULL) | 1;
	b = ap_dfa_builder__new();
	assert_non_null(b);
	/* 2^14 accept sets as one automaton: over the limit, so groups */
	for (int i = 0; i < 14; i++)
		snprintf(globs[npat++], sizeof(globs[0]), "**/*%c*", "abcdehmoprstuy"[i]);
	for (size_t i = 0; i < sizeof(extra) / sizeof(*extra); i++)
		snprintf(globs[npat++], sizeof(globs[0]), "%s", extra[i]);
	for (size_t i = 0; i < npat; i++)
		assert_int_equal(ap_dfa_builder__add(b, i, AP_PAT_PATH, globs[i],
						     &err, &off), 0);
	assert_int_equal(ap_dfa_builder__set_max_groups(b, AP_DFA_MAX_GROUPS), 0);
	assert_int_equal(ap_dfa_builder__build(b, &d), 0);
	assert_true(d->ngroups > 1);

	libbpf_set_print(libbpf_quiet);
	skel = dfa_test_bpf__open();
	if (!skel) {
		printf("skip: cannot open the BPF object: %s\n", strerror(errno));
		goto skip_cleanup;
	}
	assert_int_equal(ap_dfa__size_maps(d, skel->maps.ap_dfa_trans,
					   skel->maps.ap_dfa_accept,
					   skel->maps.ap_accept_sets), 0);
	ret = dfa_test_bpf__load(skel);
	if (ret && !verifier_rejected(ret)) {
		printf("skip: BPF unavailable (load: %s)\n", strerror(-ret));
		goto skip_cleanup;
	}
	assert_int_equal(ret, 0);
	assert_int_equal(ap_dfa__fill_maps(d,
		bpf_map__fd(skel->maps.ap_dfa_classes),
		bpf_map__fd(skel->maps.ap_dfa_trans),
		bpf_map__fd(skel->maps.ap_dfa_accept),
		bpf_map__fd(skel->maps.ap_accept_sets)), 0);
	fd = bpf_program__fd(skel->progs.ap_dfa_test_run_set);
	s = skel->bss->ap_dfa_test_input;
	for (int i = 0; i < 1000; i++) {
		size_t len = i % 10 == 0 ? 3900 + rnd() % 195 : 1 + rnd() % 120;
		struct ap_accept_set want;

		random_string(s, len);
		s[0] = '/';
		ap_dfa__match_set(d, AP_PAT_PATH, s, len, &want);
		assert_int_equal(bpf_prog_test_run_opts(fd, &opts), 0);
		if (memcmp(&want, &skel->bss->ap_dfa_test_set, sizeof(want)))
			fail_msg("seed %#llx: user %#llx, kernel %#llx for \"%.80s\"",
				 (unsigned long long)rng,
				 (unsigned long long)want.bits[0],
				 (unsigned long long)skel->bss->ap_dfa_test_set.bits[0], s);
		for (size_t p = 0; p < npat; p++)
			if (ap_accept_set__has(&want, p) !=
			    ap_glob_match_ref(AP_PAT_PATH, globs[p], s))
				fail_msg("seed %#llx: group union wrong for \"%s\" on \"%.80s\"",
					 (unsigned long long)rng, globs[p], s);
	}
	printf("kernel walker: %u groups, %u states agree on 1000 strings\n",
	       d->ngroups, d->nstates);
	dfa_test_bpf__destroy(skel);
	ap_dfa__free(d);
	ap_dfa_builder__free(b);
	return;
skip_cleanup:
	dfa_test_bpf__destroy(skel);
	ap_dfa__free(d);
	ap_dfa_builder__free(b);
	skip();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kernel_matches_user_space),
		cmocka_unit_test(kernel_groups_union),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
