/* SPDX-License-Identifier: MIT */
/*
 * The seccomp supervisor of the supervised mode: a thread of the `run`
 * process that answers the notifications of the filter (seccomp.h).
 *
 * For each held system call it reads the pointer arguments from the
 * process's memory (process_vm_readv), resolves paths the way the kernel
 * will (dirfd or cwd from /proc/PID/fd and /proc/PID/cwd, absolute names
 * inside /proc/PID/root, "..", symbolic links; the last component followed
 * exactly when the system call follows it), checks that the notification is
 * still valid (SECCOMP_IOCTL_NOTIF_ID_VALID: the pid was not recycled while
 * we read), evaluates the policy (engine/eval.h, state from the engine's
 * maps) and answers: EPERM for block and kill (kill also SIGKILLs the
 * process), CONTINUE otherwise, or holds the call for an `ask` until a
 * person decides over the control socket (approvals.h) or the time runs
 * out (default 120 s, ACTPLANE_ASK_TIMEOUT seconds in the environment),
 * which denies it.
 *
 * Exec decisions see the whole argv (not only what the kernel engine
 * copies). An exec of a file that has no name (a memfd, a deleted file)
 * is refused when the policy has exec rules that need the supervisor: its
 * identity cannot be matched against program globs.
 *
 * Reading the arguments and resolving in user space is a check-then-use
 * race (TOCTOU) against a second thread of the target; docs/security-model.md
 * says what closes it (the kernel engine re-evaluates the operation that
 * really happened and kills on a block match) and what remains.
 *
 * Threads: start() spawns the thread; the callbacks run on it (the caller
 * serialises them with its own event writer). stop() denies whatever is
 * still held and joins. Functions return 0 or -errno.
 */
#ifndef AP_ENFORCE_SUPERVISOR_H
#define AP_ENFORCE_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "enforce/seccomp.h"

struct ap_blob_view;
struct ap_event_rec;
struct ap_supervisor;

#define AP_ASK_TIMEOUT_DEFAULT_S 120

struct ap_sup_opts {
	const struct ap_blob_view *bv;
	struct ap_sc_plan plan;
	int sock;                 /* parent end: the listener fd arrives here */
	int procs_fd, sessions_fd, files_fd, inode_pats_fd; /* engine maps */
	int prov_fd;              /* ap_prov: where labels were acquired; -1 */
	uint32_t session;         /* engine session id */
	const char *session_name; /* the id events carry */
	pid_t root_pid;           /* the command */
	uid_t owner_uid;          /* may decide (root always may) */
	unsigned ask_timeout_s;   /* 0: default */
	/* a violation decided here (action blocked/killed/held); approval is
	 * the id for held ones, else NULL */
	void (*emit)(void *ctx, const struct ap_event_rec *ev, const char *approval);
	/* approved | denied | expired, by whom */
	void (*decision)(void *ctx, const char *approval, const char *decision,
			 const char *by);
	void *ctx;
};

int ap_supervisor__start(const struct ap_sup_opts *o, struct ap_supervisor **out);
/* deny what is held, close the listener and the control socket, join */
void ap_supervisor__stop(struct ap_supervisor *s);

/* For the engine's records in a supervised session: true when the record
 * is an operation this supervisor let through after an approval (the
 * engine saw the `ask` match at its own hook; not a violation to report
 * again). */
bool ap_supervisor__approved(struct ap_supervisor *s, int pid, unsigned op,
			     const char *target);

/* Notifications answered, and the mean round trip in ns (receive to
 * respond, evaluation included), for bench/supervised. */
void ap_supervisor__stats(struct ap_supervisor *s, uint64_t *n, uint64_t *mean_ns);
/* The same per system call, as "openat 3300 x 21.5 us, ..." into buf. */
void ap_supervisor__stats_by_call(struct ap_supervisor *s, char *buf, size_t size);

#endif
