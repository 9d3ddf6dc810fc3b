// SPDX-License-Identifier: MIT
/*
 * The kernel engine, live: compile a policy, load the engine, run forked
 * children as sessions and check the records that come back (and what
 * happened to the children). Needs root; skipped otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/log.h"
#include "engine/engine.h"
#include "policy/blob.h"
#include "policy/lower.h"
#include "policy/policy.h"

#define MAXEV 256

struct ev {
	enum ap_event_kind kind;
	enum ap_op op;
	enum ap_effect effect;
	enum ap_action action;
	char target[PATH_MAX];
	char target2[PATH_MAX];
	char argv[512];
	char exe[PATH_MAX];
	int pid;
	unsigned nrules;
	unsigned rule;
	uint64_t labels;
	unsigned nprov;
	char prov_target[512];
	enum ap_op prov_op;
	int prov_pid;
	char prov_comm[16];
	uint32_t session;
};

struct live {
	struct ap_policy *pol;
	struct ap_compiled *c;
	struct ap_diags d;
	void *blob;
	size_t size;
	struct ap_blob_view bv;
	struct ap_engine *e;
	struct ev ev[MAXEV];
	int nev;
	unsigned long loss;
};

static char T[256]; /* the test's directory */
static uint32_t live_ringbuf; /* 0: the engine's default */

static void on_event(void *ctx, const struct ap_event_rec *r)
{
	struct live *L = ctx;
	struct ev *e;

	if (r->kind == AP_EVENT_LOSS) {
		L->loss++;
		return;
	}
	if (L->nev >= MAXEV)
		return;
	e = &L->ev[L->nev++];
	memset(e, 0, sizeof(*e));
	e->kind = r->kind;
	e->op = r->op;
	e->effect = r->effect;
	e->action = r->action;
	e->pid = r->pid;
	e->nrules = r->nrules;
	e->rule = r->rule;
	e->labels = r->labels;
	e->session = r->session;
	snprintf(e->target, sizeof(e->target), "%s", r->target ? r->target : "");
	snprintf(e->target2, sizeof(e->target2), "%s", r->target2 ? r->target2 : "");
	snprintf(e->exe, sizeof(e->exe), "%s", r->exe ? r->exe : "");
	for (unsigned i = 0; i < r->argc; i++) {
		size_t n = strlen(e->argv);

		snprintf(e->argv + n, sizeof(e->argv) - n, "%s%s", i ? " " : "", r->argv[i]);
	}
	e->nprov = r->nprov;
	if (r->nprov) {
		snprintf(e->prov_target, sizeof(e->prov_target), "%s", r->prov[0].target);
		e->prov_op = r->prov[0].op;
		e->prov_pid = r->prov[0].pid;
		memcpy(e->prov_comm, r->prov[0].comm, 16);
	}
	if (getenv("AP_LIVE_VERBOSE"))
		fprintf(stderr, "  event kind=%d op=%d eff=%d act=%d pid=%d target=%s "
			"target2=%s argv=[%s] exe=%s nprov=%u prov=%s/%d\n",
			r->kind, r->op, r->effect, r->action, r->pid, e->target,
			e->target2, e->argv, e->exe, r->nprov, e->prov_target, e->prov_pid);
}

