/* SPDX-License-Identifier: MIT */
/*
 * Approvals for `ask` rules: the control socket of a supervised `run` and
 * its clients (`actplane pending`, `approve`, `deny`).
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

#include <stddef.h>

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

#endif
