// SPDX-License-Identifier: MIT
#include "approvals.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "common/procfs.h"

int ap_approvals__sock_path(const char *session, char *buf, size_t size)
{
	struct sockaddr_un un;
	int n = snprintf(buf, size, "%s/%s.sock", AP_CTL_DIR, session);

	if (n < 0 || (size_t)n >= size || (size_t)n >= sizeof(un.sun_path))
		return -ENAMETOOLONG;
	return 0;
}

int ap_approvals__listen(const char *session, int *fd)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int s, err;

	*fd = -1;
	if (!mkdir(AP_CTL_DIR, 0755))
		chmod(AP_CTL_DIR, 0755); /* whatever run's umask: the owner decides */
	else if (errno != EEXIST)
		return -errno;
	err = ap_approvals__sock_path(session, un.sun_path, sizeof(un.sun_path));
	if (err)
		return err;
	unlink(un.sun_path);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return -errno;
	if (bind(s, (struct sockaddr *)&un, sizeof(un)) || listen(s, 16)) {
		err = -errno;
		close(s);
		return err;
	}
	/* who may decide is checked on SO_PEERCRED, not by the file mode */
	chmod(un.sun_path, 0666);
	*fd = s;
	return 0;
}

static int ask_one(const char *path, const char *line,
		   int (*cb)(void *ctx, const char *sock, const char *reply),
		   void *ctx)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 3 };
	char buf[65536];
	size_t used = 0;
	ssize_t n;
	int s, err = 0;
	char *p, *nl;

	if (strlen(path) >= sizeof(un.sun_path))
		return -ENAMETOOLONG;
	snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	/* a session that does not answer must not stall the others */
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(s, (struct sockaddr *)&un, sizeof(un))) {
		err = -errno;
		goto cleanup;
	}
	{
		char req[300];

		snprintf(req, sizeof(req), "%s\n", line);
		/* one write: the server reads one line and answers */
		if (send(s, req, strlen(req), MSG_NOSIGNAL) < 0) {
			err = -errno;
			goto cleanup;
		}
	}
	if (0) {
		err = -errno;
		goto cleanup;
	}
	shutdown(s, SHUT_WR);
	while (used < sizeof(buf) - 1 && (n = read(s, buf + used, sizeof(buf) - 1 - used)) > 0)
		used += (size_t)n;
	buf[used] = 0;
	for (p = buf; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p) - 1;
		else
			*nl = 0;
		if (*p && cb && (err = cb(ctx, path, p)))
			break;
		if (!nl[1])
			break;
	}
cleanup:
	close(s);
	return err;
}

int ap_approvals__request(const char *line,
			  int (*cb)(void *ctx, const char *sock, const char *reply),
			  void *ctx)
{
	struct dirent *de;
	DIR *d = opendir(AP_CTL_DIR);
	int answered = 0, err;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		char path[512];
		size_t n = strlen(de->d_name);

		if (n < 6 || strcmp(de->d_name + n - 5, ".sock"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", AP_CTL_DIR, de->d_name);
		err = ask_one(path, line, cb, ctx);
		if (err == -ECONNREFUSED) {
			unlink(path); /* nobody listens: a run that was killed */
			continue;
		}
		if (err == -ENOENT || err == -EAGAIN || err == -ETIMEDOUT)
			continue; /* gone, or not answering */
		if (err > 0) {
			answered++;
			break; /* the callback says: done */
		}
		if (!err)
			answered++;
	}
	closedir(d);
	return answered;
}

int ap_approvals__caller_session(pid_t pid, char *buf, size_t size)
{
	char text[4096], *p;
	size_t len;
	int err;

	if (size)
		buf[0] = 0;
	err = ap_procfs__read(pid, "cgroup", text, sizeof(text));
	if (err)
		return err == -EIO ? 0 : err;
	/* the v2 line "0::/…/actplane-<session>[/…]" (or any hierarchy) */
	p = strstr(text, "/actplane-");
	if (!p)
		return 0;
	p += strlen("/actplane-");
	len = strcspn(p, "/\n");
	if (!len || len >= size)
		return 0;
	memcpy(buf, p, len);
	buf[len] = 0;
	return 1;
}

void ap_approvals__refusal(const char *verb, const char *session, pid_t pid, uid_t uid,
			   char *msg, size_t msg_size, char *by, size_t by_size)
{
	snprintf(msg, msg_size,
		 "error: refused: you are inside session %s: an agent cannot %s its own "
		 "request (decide from outside the session)\n",
		 session, verb);
	snprintf(by, by_size, "pid %d uid %u inside session %s", (int)pid, (unsigned)uid,
		 session);
}

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

int ap_approvals__peer_pidfd(int sock, pid_t pid)
{
	socklen_t len = sizeof(int);
	int fd = -1;

	if (!getsockopt(sock, SOL_SOCKET, SO_PEERPIDFD, &fd, &len) && fd >= 0)
		return fd;
	/* older kernels: the pid could in principle be reused between the
	 * connect and here; it cannot after, while we hold the pidfd */
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	return fd >= 0 ? fd : -errno;
}

bool ap_approvals__pidfd_alive(int pidfd)
{
	struct pollfd pf = { .fd = pidfd, .events = POLLIN };

	/* a pidfd polls readable once its process has exited */
	return pidfd >= 0 && poll(&pf, 1, 0) == 0;
}
