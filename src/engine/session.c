// SPDX-License-Identifier: MIT
#include "session.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "enforce/seccomp.h"

/* What the child tells the parent on the status pipe. */
enum child_stage { CHILD_READY = 1, CHILD_BECOME_FAILED, CHILD_EXEC_FAILED };

struct child_msg {
	int stage;
	int err;
};

static int write_msg(int fd, int stage, int err)
{
	struct child_msg m = { .stage = stage, .err = err };
	ssize_t n;

	do
		n = write(fd, &m, sizeof(m));
	while (n < 0 && errno == EINTR);
	return n == sizeof(m) ? 0 : -EIO;
}

/* 1 with a message, 0 on EOF, -errno */
static int read_msg(int fd, struct child_msg *m)
{
	ssize_t n;

	do
		n = read(fd, m, sizeof(*m));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	return n == sizeof(*m) ? 1 : -EIO;
}

static void reset_signals(void)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	sigset_t none;

	for (int s = 1; s < NSIG; s++)
		sigaction(s, &sa, NULL); /* EINVAL for KILL/STOP: fine */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void __attribute__((noreturn))
child_main(char *const argv[], const struct ap_user *u, pid_t parent,
	   int release_rd, int status_wr)
{
	char go;
	ssize_t n;
	int err;

	reset_signals();
	/* a process group of its own, so that `kill 0` (a script's usual
	 * clean-up) reaches the session and not run, which the session guard
	 * would have to refuse; with run in the terminal's foreground the
	 * command takes it over, as a shell's job would */
	setpgid(0, 0);
	if (isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgid(parent)) {
		signal(SIGTTOU, SIG_IGN);
		tcsetpgrp(STDIN_FILENO, getpid());
		signal(SIGTTOU, SIG_DFL);
	}
	/* die with run: an engine that is gone cannot supervise us */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	err = ap_user__become(u);
	if (err) {
		write_msg(status_wr, CHILD_BECOME_FAILED, -err);
		_exit(126);
	}
	/* PDEATHSIG is cleared by a credential change: set it again */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(126);
	write_msg(status_wr, CHILD_READY, 0);
	do
		n = read(release_rd, &go, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(126); /* the parent gave up on us */
	close(release_rd);
	/* supervised mode: seccomp filter (+ Landlock), armed by run */
	err = ap_enforce__child_pre_exec();
	if (err) {
		write_msg(status_wr, CHILD_EXEC_FAILED, -err);
		_exit(126);
	}
	/* PDEATHSIG stays set: if run dies, the engine detaches, and the
	 * command must not go on unsupervised (exec of a set-uid program
	 * clears it; the session's other processes are ended by run) */
	execvp(argv[0], argv);
	err = errno;
	write_msg(status_wr, CHILD_EXEC_FAILED, err);
	_exit(err == ENOENT ? 127 : 126);
}

int ap_child__spawn(char *const argv[], const struct ap_user *u,
		    struct ap_child *c)
{
	int rel[2] = { -1, -1 }, st[2] = { -1, -1 };
	struct child_msg m;
	int err, r;
	pid_t pid, parent = getpid();

	memset(c, 0, sizeof(*c));
	c->release_fd = c->status_fd = -1;
	if (pipe2(rel, O_CLOEXEC) || pipe2(st, O_CLOEXEC)) {
		err = -errno;
		ap_err("cannot create pipes for the command: %s", strerror(-err));
		goto cleanup;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		err = -errno;
		ap_err("cannot fork the command: %s", strerror(-err));
		goto cleanup;
	}
	if (pid == 0) {
		close(rel[1]);
		close(st[0]);
		child_main(argv, u, parent, rel[0], st[1]);
	}
	close(rel[0]);
	close(st[1]);
	rel[0] = st[1] = -1;
	setpgid(pid, pid); /* both sides: whichever runs first */
	c->pid = pid;
	c->release_fd = rel[1];
	c->status_fd = st[0];
	rel[1] = st[0] = -1;

	r = read_msg(c->status_fd, &m);
	if (r == 1 && m.stage == CHILD_READY)
		return 0;
	if (r == 1 && m.stage == CHILD_BECOME_FAILED)
		ap_err("cannot run the command as %s (uid %u, gid %u): %s",
		       u->name[0] ? u->name : "that user", (unsigned)u->uid,
		       (unsigned)u->gid, strerror(m.err));
	else
		ap_err("the command's process failed before it could start");
	err = r == 1 && m.err ? -m.err : -ECHILD;
	ap_child__abort(c);
cleanup:
	for (int i = 0; i < 2; i++) {
		if (rel[i] >= 0)
			close(rel[i]);
		if (st[i] >= 0)
			close(st[i]);
	}
	return err;
}

int ap_child__release(struct ap_child *c)
{
	struct child_msg m;
	ssize_t n;
	int r;

	do
		n = write(c->release_fd, "g", 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		return -errno;
	close(c->release_fd);
	c->release_fd = -1;
	/* EOF: the CLOEXEC end closed, i.e. the exec happened (or the child
	 * died in it) */
	r = read_msg(c->status_fd, &m);
	close(c->status_fd);
	c->status_fd = -1;
	if (r == 1 && m.stage == CHILD_EXEC_FAILED)
		return -m.err;
	return r < 0 ? r : 0;
}

void ap_child__abort(struct ap_child *c)
{
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
		c->pid = 0;
	}
	ap_child__close(c);
}

void ap_child__close(struct ap_child *c)
{
	/* the terminal back to run's group, if the command took it */
	if (c->pid > 0 && isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == c->pid) {
		signal(SIGTTOU, SIG_IGN);
		tcsetpgrp(STDIN_FILENO, getpgrp());
		signal(SIGTTOU, SIG_DFL);
	}
	if (c->release_fd > 0)
		close(c->release_fd);
	if (c->status_fd > 0)
		close(c->status_fd);
	c->release_fd = c->status_fd = -1;
}

int ap_session__become_reaper(void)
{
	return prctl(PR_SET_CHILD_SUBREAPER, 1) ? -errno : 0;
}

/* ppid and state from /proc/PID/stat; the comm may hold ')' and spaces,
 * so parse after the last ')' */
static int proc_stat(pid_t pid, pid_t *ppid, char *state)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd, pp;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c %d", state, &pp) != 2)
		return -EIO;
	*ppid = (pid_t)pp;
	return 0;
}

