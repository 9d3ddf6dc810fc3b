/* SPDX-License-Identifier: MIT */
/*
 * Approvals for `ask` rules: the control socket of a supervised `run` and
 * its clients (`actplane pending`, `approve`, `deny`).
 *
 * A refused attempt (a caller inside a session) leaves the operation held
 * and is written to the event stream as a `decision` event with
 * "decision":"refused" and `by` naming the caller (pid, uid, its session).
 *
 * Each supervised session listens on AP_CTL_DIR/<session>.sock (mode 0666:
 * who may decide is checked on the peer's credentials, SO_PEERCRED: root or
 * the session's owner, and never a process of the session itself or one
 * descended from it — the agent cannot approve itself). One request per
 * connection, one line:
 *   "pending"      -> one JSON object per held operation
 *                     {approval, session, op, target, argv, pid, since}
 *   "approve ID"   -> "ok" | "error: ..."
 *   "deny ID"      -> "ok" | "error: ..."
 */
#ifndef AP_ENFORCE_APPROVALS_H
#define AP_ENFORCE_APPROVALS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define AP_CTL_DIR "/run/actplane"

/* Send one request line to every session socket (NULL sock_path) or to one,
 * and hand each reply line to cb. Returns the number of sessions that
 * answered, or -errno. */
int ap_approvals__request(const char *line,
			  int (*cb)(void *ctx, const char *sock, const char *reply),
			  void *ctx);

/* Control socket path for a session into buf. */
int ap_approvals__sock_path(const char *session, char *buf, size_t size);

/* Server: bind and listen (non-blocking); 0 or -errno, *fd set. */
int ap_approvals__listen(const char *session, int *fd);

/* The session whose cgroup (watchdog.h: actplane-<session>) process pid is
 * in, for the refusal message and event: 1 and its name in buf, 0 when the
 * pid is in none, -errno when /proc cannot say. The server decides with
 * this and the caller's lineage; the client never decides for itself. */
int ap_approvals__caller_session(pid_t pid, char *buf, size_t size);

/* The peer of an accepted control connection, pinned: a pidfd of the very
 * process that connected (SO_PEERPIDFD, 6.5+; else pidfd_open of its
 * SO_PEERCRED pid right away). -errno when it is already gone (ESRCH).
 * A caller that exits before it is checked must be refused, not waved
 * through because /proc no longer shows it inside a session. */
int ap_approvals__peer_pidfd(int sock, pid_t pid);
/* Still alive (the pid has not been freed for reuse)? */
bool ap_approvals__pidfd_alive(int pidfd);

/* A refused decision: the reply line for the client into msg ("error:
 * refused: ...\n") and the `by` of the `decision` event ("refused") into
 * by. session: the caller's (or the held operation's) session. */
void ap_approvals__refusal(const char *verb, const char *session, pid_t pid, uid_t uid,
			   char *msg, size_t msg_size, char *by, size_t by_size);

#endif
