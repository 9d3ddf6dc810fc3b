// SPDX-License-Identifier: MIT
#include "common/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int ap_file__write_atomic(const char *path, const void *buf, size_t size, mode_t mode)
{
	char *tmp = NULL;
	const char *p = buf;
	int fd = -1, err = 0;

	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
		return -ENOMEM;
	fd = mkstemp(tmp);
	if (fd < 0) {
		err = -errno;
		goto cleanup;
	}
	while (size) {
		ssize_t n = write(fd, p, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto cleanup;
		}
		p += n;
		size -= (size_t)n;
	}
	if (fchmod(fd, mode)) {
		err = -errno;
		goto cleanup;
	}
	if (close(fd)) {
		fd = -1;
		err = -errno;
		goto cleanup;
	}
	fd = -1;
	if (rename(tmp, path))
		err = -errno;
cleanup:
	if (fd >= 0)
		close(fd);
	if (err)
		unlink(tmp);
	free(tmp);
	return err;
}
