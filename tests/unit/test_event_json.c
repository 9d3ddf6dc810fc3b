// SPDX-License-Identifier: MIT
/* The event stream writer: every line is valid JSON with the contract's
 * fields, seq is monotonic, strings survive any byte, counts add up. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "engine/event_json.h"

/* A writer with a memfd sink; read back every line it wrote. */
struct fixture {
	struct ap_evw *w;
	int fd;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->fd = memfd_create("events", 0);
	assert_true(f->fd >= 0);
	f->w = ap_evw__new("abc123", "tracepoint");
	assert_non_null(f->w);
	assert_int_equal(ap_evw__add_sink(f->w, f->fd, false), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ap_evw__free(f->w);
	close(f->fd);
	free(f);
	return 0;
}

/* All lines written so far, parsed; caller puts the array. */
static json_object *lines(struct fixture *f)
{
	json_object *arr = json_object_new_array();
	off_t size = lseek(f->fd, 0, SEEK_END);
	char *buf = calloc(1, (size_t)size + 1), *line, *save = NULL;

	assert_int_equal(pread(f->fd, buf, (size_t)size, 0), size);
	assert_true(size == 0 || buf[size - 1] == '\n');
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_object *o = json_tokener_parse(line);

		if (!o)
			fail_msg("not JSON: %s", line);
		json_object_array_add(arr, o);
	}
	free(buf);
	return arr;
}

static const char *sget(json_object *o, const char *k)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v))
		fail_msg("missing key %s in %s", k, json_object_to_json_string(o));
	return json_object_get_string(v);
}

static int64_t iget(json_object *o, const char *k)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v))
		fail_msg("missing key %s", k);
	return json_object_get_int64(v);
}

static const uint8_t sha[32] = { 0xde, 0xad, 0xbe, 0xef };

static void write_start(struct fixture *f)
{
	const char *rules[] = { "no-push", "no-exfil" };
	const char *seed[] = { "AGENT" };
	struct ap_ev_start s = {
		.ts_ns = 1700000000123456789ull,
		.policy = "/p/actplane.yaml",
		.policy_sha256 = sha,
		.rules = rules, .nrules = 2,
		.pid = 42,
		.seed = seed, .nseed = 1,
	};

	assert_int_equal(ap_evw__start(f->w, &s), 0);
}

static void test_start_fields(void **state)
{
	struct fixture *f = *state;
	json_object *all, *o, *rules;

	write_start(f);
	all = lines(f);
	assert_int_equal(json_object_array_length(all), 1);
	o = json_object_array_get_idx(all, 0);
	assert_int_equal(iget(o, "v"), 1);
	assert_string_equal(sget(o, "type"), "start");
	assert_string_equal(sget(o, "ts"), "2023-11-14T22:13:20.123456Z");
	assert_int_equal(iget(o, "seq"), 1);
	assert_string_equal(sget(o, "mode"), "tracepoint");
	assert_string_equal(sget(o, "policy"), "/p/actplane.yaml");
	assert_string_equal(sget(o, "policy_sha256"),
			    "deadbeef00000000000000000000000000000000000000000000000000000000");
	assert_string_equal(sget(o, "session"), "abc123");
	assert_int_equal(iget(o, "pid"), 42);
	assert_true(json_object_object_get_ex(o, "rules", &rules));
	assert_int_equal(json_object_array_length(rules), 2);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(rules, 1)),
			    "no-exfil");
	json_object_put(all);
}

