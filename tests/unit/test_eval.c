// SPDX-License-Identifier: MIT
/* User-space evaluation (engine/eval.h) against compiled policies: the same
 * answers the kernel engine gives for targets, arguments, labels, unless
 * conditions and the strongest effect. State maps are absent (fd -1): the
 * process is unknown, so labels come only from the op's own flow. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "engine/eval.h"
#include "enforce/landlock.h"
#include "enforce/seccomp.h"
#include "policy/blob.h"
#include "policy/lower.h"
#include "policy/policy.h"

struct fx {
	void *blob;
	struct ap_blob_view bv;
	struct ap_eval_ctx ev;
};

static void load(struct fx *f, const char *dsl)
{
	struct ap_load_opts o = { .cwd = "/proj" };
	struct ap_diags d = { 0 };
	struct ap_policy *pol = NULL;
	struct ap_compiled *c = NULL;
	const char *why = NULL;
	char text[4096];
	size_t size;

	snprintf(text, sizeof(text), "version: 1\npolicy: |\n%s", dsl);
	assert_int_equal(ap_policy_load_buffer("t.yaml", text, strlen(text), &o, &d, &pol), 0);
	assert_int_equal(ap_lower(pol, NULL, &d, &c), 0);
	assert_int_equal(ap_compiled__to_blob(c, &f->blob, &size), 0);
	assert_int_equal(ap_blob__view(f->blob, size, &f->bv, &why), 0);
	assert_int_equal(ap_eval_ctx__init(&f->ev, &f->bv, -1, -1, -1, -1, 1), 0);
	ap_compiled__free(c);
	ap_diags__free(&d);
	ap_policy__free(pol);
}

static void unload(struct fx *f)
{
	free(f->blob);
}

static const char *rule_of(struct fx *f, const struct ap_eval_out *o)
{
	return ap_blob__str(&f->bv, f->bv.rule_meta[o->rule].name);
}

static void test_exec_args(void **state)
{
	struct fx f;
	struct ap_eval_out o;
	const char *push[] = { "git", "-C", "x", "push", "origin" };
	const char *status[] = { "git", "status" };
	struct ap_eval_in in = { .op = AP_OP_EXEC, .tgid = 1, .path = "/usr/bin/git",
				 .argv = push, .argc = 5 };

	load(&f, "  rule no-push:\n    block exec \"git\" \"push\"\n");
	assert_int_equal(ap_eval__op(&f.ev, &in, &o), 0);
	assert_int_equal(o.nmatch, 1);
	assert_int_equal(o.effect, AP_EFFECT_BLOCK);
	assert_string_equal(rule_of(&f, &o), "no-push");
	in.argv = status;
	in.argc = 2;
	assert_int_equal(ap_eval__op(&f.ev, &in, &o), 0);
	assert_int_equal(o.nmatch, 0);
	/* the base name matches wherever the program lives; the resolved
	 * executable counts too */
	in.argv = push;
	in.argc = 5;
	in.path = "/tmp/x/not-git";
	in.alt[0] = "/tmp/y/git";
	assert_int_equal(ap_eval__op(&f.ev, &in, &o), 0);
	assert_int_equal(o.nmatch, 1);
	unload(&f);
}

static void test_open_modes_and_strongest(void **state)
{
	struct fx f;
	struct ap_eval_out o;
	struct ap_eval_in in = { .op = AP_OP_OPEN, .tgid = 1, .path = "/proj/db/prod.db",
				 .rd = true };

	load(&f, "  rule ro:\n    block write file \"db/**\"\n"
		 "  rule ask-read:\n    ask read file \"db/prod.db\"\n"
		 "  rule k:\n    kill write file \"db/prod.db\"\n");
	assert_int_equal(ap_eval__op(&f.ev, &in, &o), 0);
	assert_int_equal(o.nmatch, 1);
	assert_int_equal(o.effect, AP_EFFECT_ASK);
	assert_int_equal(o.op, AP_OP_READ);
	in.wr = true; /* O_RDWR: every rule, kill strongest */
	assert_int_equal(ap_eval__op(&f.ev, &in, &o), 0);
	assert_int_equal(o.nmatch, 3);
	assert_int_equal(o.effect, AP_EFFECT_KILL);
	assert_string_equal(rule_of(&f, &o), "k");
	in.rd = in.wr = false; /* O_PATH: neither */
	assert_int_equal(ap_eval__op(&f.ev, &in, &o), 0);
	assert_int_equal(o.nmatch, 0);
	in.path = "/proj/dbx/prod.db";
	in.wr = true;
	assert_int_equal(ap_eval__op(&f.ev, &in, &o), 0);
	assert_int_equal(o.nmatch, 0);
	unload(&f);
}

