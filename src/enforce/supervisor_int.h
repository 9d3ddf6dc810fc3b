/* SPDX-License-Identifier: MIT */
/*
 * Internal interfaces of the supervisor (contract in supervisor.h), shared
 * by supervisor.c (the seccomp notifications: decoding, deciding, the
 * thread) and sup_ctl.c (operations held for `ask`, their decisions and the
 * control socket `actplane approve/deny/pending` talk to). Not for other
 * modules: they use supervisor.h.
 *
 * Threading: everything here runs on the supervisor thread, except the
 * approved ring and the statistics, which ap_supervisor__approved() and
 * ap_supervisor__stats() read from others under `lock`.
 */
#ifndef AP_ENFORCE_SUPERVISOR_INT_H
#define AP_ENFORCE_SUPERVISOR_INT_H

#include <pthread.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "enforce/resolve.h"
#include "enforce/supervisor.h"
#include "enforce/sysguard.h"
#include "engine/engine.h"
#include "engine/eval.h"

#define SUP_MAX_HELD 64
#define SUP_APPROVED_RING 32

struct held {
	bool used;
	uint64_t notif_id;
	char id[24];
	pid_t pid;
	enum ap_op op;
	char target[SUP_PATH];
	char argv[2048];          /* JSON array text */
	uint64_t since_ns, deadline_ms;
};

struct approved {
	int pid;
	unsigned op;
	char target[SUP_PATH];
	uint64_t at_ms;
};

#define SUP_NR_MAX 512

struct ap_supervisor {
	struct ap_sup_opts o;
	struct ap_eval_ctx ev;
	struct ap_sysguard guard;
	pthread_t th;
	bool started;
	int listener, ctl, stop_rd, stop_wr;
	int root_fd;              /* the session's root, when the guard keeps
				   * it the same for all (resolve.h), or -1 */
	struct op_info *oi;       /* the thread's, reused per call */
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	struct held held[SUP_MAX_HELD];
	unsigned next_id;
	pthread_mutex_t lock;     /* approved ring, stats */
	struct approved approved[SUP_APPROVED_RING];
	unsigned napproved;
	uint64_t nnotif, total_ns;
	uint64_t nr_n[SUP_NR_MAX], nr_ns[SUP_NR_MAX]; /* the same, per call */
	char ctl_path[108];
	struct ap_event_prov prov[AP_REC_PROV_MAX];
	char prov_target[AP_REC_PROV_MAX][AP_PROV_TARGET_MAX + 80];
};

/* One system call as decoded for the policy. */
struct op_info {
	struct ap_eval_in in;
	char name[SUP_PATH];      /* the target reported */
	struct ap_resolved r1, r2, interp;
	char *argv_buf;           /* exec: strings (argv_cap bytes, kept) */
	const char **argv;        /* argc entries (argv_ncap, kept) */
	size_t argv_cap, argv_ncap;
	unsigned argc;
	bool unresolved;          /* exec of a file without a name */
};

static inline uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* supervisor.c */

/* Answer notification id: error 0 lets the call run, else it fails with
 * -error. */
void ap_sup__respond(struct ap_supervisor *s, uint64_t id, int error);

/* sup_ctl.c */

/* Hold the operation (answered later by ap_sup__decide()); NULL when the
 * table is full, and the caller denies it. */
struct held *ap_sup__hold(struct ap_supervisor *s, const struct seccomp_notif *req,
			  const struct op_info *oi, pid_t tgid);

/* Answer held operation h ("approved" lets it run, anything else denies
 * it), report the decision and free its slot. */
void ap_sup__decide(struct ap_supervisor *s, struct held *h, const char *decision,
		    const char *by);

/* Serve one connection on the control socket (s->ctl readable). */
void ap_sup__handle_ctl(struct ap_supervisor *s);

#endif
