// SPDX-License-Identifier: MIT
#include "resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/procfs.h"

/* ---- reading the target ---- */

int ap_proc__read_mem(pid_t pid, uint64_t addr, void *buf, size_t n)
{
	struct iovec l = { .iov_base = buf, .iov_len = n };
	struct iovec r = { .iov_base = (void *)(uintptr_t)addr, .iov_len = n };
	ssize_t got = process_vm_readv(pid, &l, 1, &r, 1, 0);

	if (got < 0)
		return -errno;
	return (size_t)got == n ? 0 : -EFAULT;
}

/* a NUL-terminated string, read page by page (a string may end just
 * before an unmapped page) */
int ap_proc__read_str(pid_t pid, uint64_t addr, char *buf, size_t size)
{
	size_t off = 0;

	if (!addr)
		return -EFAULT;
	while (off < size - 1) {
		size_t page_left = 4096 - ((addr + off) & 4095);
		size_t n = page_left < size - 1 - off ? page_left : size - 1 - off;
		int err = ap_proc__read_mem(pid, addr + off, buf + off, n);
		char *z;

		if (err)
			return err;
		z = memchr(buf + off, 0, n);
		if (z)
			return 0;
		off += n;
	}
	buf[size - 1] = 0;
	return -ENAMETOOLONG;
}

static long field(const char *buf, const char *key, long dflt)
{
	const char *p = strstr(buf, key);

	return p ? strtol(p + strlen(key), NULL, 10) : dflt;
}

int ap_proc__status(pid_t tid, pid_t *tgid, pid_t *ppid, uid_t *uid)
{
	char buf[1024];
	int err;

	/* Tgid, PPid and Uid are in the first lines */
	err = ap_procfs__read(tid, "status", buf, sizeof(buf));
	if (err)
		return err;
	*tgid = (pid_t)field(buf, "\nTgid:", tid);
	*ppid = (pid_t)field(buf, "\nPPid:", 0);
	*uid = (uid_t)field(buf, "\nUid:", 0);
	return 0;
}

/* ---- paths ---- */

/* "/a/./b//../c" -> "/a/c", in place; s is absolute */
void ap_resolve__lexical(char *s)
{
	char *out = s, *p = s;

	/* a relative name would grow by the '/' put before its first
	 * component: leave it (callers fall back to one only on failure) */
	if (*s != '/')
		return;
	while (*p) {
		char *e;
		size_t n;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		e = strchr(p, '/');
		n = e ? (size_t)(e - p) : strlen(p);
		if (n == 1 && p[0] == '.') {
			/* skip */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (out > s && *--out != '/')
				;
		} else {
			*out++ = '/';
			memmove(out, p, n);
			out += n;
		}
		p += n;
	}
	if (out == s)
		*out++ = '/';
	*out = 0;
}

static int fd_path(int fd, char *out, size_t size)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, out, size - 1);
	if (n < 0)
		return -errno;
	out[n] = 0;
	return 0;
}

