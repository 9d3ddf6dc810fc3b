/* SPDX-License-Identifier: MIT */
/*
 * The kernel engine, as user space sees it.
 *
 * The engine is one BPF object (bpf/engine.bpf.c) that follows the process
 * trees of its sessions, moves labels, evaluates the compiled policy in the
 * kernel and puts only matches on a ring buffer. This API loads it, seeds
 * sessions and hands decoded records to a callback.
 *
 * Life cycle (single-threaded; one engine per `run`/`watch`, and two engines
 * never see each other's sessions because each has its own maps):
 *
 *   ap_engine__open(&opts, &e)      mounts tracefs/securityfs when missing,
 *                                   opens the object, probes the kernel,
 *                                   sizes maps from the blob, sets constants
 *   ap_engine__load(e)              verifies + loads, fills the policy maps
 *   ap_engine__attach(e)            from here on the engine watches
 *   ap_engine__add_session(e, pid, seed, &sid)  for a child started stopped
 *                                   (SIGSTOP / blocked on a pipe) BEFORE it
 *                                   execs: the pid and all it starts are now
 *                                   under the policy
 *   loop: ap_engine__poll(e, timeout_ms)  -> opts.on_event(...)
 *         ap_engine__session_live(e, sid) == 0 -> the tree is gone
 *   ap_engine__destroy(e)           detaches; accepts NULL
 *
 * Mode: this engine is the "tracepoint" mode: notify and kill are honoured
 * (kill of an exec lands before the new program runs an instruction; of other
 * operations when the system call returns); block and ask are not.
 * ap_engine__degraded() says which effects the loaded policy cannot honour;
 * the caller (run) refuses or passes a fallback in opts.
 *
 * All functions return 0 or -errno and log the reason through common/log.h.
 */
#ifndef AP_ENGINE_ENGINE_H
#define AP_ENGINE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>

#include "../../bpf/abi.h"

struct ap_blob_view;
struct ap_engine;

enum ap_engine_flags {
	AP_ENGINE_F_AUDIT = 0x01,   /* report what would happen, enforce nothing
				     * (action "audited", no SIGKILL) */
	AP_ENGINE_F_OBSERVE = 0x02, /* also emit AP_EVENT_OBSERVE records for
				     * every operation of a session process */
};

enum ap_event_kind {
	AP_EVENT_VIOLATION = 1,  /* a rule matched: contract "violation" */
	AP_EVENT_OBSERVE = 2,    /* an operation seen (AP_ENGINE_F_OBSERVE) */
	AP_EVENT_UNRESOLVED = 3, /* an operation whose target the engine could
				  * not build: target "?", never a silent allow */
	AP_EVENT_SESSION_END = 4, /* the last process of `session` exited */
	AP_EVENT_LOSS = 5,       /* counters of lost records/state went up:
				  * `loss` holds the increase since the last one */
};

struct ap_engine_counters {
#define X(e, f, s) uint64_t f;
	AP_COUNTERS(X) /* events, ringbuf_drops, map_full, evictions, ... */
#undef X
};

/* Where a label that made the rule match was first acquired (in the kernel,
 * carried along as labels flowed, so it names the original read). */
struct ap_event_prov {
	unsigned label;          /* bit; name via the blob's label table */
	enum ap_op op;
	const char *target;      /* path or ADDR:PORT; may be cut (truncated) */
	bool truncated;
	int pid;
	char comm[AP_TASK_COMM_LEN];
	uint64_t ts_ns;          /* CLOCK_REALTIME ns */
};

/* One decoded record. Strings and arrays are owned by the engine and valid
 * only during the callback. */
struct ap_event_rec {
	enum ap_event_kind kind;
	uint64_t ts_ns;          /* CLOCK_REALTIME ns */
	uint32_t session;
	enum ap_effect effect;   /* strongest effect that matched */
	enum ap_action action;   /* what happened (killed/reported/audited) */
	bool degraded;           /* effect block/ask carried out as `action` */
	unsigned rule;           /* deciding rule index (blob rule table) */
	const unsigned *rules;   /* every rule that matched, ascending */
	unsigned nrules;
	enum ap_op op;           /* exec open read write unlink rename connect send recv */
	const char *target;      /* absolute path, ADDR:PORT, [v6]:port, unix:PATH; "?" */
	const char *target2;     /* rename/link: the other path; NULL otherwise */
	const char *const *argv; /* exec: the argument list; NULL otherwise */
	unsigned argc;
	bool argv_truncated;
	int pid, tid, ppid;
	uint32_t uid;
	char comm[AP_TASK_COMM_LEN];
	const char *exe;         /* the acting program; "" when unknown */
	uint64_t labels;         /* the process's labels (bits) after the op */
	uint64_t mattered;       /* labels the matching clauses required */
	const struct ap_event_prov *prov;
	unsigned nprov;
	int exit_status;         /* SESSION_END: wait status of the last exit */
	struct ap_engine_counters loss; /* LOSS: increase since last LOSS */
	/* LOSS, once per session when it became overflowed (the engine could
	 * not record a label and fails closed): AP_OVF_* bits saying what
	 * could not be recorded, `session` names it, `labels` holds every
	 * label seen in it, `loss.map_full` the kernel's map-full count so
	 * far. 0 for a counters-only LOSS. ap_event__overflow_loss() turns it
	 * into the `loss` event. */
	uint32_t overflow;
};

typedef void (*ap_engine_event_fn)(void *ctx, const struct ap_event_rec *ev);