static void test_violation_fields_and_escaping(void **state)
{
	struct fixture *f = *state;
	const char *rules[] = { "no-exfil", "other" };
	const char *labels[] = { "AGENT", "SECRET" };
	const char *argv[] = { "curl", "-d", "a\"b\\c\n\x01" };
	struct ap_ev_prov prov = {
		.label = "SECRET", .op = AP_OP_READ, .target = "/home/u/.ssh/id_rsa",
		.pid = 7, .comm = "cat", .ts_ns = 1000000000ull,
	};
	struct ap_ev_violation v = {
		.ts_ns = 1700000000000001000ull,
		.effect = AP_EFFECT_KILL, .action = AP_ACTION_KILLED,
		.rule = "no-exfil", .rules = rules, .nrules = 2,
		.reason = "secrets stay \"here\"",
		.op = AP_OP_CONNECT, .target = "127.0.0.1:9999",
		.argv = argv, .argc = 3,
		.pid = 10, .tid = 11, .ppid = 9, .uid = 1000,
		.comm = "curl", .exe = "/usr/bin/curl",
		.labels = labels, .nlabels = 2, .prov = &prov, .nprov = 1,
	};
	json_object *all, *o, *a, *p;

	write_start(f);
	assert_int_equal(ap_evw__violation(f->w, &v), 0);
	all = lines(f);
	o = json_object_array_get_idx(all, 1);
	assert_string_equal(sget(o, "type"), "violation");
	assert_int_equal(iget(o, "seq"), 2);
	assert_string_equal(sget(o, "ts"), "2023-11-14T22:13:20.000001Z");
	assert_string_equal(sget(o, "effect"), "kill");
	assert_string_equal(sget(o, "action"), "killed");
	assert_string_equal(sget(o, "rule"), "no-exfil");
	assert_string_equal(sget(o, "reason"), "secrets stay \"here\"");
	assert_string_equal(sget(o, "op"), "connect");
	assert_string_equal(sget(o, "target"), "127.0.0.1:9999");
	assert_int_equal(iget(o, "pid"), 10);
	assert_int_equal(iget(o, "tid"), 11);
	assert_int_equal(iget(o, "ppid"), 9);
	assert_int_equal(iget(o, "uid"), 1000);
	assert_string_equal(sget(o, "comm"), "curl");
	assert_string_equal(sget(o, "exe"), "/usr/bin/curl");
	assert_string_equal(sget(o, "session"), "abc123");
	assert_string_equal(sget(o, "mode"), "tracepoint");
	assert_true(json_object_object_get_ex(o, "argv", &a));
	assert_string_equal(json_object_get_string(json_object_array_get_idx(a, 2)),
			    "a\"b\\c\n\x01");
	assert_true(json_object_object_get_ex(o, "rules", &a));
	assert_int_equal(json_object_array_length(a), 2);
	assert_true(json_object_object_get_ex(o, "labels", &a));
	assert_string_equal(json_object_get_string(json_object_array_get_idx(a, 1)), "SECRET");
	assert_true(json_object_object_get_ex(o, "provenance", &a));
	assert_int_equal(json_object_array_length(a), 1);
	p = json_object_array_get_idx(a, 0);
	assert_string_equal(sget(p, "label"), "SECRET");
	assert_string_equal(sget(p, "op"), "read");
	assert_string_equal(sget(p, "target"), "/home/u/.ssh/id_rsa");
	assert_int_equal(iget(p, "pid"), 7);
	assert_string_equal(sget(p, "comm"), "cat");
	assert_string_equal(sget(p, "ts"), "1970-01-01T00:00:01.000000Z");
	/* no approval unless ask; no argv unless exec given */
	assert_false(json_object_object_get_ex(o, "approval", NULL));
	assert_int_equal(ap_evw__violations(f->w), 1);
	json_object_put(all);
}

static void test_invalid_utf8_stays_json(void **state)
{
	struct fixture *f = *state;
	/* lone continuation byte, overlong '/', truncated sequence, surrogate */
	const char *bad = "/tmp/\x80x\xc0\xaf\xe2\x82\xed\xa0\x80\xc3\xa9";
	struct ap_ev_violation v = {
		.effect = AP_EFFECT_NOTIFY, .action = AP_ACTION_REPORTED,
		.rule = "r", .reason = NULL, .op = AP_OP_OPEN, .target = bad,
		.comm = "x\xff", .exe = NULL,
	};
	json_object *all, *o, *a;
	const char *t;

	assert_int_equal(ap_evw__violation(f->w, &v), 0);
	all = lines(f);
	o = json_object_array_get_idx(all, 0);
	t = sget(o, "target");
	assert_string_equal(t, "/tmp/\xef\xbf\xbdx\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
			       "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xc3\xa9");
	assert_string_equal(sget(o, "reason"), "");
	assert_string_equal(sget(o, "exe"), "");
	/* a rule list is never empty-by-accident missing */
	assert_true(json_object_object_get_ex(o, "rules", &a));
	assert_false(json_object_object_get_ex(o, "argv", NULL));
	json_object_put(all);
}

