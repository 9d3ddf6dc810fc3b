// SPDX-License-Identifier: MIT
/* `actplane feedback-hook`: the hook JSON in and out for Claude Code
 * (PostToolUse, PostToolUseFailure) and Codex (PostToolUse), only new
 * entries, folded repeats, rotation, feedback.path, partial entries, and
 * never failing on bad input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "agent/feedback.h"
#include "agent/hook.h"

static char dir[64];
static char state[128];
static uint64_t now;

static void write_file(const char *path, const char *text, const char *mode)
{
	FILE *f = fopen(path, mode);
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void setup_project(const char *yaml)
{
	char p[256];

	snprintf(dir, sizeof(dir), "/tmp/ap-hook-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(p, sizeof(p), "%s/actplane.yaml", dir);
	write_file(p, yaml, "w");
	snprintf(p, sizeof(p), "%s/sub", dir);
	mkdir(p, 0755);
	now = (uint64_t)time(NULL);
	unsetenv("ACTPLANE_FEEDBACK_FILE");
}

static void teardown_project(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void record(const char *fbpath, const char *target, uint64_t ts_s)
{
	struct ap_feedback *fb;
	struct ap_feedback_opts o = { .path = fbpath, .root = dir, .uid = -1, .gid = -1 };
	const char *const av[] = { "git", "push" };
	struct ap_fb_match m = {
		.ts_ns = ts_s * 1000000000ull, .effect = AP_EFFECT_KILL,
		.action = AP_ACTION_KILLED, .rule = "no-push",
		.because = "pushing is done by the release job", .op = AP_OP_EXEC,
		.target = target, .argv = av, .argc = 2, .comm = "git", .pid = 9,
	};

	assert_int_equal(ap_feedback__new(&o, &fb), 0);
	assert_int_equal(ap_feedback__record(fb, &m), 0);
	ap_feedback__free(fb);
}

/* run the hook; returns additionalContext (malloc'd) or NULL; checks the
 * event name echoes the input's */
static char *hook(const char *event, const char *cwd_rel)
{
	char in[1024], cwd[256], *out = NULL, *ctx = NULL;
	struct ap_hook_opts o = { .state_dir = state, .now_unix = now };
	struct json_object *j, *hso, *v;

	snprintf(cwd, sizeof(cwd), "%s%s", dir, cwd_rel);
	if (!strcmp(event, "PostToolUseFailure")) /* Claude Code, killed command */
		snprintf(in, sizeof(in),
			 "{\"session_id\":\"s\",\"transcript_path\":\"/x\",\"cwd\":\"%s\",\"prompt_id\":\"p\","
			 "\"permission_mode\":\"default\",\"hook_event_name\":\"PostToolUseFailure\","
			 "\"tool_name\":\"Bash\",\"tool_input\":{\"command\":\"git push origin HEAD\",\"description\":\"d\"},"
			 "\"tool_use_id\":\"toolu_1\",\"error\":\"Exit code 137\\n/bin/bash: line 1: 5 Killed  git push origin HEAD\","
			 "\"is_interrupt\":false}", cwd);
	else /* Codex PostToolUse */
		snprintf(in, sizeof(in),
			 "{\"session_id\":\"s\",\"turn_id\":\"t\",\"transcript_path\":null,\"cwd\":\"%s\","
			 "\"hook_event_name\":\"PostToolUse\",\"model\":\"gpt-5\",\"permission_mode\":\"bypassPermissions\","
			 "\"tool_name\":\"Bash\",\"tool_input\":{\"command\":\"git push origin HEAD\"},"
			 "\"tool_response\":\"\",\"tool_use_id\":\"call_1\"}", cwd);
	assert_int_equal(ap_hook__handle(in, strlen(in), &o, &out), 0);
	if (!out)
		return NULL;
	assert_int_equal(out[strlen(out) - 1], '\n');
	j = json_tokener_parse(out);
	assert_non_null(j);
	assert_true(json_object_object_get_ex(j, "hookSpecificOutput", &hso));
	assert_true(json_object_object_get_ex(hso, "hookEventName", &v));
	assert_string_equal(json_object_get_string(v), event);
	assert_true(json_object_object_get_ex(hso, "additionalContext", &v));
	ctx = strdup(json_object_get_string(v));
	json_object_put(j);
	free(out);
	return ctx;
}

static unsigned occurrences(const char *s, const char *sub)
{
	unsigned n = 0;
	for (const char *p = s; (p = strstr(p, sub)); p++)
		n++;
	return n;
}

