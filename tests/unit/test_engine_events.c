// SPDX-License-Identifier: MIT
/*
 * The engine's pure user-space pieces: ring buffer record decoding, sockaddr
 * formatting, the clause order the kernel keeps, degraded effects.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine/engine_int.h"
#include "policy/blob.h"

static int fake_exe(int pid, char *buf, size_t size)
{
	snprintf(buf, size, "/proc-exe-of-%d", pid);
	return 0;
}

static struct ap_rec *rec_new(void)
{
	struct ap_rec *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->type = AP_REC_VIOLATION;
	r->pid = 10;
	r->tid = 11;
	r->ppid = 1;
	r->uid = 1000;
	r->session = 3;
	r->op = AP_OP_EXEC;
	r->effect = AP_EFFECT_KILL;
	r->action = AP_ACTION_KILLED;
	strcpy(r->comm, "git");
	return r;
}

/* append target, argv, exe in the data area */
static size_t rec_data(struct ap_rec *r, const char *t, size_t tl, const char *a,
		       size_t al, const char *x, size_t xl)
{
	char *p = r->data;

	memcpy(p, t, tl);
	memcpy(p + tl, a, al);
	memcpy(p + tl + al, x, xl);
	r->target_len = tl;
	r->argv_len = al;
	r->exe_len = xl;
	r->size = offsetof(struct ap_rec, data) + tl + al + xl;
	return r->size;
}

static void test_decode_exec(void **state)
{
	static struct ap_event_decoder d;
	struct ap_event_rec ev;
	struct ap_rec *r = rec_new();
	static const char argv[] = "git\0push\0origin\0";
	size_t n;

	d.read_exe = fake_exe;
	d.boot_to_real_ns = 1000;
	r->ts = 5;
	r->rules[0] = 1u << 2 | 1u << 5;
	r->rules[1] = 1;  /* rule 64 */
	r->rule = 5;
	r->labels = 0x3;
	r->mattered = 0x2;
	r->nprov = 1;
	r->prov[0].label = 1;
	r->prov[0].op = AP_OP_READ;
	r->prov[0].pid = 7;
	r->prov[0].ts = 2;
	strcpy(r->prov[0].comm, "cat");
	strcpy(r->prov[0].target, "/home/u/.ssh/id_rsa");
	r->prov[0].target_len = strlen(r->prov[0].target);
	n = rec_data(r, "/usr/bin/git", 12, argv, sizeof(argv) - 1, "/usr/bin/git", 12);
	assert_int_equal(ap_event__decode(&d, r, n, &ev), 0);
	assert_int_equal(ev.kind, AP_EVENT_VIOLATION);
	assert_int_equal(ev.ts_ns, 1005);
	assert_int_equal(ev.effect, AP_EFFECT_KILL);
	assert_int_equal(ev.action, AP_ACTION_KILLED);
	assert_string_equal(ev.target, "/usr/bin/git");
	assert_int_equal(ev.argc, 3);
	assert_string_equal(ev.argv[0], "git");
	assert_string_equal(ev.argv[1], "push");
	assert_string_equal(ev.argv[2], "origin");
	assert_null(ev.argv[3]);
	assert_string_equal(ev.exe, "/usr/bin/git");
	assert_int_equal(ev.nrules, 3);
	assert_int_equal(ev.rules[0], 2);
	assert_int_equal(ev.rules[1], 5);
	assert_int_equal(ev.rules[2], 64);
	assert_int_equal(ev.rule, 5);
	assert_int_equal(ev.pid, 10);
	assert_int_equal(ev.tid, 11);
	assert_string_equal(ev.comm, "git");
	assert_int_equal(ev.nprov, 1);
	assert_string_equal(ev.prov[0].target, "/home/u/.ssh/id_rsa");
	assert_int_equal(ev.prov[0].pid, 7);
	assert_int_equal(ev.prov[0].ts_ns, 1002);
	assert_string_equal(ev.prov[0].comm, "cat");
	assert_false(ev.degraded);
	free(r);
}

static void test_decode_target2_and_exe_fallback(void **state)
{
	static struct ap_event_decoder d;
	struct ap_event_rec ev;
	struct ap_rec *r = rec_new();
	size_t n;

	d.read_exe = fake_exe;
	r->op = AP_OP_RENAME;
	r->effect = AP_EFFECT_BLOCK;
	r->action = AP_ACTION_REPORTED;
	r->flags = AP_REC_F_TARGET2;
	n = rec_data(r, "/a/b", 4, "", 0, "/c/d", 4);
	assert_int_equal(ap_event__decode(&d, r, n, &ev), 0);
	assert_string_equal(ev.target, "/a/b");
	assert_string_equal(ev.target2, "/c/d");
	assert_string_equal(ev.exe, "/proc-exe-of-10");
	assert_null(ev.argv);
	assert_true(ev.degraded);
	free(r);
}

