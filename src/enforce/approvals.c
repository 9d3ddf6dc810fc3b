// SPDX-License-Identifier: MIT
#include "approvals.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"

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
	if (mkdir(AP_CTL_DIR, 0755) && errno != EEXIST)
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