static void test_seq_and_exit_counts(void **state)
{
	struct fixture *f = *state;
	struct ap_ev_violation v = {
		.effect = AP_EFFECT_NOTIFY, .action = AP_ACTION_AUDITED,
		.rule = "r", .op = AP_OP_UNLINK, .target = "/x",
	};
	struct ap_ev_loss l = {
		.kind = "ringbuf_drops", .count = 5, .total = 5,
		.what = "events lost",
	};
	struct ap_ev_exit x = { .status = 137, .signal = 9, .drops = 5, .evictions = 2 };
	json_object *all, *o;

	write_start(f);
	assert_int_equal(ap_evw__violation(f->w, &v), 0);
	assert_int_equal(ap_evw__violation(f->w, &v), 0);
	assert_int_equal(ap_evw__loss(f->w, &l), 0);
	assert_int_equal(ap_evw__exit(f->w, &x), 0);
	all = lines(f);
	assert_int_equal(json_object_array_length(all), 5);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(iget(json_object_array_get_idx(all, i), "seq"), (int64_t)i + 1);
	o = json_object_array_get_idx(all, 3);
	assert_string_equal(sget(o, "type"), "loss");
	assert_int_equal(iget(o, "count"), 5);
	assert_string_equal(sget(o, "kind"), "ringbuf_drops");
	o = json_object_array_get_idx(all, 4);
	assert_string_equal(sget(o, "type"), "exit");
	assert_int_equal(iget(o, "status"), 137);
	assert_int_equal(iget(o, "signal"), 9);
	assert_int_equal(iget(o, "events"), 4);
	assert_int_equal(iget(o, "violations"), 2);
	assert_int_equal(iget(o, "drops"), 5);
	assert_int_equal(iget(o, "evictions"), 2);
	assert_string_equal(sget(json_object_array_get_idx(all, 1), "action"), "audited");
	json_object_put(all);
}

static void test_decision(void **state)
{
	struct fixture *f = *state;
	struct ap_ev_decision d = { .approval = "a1", .decision = "approved", .by = "alice" };
	json_object *all, *o;

	assert_int_equal(ap_evw__decision(f->w, &d), 0);
	all = lines(f);
	o = json_object_array_get_idx(all, 0);
	assert_string_equal(sget(o, "type"), "decision");
	assert_string_equal(sget(o, "approval"), "a1");
	assert_string_equal(sget(o, "decision"), "approved");
	assert_string_equal(sget(o, "by"), "alice");
	json_object_put(all);
}

static void test_ts_format(void **state)
{
	char buf[40];

	(void)state;
	ap_ev__format_ts(999999ull, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000999Z");
	ap_ev__format_ts(0, buf, sizeof(buf)); /* now */
	assert_int_equal(strlen(buf), 27);
	assert_int_equal(buf[26], 'Z');
	assert_int_equal(buf[19], '.');
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(ap_ev__op_name(AP_OP_EXEC), "exec");
	assert_string_equal(ap_ev__op_name(AP_OP_SIGNAL), "signal");
	assert_string_equal(ap_ev__op_name(999), "?");
	assert_string_equal(ap_ev__effect_name(AP_EFFECT_KILL), "kill");
	assert_string_equal(ap_ev__action_name(AP_ACTION_HELD), "held");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_start_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_violation_fields_and_escaping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_utf8_stays_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seq_and_exit_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decision, setup, teardown),
		cmocka_unit_test(test_ts_format),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