/* compile `dsl` (T substituted for every '@') and load the engine */
static int setup_engine(struct live *L, const char *dsl_tmpl, unsigned flags)
{
	struct ap_load_opts o = { .cwd = T };
	struct ap_lower_opts lo = { 0 };
	struct ap_engine_opts eo = { 0 };
	const char *why = NULL;
	char *yaml = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&yaml, &n);
	int err;

	memset(L, 0, sizeof(*L));
	fputs("version: 1\npolicy: |\n  ", m);
	for (const char *p = dsl_tmpl; *p; p++) {
		if (*p == '@')
			fputs(T, m);
		else if (*p == '\n')
			fputs("\n  ", m);
		else
			fputc(*p, m);
	}
	fputc('\n', m);
	fclose(m);
	err = ap_policy_load_buffer("live.yaml", yaml, n, &o, &L->d, &L->pol);
	if (!err)
		err = ap_lower(L->pol, &lo, &L->d, &L->c);
	if (err) {
		fprintf(stderr, "policy:\n%s\n", yaml);
		ap_diags__print(&L->d, L->pol ? L->pol->srcs : NULL,
				L->pol ? L->pol->nsrcs : 0, stderr);
	}
	free(yaml);
	if (err)
		return err;
	err = ap_compiled__to_blob(L->c, &L->blob, &L->size);
	if (!err)
		err = ap_blob__view(L->blob, L->size, &L->bv, &why);
	if (err)
		return err;
	eo.blob = &L->bv;
	eo.flags = flags;
	eo.fallback = AP_EFFECT_NOTIFY;
	eo.protect_pid = getpid();
	eo.on_event = on_event;
	eo.ctx = L;
	eo.ringbuf_bytes = live_ringbuf;
	err = ap_engine__open(&eo, &L->e);
	if (!err)
		err = ap_engine__load(L->e);
	if (!err)
		err = ap_engine__attach(L->e);
	return err;
}

static void teardown_engine(struct live *L)
{
	ap_engine__destroy(L->e);
	free(L->blob);
	ap_compiled__free(L->c);
	ap_diags__free(&L->d);
	ap_policy__free(L->pol);
}

/* Run fn in a forked child that is a session root from its first
 * instruction on; returns its wait status. */
static int run_session(struct live *L, void (*fn)(void *), void *arg,
		       uint64_t seed, uint32_t *sid_out)
{
	int pfd[2], status = -1;
	uint32_t sid = 0;
	pid_t pid;
	char c = 0;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pfd[1]);
		if (read(pfd[0], &c, 1) != 1)
			_exit(99);
		close(pfd[0]);
		fn(arg);
		_exit(0);
	}
	close(pfd[0]);
	assert_int_equal(ap_engine__add_session(L->e, pid, seed, &sid), 0);
	assert_int_equal(write(pfd[1], &c, 1), 1);
	close(pfd[1]);
	for (int i = 0; i < 2400; i++) {
		ap_engine__poll(L->e, 25);
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
	}
	/* the tree may outlive the root (daemons): wait for the session */
	for (int i = 0; i < 200 && ap_engine__session_live(L->e, sid) > 0; i++)
		ap_engine__poll(L->e, 25);
	while (ap_engine__poll(L->e, 50) > 0)
		;
	if (sid_out)
		*sid_out = sid;
	return status;
}

static int count(struct live *L, enum ap_event_kind k, enum ap_op op, const char *target)
{
	int n = 0;

	for (int i = 0; i < L->nev; i++)
		if (L->ev[i].kind == k && L->ev[i].op == op &&
		    (!target || !strcmp(L->ev[i].target, target)))
			n++;
	return n;
}

static int nviol(struct live *L)
{
	int n = 0;

	for (int i = 0; i < L->nev; i++)
		n += L->ev[i].kind == AP_EVENT_VIOLATION;
	return n;
}

static void path(char *buf, const char *rel)
{
	snprintf(buf, PATH_MAX, "%s/%.1000s", T, rel);
}

