/* SPDX-License-Identifier: MIT */
/*
 * The state file of a running session, for `actplane status`.
 *
 * There is no daemon to ask: each `run` writes AP_STATE_DIR/<session>.json
 * (directory 0755, file 0644: status needs no root), replaces it atomically
 * (write a temporary file, rename) about every second from its poll loop,
 * and removes it when the session ends. A `run` killed with SIGKILL leaves
 * its file behind: readers treat a file whose run pid is gone, or that was
 * not refreshed for AP_STATE_STALE_S seconds, as stale (and status says so).
 *
 * One JSON object:
 *   {"v":1, "session", "mode", "policy", "policy_sha256", "run_pid",
 *    "cmd_pid", "cmd_exited", "started", "updated" (RFC 3339), "processes",
 *    "keep_alive", "audit", "overflowed", "cgroup",
 *    "events", "violations" (what run wrote to the stream),
 *    "counters": {events, ringbuf_drops, map_full, evictions, read_fails,
 *                 unresolved, argv_truncated, matches, ...} (the engine's)}
 */
#ifndef AP_CLI_SESSION_STATE_H
#define AP_CLI_SESSION_STATE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/engine.h"

#define AP_STATE_DIR "/run/actplane/sessions"
#define AP_STATE_STALE_S 10

struct json_object;

struct ap_state {
	char session[40];
	char mode[16];
	char policy[PATH_MAX];
	char policy_sha256[65];
	char cgroup[640];
	int run_pid;
	int cmd_pid;
	bool cmd_exited;
	bool keep_alive;
	bool audit;
	bool overflowed;          /* AP_SESSION_F_OVERFLOWED */
	long processes;           /* live processes of the session, -1 unknown */
	uint64_t started_ns;      /* CLOCK_REALTIME */
	uint64_t updated_ns;
	uint64_t events;          /* written to the stream */
	uint64_t violations;
	struct ap_engine_counters counters;
};

/* The object above; NULL on ENOMEM. */
struct json_object *ap_state__to_json(const struct ap_state *s);
/* Back from it; -EINVAL when a required key (v, session, run_pid) is missing
 * or of the wrong type. Unknown keys are ignored. */
int ap_state__from_json(struct json_object *o, struct ap_state *s);
/* Write dir/<session>.json atomically (mode 0644; dir created 0755). */
int ap_state__write(const char *dir, const struct ap_state *s);
/* Remove dir/<session>.json; missing is not an error. */
int ap_state__remove(const char *dir, const char *session);
/* Why a state file is stale ("run pid N is gone", "not updated for N s"), or
 * NULL when it is live. now_ns: CLOCK_REALTIME; run_alive: whether the run
 * pid still exists (the caller checks: pure function). */
const char *ap_state__stale(const struct ap_state *s, uint64_t now_ns, bool run_alive,
			    char *buf, size_t size);

#endif
