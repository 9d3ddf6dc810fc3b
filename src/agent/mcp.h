/* SPDX-License-Identifier: MIT */
/*
 * `actplane mcp`: a Model Context Protocol server on stdio (newline-
 * delimited JSON-RPC 2.0). It runs inside the agent's session, so it only
 * reads: no tool or resource can approve, deny, change or weaken anything.
 *
 * Protocol revisions: initialize negotiates 2025-11-25 (current),
 * 2025-06-18, 2025-03-26 and 2024-11-05: the client's version when it is one
 * of those, else the newest. A request carrying the 2026-07-28 stateless
 * `_meta` ("io.modelcontextprotocol/protocolVersion") is answered without a
 * handshake, with "resultType":"complete", and `server/discover` is served.
 * Batches (JSON arrays, 2025-03-26) are answered as arrays.
 *
 * Capabilities, as implemented: resources {subscribe: true, listChanged:
 * false}, tools {listChanged: false}.
 *
 * Resources: actplane:///policy (the compiled summary, `check --json`'s
 * object), actplane:///feedback (recent entries of the feedback file),
 * actplane:///status (mode this kernel gives `run`, policy, counters from
 * .actplane/events.jsonl, auto-attach result). A subscribed resource gets
 * notifications/resources/updated when its files change (checked once a
 * second); nothing is sent for unsubscribed ones.
 *
 * Tools: check_policy {policy, domain?} -> diagnostics; explain_last_violation
 * {} -> the last feedback entry and the event's provenance;
 * pending_approvals {} -> `actplane pending --json`.
 */
#ifndef AP_AGENT_MCP_H
#define AP_AGENT_MCP_H

#include <stdbool.h>
#include <stddef.h>

#define AP_MCP_LATEST "2025-11-25"
#define AP_MCP_STATELESS "2026-07-28"

struct ap_mcp;

struct ap_mcp_opts {
	const char *cwd;          /* where policy discovery starts; NULL = getcwd */
	const char *self_exe;     /* for `pending`/`attach`; NULL = /proc/self/exe */
	bool auto_attach_parent;
};

int ap_mcp__new(const struct ap_mcp_opts *opts, struct ap_mcp **out);
void ap_mcp__free(struct ap_mcp *m);

/* One incoming message (a line, not necessarily terminated). *reply gets
 * the malloc'd response line without '\n', or NULL (notifications, and
 * responses to our own requests). 0 or -ENOMEM. */
int ap_mcp__handle(struct ap_mcp *m, const char *msg, size_t len, char **reply);

/* Notifications due for subscribed resources whose files changed since the
 * last call: up to max malloc'd lines into out; returns how many. */
int ap_mcp__changes(struct ap_mcp *m, char **out, int max);

/* Ask the watch daemon to attach our parent (the agent); the result, good
 * or bad, is kept for the status resource and logged. 0 attached, -errno. */
int ap_mcp__attach_parent(struct ap_mcp *m);

/* The loop: read stdin, answer on stdout, until EOF. Returns 0 or -errno. */
int ap_mcp__serve(struct ap_mcp *m, int in_fd, int out_fd);

#endif /* AP_AGENT_MCP_H */
