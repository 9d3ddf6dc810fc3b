// SPDX-License-Identifier: MIT
/* Session lifecycle helpers: the status state file (JSON round trip, atomic
 * write with mode 0644, removal, staleness) and the approvals refusal (the
 * caller's session from its cgroup, the message and the event's `by`). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "cli/session_state.h"
#include "enforce/approvals.h"

static char dir[64];

static int setup(void **st)
{
	(void)st;
	snprintf(dir, sizeof(dir), "/tmp/ap-state-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **st)
{
	char cmd[128];

	(void)st;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void sample(struct ap_state *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->session, sizeof(s->session), "0123456789abcdef");
	snprintf(s->mode, sizeof(s->mode), "supervised");
	snprintf(s->policy, sizeof(s->policy), "/p/actplane.yaml");
	memset(s->policy_sha256, 'a', 64);
	snprintf(s->cgroup, sizeof(s->cgroup), "/sys/fs/cgroup/actplane-0123456789abcdef");
	s->run_pid = 100;
	s->cmd_pid = 101;
	s->cmd_exited = true;
	s->keep_alive = true;
	s->overflowed = true;
	s->processes = 7;
	s->started_ns = 1700000000123456000ull;
	s->updated_ns = 1700000005000000000ull;
	s->events = 12;
	s->violations = 3;
	s->counters.events = 40;
	s->counters.ringbuf_drops = 1;
	s->counters.map_full = 2;
	s->counters.evictions = 5;
	s->counters.read_fails = 6;
}

static void test_round_trip(void **st)
{
	struct ap_state a, b;
	struct json_object *o, *c, *v;

	(void)st;
	sample(&a);
	o = ap_state__to_json(&a);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "counters", &c));
	assert_true(json_object_object_get_ex(c, "evictions", &v));
	assert_int_equal(json_object_get_int64(v), 5);
	assert_true(json_object_object_get_ex(o, "started", &v));
	assert_string_equal(json_object_get_string(v), "2023-11-14T22:13:20.123456Z");
	assert_int_equal(ap_state__from_json(o, &b), 0);
	assert_string_equal(b.session, a.session);
	assert_string_equal(b.mode, "supervised");
	assert_string_equal(b.policy, a.policy);
	assert_string_equal(b.policy_sha256, a.policy_sha256);
	assert_int_equal(b.run_pid, 100);
	assert_int_equal(b.cmd_pid, 101);
	assert_true(b.cmd_exited && b.keep_alive && b.overflowed && !b.audit);
	assert_int_equal(b.processes, 7);
	assert_int_equal(b.started_ns, a.started_ns);
	assert_int_equal(b.events, 12);
	assert_int_equal(b.violations, 3);
	assert_memory_equal(&b.counters, &a.counters, sizeof(a.counters));
	json_object_put(o);
}

static void test_from_json_rejects(void **st)
{
	struct ap_state s;
	struct json_object *o;

	(void)st;
	o = json_tokener_parse("{\"v\":1,\"session\":\"x\"}"); /* no run_pid */
	assert_int_equal(ap_state__from_json(o, &s), -EINVAL);
	json_object_put(o);
	o = json_tokener_parse("{\"v\":2,\"session\":\"x\",\"run_pid\":1}");
	assert_int_equal(ap_state__from_json(o, &s), -EINVAL);
	json_object_put(o);
	o = json_tokener_parse("[1]");
	assert_int_equal(ap_state__from_json(o, &s), -EINVAL);
	json_object_put(o);
	assert_int_equal(ap_state__from_json(NULL, &s), -EINVAL);
	/* unknown keys ignored, missing optional ones defaulted */
	o = json_tokener_parse("{\"v\":1,\"session\":\"x\",\"run_pid\":9,\"new\":[]}");
	assert_int_equal(ap_state__from_json(o, &s), 0);
	assert_int_equal(s.run_pid, 9);
	assert_int_equal(s.processes, -1);
	json_object_put(o);
}

static void test_write_remove(void **st)
{
	struct ap_state a, b;
	char path[256], sub[128];
	struct json_object *o;
	struct stat sb;
	mode_t old = umask(077);

	(void)st;
	sample(&a);
	/* the directory is created, the file is world-readable whatever the umask */
	snprintf(sub, sizeof(sub), "%s/sessions", dir);
	assert_int_equal(ap_state__write(sub, &a), 0);
	umask(old);
	snprintf(path, sizeof(path), "%s/%s.json", sub, a.session);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);
	o = json_object_from_file(path);
	assert_non_null(o);
	assert_int_equal(ap_state__from_json(o, &b), 0);
	assert_int_equal(b.violations, 3);
	json_object_put(o);
	/* replaced, not appended; no temporary left */
	a.violations = 4;
	assert_int_equal(ap_state__write(sub, &a), 0);
	o = json_object_from_file(path);
	assert_int_equal(ap_state__from_json(o, &b), 0);
	assert_int_equal(b.violations, 4);
	json_object_put(o);
	snprintf(path, sizeof(path), "%s/%s.json.tmp", sub, a.session);
	assert_int_not_equal(access(path, F_OK), 0);
	assert_int_equal(ap_state__remove(sub, a.session), 0);
	assert_int_equal(ap_state__remove(sub, a.session), 0); /* missing: fine */
	/* a session name cannot point elsewhere */
	snprintf(a.session, sizeof(a.session), "../x");
	assert_int_equal(ap_state__write(sub, &a), -EINVAL);
	assert_int_equal(ap_state__remove(sub, "../x"), -EINVAL);
}

