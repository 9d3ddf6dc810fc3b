/* SPDX-License-Identifier: MIT */
/*
 * Fail closed in every mode: the session's processes live in their own
 * cgroup (v2), and a small watchdog process, forked from `run` before
 * anything of the session exists, holds the read end of a pipe whose write
 * end only `run` has. When `run` ends for any reason (SIGKILL included) the
 * pipe reads EOF and the watchdog kills the whole cgroup (cgroup.kill, or
 * SIGKILL to each member before 5.14), so no process of the session goes on
 * unsupervised: in supervised mode a dead supervisor's listener would only
 * make the filtered system calls fail with ENOSYS while everything else ran
 * on; in tracepoint mode nothing would watch the session at all.
 *
 * The other direction holds too: the watchdog holds the write end of a
 * second pipe, so `run` sees (ap_watchdog__lost) when the watchdog is gone
 * and ends the session itself rather than go on without the guarantee.
 *
 * The cgroup is inherited across fork, clone and daemonising (double fork,
 * setsid): it still holds the daemon when its parent is gone, and the
 * session guard keeps processes of the session from writing cgroup.procs.
 *
 * Where no cgroup v2 hierarchy is mounted, ap_watchdog__start() mounts one
 * of its own under AP_WD_CG_MOUNT (a v1 system can have both); only if that
 * fails too does it fail, and `run` refuses (exit 3) rather than run a
 * session that could outlive it.
 */
#ifndef AP_ENFORCE_WATCHDOG_H
#define AP_ENFORCE_WATCHDOG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define AP_WD_CG_MOUNT "/run/actplane/cgroup2"

struct ap_watchdog {
	char cg[640];   /* the session cgroup's directory, "" when none */
	uint64_t cg_id; /* its cgroup id (the kernfs inode number), 0 none */
	int pipe_wr;    /* run's end; closing it ends the session */
	int alive_rd;   /* EOF here: the watchdog is gone */
};

/* Create the cgroup actplane-<name> and fork the watchdog (detached: call
 * this before becoming a subreaper, so it is re-parented away from run).
 * leftover (NULL: none) is a file of run's the watchdog removes after the
 * kill (the session's status file, which a killed run cannot remove).
 * 0 or -errno (no cgroup v2 and none could be mounted). Initialise *w with
 * AP_WATCHDOG_INIT so that stop() is safe when start() was never called. */
#define AP_WATCHDOG_INIT { .pipe_wr = -1, .alive_rd = -1 }
int ap_watchdog__start(const char *name, const char *leftover, struct ap_watchdog *w);
/* Move pid (not yet exec'd) into the session cgroup. */
int ap_watchdog__add(struct ap_watchdog *w, pid_t pid);
/* Live members of the session cgroup, or -errno. */
int ap_watchdog__count(const struct ap_watchdog *w);
/* Signal every member; SIGKILL uses cgroup.kill where the kernel has it.
 * Returns how many were signalled (cgroup.kill: how many were members). */
int ap_watchdog__signal(const struct ap_watchdog *w, int sig);
/* True once the watchdog process is gone (non-blocking). */
bool ap_watchdog__lost(const struct ap_watchdog *w);
/* End: close run's end; the watchdog kills what is left of the cgroup and
 * removes it (or this does, when the watchdog is gone). Accepts a watchdog
 * that never started. */
void ap_watchdog__stop(struct ap_watchdog *w);

#endif