static void test_decode_unresolved_and_sockaddr(void **state)
{
	static struct ap_event_decoder d;
	struct ap_event_rec ev;
	struct ap_rec *r = rec_new();
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(22) };
	size_t n;

	d.read_exe = fake_exe;
	r->type = AP_REC_UNRESOLVED;
	n = rec_data(r, "", 0, "", 0, "", 0);
	assert_int_equal(ap_event__decode(&d, r, n, &ev), 0);
	assert_int_equal(ev.kind, AP_EVENT_UNRESOLVED);
	assert_string_equal(ev.target, "?");

	r->type = AP_REC_VIOLATION;
	r->op = AP_OP_CONNECT;
	r->flags = AP_REC_F_SOCKADDR;
	inet_pton(AF_INET6, "::1", &s6.sin6_addr);
	n = rec_data(r, (const char *)&s6, sizeof(s6), "", 0, "", 0);
	assert_int_equal(ap_event__decode(&d, r, n, &ev), 0);
	assert_string_equal(ev.target, "[::1]:22");
	free(r);
}

static void test_decode_rejects_malformed(void **state)
{
	static struct ap_event_decoder d;
	struct ap_event_rec ev;
	struct ap_rec *r = rec_new();
	size_t n;

	d.read_exe = fake_exe;
	n = rec_data(r, "/x", 2, "", 0, "", 0);
	assert_int_equal(ap_event__decode(&d, r, 10, &ev), -EINVAL);  /* short */
	r->target_len = 5000;
	assert_int_equal(ap_event__decode(&d, r, n, &ev), -EINVAL);  /* overlong */
	r->target_len = 2;
	r->type = 77;
	assert_int_equal(ap_event__decode(&d, r, n, &ev), -EINVAL);  /* unknown type */
	r->type = AP_REC_VIOLATION;
	r->nprov = AP_REC_PROV_MAX + 1;
	assert_int_equal(ap_event__decode(&d, r, n, &ev), -EINVAL);
	r->nprov = 0;
	r->op = AP_OP__COUNT;
	assert_int_equal(ap_event__decode(&d, r, n, &ev), -EINVAL);
	free(r);
}

static void test_sockaddr_format(void **state)
{
	char buf[256];
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(443) };
	unsigned char un[32] = { 1, 0 };

	inet_pton(AF_INET, "10.1.2.3", &s4.sin_addr);
	ap_sockaddr__format(&s4, sizeof(s4), buf, sizeof(buf));
	assert_string_equal(buf, "10.1.2.3:443");
	memcpy(un + 2, "/run/docker.sock", 17);
	ap_sockaddr__format(un, 2 + 17, buf, sizeof(buf));
	assert_string_equal(buf, "unix:/run/docker.sock");
	memset(un + 2, 0, 30);
	memcpy(un + 3, "abst", 4);
	ap_sockaddr__format(un, 2 + 1 + 4, buf, sizeof(buf));
	assert_string_equal(buf, "unix:@abst");
	ap_sockaddr__format(un, 1, buf, sizeof(buf));
	assert_string_equal(buf, "?");
}

/* a hand-built view: only the clause table and header are read */
static void test_clause_order_and_degraded(void **state)
{
	struct ap_blob_header h = { 0 };
	struct ap_clause cl[5] = { 0 };
	struct ap_blob_view v = { .hdr = &h, .clauses = cl };
	struct ap_clause_order o;

	cl[0].op = AP_OP_OPEN;    cl[0].effect = AP_EFFECT_NOTIFY;
	cl[1].op = AP_OP_EXEC;    cl[1].effect = AP_EFFECT_KILL;
	cl[2].op = AP_OP_OPEN;    cl[2].effect = AP_EFFECT_BLOCK;
	cl[3].op = AP_OP_CONNECT; cl[3].effect = AP_EFFECT_ASK;
	cl[4].op = AP_OP_EXEC;    cl[4].effect = AP_EFFECT_NOTIFY;
	h.nclauses = 5;
	assert_int_equal(ap_clause_order__build(&v, &o), 0);
	assert_int_equal(o.n, 5);
	assert_int_equal(o.first[AP_OP_EXEC], 0);
	assert_int_equal(o.count[AP_OP_EXEC], 2);
	assert_int_equal(o.idx[0], 1);  /* stable within an op */
	assert_int_equal(o.idx[1], 4);
	assert_int_equal(o.first[AP_OP_OPEN], 2);
	assert_int_equal(o.count[AP_OP_OPEN], 2);
	assert_int_equal(o.idx[2], 0);
	assert_int_equal(o.idx[3], 2);
	assert_int_equal(o.count[AP_OP_CONNECT], 1);
	assert_int_equal(o.idx[o.first[AP_OP_CONNECT]], 3);
	assert_int_equal(o.count[AP_OP_UNLINK], 0);
	ap_clause_order__free(&o);
	ap_clause_order__free(NULL);
	assert_int_equal(ap_engine__degraded_mask(&v),
			 1u << AP_EFFECT_BLOCK | 1u << AP_EFFECT_ASK);
	h.nclauses = 2;
	assert_int_equal(ap_engine__degraded_mask(&v), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_exec),
		cmocka_unit_test(test_decode_target2_and_exe_fallback),
		cmocka_unit_test(test_decode_unresolved_and_sockaddr),
		cmocka_unit_test(test_decode_rejects_malformed),
		cmocka_unit_test(test_sockaddr_format),
		cmocka_unit_test(test_clause_order_and_degraded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