static void test_stale(void **st)
{
	struct ap_state s;
	char buf[96];
	uint64_t sec = 1000000000ull;

	(void)st;
	sample(&s);
	assert_null(ap_state__stale(&s, s.updated_ns + 2 * sec, true, buf, sizeof(buf)));
	assert_non_null(ap_state__stale(&s, s.updated_ns + 2 * sec, false, buf, sizeof(buf)));
	assert_non_null(strstr(buf, "100"));
	assert_non_null(ap_state__stale(&s, s.updated_ns + (AP_STATE_STALE_S + 1) * sec, true,
					buf, sizeof(buf)));
	assert_non_null(strstr(buf, "not updated"));
	/* a clock step backwards is not staleness */
	assert_null(ap_state__stale(&s, s.updated_ns - 5 * sec, true, buf, sizeof(buf)));
}

static void test_refusal(void **st)
{
	char msg[300], by[160], sess[40];
	int r;

	(void)st;
	ap_approvals__refusal("approve", "abcd", 42, 1000, msg, sizeof(msg), by, sizeof(by));
	assert_non_null(strstr(msg, "error: refused: you are inside session abcd"));
	assert_non_null(strstr(msg, "cannot approve its own request"));
	assert_int_equal(msg[strlen(msg) - 1], '\n');
	assert_string_equal(by, "pid 42 uid 1000 inside session abcd");
	ap_approvals__refusal("deny", "abcd", 42, 0, msg, sizeof(msg), by, sizeof(by));
	assert_non_null(strstr(msg, "cannot deny"));
	/* this test process is in no session (unless run under actplane) */
	r = ap_approvals__caller_session(getpid(), sess, sizeof(sess));
	assert_true(r == 0 || r == 1);
	if (r == 1)
		assert_true(strlen(sess) > 0);
	assert_true(ap_approvals__caller_session(-1, sess, sizeof(sess)) < 0);
}

/* the control socket pins its peer: alive while it runs, not once gone */
static void test_peer_pidfd(void **st)
{
	int sv[2], fd;
	pid_t child;

	(void)st;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fd = ap_approvals__peer_pidfd(sv[0], getpid());
	assert_true(fd >= 0);
	assert_true(ap_approvals__pidfd_alive(fd));
	close(fd);
	close(sv[0]);
	close(sv[1]);
	/* a connecting child (socketpair credentials are the creator's) */
	{
		struct sockaddr_un un = { .sun_family = AF_UNIX };
		struct ucred cr;
		socklen_t cl = sizeof(cr);
		int ls = socket(AF_UNIX, SOCK_STREAM, 0), c;

		snprintf(un.sun_path + 1, sizeof(un.sun_path) - 1, "ap-unit-%d", (int)getpid());
		assert_int_equal(bind(ls, (struct sockaddr *)&un, sizeof(un)), 0);
		assert_int_equal(listen(ls, 1), 0);
		child = fork();
		assert_true(child >= 0);
		if (child == 0) {
			int s = socket(AF_UNIX, SOCK_STREAM, 0);
			char b;

			if (connect(s, (struct sockaddr *)&un, sizeof(un)))
				_exit(1);
			/* wait until the parent has pinned us */
			_exit(read(s, &b, 1) == 1 ? 0 : 1);
		}
		c = accept(ls, NULL, NULL);
		assert_true(c >= 0);
		assert_int_equal(getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cl), 0);
		assert_int_equal(cr.pid, child);
		fd = ap_approvals__peer_pidfd(c, cr.pid);
		assert_true(fd >= 0);
		assert_true(ap_approvals__pidfd_alive(fd));
		assert_int_equal(write(c, "x", 1), 1);
		waitpid(child, NULL, 0);
		assert_false(ap_approvals__pidfd_alive(fd));
		close(fd);
		close(c);
		close(ls);
	}
	assert_false(ap_approvals__pidfd_alive(-1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_from_json_rejects),
		cmocka_unit_test_setup_teardown(test_write_remove, setup, teardown),
		cmocka_unit_test(test_stale),
		cmocka_unit_test(test_refusal),
		cmocka_unit_test(test_peer_pidfd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