static void touch(const char *rel, const char *content)
{
	char p[PATH_MAX];
	FILE *f;

	path(p, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void openclose(const char *p, int flags)
{
	int fd = open(p, flags, 0644);

	if (fd >= 0)
		close(fd);
}

/* ---- 1: paths are what the kernel touched ---- */
static void child_paths(void *arg)
{
	char p[PATH_MAX];

	path(p, "ws/sub");
	if (chdir(p))
		_exit(90);
	openclose("../secret.txt", O_RDONLY);          /* relative + .. */
	path(p, "link/secret.txt");
	openclose(p, O_RDONLY);                         /* through a symlink */
	snprintf(p, sizeof(p), "/proc/self/root%s/ws/secret.txt", T);
	openclose(p, O_RDONLY);                         /* /proc/self/root */
	path(p, "hardlink");
	openclose(p, O_RDONLY);                         /* a hard link */
	path(p, "ws/other.txt");
	openclose(p, O_RDONLY);                         /* negative twin */
}

static void test_paths(void **state)
{
	struct live L;
	char sec[PATH_MAX], hl[PATH_MAX], lk[PATH_MAX], ws[PATH_MAX];
	int st;

	touch("ws/secret.txt", "s3cret\n");
	touch("ws/other.txt", "plain\n");
	path(sec, "ws/secret.txt");
	path(hl, "hardlink");
	path(lk, "link");
	path(ws, "ws");
	unlink(hl);
	unlink(lk);
	assert_int_equal(link(sec, hl), 0);
	assert_int_equal(symlink(ws, lk), 0);
	assert_int_equal(setup_engine(&L, "rule r:\n  notify read \"@/ws/secret.txt\"", 0), 0);
	st = run_session(&L, child_paths, NULL, 0, NULL);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(count(&L, AP_EVENT_VIOLATION, AP_OP_READ, sec), 3);
	assert_int_equal(count(&L, AP_EVENT_VIOLATION, AP_OP_READ, hl), 1);
	assert_int_equal(nviol(&L), 4);
	assert_int_equal(count(&L, AP_EVENT_SESSION_END, AP_OP_EXEC, NULL), 1);
	/* the acting program comes from the kernel, the child is long gone */
	for (int i = 0; i < L.nev; i++)
		if (L.ev[i].kind == AP_EVENT_VIOLATION)
			assert_non_null(strstr(L.ev[i].exe, "test_engine_live"));
	teardown_engine(&L);
}

/* ---- 2: exec kill before the program runs; args; negative twin ---- */
static void child_exec_push(void *arg)
{
	char out[PATH_MAX];
	pid_t pid = fork();

	path(out, "pushed");
	if (pid == 0) {
		/* mytool would create `out`; killed first, it never runs */
		execl("/bin/sh", "mytool", "-c", "echo x > \"$0\"", out, "push", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
}

static void child_exec_pull(void *arg)
{
	char out[PATH_MAX];

	path(out, "pulled");
	execl("/bin/sh", "sh", "-c", "echo x > \"$0\"", out, "pull", (char *)NULL);
	_exit(127);
}

static void test_exec_kill(void **state)
{
	struct live L;
	char out[PATH_MAX];
	struct stat sb;
	int st;

	path(out, "pushed");
	unlink(out);
	assert_int_equal(setup_engine(&L, "rule nopush:\n  kill exec \"sh\" \"push\"\n  because \"no\"", 0), 0);
	st = run_session(&L, child_exec_push, NULL, 0, NULL);
	assert_true(WIFEXITED(st));
	assert_int_equal(nviol(&L), 1);
	assert_int_equal(L.ev[0].op, AP_OP_EXEC);
	assert_int_equal(L.ev[0].effect, AP_EFFECT_KILL);
	assert_int_equal(L.ev[0].action, AP_ACTION_KILLED);
	assert_string_equal(L.ev[0].target, "/bin/sh");
	assert_non_null(strstr(L.ev[0].argv, "push"));
	assert_int_equal(stat(out, &sb), -1); /* the program never ran */

	/* negative twin: same program, other args */
	L.nev = 0;
	path(out, "pulled");
	unlink(out);
	st = run_session(&L, child_exec_pull, NULL, 0, NULL);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(nviol(&L), 0);
	assert_int_equal(stat(out, &sb), 0);
	teardown_engine(&L);
}

/* ---- 3: labels flow through a file to an unrelated process ---- */
static void child_copy(void *arg)
{
	char src[PATH_MAX], dst[PATH_MAX], buf[64];
	int in, o;
	ssize_t n;

	path(src, "ws/secret.txt");
	path(dst, "copy.txt");
	in = open(src, O_RDONLY);
	o = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (in < 0 || o < 0)
		_exit(91);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(o, buf, n) != n)
			_exit(92);
	close(in);
	close(o);
}

static void child_leak(void *arg)
{
	char p[PATH_MAX];
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(9) };
	int s;

	path(p, arg);
	openclose(p, O_RDONLY);
	s = socket(AF_INET, SOCK_STREAM, 0);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)))
		(void)0; /* refused is fine: the attempt is what matters */
	close(s);
}

