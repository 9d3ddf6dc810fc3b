// SPDX-License-Identifier: MIT
#include "watchdog.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

/* the cgroup2 mount point from /proc/self/mounts */
static int cg2_root(char *out, size_t size)
{
	char dev[256], dir[512], type[64];
	FILE *f = fopen("/proc/self/mounts", "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fscanf(f, "%255s %511s %63s %*[^\n]", dev, dir, type) == 3) {
		if (!strcmp(type, "cgroup2")) {
			snprintf(out, size, "%s", dir);
			err = 0;
			break;
		}
	}
	fclose(f);
	return err;
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

static void kill_cgroup(const char *dir)
{
	char path[700], line[64];
	FILE *f;

	if (!write_file(dir, "cgroup.kill", "1"))
		goto wait;
	/* before cgroup.kill (5.14): signal every member until none is left */
	for (int round = 0; round < 50; round++) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
		f = fopen(path, "re");
		if (!f)
			return;
		while (fgets(line, sizeof(line), f))
			kill((pid_t)atoi(line), SIGKILL);
		fclose(f);
		if (!populated(dir))
			return;
		usleep(20000);
	}
wait:
	for (int i = 0; i < 250 && populated(dir); i++)
		usleep(20000);
}

static void __attribute__((noreturn)) watchdog_main(const char *dir, int rd)
{
	char b;
	ssize_t n;

	/* not a member of anything the session can signal by group */
	setsid();
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	do
		n = read(rd, &b, 1);
	while (n < 0 && errno == EINTR);
	kill_cgroup(dir);
	rmdir(dir);
	_exit(0);
}

int ap_watchdog__start(const char *name, struct ap_watchdog *w)
{
	char root[512];
	int p[2], err;
	pid_t pid;

	memset(w, 0, sizeof(*w));
	w->pipe_wr = -1;
	err = cg2_root(root, sizeof(root));
	if (err)
		return err;
	snprintf(w->cg, sizeof(w->cg), "%s/actplane-%s", root, name);
	if (mkdir(w->cg, 0755) && errno != EEXIST) {
		err = -errno;
		w->cg[0] = 0;
		return err;
	}
	if (pipe2(p, O_CLOEXEC)) {
		err = -errno;
		rmdir(w->cg);
		w->cg[0] = 0;
		return err;
	}
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(p[0]);
		close(p[1]);
		rmdir(w->cg);
		w->cg[0] = 0;
		return err;
	}
	if (pid == 0) {
		/* keep only the read end: every other fd (engine, listener,
		 * sockets) must close with run */
		int maxfd = (int)sysconf(_SC_OPEN_MAX);

		for (int fd = 3; fd < maxfd && fd < 65536; fd++)
			if (fd != p[0])
				close(fd);
		/* a grandchild: not run's child, so run's reaping and its
		 * end-of-session signals never see it */
		if (fork() == 0)
			watchdog_main(w->cg, p[0]);
		_exit(0);
	}
	close(p[0]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	w->pipe_wr = p[1];
	return 0;
}

int ap_watchdog__add(struct ap_watchdog *w, pid_t pid)
{
	char v[32];

	if (!w->cg[0])
		return -ENOENT;
	snprintf(v, sizeof(v), "%d", (int)pid);
	return write_file(w->cg, "cgroup.procs", v);
}

void ap_watchdog__stop(struct ap_watchdog *w)
{
	if (w->pipe_wr >= 0)
		close(w->pipe_wr);
	w->pipe_wr = -1;
}