struct ap_engine_opts {
	const struct ap_blob_view *blob; /* kept alive by the caller until destroy */
	unsigned flags;                  /* enum ap_engine_flags */
	/* what a block/ask clause does in this mode: AP_EFFECT_KILL or
	 * AP_EFFECT_NOTIFY (`--fallback`); ignored when nothing degrades */
	enum ap_effect fallback;
	pid_t protect_pid;               /* the engine's own process (guard) */
	uint32_t max_procs;              /* 0 = default (32768) */
	uint32_t max_files;              /* 0 = default (65536) */
	uint32_t ringbuf_bytes;          /* 0 = default (8 MiB), power of two */
	ap_engine_event_fn on_event;
	void *ctx;
};

int ap_engine__open(const struct ap_engine_opts *opts, struct ap_engine **out);
/* verify and load every program, fill the policy maps from the blob */
int ap_engine__load(struct ap_engine *e);
/* the name the brief used; same as ap_engine__load */
int ap_engine__load_policy(struct ap_engine *e);
int ap_engine__attach(struct ap_engine *e);
void ap_engine__destroy(struct ap_engine *e);

/* Bitmask of (1 << enum ap_effect) the loaded blob uses but this mode cannot
 * honour (block, ask). Valid after open. */
unsigned ap_engine__degraded(const struct ap_engine *e);
/* "tracepoint" */
const char *ap_engine__mode(const struct ap_engine *e);

/* Put process `pid` (not yet exec'd the command) under the policy as the
 * root of a new session with `seed` labels. *session_id gets the id events
 * carry (unique per engine, never 0). */
int ap_engine__add_session(struct ap_engine *e, pid_t pid, uint64_t seed,
			   uint32_t *session_id);
/* processes of the session still alive (0 = gone), or -errno */
long ap_engine__session_live(struct ap_engine *e, uint32_t session_id);

/* Session identity by cgroup: `cgid` (the cgroup v2 id, st_ino of its
 * directory / name_to_handle_at) holds only processes of session `sid`. A
 * task of that cgroup the engine has no process entry for (a fork the
 * full process map could not record) is then still the session's, treated
 * as an overflowed member (every label seen in the session). Call it
 * before the session's root is released. 0 or -errno. */
int ap_engine__add_session_cgroup(struct ap_engine *e, uint32_t sid,
				  uint64_t cgid);

/* Fail-closed state of a session (policy-language.md section 4). */
struct ap_session_state {
	bool overflowed;         /* every process carries every label seen */
	uint32_t overflow;       /* AP_OVF_* bits: what could not be recorded */
	uint64_t seen_labels;    /* every label seen in the session (bits) */
	long live;               /* processes alive (0 = gone) */
};
/* 0, -ENOENT (no such session), -errno */
int ap_engine__session_state(struct ap_engine *e, uint32_t session_id,
			     struct ap_session_state *st);
/* "ap_files (the labels of a file, pipe or socket), ..." for AP_OVF_* bits:
 * names (and with `what`, explanations) comma separated into buf; returns
 * buf. */
const char *ap_engine__overflow_str(uint32_t bits, bool what, char *buf,
				    size_t size);

/* The contract's `loss` event of an AP_EVENT_LOSS with `overflow` set:
 * kind "overflow", reason "map full: MAP[,MAP]", what, count/total the
 * kernel's map-full count, overflowed true. Strings point into buf (512
 * bytes is enough). */
struct ap_ev_loss;
void ap_event__overflow_loss(const struct ap_event_rec *ev, struct ap_ev_loss *l,
			     char *buf, size_t size);

/* Wait up to timeout_ms (-1 forever, 0 non-blocking) for records and deliver
 * them to opts.on_event; also delivers AP_EVENT_LOSS when counters went up,
 * and once per session an AP_EVENT_LOSS with `overflow` set when the session
 * became overflowed (read from the session map, so it is reported even when
 * the ring buffer is full).
 * Returns the number of records handled or -errno (-EINTR is not an error
 * the caller needs to report). */
int ap_engine__poll(struct ap_engine *e, int timeout_ms);
/* the ring buffer's fd, for a caller that multiplexes with its own fds */
int ap_engine__fd(const struct ap_engine *e);

/* fd of one of the engine's maps by name (ap_procs, ap_sessions, ap_files,
 * ap_inode_pats, ...), valid after load until destroy; -ENOENT. For the
 * supervised mode's user-space evaluation (engine/eval.h). */
int ap_engine__map_fd(const struct ap_engine *e, const char *name);

/* per-CPU counters summed */
int ap_engine__counters(struct ap_engine *e, struct ap_engine_counters *c);

/* Per-program cost, for bench/engine. ap_engine__enable_stats() turns on
 * BPF_ENABLE_STATS(RUN_TIME) until destroy; ap_engine__prog_stats() fills up
 * to n entries and returns how many programs there are. */
struct ap_prog_stat {
	const char *name;
	uint64_t run_cnt;
	uint64_t run_time_ns;
	uint32_t xlated_insns;   /* instructions after verification */
	uint32_t verified_insns; /* verifier's processed instruction count */
	bool loaded;             /* false when the kernel lacked the hook */
	uint64_t recursion_misses; /* runs the kernel skipped */
};
int ap_engine__enable_stats(struct ap_engine *e);
int ap_engine__prog_stats(struct ap_engine *e, struct ap_prog_stat *st,
			  size_t n);

#endif
