// SPDX-License-Identifier: MIT
#include "common/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int ap_procfs__cgroup2_mount(char *out, size_t size)
{
	FILE *f = fopen("/proc/self/mounts", "re");
	char dev[256], dir[PATH_MAX], type[64];
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fscanf(f, "%255s %4095s %63s %*[^\n]", dev, dir, type) == 3) {
		if (!strcmp(type, "cgroup2")) {
			if ((size_t)snprintf(out, size, "%s", dir) >= size)
				err = -ENAMETOOLONG;
			else
				err = 0;
			break;
		}
	}
	fclose(f);
	return err;
}

int ap_procfs__read(pid_t pid, const char *name, char *buf, size_t size)
{
	char path[64 + NAME_MAX];
	ssize_t n;
	int fd, err = 0;

	if (size < 2)
		return -EINVAL;
	if (pid < 0)
		return -ESRCH;
	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	else
		snprintf(path, sizeof(path), "/proc/self/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		err = -errno;
	else if (n == 0)
		err = -EIO;
	else
		buf[n] = 0;
	close(fd);
	return err;
}