static int join(char *out, size_t size, const char *dir, const char *name)
{
	int n = snprintf(out, size, "%s%s%s", dir,
			 dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/", name);

	return n >= (int)size ? -ENAMETOOLONG : 0;
}

/*
 * Resolve `path` as process pid would, relative to dirfd. follow: the last
 * component is followed when it is a symbolic link (also a dangling one:
 * open(O_CREAT) creates the link's target). When a directory on the way
 * does not exist the system call fails anyway; the path is then normalised
 * lexically, so a policy still sees the name that was meant.
 */
int ap_resolve__at(pid_t pid, int root_fd, int dirfd, const char *path, bool follow,
		   struct ap_resolved *r, int depth)
{
	char base[64], dir[SUP_PATH], tmp[SUP_PATH], last[NAME_MAX + 1];
	struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC };
	const char *rel, *slash;
	int bfd = -1, pfd = -1, err = 0;
	bool shared_root;
	size_t plen;

	if (depth > 40)
		return -ELOOP;
	r->has_st = false;
	/* /proc/self and /proc/thread-self are the caller's, not ours: name
	 * the process explicitly before we walk the path */
	if (!strncmp(path, "/proc/self", 10) || !strncmp(path, "/proc/thread-self", 17)) {
		bool thread = path[6] == 't';
		const char *rest = path + (thread ? 17 : 10);
		pid_t tgid = pid, ppid;
		uid_t uid;

		if (*rest == '/' || !*rest) {
			ap_proc__status(pid, &tgid, &ppid, &uid);
			if (thread)
				snprintf(tmp, sizeof(tmp), "/proc/%d/task/%d%s", (int)tgid,
					 (int)pid, rest);
			else
				snprintf(tmp, sizeof(tmp), "/proc/%d%s", (int)tgid, rest);
			return ap_resolve__at(pid, root_fd, dirfd, tmp, follow, r, depth + 1);
		}
	}
	/* a name relative to the cwd, with the root shared: the cwd's name
	 * (the kernel's, free of links) joined to it is an absolute name to
	 * resolve as one; a cwd we cannot name so (deleted, outside our
	 * root) takes the general way below */
	if (root_fd >= 0 && path[0] != '/' && dirfd == AT_FDCWD && depth < 40) {
		char cwd[SUP_PATH];
		ssize_t n;

		snprintf(base, sizeof(base), "/proc/%d/cwd", (int)pid);
		n = readlink(base, cwd, sizeof(cwd) - 1);
		if (n > 0 && cwd[0] == '/') {
			cwd[n] = 0;
			if (!strstr(cwd, " (deleted)") && !join(tmp, sizeof(tmp), cwd, path))
				return ap_resolve__at(pid, root_fd, AT_FDCWD, tmp, follow, r,
						      depth + 1);
		}
	}
	if (path[0] == '/')
		snprintf(base, sizeof(base), "/proc/%d/root", (int)pid);
	else if (dirfd == AT_FDCWD)
		snprintf(base, sizeof(base), "/proc/%d/cwd", (int)pid);
	else
		snprintf(base, sizeof(base), "/proc/%d/fd/%d", (int)pid, dirfd);
	if (!path[0]) {
		/* AT_EMPTY_PATH: dirfd itself */
		ssize_t n = readlink(base, r->path, sizeof(r->path) - 1);

		if (n < 0)
			return -errno;
		r->path[n] = 0;
		r->has_st = !stat(base, &r->st);
		return 0;
	}
	shared_root = path[0] == '/' && root_fd >= 0;
	bfd = shared_root ? root_fd : open(base, O_PATH | O_CLOEXEC);
	if (bfd < 0)
		return -errno;
	/* split into directory part and last component */
	snprintf(tmp, sizeof(tmp), "%s", path);
	plen = strlen(tmp);
	while (plen > 1 && tmp[plen - 1] == '/')
		tmp[--plen] = 0;
	slash = strrchr(tmp, '/');
	if (slash) {
		snprintf(last, sizeof(last), "%s", slash + 1);
		tmp[slash - tmp] = 0;
		rel = tmp;
		while (*rel == '/')
			rel++;
		if (!*rel)
			rel = ".";
	} else {
		snprintf(last, sizeof(last), "%s", tmp);
		rel = ".";
	}
	if (!strcmp(last, ".") || !strcmp(last, "..") || !last[0]) {
		/* the directory itself */
		rel = path[0] == '/' ? path + strspn(path, "/") : path;
		if (!*rel)
			rel = ".";
		last[0] = 0;
	}
	if (path[0] == '/')
		how.resolve = RESOLVE_IN_ROOT;
	if (shared_root) {
		/* our own root: a directory reached without a symbolic link
		 * (magic ones included) is named by its lexical path, no
		 * readlink needed; with one on the way, the slow path */
		how.resolve |= RESOLVE_NO_SYMLINKS;
		pfd = (int)syscall(SYS_openat2, bfd, rel, &how, sizeof(how));
		if (pfd >= 0) {
			if (join(dir, sizeof(dir), "/", rel)) {
				err = -ENAMETOOLONG;
				goto cleanup;
			}
			ap_resolve__lexical(dir);
			goto have_dir;
		}
		how.resolve &= ~(uint64_t)RESOLVE_NO_SYMLINKS;
	}
	pfd = (int)syscall(SYS_openat2, bfd, rel, &how, sizeof(how));
	if (pfd < 0) {
		/* fall back to the lexical name */
		char b[SUP_PATH];

		err = fd_path(bfd, b, sizeof(b));
		if (err)
			goto cleanup;
		if (path[0] == '/')
			snprintf(r->path, sizeof(r->path), "%s", path);
		else if ((err = join(r->path, sizeof(r->path), b, path)))
			goto cleanup;
		ap_resolve__lexical(r->path);
		err = 0;
		goto cleanup;
	}
	err = fd_path(pfd, dir, sizeof(dir));
	if (err)
		goto cleanup;
have_dir:
	if (!last[0]) {
		snprintf(r->path, sizeof(r->path), "%s", dir);
		r->has_st = !fstat(pfd, &r->st);
		goto cleanup;
	}
	if (!fstatat(pfd, last, &r->st, AT_SYMLINK_NOFOLLOW)) {
		r->has_st = true;
		if (follow && S_ISLNK(r->st.st_mode)) {
			char target[SUP_PATH];
			ssize_t n = readlinkat(pfd, last, target, sizeof(target) - 1);

			if (n < 0) {
				err = -errno;
				goto cleanup;
			}
			target[n] = 0;
			if (target[0] == '/') {
				err = ap_resolve__at(pid, root_fd, AT_FDCWD, target, true, r,
						     depth + 1);
			} else {
				char j[SUP_PATH];

				err = join(j, sizeof(j), dir, target);
				if (!err)
					err = ap_resolve__at(pid, root_fd, AT_FDCWD, j, true, r,
							     depth + 1);
			}
			goto cleanup;
		}
	}
	err = join(r->path, sizeof(r->path), dir, last);
cleanup:
	if (pfd >= 0)
		close(pfd);
	if (bfd >= 0 && !shared_root)
		close(bfd);
	return err;
}

/* the name an exec was given, lexically (engine: bprm->filename joined to
 * the cwd and normalised) */
void ap_resolve__exec_name(pid_t pid, const char *path, char *out, size_t size)
{
	char cwd[SUP_PATH], link[64];
	ssize_t n;

	if (path[0] == '/') {
		snprintf(out, size, "%s", path);
	} else {
		snprintf(link, sizeof(link), "/proc/%d/cwd", (int)pid);
		n = readlink(link, cwd, sizeof(cwd) - 1);
		cwd[n > 0 ? n : 0] = 0;
		if (join(out, size, n > 0 ? cwd : "/", path))
			snprintf(out, size, "%s", path);
	}
	ap_resolve__lexical(out);
}

/* "#!" interpreter of a script, resolved */
bool ap_resolve__interp(pid_t pid, int root_fd, const char *file, struct ap_resolved *r)
{
	char buf[256], *p, *e;
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 3 || buf[0] != '#' || buf[1] != '!')
		return false;
	buf[n] = 0;
	p = buf + 2;
	p += strspn(p, " \t");
	e = p + strcspn(p, " \t\n");
	*e = 0;
	if (*p != '/')
		return false;
	return !ap_resolve__at(pid, root_fd, AT_FDCWD, p, true, r, 0);
}

