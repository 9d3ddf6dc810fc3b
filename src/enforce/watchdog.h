/* SPDX-License-Identifier: MIT */
/*
 * Fail closed for the supervised mode: the session's processes live in
 * their own cgroup (v2), and a small watchdog process, forked from `run`
 * before anything of the session exists, holds the read end of a pipe
 * whose write end only `run` has. When `run` ends for any reason (SIGKILL
 * included) the pipe reads EOF and the watchdog kills the whole cgroup
 * (cgroup.kill), so no process of the session goes on unsupervised — a
 * dead supervisor's listener would otherwise only make the filtered system
 * calls fail with ENOSYS while everything else ran on.
 *
 * The seccomp filter and the cgroup are both inherited across fork, clone
 * and daemonising (double fork, setsid): the cgroup still holds the
 * daemon when its parent is gone.
 */
#ifndef AP_ENFORCE_WATCHDOG_H
#define AP_ENFORCE_WATCHDOG_H

#include <sys/types.h>

struct ap_watchdog {
	char cg[640];   /* the session cgroup's directory, "" when none */
	int pipe_wr;    /* run's end; closing it ends the session */
};

/* Create the cgroup and fork the watchdog (detached: call this before
 * becoming a subreaper, so it is re-parented away from run). 0 or -errno
 * (no cgroup v2). */
int ap_watchdog__start(const char *name, struct ap_watchdog *w);
/* Move pid (not yet exec'd) into the session cgroup. */
int ap_watchdog__add(struct ap_watchdog *w, pid_t pid);
/* End: kill what is left of the cgroup, let the watchdog remove it. */
void ap_watchdog__stop(struct ap_watchdog *w);

#endif
