// SPDX-License-Identifier: MIT
/* Feedback entries: golden text for every effect and condition kind, the
 * matched clause (not the rule's first), escaping, folding, rotation, and
 * the writer's refusal of planted links. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "agent/feedback.h"
#include "common/arena.h"
#include "engine/engine.h"
#include "policy/ast.h"
#include "policy/lower.h"

static struct ap_arena *A;

static struct ap_pat pat(const char *t)
{
	struct ap_pat p = { .text = t, .syn = AP_PATSYN_DEFAULT };
	return p;
}

static struct ap_strlist args(const char *a, const char *b)
{
	struct ap_strlist l = { 0 };
	l.v = ap_arena__alloc(A, 2 * sizeof(*l.v));
	if (a)
		l.v[l.n++] = pat(a);
	if (b)
		l.v[l.n++] = pat(b);
	return l;
}

static struct ap_expr *label(const char *name)
{
	struct ap_expr *e = ap_arena__alloc(A, sizeof(*e));
	e->kind = AP_EXPR_LABEL;
	e->label = name;
	return e;
}

static struct ap_rule_ast *rule(const char *name, const char *because,
				unsigned n)
{
	struct ap_rule_ast *r = ap_arena__alloc(A, sizeof(*r));
	r->name = name;
	r->because = because;
	r->clauses = ap_arena__alloc(A, n * sizeof(*r->clauses));
	r->nclauses = n;
	return r;
}

static char *fmt(const struct ap_fb_match *m, unsigned count)
{
	char *s = NULL;
	int err = ap_feedback__format(m, count, &s);

	assert_int_equal(err, 0);
	assert_non_null(s);
	return s;
}

/* the text lines (without the JSON line), cut in place */
static char *text_of(char *entry)
{
	size_t n = strlen(entry);

	assert_true(n > 1);
	/* the JSON line is the last one */
	n--;
	while (n > 0 && entry[n - 1] != '\n')
		n--;
	assert_memory_equal(entry + n, AP_FEEDBACK_JSON_PREFIX, strlen(AP_FEEDBACK_JSON_PREFIX));
	entry[n] = '\0';
	return entry;
}

