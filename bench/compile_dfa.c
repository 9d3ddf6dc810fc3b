// SPDX-License-Identifier: MIT
/*
 * How big and how slow the pattern automaton gets for large policies.
 * Build: make OUTPUT=build-x build-x/libactplane.a, then
 *   cc -O2 -Isrc -I. bench/compile_dfa.c build-x/libactplane.a -lbpf -o compile_dfa
 * Prints one line per scenario: patterns, states, classes, accept sets,
 * build time (best of 3), and the table bytes the kernel maps hold.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/dfa.h"

struct pat {
	enum ap_pattern_kind kind;
	char glob[128];
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void run1(const char *name, const struct pat *p, size_t n, unsigned groups)
{
	double best = 1e9;
	struct ap_dfa *d = NULL;
	int ret = 0;

	for (int rep = 0; rep < 3; rep++) {
		struct ap_dfa_builder *b = ap_dfa_builder__new();
		const char *err;
		size_t off;
		double t0;

		ap_dfa_builder__set_max_groups(b, groups);
		for (size_t i = 0; i < n; i++)
			if (ap_dfa_builder__add(b, i, p[i].kind, p[i].glob, &err, &off)) {
				fprintf(stderr, "%s: \"%s\": %s\n", name, p[i].glob, err);
				exit(1);
			}
		ap_dfa__free(d);
		d = NULL;
		t0 = now();
		ret = ap_dfa_builder__build(b, &d);
		if (now() - t0 < best)
			best = now() - t0;
		ap_dfa_builder__free(b);
		if (ret)
			break;
	}
	if (ret) {
		printf("%-24s %4zu patterns, max %u groups: build failed %d (%.3f s)\n",
		       name, n, groups, ret, best);
		return;
	}
	printf("%-24s %4zu patterns, max %u groups: %u groups %6u states %3u classes %5u accept sets %7.3f s, maps %zu KiB\n",
	       name, n, groups, d->ngroups, d->nstates, d->nclasses, d->naccept, best,
	       ((size_t)ap_dfa__trans_chunks(d) * 4096 + d->nstates * 8 +
		d->naccept * sizeof(struct ap_accept_set)) / 1024);
	ap_dfa__free(d);
}

static void run(const char *name, const struct pat *p, size_t n)
{
	run1(name, p, n, 1);
	run1(name, p, n, AP_DFA_MAX_GROUPS);
}

int main(void)
{
	static struct pat p[AP_MAX_PATTERNS];
	static const char *const exts[] = { "c", "h", "py", "rs", "go", "js", "ts", "md" };
	static const char *const progs[] = { "git", "curl", "wget", "ssh", "scp", "python3",
		"node", "npm", "pip", "docker", "kubectl", "rm", "bash", "sh", "nc", "gh" };
	static const char *const secrets[] = { "**/*credential*", "**/.env*", "**/*.pem",
		"**/id_rsa*", "**/.ssh/**", "**/.aws/**", "**/*secret*", "**/*.key",
		"**/.netrc", "**/.git-credentials", "**/.npmrc", "**/.pypirc",
		"**/.kube/config", "**/.docker/config.json", "**/*token*", "**/downloads/**" };
	size_t n;

	/* 1: 1,022 per-module trees plus two unanchored secret globs */
	n = 0;
	for (int i = 0; i < 1022; i++) {
		p[n].kind = AP_PAT_PATH;
		snprintf(p[n++].glob, 128, "/home/u/proj/src/mod%d/**/*.c", i);
	}
	p[n].kind = AP_PAT_PATH;
	strcpy(p[n++].glob, "**/*credential*");
	p[n].kind = AP_PAT_PATH;
	strcpy(p[n++].glob, "**/.env*");
	run("mod-trees+2-secrets", p, n);

	/* 2: 256 rules' worth: project globs, 16 unanchored secret globs,
	 * base-name programs, argv globs, sockets */
	n = 0;
	for (size_t i = 0; i < 16; i++) {
		p[n].kind = AP_PAT_PATH;
		strcpy(p[n++].glob, secrets[i]);
	}
	for (int i = 0; i < 160; i++) {
		p[n].kind = AP_PAT_PATH;
		switch (i % 4) {
		case 0: snprintf(p[n++].glob, 128, "/home/u/proj/src/mod%d/**", i); break;
		case 1: snprintf(p[n++].glob, 128, "/home/u/proj/src/mod%d/*.%s", i, exts[i % 8]); break;
		case 2: snprintf(p[n++].glob, 128, "/home/u/proj/src/mod%d/**/*.%s", i, exts[i % 8]); break;
		case 3: snprintf(p[n++].glob, 128, "/home/u/proj/docs/v%d/[a-m]*.md", i); break;
		}
	}
	/* a few "directory anywhere below the project" globs */
	for (int i = 0; i < 4; i++) {
		p[n].kind = AP_PAT_PATH;
		snprintf(p[n++].glob, 128, "/home/u/proj/**/gen%d/**", i);
	}
	for (size_t i = 0; i < 16; i++) {
		p[n].kind = AP_PAT_PROGRAM;
		snprintf(p[n++].glob, 128, "/**/%s", progs[i]);
		p[n].kind = AP_PAT_PROGRAM;
		snprintf(p[n++].glob, 128, "/usr/bin/%s", progs[i]);
	}
	for (int i = 0; i < 40; i++) {
		p[n].kind = AP_PAT_ARG;
		snprintf(p[n++].glob, 128, i % 2 ? "--opt%d*" : "sub%d", i);
	}
	for (int i = 0; i < 8; i++) {
		p[n].kind = AP_PAT_UNIX;
		snprintf(p[n++].glob, 128, i % 2 ? "/run/svc%d/*.sock" : "@abstract%d*", i);
	}
	run("256-rules-mixed", p, n);

	/* 3: the same with all 1,024 pattern slots (more project globs) */
	for (int i = 0; n < AP_MAX_PATTERNS; i++) {
		p[n].kind = AP_PAT_PATH;
		snprintf(p[n++].glob, 128, i % 2 ? "/home/u/proj/pkg%d/**/*.%s"
					       : "/home/u/proj/pkg%d/test_*.%s", i, exts[i % 8]);
	}
	run("1024-mixed", p, n);

	/* 4: only unanchored globs */
	run("16-unanchored-secrets", p, 16);

	/* 5: the exponential family: k globs "some directory X_i anywhere,
	 * then a file below it" must remember which X_i were seen */
	for (int k = 4; k <= 16; k += 4) {
		char name[32];

		for (int i = 0; i < k; i++) {
			p[i].kind = AP_PAT_PATH;
			snprintf(p[i].glob, 128, "/home/u/proj/**/gen%d/**/*.%s", i, exts[i % 8]);
		}
		snprintf(name, sizeof(name), "%d-nested-anywhere", k);
		run(name, p, k);
	}
	return 0;
}
