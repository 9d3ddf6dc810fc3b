/* SPDX-License-Identifier: MIT */
/*
 * The event stream writer: the NDJSON lines of cli-and-events.md ("v":1) and
 * the human-readable one-liners `run` prints on stderr.
 *
 * One writer per session. It owns the session's `seq` counter (monotonic,
 * first event 1), the session id and mode every violation repeats, and the
 * counts the `exit` event reports. Each NDJSON line goes to every sink with
 * a single write(2), so several sessions appending to the same
 * .actplane/events.jsonl (O_APPEND) never interleave within a line.
 *
 * Strings are copied into the JSON as they are given, escaped by json-c;
 * bytes that are not valid UTF-8 (a file name can hold any byte) become
 * U+FFFD so the line always stays valid JSON.
 *
 * The event structs below only borrow their strings for the duration of
 * the call. Timestamps are CLOCK_REALTIME nanoseconds; 0 means "now".
 */
#ifndef AP_ENGINE_EVENT_JSON_H
#define AP_ENGINE_EVENT_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>

#include "../../bpf/abi.h"

struct json_object;
struct ap_evw;

#define AP_EVENT_SCHEMA_VERSION 1

/* Where a label that made a rule match was acquired. */
struct ap_ev_prov {
	const char *label;
	enum ap_op op;
	const char *target;
	int pid;
	const char *comm;
	uint64_t ts_ns;
};

struct ap_ev_start {
	uint64_t ts_ns;
	const char *policy;         /* path, or "<rule>" */
	const uint8_t *policy_sha256; /* 32 bytes */
	const char *const *rules;   /* rule names in force */
	unsigned nrules;
	int pid;                    /* the command */
	const char *const *seed;    /* seed labels (extra field) */
	unsigned nseed;
	const char *domain;         /* NULL in form A (extra field) */
	bool audit;                 /* --audit (extra field) */
	const char *fallback;       /* "kill"/"notify"/NULL (extra field) */
};

struct ap_ev_violation {
	uint64_t ts_ns;
	enum ap_effect effect;      /* strongest effect that matched */
	enum ap_action action;      /* what actually happened */
	const char *rule;           /* deciding rule */
	const char *const *rules;   /* every rule that matched */
	unsigned nrules;
	const char *reason;         /* `because`; NULL = none */
	enum ap_op op;
	const char *target;
	const char *target2;        /* rename/link: the other name; NULL = none */
	const char *const *argv;    /* exec only; NULL = not an exec */
	unsigned argc;
	bool argv_truncated;        /* more elements than the kernel copied */
	int pid, tid, ppid;
	uint32_t uid;
	const char *comm;
	const char *exe;
	const char *const *labels;
	unsigned nlabels;
	const struct ap_ev_prov *prov;
	unsigned nprov;
	const char *approval;       /* ask only; NULL = omitted */
	bool unresolved;            /* the engine could not build the target */
};

struct ap_ev_decision {
	uint64_t ts_ns;
	const char *approval;
	const char *decision;       /* approved | denied | expired */
	const char *by;
};

struct ap_ev_exit {
	uint64_t ts_ns;
	int status;                 /* as `run` exits: code, or 128+signal */
	int signal;                 /* 0 when the command exited normally */
	uint64_t drops;             /* ring buffer records lost */
	uint64_t evictions;         /* unlabelled state evicted */
	uint64_t failures;          /* failed inserts / reads (0 = omitted) */
	uint64_t duration_ms;
};

struct ap_ev_loss {
	uint64_t ts_ns;
	const char *kind;           /* short machine name: "ringbuf", "map", ... */
	uint64_t count;             /* new since the previous loss of this kind */
	uint64_t total;             /* since the session started */
	const char *what;           /* human explanation */
	bool overflowed;            /* the session now fails closed */
	const char *reason;         /* overflow: "map full: MAP,..."; NULL: none */
};

/* session: the id every event repeats; mode: lsm|supervised|tracepoint. */
struct ap_evw *ap_evw__new(const char *session, const char *mode);
void ap_evw__free(struct ap_evw *w);

/* Add an NDJSON sink. The writer closes fd on free when own is set. */
int ap_evw__add_sink(struct ap_evw *w, int fd, bool own);
/* Human-readable one-liners to this stream (NULL = none). */
void ap_evw__set_human(struct ap_evw *w, FILE *out);

/* Each writes one event to every sink; 0 or the first -errno of a sink
 * (the other sinks are still written). */
int ap_evw__start(struct ap_evw *w, const struct ap_ev_start *e);
int ap_evw__violation(struct ap_evw *w, const struct ap_ev_violation *e);
int ap_evw__decision(struct ap_evw *w, const struct ap_ev_decision *e);
int ap_evw__loss(struct ap_evw *w, const struct ap_ev_loss *e);
/* The counts of events and violations are the writer's own. */
int ap_evw__exit(struct ap_evw *w, const struct ap_ev_exit *e);

uint64_t ap_evw__events(const struct ap_evw *w);
uint64_t ap_evw__violations(const struct ap_evw *w);

/* Build the JSON object of an event without writing or counting it (it
 * takes the next seq number only when written): for tests and `replay`.
 * Caller puts the object. */
struct json_object *ap_evw__violation_json(struct ap_evw *w,
					   const struct ap_ev_violation *e,
					   uint64_t seq);

/* "2026-01-02T03:04:05.123456Z" into buf (>= 28 bytes); ts_ns 0 = now. */
void ap_ev__format_ts(uint64_t ts_ns, char *buf, size_t size);
/* CLOCK_REALTIME in ns */
uint64_t ap_ev__now_ns(void);
/* A CLOCK_MONOTONIC/bpf_ktime_get_ns timestamp as CLOCK_REALTIME ns. */
uint64_t ap_ev__mono_to_real(uint64_t mono_ns);
/* A bpf_ktime_get_boot_ns (CLOCK_BOOTTIME) timestamp as CLOCK_REALTIME ns. */
uint64_t ap_ev__boot_to_real(uint64_t boot_ns);

/* Names from the X-macro tables of abi.h; "?" when out of range. */
const char *ap_ev__op_name(unsigned op);
const char *ap_ev__effect_name(unsigned effect);
const char *ap_ev__action_name(unsigned action);

#endif /* AP_ENGINE_EVENT_JSON_H */