static void test_claude_and_codex_golden(void **st)
{
	char fb[256], *c;

	setup_project("version: 1\npolicy: |\n  rule no-push:\n    kill exec \"git\" \"push\"\n");
	snprintf(fb, sizeof(fb), "%s/.actplane/last-violation.txt", dir);
	record(fb, "/usr/bin/git", now);

	c = hook("PostToolUseFailure", "/sub");
	assert_non_null(c);
	assert_string_equal(c,
		"[actplane] killed: exec `git push` (/usr/bin/git) by git (pid 9)\n"
		"rule no-push\n"
		"because: pushing is done by the release job\n"
		"retry: retrying it unchanged will be stopped again\n"
		"next: do not do this from the agent's session; take another path or ask the user to do it\n");
	free(c);
	/* nothing new: no output at all */
	assert_null(hook("PostToolUseFailure", "/sub"));
	assert_null(hook("PostToolUse", ""));

	record(fb, "/usr/local/bin/git", now);
	c = hook("PostToolUse", "");
	assert_non_null(c);
	assert_int_equal(occurrences(c, "[actplane]"), 1);
	assert_non_null(strstr(c, "/usr/local/bin/git"));
	assert_null(strstr(c, "{\"actplane\"")); /* JSON lines stay in the file */
	free(c);
	teardown_project();
}

static void test_fold_reemits(void **st)
{
	char fb[256], *c;
	struct ap_feedback *w;
	struct ap_feedback_opts o = { .root = NULL, .uid = -1, .gid = -1, .fold_ms = 60000 };
	const char *const av[] = { "git", "push" };
	struct ap_fb_match m = { .effect = AP_EFFECT_KILL, .action = AP_ACTION_KILLED,
		.rule = "no-push", .op = AP_OP_EXEC, .target = "/usr/bin/git", .argv = av, .argc = 2 };

	setup_project("version: 1\npolicy: |\n  rule no-push:\n    kill exec \"git\" \"push\"\n");
	snprintf(fb, sizeof(fb), "%s/.actplane/last-violation.txt", dir);
	o.path = fb;
	m.ts_ns = now * 1000000000ull;
	assert_int_equal(ap_feedback__new(&o, &w), 0);
	assert_int_equal(ap_feedback__record(w, &m), 0);
	c = hook("PostToolUse", "");
	assert_non_null(c);
	assert_null(strstr(c, "repeated"));
	free(c);
	/* the agent retried at once: folded into the entry already shown */
	m.ts_ns += 1000000ull;
	assert_int_equal(ap_feedback__record(w, &m), 0);
	c = hook("PostToolUse", "");
	assert_non_null(c);
	assert_non_null(strstr(c, "repeated: 2 times"));
	free(c);
	assert_null(hook("PostToolUse", ""));
	ap_feedback__free(w);
	teardown_project();
}

static void test_feedback_path_and_partial(void **st)
{
	char fb[256], *c;

	setup_project("version: 1\npolicy: |\n  rule no-push:\n    kill exec \"git\" \"push\"\n"
		      "feedback:\n  path: logs/agent-feedback.txt\nrun:\n  seed: []\n");
	snprintf(fb, sizeof(fb), "%s/logs", dir);
	mkdir(fb, 0755);
	snprintf(fb, sizeof(fb), "%s/logs/agent-feedback.txt", dir);
	/* an entry still being written (no JSON line yet) is not shown */
	write_file(fb, "[actplane] killed: exec `x`\nrule r\n", "w");
	assert_null(hook("PostToolUse", "/sub"));
	char line[128];
	snprintf(line, sizeof(line), "{\"actplane\":1,\"ts_unix\":%llu,\"count\":1         }\n",
		 (unsigned long long)now);
	write_file(fb, line, "a");
	c = hook("PostToolUse", "/sub");
	assert_non_null(c);
	assert_string_equal(c, "[actplane] killed: exec `x`\nrule r\n");
	free(c);
	teardown_project();
}

static void test_first_call_skips_history(void **st)
{
	char fb[256], *c;

	setup_project("version: 1\npolicy: |\n  rule no-push:\n    kill exec \"git\" \"push\"\n");
	snprintf(fb, sizeof(fb), "%s/.actplane/last-violation.txt", dir);
	record(fb, "/old/git", now - 3 * AP_HOOK_FIRST_WINDOW_S);
	record(fb, "/new/git", now - 5);
	c = hook("PostToolUse", "");
	assert_non_null(c);
	assert_null(strstr(c, "/old/git"));
	assert_non_null(strstr(c, "/new/git"));
	free(c);
	teardown_project();
}