static void test_flow(void **state)
{
	struct live L;
	char sec[PATH_MAX];
	int st;

	touch("ws/secret.txt", "s3cret\n");
	path(sec, "ws/secret.txt");
	assert_int_equal(setup_engine(&L,
		"source SECRET = file \"@/ws/secret.txt\"\n"
		"rule leak:\n  notify connect endpoint \"*\" if SECRET", 0), 0);
	st = run_session(&L, child_copy, NULL, 0, NULL);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(nviol(&L), 0);
	/* an unrelated process (its own session) reads the copy, connects */
	st = run_session(&L, child_leak, "copy.txt", 0, NULL);
	assert_true(WIFEXITED(st));
	assert_int_equal(nviol(&L), 1);
	assert_int_equal(L.ev[L.nev - 2].op, AP_OP_CONNECT);
	assert_string_equal(L.ev[L.nev - 2].target, "127.0.0.1:9");
	assert_int_equal(L.ev[L.nev - 2].nprov, 1);
	assert_string_equal(L.ev[L.nev - 2].prov_target, sec); /* A's read */
	assert_int_equal(L.ev[L.nev - 2].prov_op, AP_OP_READ);
	/* negative twin: a file that never held the secret */
	L.nev = 0;
	touch("plain.txt", "x\n");
	st = run_session(&L, child_leak, "plain.txt", 0, NULL);
	assert_int_equal(nviol(&L), 0);
	teardown_engine(&L);
}