static void test_unless_target_and_rename(void **state)
{
	struct fx f;
	struct ap_eval_out o;
	struct ap_eval_in in = { .op = AP_OP_UNLINK, .tgid = 1, .path = "/etc/passwd" };

	load(&f, "  rule stay:\n    block unlink file \"/**\" unless target \"/proj/ws/**\"\n"
		 "  rule keep:\n    block rename file \"/proj/keep/**\"\n");
	assert_int_equal(ap_eval__op(&f.ev, &in, &o), 0);
	assert_int_equal(o.nmatch, 1);
	in.path = "/proj/ws/a/b";
	assert_int_equal(ap_eval__op(&f.ev, &in, &o), 0);
	assert_int_equal(o.nmatch, 0);
	/* a rename matches by its source or its destination */
	in.op = AP_OP_RENAME;
	in.path = "/proj/ws/x";
	in.path2 = "/proj/keep/x";
	assert_int_equal(ap_eval__op(&f.ev, &in, &o), 0);
	assert_int_equal(o.nmatch, 1);
	assert_string_equal(rule_of(&f, &o), "keep");
	in.path2 = "/proj/ws/y";
	assert_int_equal(ap_eval__op(&f.ev, &in, &o), 0);
	assert_int_equal(o.nmatch, 0);
	unload(&f);
}

static void test_labels_from_flow(void **state)
{
	struct fx f;
	struct ap_eval_out o;
	struct ap_eval_in in = { .op = AP_OP_OPEN, .tgid = 1, .path = "/proj/.env", .rd = true };

	/* reading a source file gives its label before the rule is tested
	 * (after the operation's own flow) */
	load(&f, "  source SECRET = file \"**/.env\"\n"
		 "  rule r:\n    block read file \"**/.env\" if SECRET\n"
		 "  rule n:\n    block read file \"**/.env\" if not SECRET\n");
	assert_int_equal(ap_eval__op(&f.ev, &in, &o), 0);
	assert_int_equal(o.nmatch, 1);
	assert_string_equal(rule_of(&f, &o), "r");
	assert_true(o.labels & 1);
	unload(&f);
}

static void test_connect_endpoint(void **state)
{
	struct fx f;
	struct ap_eval_out o;
	struct ap_eval_in in = { .op = AP_OP_CONNECT, .tgid = 1 };

	load(&f, "  rule no-net:\n    block connect endpoint \"*\" unless target \"127.0.0.1:8080\"\n");
	in.ep.family = AF_INET;
	in.ep.port = 443;
	memcpy(in.ep.addr, "\x5d\xb8\xd8\x22", 4);
	assert_int_equal(ap_eval__op(&f.ev, &in, &o), 0);
	assert_int_equal(o.nmatch, 1);
	memcpy(in.ep.addr, "\x7f\x00\x00\x01", 4);
	in.ep.port = 8080;
	assert_int_equal(ap_eval__op(&f.ev, &in, &o), 0);
	assert_int_equal(o.nmatch, 0);
	unload(&f);
}

/* the filter sends only what block/ask/kill rules need */
/* The supervisor's shortcut: may_match is false only where no labels,
 * gates or lineage could make the operation match (it must never be
 * false where ap_eval__op matches). */
