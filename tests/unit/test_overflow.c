// SPDX-License-Identifier: MIT
/* Fail closed on limits (policy-language.md section 4), user-space side:
 * the supervisor's evaluator treats every process of an overflowed session
 * as carrying every label seen in it, and the `loss` event of an overflow
 * names the map. The state maps are real BPF hash maps (root needed; the
 * test is skipped without). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/bpf.h>

#include "engine/engine.h"
#include "engine/eval.h"
#include "engine/event_json.h"
#include "policy/blob.h"
#include "policy/lower.h"
#include "policy/policy.h"

struct fx {
	void *blob;
	struct ap_blob_view bv;
	struct ap_eval_ctx ev;
	int procs, sessions;
};

static int setup(void **state)
{
	static const char text[] =
		"version: 1\npolicy: |\n"
		"  source SECRET = file \"/proj/secret.txt\"\n"
		"  rule no-exfil:\n"
		"    block connect endpoint \"*\" if SECRET\n";
	struct ap_load_opts o = { .cwd = "/proj" };
	struct ap_diags d = { 0 };
	struct ap_policy *pol = NULL;
	struct ap_compiled *c = NULL;
	const char *why = NULL;
	struct fx *f = calloc(1, sizeof(*f));
	size_t size;

	assert_non_null(f);
	assert_int_equal(ap_policy_load_buffer("t.yaml", text, strlen(text), &o, &d, &pol), 0);
	assert_int_equal(ap_lower(pol, NULL, &d, &c), 0);
	assert_int_equal(ap_compiled__to_blob(c, &f->blob, &size), 0);
	assert_int_equal(ap_blob__view(f->blob, size, &f->bv, &why), 0);
	ap_compiled__free(c);
	ap_diags__free(&d);
	ap_policy__free(pol);
	f->procs = bpf_map_create(BPF_MAP_TYPE_HASH, "ap_procs", 4,
				  sizeof(struct ap_proc), 16, NULL);
	f->sessions = bpf_map_create(BPF_MAP_TYPE_HASH, "ap_sessions", 4,
				     sizeof(struct ap_session), 4, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->procs >= 0)
		close(f->procs);
	if (f->sessions >= 0)
		close(f->sessions);
	free(f->blob);
	free(f);
	return 0;
}

static unsigned secret_bit(const struct fx *f)
{
	for (unsigned i = 0; i < f->bv.hdr->nlabels; i++)
		if (!strcmp(ap_blob__str(&f->bv, f->bv.labels[i]), "SECRET"))
			return i;
	fail_msg("no SECRET label");
	return 0;
}

static void put_session(struct fx *f, uint32_t sid, uint64_t seen, bool overflowed)
{
	struct ap_session *ss = calloc(1, sizeof(*ss));

	assert_non_null(ss);
	ss->live = 2;
	ss->seen_labels = seen;
	ss->flags = overflowed ? AP_SESSION_F_OVERFLOWED : 0;
	ss->overflow = overflowed ? AP_OVF_FILES : 0;
	assert_int_equal(bpf_map_update_elem(f->sessions, &sid, ss, BPF_ANY), 0);
	free(ss);
}

static void test_overflowed_session_carries_seen(void **state)
{
	struct fx *f = *state;
	struct ap_proc p = { .session = 1 };
	uint32_t tgid = 4242;
	uint64_t secret;
	struct ap_eval_out o;
	struct ap_eval_in in = { .op = AP_OP_CONNECT, .tgid = (pid_t)tgid,
				 .ep = { .family = 2, .port = 80, .addr = { 127, 0, 0, 1 } } };

	if (f->procs < 0 || f->sessions < 0)
		skip(); /* not root: no BPF maps */
	secret = 1ULL << secret_bit(f);
	assert_int_equal(bpf_map_update_elem(f->procs, &tgid, &p, BPF_ANY), 0);
	assert_int_equal(ap_eval_ctx__init(&f->ev, &f->bv, f->procs, f->sessions, -1, -1, 1), 0);

	/* the process has no label of its own: a session that saw SECRET but
	 * did not overflow lets its connect through */
	put_session(f, 1, secret, false);
	assert_int_equal(ap_eval__op(&f->ev, &in, &o), 0);
	assert_true(o.known);
	assert_int_equal(o.nmatch, 0);

	/* overflowed: it is evaluated with every label seen in the session */
	put_session(f, 1, secret, true);
	assert_int_equal(ap_eval__op(&f->ev, &in, &o), 0);
	assert_int_equal(o.nmatch, 1);
	assert_int_equal(o.effect, AP_EFFECT_BLOCK);
	assert_true(o.labels & secret);

	/* overflowed but SECRET never seen: nothing to carry */
	put_session(f, 1, 0, true);
	assert_int_equal(ap_eval__op(&f->ev, &in, &o), 0);
	assert_int_equal(o.nmatch, 0);
}

static void test_overflow_loss_event(void **state)
{
	struct ap_event_rec ev;
	struct ap_ev_loss l;
	char buf[640], names[128];

	(void)state;
	memset(&ev, 0, sizeof(ev));
	ev.kind = AP_EVENT_LOSS;
	ev.session = 3;
	ev.overflow = AP_OVF_FILES | AP_OVF_PROCS;
	ev.loss.map_full = 77;
	ap_event__overflow_loss(&ev, &l, buf, sizeof(buf));
	assert_string_equal(l.kind, "overflow");
	assert_true(l.overflowed);
	assert_int_equal(l.count, 77);
	assert_string_equal(l.reason, "map full: ap_procs,ap_files");
	assert_non_null(strstr(l.what, "every label seen"));
	assert_non_null(strstr(l.what, "ap_files (the labels of a file"));
	assert_string_equal(ap_engine__overflow_str(AP_OVF_SHMAPS, false, names, sizeof(names)),
			    "ap_shmaps");
	/* a short buffer is cut, never overrun */
	assert_true(strlen(ap_engine__overflow_str(0xff, true, names, 16)) < 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overflowed_session_carries_seen),
		cmocka_unit_test(test_overflow_loss_event),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