/* ---- 4: a fork from a secondary thread; a daemonised grandchild ---- */
static void *thread_fork(void *arg)
{
	pid_t pid = fork();

	if (pid == 0) {
		openclose((const char *)arg, O_RDONLY);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	return NULL;
}

static void child_threads(void *arg)
{
	static char p[PATH_MAX];
	pthread_t t;
	pid_t pid;

	path(p, "ws/secret.txt");
	pthread_create(&t, NULL, thread_fork, p);
	pthread_join(t, NULL);
	pid = fork();
	if (pid == 0) {
		if (fork() == 0) {
			setsid();
			usleep(200000); /* the parent is long gone */
			openclose(p, O_RDONLY);
			_exit(0);
		}
		_exit(0);
	}
	waitpid(pid, NULL, 0);
}

static void test_threads_daemons(void **state)
{
	struct live L;
	int st;

	touch("ws/secret.txt", "s3cret\n");
	assert_int_equal(setup_engine(&L, "rule r:\n  notify read \"@/ws/secret.txt\"", 0), 0);
	st = run_session(&L, child_threads, NULL, 0, NULL);
	assert_true(WIFEXITED(st));
	assert_int_equal(nviol(&L), 2);
	assert_int_equal(count(&L, AP_EVENT_SESSION_END, AP_OP_EXEC, NULL), 1);
	teardown_engine(&L);
}

/* ---- 5: after ... passed since ... ---- */
static void sh(const char *cmd)
{
	pid_t pid = fork();

	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
}

static void child_gates(void *arg)
{
	char cmd[PATH_MAX * 2];

	snprintf(cmd, sizeof(cmd), "%s/bin/git commit", T);
	sh(cmd);                                  /* 1: no tests: match */
	snprintf(cmd, sizeof(cmd), "%s/bin/runtests ok", T);
	sh(cmd);
	snprintf(cmd, sizeof(cmd), "%s/bin/git commit", T);
	sh(cmd);                                  /* 2: tests passed: none */
	snprintf(cmd, sizeof(cmd), "echo x > %s/ws/src.c", T);
	sh(cmd);
	snprintf(cmd, sizeof(cmd), "%s/bin/git commit", T);
	sh(cmd);                                  /* 3: stale: match */
	snprintf(cmd, sizeof(cmd), "%s/bin/runtests fail", T);
	sh(cmd);
	snprintf(cmd, sizeof(cmd), "%s/bin/git commit", T);
	sh(cmd);                                  /* 4: tests failed: match */
}

static void test_gates(void **state)
{
	struct live L;
	char p[PATH_MAX];
	int st;

	touch("bin/git", "#!/bin/sh\nexit 0\n");
	touch("bin/runtests", "#!/bin/sh\n[ \"$1\" = ok ]\n");
	path(p, "bin/git");
	chmod(p, 0755);
	path(p, "bin/runtests");
	chmod(p, 0755);
	assert_int_equal(setup_engine(&L,
		"rule tests-first:\n"
		"  notify exec \"git\" \"commit\" unless after exec \"runtests\" passed since write \"@/ws/*.c\"", 0), 0);
	st = run_session(&L, child_gates, NULL, 0, NULL);
	assert_true(WIFEXITED(st));
	for (int i = 0; i < L.nev; i++)
		if (L.ev[i].kind == AP_EVENT_VIOLATION)
			assert_int_equal(L.ev[i].op, AP_OP_EXEC);
	assert_int_equal(nviol(&L), 3);
	teardown_engine(&L);
}

/* ---- 6: unlink outside the workspace, rename, relative names ---- */
static void child_unlink(void *arg)
{
	char p[PATH_MAX];

	path(p, "ws");
	if (chdir(p))
		_exit(90);
	unlink("../outside.txt");  /* match, resolved against the cwd */
	unlink("inside.txt");      /* none */
	rename("moved-from.txt", "../moved-to.txt"); /* match via destination */
}

static void test_unlink(void **state)
{
	struct live L;
	char out[PATH_MAX], to[PATH_MAX];
	int st;

	touch("outside.txt", "o");
	touch("ws/inside.txt", "i");
	touch("ws/moved-from.txt", "m");
	path(out, "outside.txt");
	path(to, "moved-to.txt");
	assert_int_equal(setup_engine(&L,
		"rule keep-out:\n"
		"  notify unlink \"@/**\" unless target \"@/ws/**\"\n"
		"  notify rename \"@/*.txt\"", 0), 0);
	st = run_session(&L, child_unlink, NULL, 0, NULL);
	assert_true(WIFEXITED(st));
	assert_int_equal(count(&L, AP_EVENT_VIOLATION, AP_OP_UNLINK, out), 1);
	assert_int_equal(count(&L, AP_EVENT_VIOLATION, AP_OP_RENAME, NULL), 1);
	assert_int_equal(nviol(&L), 2);
	for (int i = 0; i < L.nev; i++)
		if (L.ev[i].op == AP_OP_RENAME)
			assert_string_equal(L.ev[i].target2, to);
	teardown_engine(&L);
}

/* ---- 7: labels through a pipe and a socketpair (x=$(cat secret)) ---- */
static void child_pipe(void *arg)
{
	int pfd[2], sv[2];
	char buf[64], p[PATH_MAX];
	bool use_pipe = !strcmp(arg, "pipe");
	pid_t pid;

	if (use_pipe ? pipe(pfd) : socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		_exit(93);
	if (!use_pipe) {
		pfd[0] = sv[0];
		pfd[1] = sv[1];
	}
	pid = fork();
	if (pid == 0) {
		int in;
		ssize_t n;

		close(pfd[0]);
		path(p, "ws/secret.txt");
		in = open(p, O_RDONLY);
		n = in >= 0 ? read(in, buf, sizeof(buf)) : 0;
		if (n > 0 && write(pfd[1], buf, n) != n)
			_exit(94);
		_exit(0);
	}
	close(pfd[1]);
	while (read(pfd[0], buf, sizeof(buf)) > 0)
		;
	waitpid(pid, NULL, 0);
	child_leak("plain.txt");
}

static void test_pipe(void **state)
{
	struct live L;
	char sec[PATH_MAX];

	touch("ws/secret.txt", "s3cret\n");
	touch("plain.txt", "x\n");
	path(sec, "ws/secret.txt");
	assert_int_equal(setup_engine(&L,
		"source SECRET = file \"@/ws/secret.txt\"\n"
		"rule leak:\n  notify connect endpoint \"127.0.0.0/8\" if SECRET", 0), 0);
	run_session(&L, child_pipe, "pipe", 0, NULL);
	assert_int_equal(nviol(&L), 1);
	assert_string_equal(L.ev[0].prov_target, sec);
	L.nev = 0;
	run_session(&L, child_pipe, "socketpair", 0, NULL);
	assert_int_equal(nviol(&L), 1);
	/* negative twin: nothing secret went through the pipe */
	L.nev = 0;
	run_session(&L, child_leak, "plain.txt", 0, NULL);
	assert_int_equal(nviol(&L), 0);
	teardown_engine(&L);
}

/* ---- 8: a send on a connection opened before the secret was read ---- */
static int listen_port;

static void child_old_conn(void *arg)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(listen_port) };
	char p[PATH_MAX];
	int s = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)))
		_exit(95);
	if (write(s, "hello", 5) != 5)  /* nothing secret yet: no event */
		_exit(96);
	if (arg) {
		path(p, "ws/secret.txt");
		openclose(p, O_RDONLY);
	}
	if (write(s, "s3cret", 6) != 6)   /* now it is: `send` */
		_exit(97);
	close(s);
}

