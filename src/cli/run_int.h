/* SPDX-License-Identifier: MIT */
/*
 * Internal interfaces of `actplane run`, shared by run.c (options, the
 * session's life) and run_events.c (engine and supervisor records turned
 * into the contract's events, and the files they go to). Not for other
 * modules.
 *
 * Threading: the engine's callback runs on the thread that polls it, the
 * supervisor's on its own thread; both take ap_run_ev_lock around the
 * event writer, as must anything else that reads it while they may run.
 */
#ifndef AP_CLI_RUN_INT_H
#define AP_CLI_RUN_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent/feedback.h"
#include "engine/engine.h"
#include "engine/event_json.h"
#include "engine/privs.h"
#include "enforce/supervisor.h"
#include "policy/blob.h"
#include "policy/lower.h"

/* Everything the event callback needs. */
struct run_ctx {
	struct ap_evw *w;
	const struct ap_blob_view *bv;
	uint32_t sid;
	bool session_ended;
	struct ap_engine_counters lost; /* totals reported in loss events */
	int write_err;                 /* first sink error, reported once */
	struct ap_feedback *fb;        /* the agent's feedback file (agent/feedback.h) */
	const struct ap_compiled *c;   /* rule and label names for it */
	struct ap_supervisor *sup;     /* supervised mode, else NULL */
};

/* the supervisor thread emits too (enforce/supervisor.h) */
extern pthread_mutex_t ap_run_ev_lock;

static inline uint64_t ap_run__counter(const struct ap_engine_counters *c, enum ap_counter i)
{
	return ((const uint64_t *)c)[i];
}

/* The names the blob gives label bit and rule r ("?" when out of range;
 * the built-in guard's index without a rule: "session-guard"). */
const char *ap_run__label_name(const struct ap_blob_view *bv, unsigned bit);
const char *ap_run__rule_name(const struct ap_blob_view *bv, unsigned r);

/* Report the first failed write to a sink (err: 0 or -errno), once. */
void ap_run__note_write(struct run_ctx *rc, int err);

/* ap_engine_opts.on_event, with ctx a struct run_ctx. */
void ap_run__on_event(void *ctx, const struct ap_event_rec *ev);

/* ap_sup_opts.emit and .decision, with ctx a struct run_ctx. */
void ap_run__sup_emit(void *ctx, const struct ap_event_rec *ev, const char *approval);
void ap_run__sup_decision(void *ctx, const char *approval, const char *decision,
			  const char *by);

/* Loss events for what the engine counted (cnt: its totals) beyond what
 * rc->lost already reported. */
void ap_run__flush_losses(struct run_ctx *rc, const struct ap_engine_counters *cnt);

/* Open path for writing (flags added to O_WRONLY|O_CREAT), chowned to u
 * when we create it; an fd or -errno. */
int ap_run__open_user_file(const char *path, int flags, const struct ap_user *u);

/* <root>/.actplane/events.jsonl opened for appending, an fd or -errno
 * (reported). */
int ap_run__open_audit_trail(const char *root, const struct ap_user *u);

#endif