static void test_may_match(void **state)
{
	struct fx f;
	struct ap_eval_out o;
	const char *push[] = { "git", "push" };
	const char *status[] = { "git", "status" };
	struct ap_eval_sets sets;
	struct ap_eval_in in = { .op = AP_OP_OPEN, .tgid = 1, .path = "/proj/.env", .wr = true };

	(void)state;
	load(&f, "  source SECRET = file \"/proj/secret\"\n"
		 "  rule env:\n    block write file \"**/.env*\"\n"
		 "  rule tainted:\n    block write file \"/proj/out/**\" if SECRET\n"
		 "  rule push:\n    block exec \"git\" \"push\"\n"
		 "  rule stay:\n    block unlink file \"/**\" unless target \"/proj/**\"\n"
		 "  rule keep:\n    block rename file \"/proj/keep/**\"\n");
	assert_true(ap_eval__may_match(&f.ev, &in, NULL));
	assert_int_equal(ap_eval__op(&f.ev, &in, &o), 0);
	assert_int_equal(o.nmatch, 1);
	/* no rule writes /dev/null, whatever the labels */
	in.path = "/dev/null";
	assert_false(ap_eval__may_match(&f.ev, &in, NULL));
	/* a label-conditioned rule: the process decides, so not skipped
	 * (here unknown to the maps: ap_eval__op decides) */
	in.path = "/proj/out/a";
	assert_true(ap_eval__may_match(&f.ev, &in, NULL));
	/* reading is not writing */
	in.path = "/proj/.env";
	in.wr = false;
	in.rd = true;
	assert_false(ap_eval__may_match(&f.ev, &in, NULL));
	/* exec: the arguments count */
	in = (struct ap_eval_in){ .op = AP_OP_EXEC, .tgid = 1, .path = "/usr/bin/git",
				  .argv = status, .argc = 2 };
	assert_false(ap_eval__may_match(&f.ev, &in, NULL));
	in.argv = push;
	assert_true(ap_eval__may_match(&f.ev, &in, NULL));
	/* unlink: the clause's target matches everything, the unless
	 * condition is left to ap_eval__op */
	in = (struct ap_eval_in){ .op = AP_OP_UNLINK, .tgid = 1, .path = "/proj/x" };
	assert_true(ap_eval__may_match(&f.ev, &in, NULL));
	assert_int_equal(ap_eval__op(&f.ev, &in, &o), 0);
	assert_int_equal(o.nmatch, 0);
	/* rename: the destination counts as well (a write rule does not
	 * cover a rename, contract section 3) */
	in = (struct ap_eval_in){ .op = AP_OP_RENAME, .tgid = 1, .path = "/tmp/a",
				  .path2 = "/proj/keep/x" };
	assert_true(ap_eval__may_match(&f.ev, &in, NULL));
	assert_int_equal(ap_eval__op(&f.ev, &in, &o), 0);
	assert_int_equal(o.nmatch, 1);
	in.path2 = "/proj/.env.local";
	assert_false(ap_eval__may_match(&f.ev, &in, NULL));
	assert_int_equal(ap_eval__op(&f.ev, &in, &o), 0);
	assert_int_equal(o.nmatch, 0);
	/* a hard link is a write of the new name; the patterns may_match
	 * found give ap_eval__op the same answer */
	in.link = true;
	assert_true(ap_eval__may_match(&f.ev, &in, &sets));
	in.sets = &sets;
	assert_int_equal(ap_eval__op(&f.ev, &in, &o), 0);
	assert_int_equal(o.nmatch, 1);
	assert_string_equal(rule_of(&f, &o), "env");
	unload(&f);
}

static void test_seccomp_plan(void **state)
{
	struct fx f;
	struct ap_sc_plan p;

	/* the session guard lowered to notify, so only the rules count */
	load(&f, "  rule a:\n    notify exec \"curl\"\n"
		 "  rule b:\n    block write file \"src/**\"\n"
		 "guard: notify\n");
	assert_int_equal(ap_seccomp__plan(&f.bv, &p), 0);
	assert_false(p.exec);
	assert_false(p.open_all);
	assert_true(p.open_write);
	assert_false(p.unlink);
	assert_false(p.connect);
	assert_true(p.any);
	unload(&f);

	load(&f, "  rule a:\n    notify exec \"curl\"\n    notify connect endpoint \"*\"\n"
		 "guard: notify\n");
	assert_int_equal(ap_seccomp__plan(&f.bv, &p), 0);
	assert_false(p.any);
	unload(&f);

	/* the session guard's `files` and `cgroup` items: opens for writing,
	 * rename/link and removal go to the supervisor on any policy */
	load(&f, "  rule a:\n    notify exec \"curl\"\n");
	assert_int_equal(ap_seccomp__plan(&f.bv, &p), 0);
	assert_true(p.open_write && p.rename && p.unlink);
	assert_false(p.exec || p.open_all || p.connect);
	unload(&f);

	load(&f, "  rule a:\n    ask read file \"x\"\n  rule b:\n    kill exec \"rm\"\n"
		 "  rule c:\n    block connect endpoint \"*\"\n  rule d:\n    block unlink file \"x\"\n");
	assert_int_equal(ap_seccomp__plan(&f.bv, &p), 0);
	assert_true(p.exec && p.open_all && p.connect && p.unlink);
	unload(&f);
}

static void test_landlock_plan(void **state)
{
	struct fx f;
	struct ap_ll_plan *p = calloc(1, sizeof(*p));

	load(&f, "  rule ws-only:\n    block write file \"/**\" unless target \"/proj/ws/**\"\n"
		 "  rule other:\n    block write file \"/x/**\" if not AGENT\n"
		 "  source AGENT = exec \"claude\"\n");
	assert_int_equal(ap_landlock__plan(&f.bv, p), 0);
	if (p->abi) {
		assert_true(ap_landlock__covers(p, 0));
		assert_false(ap_landlock__covers(p, 1));
		assert_int_equal(p->ndirs, 1);
		assert_string_equal(p->dirs[0], "/proj/ws");
	}
	unload(&f);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_args),
		cmocka_unit_test(test_open_modes_and_strongest),
		cmocka_unit_test(test_unless_target_and_rename),
		cmocka_unit_test(test_labels_from_flow),
		cmocka_unit_test(test_connect_endpoint),
		cmocka_unit_test(test_may_match),
		cmocka_unit_test(test_seccomp_plan),
		cmocka_unit_test(test_landlock_plan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