static void test_old_connection(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	struct live L;
	char want[64];
	int ls = socket(AF_INET, SOCK_STREAM, 0);

	touch("ws/secret.txt", "s3cret\n");
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(ls, 8), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&sa, &sl), 0);
	listen_port = ntohs(sa.sin_port);
	snprintf(want, sizeof(want), "127.0.0.1:%d", listen_port);
	assert_int_equal(setup_engine(&L,
		"source SECRET = file \"@/ws/secret.txt\"\n"
		"rule leak:\n  notify connect endpoint \"localhost\" if SECRET", 0), 0);
	run_session(&L, child_old_conn, "secret", 0, NULL);
	assert_int_equal(nviol(&L), 1);
	assert_int_equal(L.ev[0].op, AP_OP_SEND);
	assert_string_equal(L.ev[0].target, want);
	L.nev = 0;
	run_session(&L, child_old_conn, NULL, 0, NULL); /* negative twin */
	assert_int_equal(nviol(&L), 0);
	close(ls);
	teardown_engine(&L);
}

/* ---- 9: a storm of matching opens with a small ring buffer ---- */
static void child_storm(void *arg)
{
	char p[PATH_MAX];

	path(p, "ws/secret.txt");
	for (int k = 0; k < 3; k++)
		if (fork() == 0)
			break;
	for (int i = 0; i < 20000; i++)
		openclose(p, O_RDONLY);
	while (wait(NULL) > 0)
		;
}

static void test_storm(void **state)
{
	struct ap_engine_counters c;
	struct live L;

	touch("ws/secret.txt", "s3cret\n");
	live_ringbuf = 64 * 1024; /* a few records: the storm must overflow it */
	assert_int_equal(setup_engine(&L, "rule r:\n  notify read \"@/ws/secret.txt\"", 0), 0);
	live_ringbuf = 0;
	run_session(&L, child_storm, NULL, 0, NULL);
	assert_int_equal(ap_engine__counters(L.e, &c), 0);
	if (getenv("AP_LIVE_VERBOSE") || getenv("AP_LIVE_STORM"))
		fprintf(stderr, "storm: matches %llu events %llu drops %llu loss events %lu\n",
			(unsigned long long)c.matches, (unsigned long long)c.events,
			(unsigned long long)c.ringbuf_drops, L.loss);
	if (getenv("AP_LIVE_STORM"))
		fprintf(stderr, "storm: map_full %llu unresolved %llu read_fails %llu "
			"prog_misses %llu\n",
			(unsigned long long)c.map_full, (unsigned long long)c.unresolved,
			(unsigned long long)c.read_fails, (unsigned long long)c.prog_misses);
	/* every open either ran the program or is counted as a kernel skip */
	assert_true(c.matches + c.prog_misses >= 80000);
	/* every match is either delivered or counted as dropped */
	assert_int_equal(c.events, c.matches + 1 /* session end */ - c.ringbuf_drops);
	assert_true(c.ringbuf_drops > 0);
	assert_true(L.loss > 0);  /* and the caller heard about it */
	teardown_engine(&L);
}

