/* SPDX-License-Identifier: MIT */
/*
 * The system-call items of the built-in `session-guard` rule
 * (policy-language.md section 7) in the supervised mode: ptrace,
 * process_vm_writev and writing /proc/PID/mem of a process outside the
 * session (`ptrace`); chroot, pivot_root, setns, unshare/clone of a mount or
 * user namespace (`namespaces`); signals aimed at the engine (`signal`).
 * The `files` and `cgroup` items are path rules the compiler adds.
 *
 * The filter (seccomp.c) sends these system calls to the supervisor, with
 * argument filters where a register says enough (ptrace request, unshare and
 * clone flags); clone3, whose flags sit behind a pointer the filter cannot
 * read, fails with ENOSYS so that libc falls back to clone. The supervisor
 * asks ap_sysguard__check() whether a held call is a guard violation and
 * answers EPERM when it is. With `guard: notify` nothing is sent: the kernel
 * engine reports (bpf/engine_guard.bpf.h).
 *
 * "The engine" is the `run` process (every thread) and any other process
 * outside the session running the actplane binary (the watchdog, other
 * sessions' engines). Functions return 0 or -errno unless said otherwise.
 */
#ifndef AP_ENFORCE_SYSGUARD_H
#define AP_ENFORCE_SYSGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>

#include "../../bpf/abi.h"

struct ap_blob_view;

struct ap_sysguard {
	uint32_t items;       /* AP_GUARD_PTRACE|NAMESPACES|SIGNAL still enforced */
	bool notify;          /* guard: notify (report only) */
	unsigned rule;        /* the rule index events carry */
	pid_t engine_pid, engine_pgid;
	dev_t exe_dev;        /* the actplane binary */
	ino_t exe_ino;
	/* this session, for "is the target inside": engine map and cgroup */
	int procs_fd;
	uint32_t session;
	char cgroup_name[96]; /* "/actplane-SESSION" */
};

/* The guard's rule index in the blob's rule table: the rule named
 * "session-guard", else AP_RULE_GUARD_NONE (not a real rule; run names it
 * "session-guard" all the same). */
unsigned ap_sysguard__rule_index(const struct ap_blob_view *bv);

/* The items the policy leaves enforced (0 with guard: notify). */
uint32_t ap_sysguard__items(const struct ap_blob_view *bv);

/* For the supervisor, in the run process. */
int ap_sysguard__init(struct ap_sysguard *g, const struct ap_blob_view *bv,
		      int procs_fd, uint32_t session, const char *session_name);

/* Add the filter rules for `items` to a libseccomp context (void * keeps
 * seccomp.h out of the callers). */
int ap_sysguard__filter(void *scmp_ctx, uint32_t items);

/* A held system call: 1 when it is a guard violation (*op, target filled,
 * target e.g. "pid:123 (/usr/bin/sleep)" or the namespace call), 0 when
 * it is not one of ours or is allowed. tid/tgid: the caller (tgid 0: read
 * from /proc when a signal's check needs it). */
int ap_sysguard__check(const struct ap_sysguard *g, pid_t tid, pid_t tgid, int nr,
		       const uint64_t args[6], enum ap_op *op, char *target,
		       size_t tsize);

/* An open for writing that the supervisor resolved to `path`: 1 when it is
 * /proc/PID/mem (or /proc/PID/task/TID/mem) of a process outside the
 * session; target filled. */
int ap_sysguard__check_mem(const struct ap_sysguard *g, const char *path,
			   char *target, size_t tsize);

/* For the kernel engine (loader.c): put the engine's processes into its
 * ap_guard_pids map (value AP_GPID_* bits, bpf/engine_guard.bpf.h): every
 * thread of `self`, every other process of the actplane binary that is not
 * a child of self (the watchdog; other engines), and their process groups.
 * Returns how many entries were added, or -errno. */
#define AP_GPID_PROC  0x1
#define AP_GPID_GROUP 0x2
int ap_sysguard__fill_engine_pids(int map_fd, pid_t self);

/* The reason events carry */
const char *ap_sysguard__reason(enum ap_op op);

#endif
