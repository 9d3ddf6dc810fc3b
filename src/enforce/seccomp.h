/* SPDX-License-Identifier: MIT */
/*
 * The supervised mode's seccomp filter, compiled from the policy.
 *
 * Only the system calls that a `block`, `ask` or `kill` clause can concern
 * are sent to the supervisor (SCMP_ACT_NOTIFY); everything else, and every
 * system call of an op no such clause names, runs at full speed. Where the
 * filter can decide exactly from register arguments it does: when only
 * write clauses need the supervisor, open/openat are sent only with a write
 * flag (O_WRONLY, O_RDWR, O_CREAT, O_TRUNC); sendto only with an address.
 * When any file clause needs the supervisor, io_uring_setup fails with
 * EPERM (as with kernel.io_uring_disabled=2): its submissions would bypass
 * the filter. Syscalls of another ABI (i386 int 0x80, x32) kill the thread
 * (libseccomp's bad-arch default), so no second table escapes the filter.
 * The session guard's system calls (sysguard.h) are sent as well unless
 * the policy lowers the guard: ptrace attach/seize, process_vm_writev,
 * every open for writing (/proc/PID/mem), chroot, pivot_root, setns,
 * unshare/clone of a mount or user namespace (clone3 fails with ENOSYS)
 * and every signal system call.
 *
 * Life cycle (the filter must be installed by the child itself, after it
 * became the target user and right before it execs):
 *   parent: ap_seccomp__plan(bv, &plan); socketpair(...);
 *           ap_seccomp__arm(&plan, child_end)        before ap_child__spawn
 *   child:  ap_enforce__child_pre_exec()             (session.c, before exec)
 *           applies Landlock (landlock.h), installs the filter, hands the
 *           listener fd over child_end (SCM_RIGHTS, or by number for
 *           pidfd_getfd when the filter holds sendmsg), closes it
 *   parent: ap_seccomp__recv_listener(parent_end, pid, &fd) (the supervisor)
 *
 * All functions return 0 or -errno.
 */
#ifndef AP_ENFORCE_SECCOMP_H
#define AP_ENFORCE_SECCOMP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct ap_blob_view;

/* What the filter sends to the supervisor. */
struct ap_sc_plan {
	bool exec;          /* execve, execveat */
	bool open_all;      /* every open/openat/openat2/creat */
	bool open_write;    /* opens with a write flag, creat, truncate, symlink */
	bool unlink;        /* unlink, unlinkat, rmdir */
	bool rename;        /* rename, renameat, renameat2, link, linkat */
	bool connect;       /* connect, sendto with an address, sendmsg */
	uint32_t guard;     /* session-guard items enforced (sysguard.h) */
	bool any;           /* some syscall is sent at all */
};

/* Which syscalls the policy's block/ask/kill clauses need. */
int ap_seccomp__plan(const struct ap_blob_view *bv, struct ap_sc_plan *p);

/* Build the filter and load it into the calling thread; *listener gets the
 * notification fd. Sets no_new_privs unless the caller has CAP_SYS_ADMIN. */
int ap_seccomp__install(const struct ap_sc_plan *p, int *listener);

/* Remember what the child must do before exec (copied into the child by
 * fork). sock: the child's end of a socketpair for the listener fd. */
int ap_seccomp__arm(const struct ap_sc_plan *p, int sock);
void ap_seccomp__disarm(void);

/* Called by the command's process right before execve: installs whatever
 * was armed (nothing armed: 0). A failure must stop the exec. */
int ap_enforce__child_pre_exec(void);

/* SCM_RIGHTS helpers. recv waits up to timeout_ms (-1 forever). */
int ap_seccomp__send_fd(int sock, int fd);
int ap_seccomp__recv_fd(int sock, int timeout_ms, int *fd);

/* The supervisor's end of the hand-over: the listener fd of process pid,
 * received with SCM_RIGHTS, or (when the filter holds the command's own
 * sendmsg) by number, copied with pidfd_getfd and acknowledged so that the
 * command goes on to exec. Call when sock is readable. */
int ap_seccomp__recv_listener(int sock, pid_t pid, int *fd);

/* "execve openat unlinkat ..." the filter sends, for `check` and logs */
void ap_seccomp__describe(const struct ap_sc_plan *p, char *buf, unsigned size);

#endif