/* ---- 10: --audit reports and enforces nothing; observe mode ---- */
static void test_audit_observe(void **state)
{
	struct live L;
	char out[PATH_MAX];
	struct stat sb;
	int st, nobs = 0;

	path(out, "pushed");
	unlink(out);
	assert_int_equal(setup_engine(&L, "rule nopush:\n  kill exec \"sh\" \"push\"",
				      AP_ENGINE_F_AUDIT | AP_ENGINE_F_OBSERVE), 0);
	st = run_session(&L, child_exec_push, NULL, 0, NULL);
	assert_true(WIFEXITED(st));
	assert_int_equal(nviol(&L), 1);
	for (int i = 0; i < L.nev; i++) {
		if (L.ev[i].kind == AP_EVENT_VIOLATION) {
			assert_int_equal(L.ev[i].effect, AP_EFFECT_KILL);
			assert_int_equal(L.ev[i].action, AP_ACTION_AUDITED);
		}
		nobs += L.ev[i].kind == AP_EVENT_OBSERVE;
	}
	assert_int_equal(stat(out, &sb), 0); /* it ran */
	assert_true(nobs > 0);               /* the shell's open of `out`, at least */
	teardown_engine(&L);
}

/* ---- 11: a hard link made during the session to a file named by a pattern */
static void child_link_then_read(void *arg)
{
	char sec[PATH_MAX], ln[PATH_MAX];

	path(sec, "ws/secret.txt");
	path(ln, "innocent.txt");
	unlink(ln);
	if (link(sec, ln))
		_exit(98);
	openclose(ln, O_RDONLY);
}

static void test_link_during_session(void **state)
{
	struct live L;
	char ln[PATH_MAX];

	touch("ws/secret.txt", "s3cret\n");
	path(ln, "innocent.txt");
	unlink(ln);
	assert_int_equal(setup_engine(&L, "rule r:\n  notify read \"@/ws/secret.txt\"", 0), 0);
	run_session(&L, child_link_then_read, NULL, 0, NULL);
	assert_int_equal(count(&L, AP_EVENT_VIOLATION, AP_OP_READ, ln), 1);
	teardown_engine(&L);
}

/* ---- 12: declassify: the declassifier's output is not secret ---- */
static void test_declassify(void **state)
{
	struct live L;
	char cmd[PATH_MAX * 3];
	int st;

	touch("ws/secret.txt", "s3cret\n");
	touch("bin/redact", "#!/bin/sh\nsed s/s3cret/XXX/\n");
	touch("bin/leak", "#!/usr/bin/env python3\nimport socket,sys\nsys.stdin.read()\n"
	      "s=socket.socket()\ntry: s.connect(('127.0.0.1', 9))\nexcept OSError: pass\n");
	snprintf(cmd, sizeof(cmd), "%s/bin/redact", T);
	chmod(cmd, 0755);
	snprintf(cmd, sizeof(cmd), "%s/bin/leak", T);
	chmod(cmd, 0755);
	assert_int_equal(setup_engine(&L,
		"source SECRET = file \"@/ws/secret.txt\"\n"
		"declassify SECRET by exec \"redact\"\n"
		"rule leak:\n  notify connect endpoint \"*\" if SECRET", 0), 0);
	snprintf(cmd, sizeof(cmd), "cat %s/ws/secret.txt | %s/bin/leak", T, T);
	st = run_session(&L, (void (*)(void *))sh, cmd, 0, NULL);
	assert_true(WIFEXITED(st));
	assert_int_equal(nviol(&L), 1);
	L.nev = 0;
	snprintf(cmd, sizeof(cmd), "cat %s/ws/secret.txt | %s/bin/redact | %s/bin/leak", T, T, T);
	st = run_session(&L, (void (*)(void *))sh, cmd, 0, NULL);
	assert_int_equal(nviol(&L), 0);
	teardown_engine(&L);
}

