// SPDX-License-Identifier: MIT
/*
 * Unix socket spellings: the load-time aliases of a `unix:` pattern
 * (ap_endpoint__unix_aliases: symbolic links in the literal directory part,
 * /var/run for /run) and the lowering that adds them to the endpoint range;
 * the supervisor's two spellings of an address (relative to the cwd,
 * symbolic links followed) and the merge of their decisions.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "enforce/unix_sock.h"
#include "policy/lower.h"
#include "policy/policy.h"

static char dir[PATH_MAX];  /* realpath of a fresh temp directory */

static int setup(void **state)
{
	char t[] = "/tmp/ap-unix-test.XXXXXX", p[PATH_MAX + 32], q[PATH_MAX + 32];

	(void)state;
	if (!mkdtemp(t) || !realpath(t, dir))
		return -1;
	snprintf(p, sizeof(p), "%s/real", dir);
	mkdir(p, 0755);
	snprintf(q, sizeof(q), "%s/alias", dir);
	if (symlink("real", q))
		return -1;
	snprintf(p, sizeof(p), "%s/real/d.sock", dir);
	fclose(fopen(p, "w"));
	snprintf(q, sizeof(q), "%s/real/link.sock", dir);
	if (symlink("d.sock", q))
		return -1;
	snprintf(p, sizeof(p), "%s/we*ird", dir);
	mkdir(p, 0755);
	snprintf(q, sizeof(q), "%s/to-weird", dir);
	return symlink("we*ird", q);
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) ? -1 : 0;
}

static int aliases(const char *glob, char (*out)[AP_PATH_MAX])
{
	return ap_endpoint__unix_aliases(glob, out, 3);
}

static void alias_of_linked_dir(void **state)
{
	char out[3][AP_PATH_MAX], g[PATH_MAX + 64], want[PATH_MAX + 64];

	(void)state;
	/* a literal path that does not exist: its directory resolved */
	snprintf(g, sizeof(g), "%s/alias/none.sock", dir);
	snprintf(want, sizeof(want), "%s/real/none.sock", dir);
	assert_int_equal(aliases(g, out), 1);
	assert_string_equal(out[0], want);
	/* a wildcard after the linked directory */
	snprintf(g, sizeof(g), "%s/alias/*.sock", dir);
	snprintf(want, sizeof(want), "%s/real/*.sock", dir);
	assert_int_equal(aliases(g, out), 1);
	assert_string_equal(out[0], want);
	/* the link inside a wildcard-free directory part only */
	snprintf(g, sizeof(g), "%s/al*/x.sock", dir);
	assert_int_equal(aliases(g, out), 0);
}

static void alias_of_linked_socket(void **state)
{
	char out[3][AP_PATH_MAX], g[PATH_MAX + 64], want[PATH_MAX + 64];

	(void)state;
	/* the socket file itself is a symbolic link */
	snprintf(g, sizeof(g), "%s/alias/link.sock", dir);
	snprintf(want, sizeof(want), "%s/real/d.sock", dir);
	assert_int_equal(aliases(g, out), 1);
	assert_string_equal(out[0], want);
}

static void no_alias(void **state)
{
	char out[3][AP_PATH_MAX], g[PATH_MAX + 64];

	(void)state;
	snprintf(g, sizeof(g), "%s/real/d.sock", dir);
	assert_int_equal(aliases(g, out), 0);
	assert_int_equal(aliases("/nonexistent-ap-dir/x.sock", out), 0);
	assert_int_equal(aliases("/**", out), 0);
	assert_int_equal(aliases("relative.sock", out), 0);
}

static void resolved_names_are_escaped(void **state)
{
	char out[3][AP_PATH_MAX], g[PATH_MAX + 64], want[PATH_MAX + 64];

	(void)state;
	snprintf(g, sizeof(g), "%s/to-weird/x.sock", dir);
	snprintf(want, sizeof(want), "%s/we\\*ird/x.sock", dir);
	assert_int_equal(aliases(g, out), 1);
	assert_string_equal(out[0], want);
}

static void var_run(void **state)
{
	char out[3][AP_PATH_MAX], real[PATH_MAX];
	int n;

	(void)state;
	/* the twins hold whatever this machine has */
	n = aliases("/var/run/docker.sock", out);
	assert_int_equal(n, 1);
	assert_string_equal(out[0], "/run/docker.sock");
	assert_int_equal(aliases("/run/docker.sock", out), 1);
	assert_string_equal(out[0], "/var/run/docker.sock");
	assert_int_equal(aliases("/run/user/*/podman/podman.sock", out), 1);
	assert_string_equal(out[0], "/var/run/user/*/podman/podman.sock");
	/* /run/lock/x, and /var/run/lock/x: /run by its other name */
	n = aliases("/var/lock/x", out);
	assert_true(n >= 1);
	assert_string_equal(out[0], "/run/lock/x");
	/* only whole components */
	assert_int_equal(aliases("/running/x.sock", out), 0);
	(void)real;
}

