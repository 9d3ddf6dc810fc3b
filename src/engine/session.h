/* SPDX-License-Identifier: MIT */
/*
 * The supervised command's life: started stopped, released, waited for,
 * and its leftovers ended.
 *
 * ap_child__spawn() forks CMD. The child restores the default signal
 * dispositions and mask, closes nothing it was given, becomes the target
 * user (ap_user__become) and then blocks on a pipe: it has not exec'd yet,
 * so the engine can mark it as the session root (and seed its labels)
 * before a single instruction of CMD runs. ap_child__release() lets it
 * exec and reports whether the exec worked.
 *
 * The caller should be a child subreaper (ap_session__become_reaper) so
 * that every process of the session, daemons included, stays its
 * descendant: ap_session__descendants() then lists the session's live
 * processes and ap_session__end() ends them (SIGTERM, SIGKILL after a
 * grace period), as cli-and-events.md requires when CMD exits.
 */
#ifndef AP_ENGINE_SESSION_H
#define AP_ENGINE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "privs.h"

struct ap_child {
	pid_t pid;
	int release_fd; /* parent end: one byte lets the child exec */
	int status_fd;  /* parent end, read: a struct ap_child_msg or EOF */
};

/* Start argv[0] (searched in PATH) stopped, as u. On success the child is
 * waiting for ap_child__release(). 0, or -errno (fork failed, or the child
 * could not become u: the error is logged and the child reaped). */
int ap_child__spawn(char *const argv[], const struct ap_user *u,
		    struct ap_child *c);

/* Let the child exec. 0 when the exec happened (or the child died trying,
 * e.g. killed by the engine on that exec); -errno of a failed execve
 * (the child then exits 127 for ENOENT, 126 otherwise, like a shell). */
int ap_child__release(struct ap_child *c);

/* Setup failed after spawn: kill the waiting child and reap it. */
void ap_child__abort(struct ap_child *c);

/* Close the parent's ends (after release). Accepts a zeroed child. */
void ap_child__close(struct ap_child *c);

/* Make orphans of our descendants come back to us (PR_SET_CHILD_SUBREAPER). */
int ap_session__become_reaper(void);

/* Live (non-zombie) descendants of this process, up to max in out; returns
 * how many there are (may exceed max) or -errno. */
int ap_session__descendants(pid_t *out, size_t max);

/* Signal every live descendant; returns how many were signalled. */
int ap_session__signal_all(int sig);

/* Decode a wait status the way `run` exits: the code, or 128+N for signal
 * N; *sig gets N or 0. */
int ap_session__exit_code(int wstatus, int *sig);

#endif