static unsigned lines(const char *s)
{
	unsigned n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static struct json_object *json_of(const char *entry)
{
	const char *j = strstr(entry, "\n" AP_FEEDBACK_JSON_PREFIX);
	assert_non_null(j);
	struct json_object *o = json_tokener_parse(j + 1);
	assert_non_null(o);
	return o;
}

static const char *const push_argv[] = { "git", "push", "origin", "HEAD" };
static const char *const agent_label[] = { "AGENT" };

static void test_kill_exec_golden(void **st)
{
	struct ap_rule_ast *r = rule("no-push", "pushing is done by the release job", 1);
	r->clauses[0] = (struct ap_clause_ast){ .effect = AP_EFFECT_KILL, .op = AP_OP_EXEC,
		.pat = pat("git"), .args = args("push", NULL), .cond = label("AGENT") };
	struct ap_fb_match m = {
		.ts_ns = 1700000000000000000ull, .effect = AP_EFFECT_KILL,
		.action = AP_ACTION_KILLED, .rule = "no-push", .rule_ast = r,
		.clause = -1, .op = AP_OP_EXEC, .target = "/usr/bin/git",
		.argv = push_argv, .argc = 4, .pid = 4242, .comm = "git",
		.labels = agent_label, .nlabels = 1,
		.prov = "exec /usr/bin/claude, pid 7",
	};
	char *e = fmt(&m, 1);
	struct json_object *o = json_of(e), *v;

	assert_true(json_object_object_get_ex(o, "count", &v));
	assert_int_equal(json_object_get_int(v), 1);
	assert_true(json_object_object_get_ex(o, "rule", &v));
	assert_string_equal(json_object_get_string(v), "no-push");
	assert_true(json_object_object_get_ex(o, "retry", &v));
	assert_false(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(o, "ts_unix", &v));
	assert_int_equal(json_object_get_int64(v), 1700000000);
	json_object_put(o);
	assert_string_equal(text_of(e),
		"[actplane] killed: exec `git push origin HEAD` (/usr/bin/git) by git (pid 4242)\n"
		"rule no-push: kill exec \"git\" \"push\" if AGENT\n"
		"because: pushing is done by the release job\n"
		"why: the process carries AGENT (acquired: exec /usr/bin/claude, pid 7)\n"
		"retry: retrying it unchanged will be stopped again\n"
		"next: do not do this from the agent's session; take another path or ask the user to do it\n");
	assert_true(lines(e) <= AP_FEEDBACK_MAX_LINES);
	free(e);
}

/* the second clause matched: its op and effect are shown, not the first's */
static void test_matched_clause_not_first(void **st)
{
	struct ap_rule_ast *r = rule("secrets", "secrets stay local", 2);
	r->clauses[0] = (struct ap_clause_ast){ .effect = AP_EFFECT_NOTIFY, .op = AP_OP_READ,
		.pat = pat("**/.env") };
	r->clauses[1] = (struct ap_clause_ast){ .effect = AP_EFFECT_BLOCK, .op = AP_OP_CONNECT,
		.pat = { .text = "*", .syn = AP_PATSYN_ENDPOINT }, .cond = label("SECRET") };
	struct ap_fb_match m = {
		.ts_ns = 1, .effect = AP_EFFECT_BLOCK, .action = AP_ACTION_BLOCKED,
		.rule = "secrets", .rule_ast = r, .clause = -1, .op = AP_OP_SEND,
		.target = "93.184.216.34:443", .pid = 10, .comm = "curl",
	};
	char *e = text_of(fmt(&m, 1));

	assert_non_null(strstr(e, "[actplane] blocked: send 93.184.216.34:443 by curl (pid 10)\n"));
	assert_non_null(strstr(e, "rule secrets: block connect endpoint \"*\" if SECRET\n"));
	assert_null(strstr(e, "notify read"));
	assert_int_equal(ap_feedback__find_clause(r, AP_OP_READ, AP_EFFECT_NOTIFY), 0);
	assert_int_equal(ap_feedback__find_clause(r, AP_OP_CONNECT, AP_EFFECT_BLOCK), 1);
	free(e);
}

static void test_after_gate(void **st)
{
	struct ap_rule_ast *r = rule("tests-first", "push only tested code", 1);
	struct ap_condition *c = ap_arena__alloc(A, sizeof(*c));
	struct ap_event *since = ap_arena__alloc(A, sizeof(*since));
	since->op = AP_OP_WRITE;
	since->pat = pat("src/**");
	*c = (struct ap_condition){ .kind = AP_C_AFTER, .passed = true, .pat = pat("make"),
		.args = args("test", NULL), .since = since, .nsince = 1 };
	r->clauses[0] = (struct ap_clause_ast){ .effect = AP_EFFECT_KILL, .op = AP_OP_EXEC,
		.pat = pat("git"), .args = args("push", NULL), .unless = c, .nunless = 1 };
	struct ap_fb_match m = {
		.ts_ns = 1, .effect = AP_EFFECT_KILL, .action = AP_ACTION_KILLED,
		.rule = "tests-first", .rule_ast = r, .clause = 0, .op = AP_OP_EXEC,
		.target = "/usr/bin/git", .argv = push_argv, .argc = 2, .pid = 5,
		.comm = "git",
	};
	char *e = text_of(fmt(&m, 1));

	assert_non_null(strstr(e, "rule tests-first: kill exec \"git\" \"push\" unless after exec \"make\" \"test\" passed since write \"src/**\"\n"));
	assert_non_null(strstr(e, "retry: only after `make test` has run and passed in this session with no write of src/** since\n"));
	assert_non_null(strstr(e, "next: run `make test` (it must succeed), then retry; run it again after any change it depends on\n"));
	free(e);
}

static void test_ask(void **st)
{
	struct ap_rule_ast *r = rule("ask-deploy", "deploys need a human", 1);
	r->clauses[0] = (struct ap_clause_ast){ .effect = AP_EFFECT_ASK, .op = AP_OP_EXEC,
		.pat = pat("kubectl"), .args = args("apply", NULL) };
	const char *const av[] = { "kubectl", "apply", "-f", "x y.yaml" };
	struct ap_fb_match m = {
		.ts_ns = 1, .effect = AP_EFFECT_ASK, .action = AP_ACTION_DENIED,
		.rule = "ask-deploy", .rule_ast = r, .clause = -1, .op = AP_OP_EXEC,
		.target = "/usr/bin/kubectl", .argv = av, .argc = 4, .approval = "a-17",
	};
	char *e = fmt(&m, 1);
	struct json_object *o = json_of(e), *v;

	assert_true(json_object_object_get_ex(o, "approval", &v));
	assert_string_equal(json_object_get_string(v), "a-17");
	json_object_put(o);
	text_of(e);
	assert_non_null(strstr(e, "[actplane] denied until approved: exec `kubectl apply -f 'x y.yaml'` (/usr/bin/kubectl)\n"));
	assert_non_null(strstr(e, "retry: not until a person approves it"));
	assert_non_null(strstr(e, "next: a person can approve with `actplane approve a-17` from outside this session"));
	free(e);
}

static void test_notify_and_audit(void **st)
{
	struct ap_rule_ast *r = rule("watch-env", NULL, 1);
	r->clauses[0] = (struct ap_clause_ast){ .effect = AP_EFFECT_NOTIFY, .op = AP_OP_READ,
		.pat = pat("**/.env") };
	struct ap_fb_match m = {
		.ts_ns = 1, .effect = AP_EFFECT_NOTIFY, .action = AP_ACTION_REPORTED,
		.rule = "watch-env", .rule_ast = r, .clause = -1, .op = AP_OP_READ,
		.target = "/p/.env", .pid = 3, .comm = "cat",
	};
	char *e = text_of(fmt(&m, 1));
	assert_non_null(strstr(e, "[actplane] reported (allowed): read /p/.env by cat (pid 3)\n"));
	assert_null(strstr(e, "because:")); /* no because: no line */
	assert_non_null(strstr(e, "retry: not needed"));
	free(e);

	m.effect = AP_EFFECT_BLOCK;
	m.action = AP_ACTION_AUDITED;
	e = text_of(fmt(&m, 1));
	assert_non_null(strstr(e, "[actplane] audited (would be block): read /p/.env"));
	assert_non_null(strstr(e, "retry: audit mode"));
	free(e);
}

static void test_target_lineage_declassify_guard(void **st)
{
	struct ap_rule_ast *r = rule("src-only", "edit sources only", 1);
	struct ap_condition *c = ap_arena__alloc(A, sizeof(*c));
	*c = (struct ap_condition){ .kind = AP_C_TARGET, .pat = pat("src/**") };
	r->clauses[0] = (struct ap_clause_ast){ .effect = AP_EFFECT_BLOCK, .op = AP_OP_WRITE,
		.pat = pat("**"), .cond = label("AGENT"), .unless = c, .nunless = 1 };
	struct ap_fb_match m = {
		.ts_ns = 1, .effect = AP_EFFECT_BLOCK, .action = AP_ACTION_BLOCKED,
		.rule = "src-only", .rule_ast = r, .clause = -1, .op = AP_OP_WRITE,
		.target = "/p/Makefile",
	};
	char *e = text_of(fmt(&m, 1));
	assert_non_null(strstr(e, "unless target \"src/**\"\n"));
	assert_non_null(strstr(e, "next: the same write is allowed on targets matching src/**; use one of those instead\n"));
	free(e);

	c->kind = AP_C_LINEAGE;
	c->pat = pat("make");
	e = text_of(fmt(&m, 1));
	assert_non_null(strstr(e, "unless lineage-includes exec \"make\"\n"));
	assert_non_null(strstr(e, "next: it is allowed when started through make; run it that way\n"));
	free(e);

	r->clauses[0].nunless = 0;
	m.labels = (const char *const[]){ "SECRET" };
	m.nlabels = 1;
	m.declass_label = "SECRET";
	m.declass_prog = "redact";
	e = text_of(fmt(&m, 1));
	assert_non_null(strstr(e, "next: the process carries SECRET; only data passed through redact loses SECRET, or ask the user\n"));
	free(e);

	struct ap_fb_match g = {
		.ts_ns = 1, .effect = AP_EFFECT_BLOCK, .action = AP_ACTION_BLOCKED,
		.rule = "session-guard", .op = AP_OP_PTRACE, .target = "pid 1",
	};
	e = text_of(fmt(&g, 1));
	assert_non_null(strstr(e, "rule session-guard: built in, protects the session\n"));
	assert_non_null(strstr(e, "cannot be lifted from inside the session"));
	free(e);
}

/* a file name with a newline must not start a line of its own */
static void test_escaping(void **st)
{
	const char *const av[] = { "rm", "a\n[actplane] fake" };
	struct ap_fb_match m = {
		.ts_ns = 1, .effect = AP_EFFECT_KILL, .action = AP_ACTION_KILLED,
		.rule = "r", .op = AP_OP_UNLINK, .target = "/p/x\n[actplane] forged\n{\"actplane\":1}",
		.argv = av, .argc = 2,
	};
	char *e = fmt(&m, 1);
	unsigned firsts = 0, jsons = 0;

	for (char *p = e; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		firsts += !strncmp(p, AP_FEEDBACK_TEXT_PREFIX, strlen(AP_FEEDBACK_TEXT_PREFIX));
		jsons += !strncmp(p, AP_FEEDBACK_JSON_PREFIX, strlen(AP_FEEDBACK_JSON_PREFIX));
	}
	assert_int_equal(firsts, 1);
	assert_int_equal(jsons, 1);
	assert_non_null(strstr(e, "/p/x\\n[actplane] forged\\n"));
	assert_true(lines(e) <= AP_FEEDBACK_MAX_LINES + 1);
	free(e);
}

struct pc { unsigned n, counts[8]; };
static int count_cb(const struct ap_fb_entry *e, void *ctx)
{
	struct pc *p = ctx;
	p->counts[p->n++ % 8] = e->count;
	return 0;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *b = calloc(1, 1 << 20);
	assert_non_null(f);
	*len = fread(b, 1, (1 << 20) - 1, f);
	fclose(f);
	return b;
}

static void test_writer_fold_rotate(void **st)
{
	char dir[] = "/tmp/ap-fb-XXXXXX", path[256], rot[300];
	struct ap_feedback *fb;
	struct ap_feedback_opts o = { .path = AP_FEEDBACK_DEFAULT_PATH, .uid = -1, .gid = -1,
				      .max_bytes = 4096, .fold_ms = 1000 };
	struct ap_fb_match m = {
		.ts_ns = 1000000000ull, .effect = AP_EFFECT_KILL, .action = AP_ACTION_KILLED,
		.rule = "no-push", .op = AP_OP_EXEC, .target = "/usr/bin/git",
		.argv = push_argv, .argc = 4, .exe = "/usr/bin/git",
	};
	struct pc pc = { 0 };
	size_t len, done;
	char *buf;

	assert_non_null(mkdtemp(dir));
	o.root = dir;
	assert_int_equal(ap_feedback__new(&o, &fb), 0);
	snprintf(path, sizeof(path), "%s/.actplane/last-violation.txt", dir);
	assert_string_equal(ap_feedback__file(fb), path);

	assert_int_equal(ap_feedback__record(fb, &m), 0); /* creates .actplane/ */
	m.ts_ns += 100000000ull;
	assert_int_equal(ap_feedback__record(fb, &m), 0); /* folded */
	m.ts_ns += 100000000ull;
	assert_int_equal(ap_feedback__record(fb, &m), 0); /* folded */
	buf = slurp(path, &len);
	done = ap_feedback__parse(buf, len, count_cb, &pc);
	assert_int_equal(done, len);
	assert_int_equal(pc.n, 1);
	assert_int_equal(pc.counts[0], 3);
	free(buf);

	m.ts_ns += 5000000000ull; /* outside the window: a new entry */
	assert_int_equal(ap_feedback__record(fb, &m), 0);
	m.target = "/usr/local/bin/git"; /* another target: a new entry */
	assert_int_equal(ap_feedback__record(fb, &m), 0);
	buf = slurp(path, &len);
	pc.n = 0;
	ap_feedback__parse(buf, len, count_cb, &pc);
	assert_int_equal(pc.n, 3);
	free(buf);

	/* past max_bytes the file is rotated to .1 */
	for (int i = 0; i < 20; i++) {
		m.ts_ns += 5000000000ull;
		assert_int_equal(ap_feedback__record(fb, &m), 0);
	}
	snprintf(rot, sizeof(rot), "%s.1", path);
	assert_int_equal(access(rot, F_OK), 0);
	buf = slurp(path, &len);
	assert_true(len <= 4096);
	free(buf);

	/* a lock held by someone else (the agent owns the file) delays a
	 * writer by at most AP_FEEDBACK_LOCK_WAIT_MS, and the entry lands */
	{
		int lfd = open(path, O_RDONLY);
		struct timespec t0, t1;
		size_t before;

		assert_true(lfd >= 0);
		assert_int_equal(flock(lfd, LOCK_EX), 0);
		buf = slurp(path, &before);
		free(buf);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		m.ts_ns += 5000000000ull;
		assert_int_equal(ap_feedback__record(fb, &m), 0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 1000);
		buf = slurp(path, &len);
		assert_true(len > before);
		free(buf);
		close(lfd);
	}

	/* a symlink planted in place of the file is refused */
	unlink(path);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	m.ts_ns += 5000000000ull;
	assert_true(ap_feedback__record(fb, &m) < 0);
	unlink(path);
	/* so is a second hard link */
	char other[300];
	snprintf(other, sizeof(other), "%s/other", dir);
	int fd = open(other, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_int_equal(link(other, path), 0);
	assert_true(ap_feedback__record(fb, &m) < 0);
	ap_feedback__free(fb);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_parse_partial(void **st)
{
	const char *s = "[actplane] a\n{\"actplane\":1,\"ts_unix\":5,\"count\":2         }\n[actplane] b\n{\"actplane\":1,\"cou";
	struct pc pc = { 0 };
	size_t done = ap_feedback__parse(s, strlen(s), count_cb, &pc);

	assert_int_equal(pc.n, 1);
	assert_int_equal(pc.counts[0], 2);
	assert_int_equal(done, strchr(strchr(s, '}'), '\n') - s + 1);
}

/* what run's event callback calls: names from the compiled policy, the
 * clause from its AST, the seed's provenance in words */
static void test_record_event(void **st)
{
	char dir[] = "/tmp/ap-fbev-XXXXXX", path[128];
	struct ap_rule_ast *r = rule("no-push", NULL, 2);
	r->clauses[0] = (struct ap_clause_ast){ .effect = AP_EFFECT_NOTIFY, .op = AP_OP_OPEN,
		.pat = pat("**/.git/config") };
	r->clauses[1] = (struct ap_clause_ast){ .effect = AP_EFFECT_KILL, .op = AP_OP_EXEC,
		.pat = pat("git"), .args = args("push", NULL), .cond = label("AGENT") };
	struct ap_compiled_rule ri = { .name = "no-push", .because = "pushing is done by the release job",
				       .ast = r, .effect = AP_EFFECT_KILL };
	struct ap_compiled_label lab = { .name = "AGENT" };
	struct ap_compiled c = { .rule_info = &ri, .nrules = 1, .labels = &lab, .nlabels = 1 };
	struct ap_event_prov prov = { .label = 0, .op = AP_OP_EXEC, .target = "run.seed", .pid = 1 };
	struct ap_event_rec ev = {
		.kind = AP_EVENT_VIOLATION, .ts_ns = 2000000000ull, .effect = AP_EFFECT_KILL,
		.action = AP_ACTION_KILLED, .rule = 0, .op = AP_OP_EXEC, .target = "/usr/bin/git",
		.argv = push_argv, .argc = 4, .pid = 77, .comm = "git", .exe = "/usr/bin/git",
		.labels = 1, .mattered = 1, .prov = &prov, .nprov = 1,
	};
	struct ap_feedback *fb;
	size_t len;
	char *buf;

	assert_non_null(mkdtemp(dir));
	fb = ap_feedback__open_for(&c, dir, "fb.txt", (uid_t)-1, (gid_t)-1);
	assert_non_null(fb);
	snprintf(path, sizeof(path), "%s/fb.txt", dir);
	assert_string_equal(getenv("ACTPLANE_FEEDBACK_FILE"), path);
	unsetenv("ACTPLANE_FEEDBACK_FILE");
	assert_int_equal(ap_feedback__record_event(fb, &c, &ev, NULL), 0);
	ev.kind = AP_EVENT_SESSION_END; /* not a match: ignored */
	assert_int_equal(ap_feedback__record_event(fb, &c, &ev, NULL), 0);
	ap_feedback__free(fb);
	buf = slurp(path, &len);
	text_of(buf);
	assert_string_equal(buf,
		"[actplane] killed: exec `git push origin HEAD` (/usr/bin/git) by git (pid 77)\n"
		"rule no-push: kill exec \"git\" \"push\" if AGENT\n"
		"because: pushing is done by the release job\n"
		"why: the process carries AGENT (acquired: given to the session by `actplane run`)\n"
		"retry: retrying it unchanged will be stopped again\n"
		"next: do not do this from the agent's session; take another path or ask the user to do it\n");
	free(buf);
	unlink(path);
	rmdir(dir);
}

static int setup(void **st)
{
	A = ap_arena__new();
	return 0;
}

static int teardown(void **st)
{
	ap_arena__free(A);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill_exec_golden),
		cmocka_unit_test(test_matched_clause_not_first),
		cmocka_unit_test(test_after_gate),
		cmocka_unit_test(test_ask),
		cmocka_unit_test(test_notify_and_audit),
		cmocka_unit_test(test_target_lineage_declassify_guard),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_writer_fold_rotate),
		cmocka_unit_test(test_parse_partial),
		cmocka_unit_test(test_record_event),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
