/* SPDX-License-Identifier: MIT */
/*
 * Reading a supervised process and resolving its paths the way the kernel
 * will, for the seccomp supervisor (supervisor.h): memory through
 * process_vm_readv, names relative to its cwd or a dirfd (/proc/PID/cwd,
 * /proc/PID/fd/N), absolute names inside its root (/proc/PID/root with
 * RESOLVE_IN_ROOT), "..", symbolic links (the last component followed only
 * when asked: open without O_NOFOLLOW, exec, truncate).
 *
 * Paths come back as the supervisor sees them (readlink of the opened
 * directory, or its lexical name when it was reached from our own root
 * without a symbolic link); docs/security-model.md says why that equals the process's
 * view in a session (the session guard keeps chroot and mount namespaces
 * out). Functions return 0 or -errno.
 */
#ifndef AP_ENFORCE_RESOLVE_H
#define AP_ENFORCE_RESOLVE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define SUP_PATH (PATH_MAX + 64)

struct ap_resolved {
	char path[SUP_PATH];
	bool has_st;
	struct stat st;
};

/* n bytes at addr of process pid (any thread id) */
int ap_proc__read_mem(pid_t pid, uint64_t addr, void *buf, size_t n);
/* a NUL-terminated string; -ENAMETOOLONG past size */
int ap_proc__read_str(pid_t pid, uint64_t addr, char *buf, size_t size);
/* Tgid, PPid and real uid of a thread from /proc/TID/status */
int ap_proc__status(pid_t tid, pid_t *tgid, pid_t *ppid, uid_t *uid);

/* "/a/./b//../c" -> "/a/c" in place (s absolute) */
void ap_resolve__lexical(char *s);
/* Resolve path as pid would, relative to dirfd (AT_FDCWD: its cwd); an
 * empty path is dirfd itself (AT_EMPTY_PATH). When a directory on the way
 * does not exist the lexical name is returned (the call fails anyway).
 * root_fd: -1 resolves absolute names in /proc/PID/root; else a
 * descriptor of the root pid is known to share with the caller (the
 * supervisor's, when the session guard keeps chroot and mount namespaces
 * out), which saves opening it per call. depth: 0 (symbolic links). */
int ap_resolve__at(pid_t pid, int root_fd, int dirfd, const char *path, bool follow,
		   struct ap_resolved *r, int depth);
/* the name an exec was given, joined to the cwd and normalised lexically
 * (the kernel engine's bprm->filename) */
void ap_resolve__exec_name(pid_t pid, const char *path, char *out, size_t size);
/* the resolved "#!" interpreter of a script file, false when none */
bool ap_resolve__interp(pid_t pid, int root_fd, const char *file, struct ap_resolved *r);

#endif