struct proc_ent {
	pid_t pid, ppid;
	char state;
};

int ap_session__descendants(pid_t *out, size_t max)
{
	struct proc_ent *v = NULL, *nv;
	size_t n = 0, cap = 0, i;
	unsigned char *mark = NULL;
	struct dirent *de;
	bool grew;
	int count = 0;
	DIR *d;

	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct proc_ent e;
		char *end;
		long p = strtol(de->d_name, &end, 10);

		if (*end || p <= 0)
			continue;
		e.pid = (pid_t)p;
		if (proc_stat(e.pid, &e.ppid, &e.state))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				count = -ENOMEM;
				goto cleanup;
			}
			v = nv;
		}
		v[n++] = e;
	}
	mark = calloc(n ? n : 1, 1);
	if (!mark) {
		count = -ENOMEM;
		goto cleanup;
	}
	/* transitive closure from our pid; the tree is small, n^2 is fine */
	do {
		grew = false;
		for (i = 0; i < n; i++) {
			if (mark[i])
				continue;
			if (v[i].ppid == getpid()) {
				mark[i] = 1;
				grew = true;
				continue;
			}
			for (size_t j = 0; j < n; j++)
				if (mark[j] && v[j].pid == v[i].ppid) {
					mark[i] = 1;
					grew = true;
					break;
				}
		}
	} while (grew);
	for (i = 0; i < n; i++) {
		if (!mark[i] || v[i].state == 'Z' || v[i].state == 'X')
			continue;
		if ((size_t)count < max)
			out[count] = v[i].pid;
		count++;
	}
cleanup:
	closedir(d);
	free(mark);
	free(v);
	return count;
}

int ap_session__signal_all(int sig)
{
	pid_t pids[4096];
	int n = ap_session__descendants(pids, 4096), sent = 0;

	if (n < 0)
		return n;
	for (int i = 0; i < n && i < 4096; i++)
		if (!kill(pids[i], sig))
			sent++;
	return sent;
}

int ap_session__exit_code(int wstatus, int *sig)
{
	*sig = 0;
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus)) {
		*sig = WTERMSIG(wstatus);
		return 128 + *sig;
	}
	return 1;
}