static void test_rotation_followed(void **st)
{
	char fb[256], rot[300], *c;
	struct ap_feedback *w;
	struct ap_feedback_opts o = { .uid = -1, .gid = -1, .fold_ms = 1 };
	const char *const av[] = { "git", "push" };
	struct ap_fb_match m = { .effect = AP_EFFECT_KILL, .action = AP_ACTION_KILLED,
		.rule = "no-push", .op = AP_OP_EXEC, .argv = av, .argc = 2 };
	char tgt[64];

	setup_project("version: 1\npolicy: |\n  rule no-push:\n    kill exec \"git\" \"push\"\n");
	snprintf(fb, sizeof(fb), "%s/.actplane/last-violation.txt", dir);
	snprintf(rot, sizeof(rot), "%s.1", fb);
	o.path = fb;
	m.ts_ns = now * 1000000000ull;
	m.target = "/t/0";
	{
		/* one rotation among the next four entries: FILE.1 is followed */
		char *e = NULL;
		assert_int_equal(ap_feedback__format(&m, 1, &e), 0);
		o.max_bytes = strlen(e) * 7 / 2;
		free(e);
	}
	assert_int_equal(ap_feedback__new(&o, &w), 0);
	assert_int_equal(ap_feedback__record(w, &m), 0);
	c = hook("PostToolUse", "");
	assert_non_null(c);
	free(c);
	/* enough entries to rotate; the hook must see every one once */
	for (int i = 1; i <= 4; i++) {
		snprintf(tgt, sizeof(tgt), "/t/%d", i);
		m.target = tgt;
		m.ts_ns += 1000000000ull;
		assert_int_equal(ap_feedback__record(w, &m), 0);
	}
	assert_int_equal(access(rot, F_OK), 0);
	c = hook("PostToolUse", "");
	assert_non_null(c);
	for (int i = 1; i <= 4; i++) {
		snprintf(tgt, sizeof(tgt), "(/t/%d)", i);
		assert_non_null(strstr(c, tgt));
	}
	assert_null(strstr(c, "(/t/0)"));
	free(c);
	/* two rotations between calls: the lost generation is gone, the
	 * current file is still shown */
	for (int i = 5; i <= 12; i++) {
		snprintf(tgt, sizeof(tgt), "/t/%d", i);
		m.target = tgt;
		m.ts_ns += 1000000000ull;
		assert_int_equal(ap_feedback__record(w, &m), 0);
	}
	c = hook("PostToolUse", "");
	assert_non_null(c);
	assert_non_null(strstr(c, "(/t/12)"));
	free(c);
	ap_feedback__free(w);
	teardown_project();
}

static void test_bad_input_and_no_project(void **st)
{
	struct ap_hook_opts o = { .state_dir = "/tmp/ap-hook-none", .now_unix = 1 };
	char *out = (char *)1;
	const char *const bad[] = { "", "not json", "[1,2]", "{\"cwd\":5}",
				    "{\"cwd\":\"/nonexistent/dir\",\"hook_event_name\":\"PostToolUse\"}" };

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ap_hook__handle(bad[i], strlen(bad[i]), &o, &out);
		/* whatever the input, no crash and nothing that is not hook JSON */
		if (out) {
			struct json_object *j = json_tokener_parse(out);
			assert_non_null(j);
			json_object_put(j);
			free(out);
		}
	}
}

static void test_env_override(void **st)
{
	char fb[256], *c;

	setup_project("version: 1\npolicy: |\n  rule no-push:\n    kill exec \"git\" \"push\"\n");
	snprintf(fb, sizeof(fb), "%s/elsewhere.txt", dir);
	record(fb, "/env/git", now);
	setenv("ACTPLANE_FEEDBACK_FILE", fb, 1);
	c = hook("PostToolUse", "/sub");
	unsetenv("ACTPLANE_FEEDBACK_FILE");
	assert_non_null(c);
	assert_non_null(strstr(c, "/env/git"));
	free(c);
	teardown_project();
}

/* under run, a killed tool whose entry is a little late still gets it */
static void test_late_entry_waited_for(void **st)
{
	char fb[256], *c;
	struct timespec t0, t1;
	pid_t pid;

	setup_project("version: 1\npolicy: |\n  rule no-push:\n    kill exec \"git\" \"push\"\n");
	snprintf(fb, sizeof(fb), "%s/.actplane/last-violation.txt", dir);
	record(fb, "/first/git", now);
	free(hook("PostToolUse", "")); /* state exists, nothing pending */
	setenv("ACTPLANE_FEEDBACK_FILE", fb, 1);

	/* a tool that did not look stopped: no waiting */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_null(hook("PostToolUse", ""));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 100);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct timespec d = { 0, 80 * 1000000L };
		nanosleep(&d, NULL);
		record(fb, "/late/git", now);
		_exit(0);
	}
	c = hook("PostToolUseFailure", ""); /* "Exit code 137" */
	waitpid(pid, NULL, 0);
	unsetenv("ACTPLANE_FEEDBACK_FILE");
	assert_non_null(c);
	assert_non_null(strstr(c, "(/late/git)"));
	free(c);
	teardown_project();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claude_and_codex_golden),
		cmocka_unit_test(test_fold_reemits),
		cmocka_unit_test(test_feedback_path_and_partial),
		cmocka_unit_test(test_first_call_skips_history),
		cmocka_unit_test(test_rotation_followed),
		cmocka_unit_test(test_bad_input_and_no_project),
		cmocka_unit_test(test_env_override),
		cmocka_unit_test(test_late_entry_waited_for),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