/* ---- 13: the dynamic loader run directly: its PROG is the program ---- */
static void child_ldso(void *arg)
{
	execl("/lib64/ld-linux-x86-64.so.2", "ld.so", "/bin/true", "push", (char *)NULL);
	_exit(127);
}

static void test_ldso(void **state)
{
	struct live L;
	int st;

	if (access("/lib64/ld-linux-x86-64.so.2", X_OK))
		skip();
	assert_int_equal(setup_engine(&L, "rule nopush:\n  kill exec \"true\" \"push\"", 0), 0);
	st = run_session(&L, child_ldso, NULL, 0, NULL);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_int_equal(nviol(&L), 1);
	assert_string_equal(L.ev[0].target, "/bin/true");
	teardown_engine(&L);
}

/* ---- 14: renaming a directory is a rename of every path below it ---- */
static void child_mvdir(void *arg)
{
	char a[PATH_MAX], b[PATH_MAX];

	path(a, "ws/tree");
	path(b, "tree-moved");
	if (rename(a, b))
		_exit(80);
	path(a, "ws/plain.txt");
	path(b, "ws/plain2.txt");
	if (rename(a, b))   /* negative twin: a file, matched by neither */
		_exit(81);
}

static void test_rename_dir(void **state)
{
	struct live L;
	char p[PATH_MAX], cmd[PATH_MAX + 32];

	snprintf(cmd, sizeof(cmd), "rm -rf %s/tree-moved %s/ws/tree", T, T);
	assert_int_equal(system(cmd), 0);
	path(p, "ws/tree");
	assert_int_equal(mkdir(p, 0755), 0);
	touch("ws/tree/x.py", "x");
	touch("ws/plain.txt", "x");
	assert_int_equal(setup_engine(&L,
		"rule keep-tree:\n  notify rename \"@/ws/tree/**\"\n"
		"rule py:\n  notify rename \"**/*.py\"", 0), 0);
	run_session(&L, child_mvdir, NULL, 0, NULL);
	path(p, "ws/tree");
	assert_int_equal(count(&L, AP_EVENT_VIOLATION, AP_OP_RENAME, p), 1);
	assert_int_equal(nviol(&L), 1);
	teardown_engine(&L);
}

static int setup_dir(void **state)
{
	char tmpl[] = "/tmp/ap-live-XXXXXX", p[PATH_MAX], *rp;

	if (geteuid() != 0)
		return 0;
	assert_non_null(mkdtemp(tmpl));
	rp = realpath(tmpl, NULL);
	assert_non_null(rp);
	snprintf(T, sizeof(T), "%s", rp);
	free(rp);
	snprintf(p, sizeof(p), "%s/ws", T);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/ws/sub", T);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/bin", T);
	mkdir(p, 0755);
	return 0;
}

static int teardown_dir(void **state)
{
	char cmd[PATH_MAX + 16];

	if (T[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", T);
		if (system(cmd))
			return 0;
	}
	return 0;
}

#define LIVE(t) cmocka_unit_test(t)

int main(void)
{
	const struct CMUnitTest tests[] = {
		LIVE(test_paths),
		LIVE(test_exec_kill),
		LIVE(test_flow),
		LIVE(test_threads_daemons),
		LIVE(test_gates),
		LIVE(test_unlink),
		LIVE(test_pipe),
		LIVE(test_old_connection),
		LIVE(test_storm),
		LIVE(test_audit_observe),
		LIVE(test_link_during_session),
		LIVE(test_declassify),
		LIVE(test_ldso),
		LIVE(test_rename_dir),
	};

	if (getenv("AP_LIVE_VERBOSE"))
		ap_verbose = 1;
	if (geteuid() != 0) {
		printf("[  SKIPPED ] test_engine_live: needs root\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
