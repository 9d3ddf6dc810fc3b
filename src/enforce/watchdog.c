// SPDX-License-Identifier: MIT
#include "watchdog.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/procfs.h"


/* A v2 hierarchy of our own where the system mounted none (a pure v1
 * system still has one: it is simply not mounted). */
static int cg2_root(char *out, size_t size)
{
	int err = ap_procfs__cgroup2_mount(out, size);

	if (!err)
		return 0;
	if (mkdir("/run/actplane", 0755) && errno != EEXIST)
		return err;
	if (mkdir(AP_WD_CG_MOUNT, 0755) && errno != EEXIST)
		return err;
	if (mount("cgroup2", AP_WD_CG_MOUNT, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL))
		return -errno;
	snprintf(out, size, "%s", AP_WD_CG_MOUNT);
	return 0;
}

static int write_file(const char *dir, const char *name, const char *val)
{
	char path[700];
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		err = -errno;
	close(fd);
	return err;
}

static bool populated(const char *dir)
{
	char path[700], line[128];
	bool pop = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.events", dir);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "populated ", 10))
			pop = line[10] == '1';
	fclose(f);
	return pop;
}

/* Signal (or count, sig 0) the members; returns how many, or -errno. */
static int for_members(const char *dir, int sig)
{
	char path[700], line[64];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		pid_t p = (pid_t)atoi(line);

		if (p <= 0)
			continue;
		if (!sig || !kill(p, sig))
			n++;
	}
	fclose(f);
	return n;
}

static void kill_cgroup(const char *dir)
{
	if (!write_file(dir, "cgroup.kill", "1"))
		goto wait;
	/* before cgroup.kill (5.14): signal every member until none is left
	 * (a fork racing the scan is caught by the next round) */
	for (int round = 0; round < 50; round++) {
		if (for_members(dir, SIGKILL) < 0 || !populated(dir))
			return;
		usleep(20000);
	}
wait:
	for (int i = 0; i < 250 && populated(dir); i++)
		usleep(20000);
}

static void __attribute__((noreturn)) watchdog_main(const char *dir, const char *leftover,
						     int rd)
{
	char b;
	ssize_t n;

	/* not a member of anything the session can signal by group */
	setsid();
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	prctl(PR_SET_NAME, "actplane-wd", 0, 0, 0);
	do
		n = read(rd, &b, 1);
	while (n < 0 && errno == EINTR);
	kill_cgroup(dir);
	rmdir(dir);
	if (leftover)
		unlink(leftover);
	_exit(0);
}

int ap_watchdog__start(const char *name, const char *leftover, struct ap_watchdog *w)
{
	char root[512];
	int p[2] = { -1, -1 }, a[2] = { -1, -1 }, err;
	struct stat st;
	pid_t pid;

	memset(w, 0, sizeof(*w));
	w->pipe_wr = w->alive_rd = -1;
	err = cg2_root(root, sizeof(root));
	if (err)
		return err;
	snprintf(w->cg, sizeof(w->cg), "%s/actplane-%s", root, name);
	if (mkdir(w->cg, 0755) && errno != EEXIST) {
		err = -errno;
		w->cg[0] = 0;
		return err;
	}
	if (!stat(w->cg, &st))
		w->cg_id = st.st_ino;
	if (pipe2(p, O_CLOEXEC) || pipe2(a, O_CLOEXEC | O_NONBLOCK)) {
		err = -errno;
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		err = -errno;
		goto fail;
	}
	if (pid == 0) {
		/* keep only the two pipe ends: every other fd (engine,
		 * listener, sockets) must close with run */
		int maxfd = (int)sysconf(_SC_OPEN_MAX), null = open("/dev/null", O_RDWR);

		/* nor hold run's stdio: a caller reading run's output must
		 * see EOF when run is gone */
		for (int fd = 0; fd < 3 && null >= 0; fd++)
			dup2(null, fd);
		for (int fd = 3; fd < maxfd && fd < 65536; fd++)
			if (fd != p[0] && fd != a[1])
				close(fd);
		/* a grandchild: not run's child, so run's reaping and its
		 * end-of-session signals never see it */
		if (fork() == 0)
			watchdog_main(w->cg, leftover, p[0]);
		_exit(0);
	}
	close(p[0]);
	close(a[1]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	w->pipe_wr = p[1];
	w->alive_rd = a[0];
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (p[i] >= 0)
			close(p[i]);
		if (a[i] >= 0)
			close(a[i]);
	}
	rmdir(w->cg);
	w->cg[0] = 0;
	w->cg_id = 0;
	return err;
}

int ap_watchdog__add(struct ap_watchdog *w, pid_t pid)
{
	char v[32];

	if (!w->cg[0])
		return -ENOENT;
	snprintf(v, sizeof(v), "%d", (int)pid);
	return write_file(w->cg, "cgroup.procs", v);
}

int ap_watchdog__count(const struct ap_watchdog *w)
{
	if (!w->cg[0])
		return -ENOENT;
	return for_members(w->cg, 0);
}

int ap_watchdog__signal(const struct ap_watchdog *w, int sig)
{
	int n;

	if (!w->cg[0])
		return -ENOENT;
	if (sig == SIGKILL) {
		n = for_members(w->cg, 0);
		if (n > 0 && !write_file(w->cg, "cgroup.kill", "1"))
			return n;
	}
	return for_members(w->cg, sig);
}

bool ap_watchdog__lost(const struct ap_watchdog *w)
{
	struct pollfd pf = { .fd = w->alive_rd, .events = POLLIN };
	char b;

	if (w->alive_rd < 0)
		return false;
	/* the watchdog never writes: readable means EOF, it is gone */
	if (poll(&pf, 1, 0) <= 0)
		return false;
	return read(w->alive_rd, &b, 1) == 0 || (pf.revents & (POLLHUP | POLLERR));
}

void ap_watchdog__stop(struct ap_watchdog *w)
{
	if (!w)
		return;
	/* nobody else will remove the cgroup */
	if (w->cg[0] && ap_watchdog__lost(w)) {
		kill_cgroup(w->cg);
		rmdir(w->cg);
	}
	if (w->pipe_wr >= 0)
		close(w->pipe_wr);
	if (w->alive_rd >= 0)
		close(w->alive_rd);
	w->pipe_wr = w->alive_rd = -1;
}