/* lowering: one `unix:` endpoint becomes a range with every spelling */
static void lowered_range(void **state)
{
	char yaml[PATH_MAX * 2];
	struct ap_load_opts o = { .cwd = "/" };
	struct ap_lower_opts lo = { 0 };
	struct ap_policy *pol = NULL;
	struct ap_compiled *c = NULL;
	struct ap_diags d = { 0 };
	const struct ap_clause *cl = NULL;
	bool seen_alias = false, seen_real = false;

	(void)state;
	snprintf(yaml, sizeof(yaml),
		 "version: 1\npolicy: |\n  rule r:\n    block connect endpoint \"unix:%s/alias/d.sock\"\n",
		 dir);
	assert_int_equal(ap_policy_load_buffer("t.yaml", yaml, strlen(yaml), &o, &d, &pol), 0);
	assert_int_equal(ap_lower(pol, &lo, &d, &c), 0);
	for (unsigned i = 0; i < c->nclauses; i++)
		if (c->clauses[i].op == AP_OP_CONNECT)
			cl = &c->clauses[i];
	assert_non_null(cl);
	assert_int_equal(cl->target_kind, AP_TGT_ENDPOINT);
	assert_int_equal(cl->target_count, 2);
	for (unsigned i = 0; i < cl->target_count; i++) {
		const struct ap_endpoint *e = &c->endpoints[cl->target + i];
		const char *l = c->patterns[e->unix_pattern].lowered;

		assert_int_equal(e->family, AF_UNIX);
		assert_int_equal(c->patterns[e->unix_pattern].kind, AP_PAT_UNIX);
		if (strstr(l, "/alias/d.sock"))
			seen_alias = true;
		if (strstr(l, "/real/d.sock"))
			seen_real = true;
	}
	assert_true(seen_alias && seen_real);
	ap_compiled__free(c);
	ap_diags__free(&d);
	ap_policy__free(pol);
}

/* the supervisor's spellings of an address given by this very process */
static void spellings(void **state)
{
	char abs[110], real[110], old[PATH_MAX], want[PATH_MAX + 32];

	(void)state;
	if (strlen(dir) + 20 > sizeof(abs)) {
		skip();
		return;
	}
	assert_non_null(getcwd(old, sizeof(old)));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(ap_unix_sock__spellings(getpid(), "alias/./link.sock", abs,
						 sizeof(abs), real, sizeof(real)), 0);
	snprintf(want, sizeof(want), "%s/alias/link.sock", dir);
	assert_string_equal(abs, want);
	snprintf(want, sizeof(want), "%s/real/d.sock", dir);
	assert_string_equal(real, want);
	/* a socket that does not exist: both spellings are the lexical one */
	assert_int_equal(ap_unix_sock__spellings(getpid(), "real/../gone.sock", abs,
						 sizeof(abs), real, sizeof(real)), 0);
	snprintf(want, sizeof(want), "%s/gone.sock", dir);
	assert_string_equal(abs, want);
	assert_string_equal(real, want);
	/* an abstract name has no path */
	assert_int_equal(ap_unix_sock__spellings(getpid(), "@name", abs, sizeof(abs),
						 real, sizeof(real)), -EINVAL);
	/* too long once joined to the cwd: the caller denies */
	{
		char longname[108];

		memset(longname, 'x', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = 0;
		assert_int_equal(ap_unix_sock__spellings(getpid(), longname, abs, sizeof(abs),
							 real, sizeof(real)), -ENAMETOOLONG);
	}
	assert_int_equal(chdir(old), 0);
}

static void merge(void **state)
{
	struct ap_eval_out a = { 0 }, b = { 0 };

	(void)state;
	/* nothing into nothing */
	ap_unix_sock__merge(&a, &b);
	assert_int_equal(a.nmatch, 0);
	/* a match into nothing: taken whole */
	b.nmatch = 1;
	b.effect = AP_EFFECT_NOTIFY;
	b.rule = 3;
	b.op = AP_OP_CONNECT;
	b.rules[0] = 1u << 3;
	ap_unix_sock__merge(&a, &b);
	assert_int_equal(a.nmatch, 1);
	assert_int_equal(a.rule, 3);
	assert_int_equal(a.effect, AP_EFFECT_NOTIFY);
	/* a stronger one decides, rules accumulate */
	b.effect = AP_EFFECT_BLOCK;
	b.rule = 5;
	b.rules[0] = 1u << 5;
	b.mattered = 4;
	ap_unix_sock__merge(&a, &b);
	assert_int_equal(a.nmatch, 2);
	assert_int_equal(a.rule, 5);
	assert_int_equal(a.effect, AP_EFFECT_BLOCK);
	assert_int_equal(a.rules[0], (1u << 3) | (1u << 5));
	assert_int_equal(a.mattered, 4);
	/* a tie keeps the first decision */
	b.rule = 7;
	b.rules[0] = 1u << 7;
	ap_unix_sock__merge(&a, &b);
	assert_int_equal(a.rule, 5);
	assert_true(a.rules[0] & (1u << 7));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(alias_of_linked_dir),
		cmocka_unit_test(alias_of_linked_socket),
		cmocka_unit_test(no_alias),
		cmocka_unit_test(resolved_names_are_escaped),
		cmocka_unit_test(var_run),
		cmocka_unit_test(lowered_range),
		cmocka_unit_test(spellings),
		cmocka_unit_test(merge),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
