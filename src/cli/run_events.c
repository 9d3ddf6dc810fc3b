// SPDX-License-Identifier: MIT
/*
 * actplane run's events (run_int.h): the engine's and the supervisor's
 * records become the contract's violation, loss and decision events
 * (docs in cli-and-events.md), written to the run's sinks and the agent's
 * feedback file; and the files those sinks are.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/run_int.h"
#include "common/log.h"
#include "enforce/sysguard.h"

pthread_mutex_t ap_run_ev_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- events ---- */

const char *ap_run__label_name(const struct ap_blob_view *bv, unsigned bit)
{
	if (bit >= bv->hdr->nlabels)
		return "?";
	return ap_blob__str(bv, bv->labels[bit]);
}

const char *ap_run__rule_name(const struct ap_blob_view *bv, unsigned r)
{
	if (r >= bv->hdr->nrules)
		return r == AP_RULE_GUARD_NONE ? "session-guard" : "?";
	return ap_blob__str(bv, bv->rule_meta[r].name);
}

void ap_run__note_write(struct run_ctx *rc, int err)
{
	if (err && !rc->write_err) {
		rc->write_err = err;
		ap_err("cannot write an event: %s (later events may be missing from that file)",
		       strerror(-err));
	}
}

static void emit_violation(struct run_ctx *rc, const struct ap_event_rec *ev,
			   const char *approval)
{
	const struct ap_blob_view *bv = rc->bv;
	const char *rules[AP_MAX_RULES], *labels[AP_MAX_LABELS];
	struct ap_ev_prov prov[AP_REC_PROV_MAX];
	struct ap_ev_violation v = {
		.ts_ns = ev->ts_ns,
		.effect = ev->effect,
		.action = ev->action,
		.op = ev->op,
		.target = ev->target,
		.argv = ev->argv,
		.argc = ev->argc,
		.argv_truncated = ev->argv_truncated,
		.pid = ev->pid, .tid = ev->tid, .ppid = ev->ppid, .uid = ev->uid,
		.comm = ev->comm,
		.exe = ev->exe,
		.rules = rules,
		.labels = labels,
		.prov = prov,
		.approval = approval,
	};
	unsigned i;

	v.unresolved = ev->kind == AP_EVENT_UNRESOLVED;
	if (v.unresolved && !ev->nrules) {
		/* no rule could be evaluated: never a silent allow */
		v.rule = "unresolved";
		v.reason = "the engine could not resolve the target of this operation";
	} else {
		v.rule = ap_run__rule_name(bv, ev->rule);
		v.reason = ev->rule < bv->hdr->nrules ?
				   ap_blob__str(bv, bv->rule_meta[ev->rule].because) : "";
		/* the guard's system-call items say which boundary held */
		if (!strcmp(v.rule, "session-guard") &&
		    (ev->op == AP_OP_PTRACE || ev->op == AP_OP_NAMESPACE ||
		     ev->op == AP_OP_SIGNAL))
			v.reason = ap_sysguard__reason(ev->op);
	}
	for (i = 0; i < ev->nrules && v.nrules < AP_MAX_RULES; i++)
		rules[v.nrules++] = ap_run__rule_name(bv, ev->rules[i]);
	if (!v.nrules)
		rules[v.nrules++] = v.rule;
	for (i = 0; i < AP_MAX_LABELS; i++)
		if (ev->labels & (1ull << i))
			labels[v.nlabels++] = ap_run__label_name(bv, i);
	for (i = 0; i < ev->nprov && i < AP_REC_PROV_MAX; i++) {
		prov[i] = (struct ap_ev_prov){
			.label = ap_run__label_name(bv, ev->prov[i].label),
			.op = ev->prov[i].op,
			.target = ev->prov[i].target,
			.pid = ev->prov[i].pid,
			.comm = ev->prov[i].comm,
			.ts_ns = ev->prov[i].ts_ns,
		};
		v.nprov++;
	}
	if (!v.target || !*v.target)
		v.target = "?";
	/* an exec record may leave the target out when it is the exe
	 * (AP_REC_F_EXE_IS_TARGET) */
	if (ev->kind == AP_EVENT_VIOLATION && ev->op == AP_OP_EXEC &&
	    !strcmp(v.target, "?") && ev->exe && ev->exe[0] == '/')
		v.target = ev->exe;
	/* rename/link: the other name; the policy matched either */
	if (ev->target2 && *ev->target2)
		v.target2 = ev->target2;
	ap_run__note_write(rc, ap_evw__violation(rc->w, &v));
	if (rc->fb)
		ap_feedback__record_event(rc->fb, rc->c, ev, approval);
}

static const struct {
	enum ap_counter cnt;
	const char *what;
	bool overflow;
} loss_kinds[] = {
	{ AP_CNT_RINGBUF_DROPS, "events lost: the ring buffer was full", false },
	{ AP_CNT_MAP_FULL, "state the kernel could not record: a map was full", true },
	{ AP_CNT_EVICTIONS, "unlabelled process or file state evicted to make room", false },
	{ AP_CNT_READ_FAILS, "memory reads in the kernel failed (a path or argv could not be read)", false },
};

static const char *const counter_names[] = {
#define X(e, f, s) [AP_CNT_##e] = s,
	AP_COUNTERS(X)
#undef X
};

static void add_counter(struct ap_engine_counters *c, enum ap_counter i, uint64_t d)
{
	((uint64_t *)c)[i] += d;
}

static void emit_losses(struct run_ctx *rc, const struct ap_engine_counters *delta,
			uint64_t ts)
{
	for (size_t k = 0; k < sizeof(loss_kinds) / sizeof(loss_kinds[0]); k++) {
		enum ap_counter i = loss_kinds[k].cnt;
		uint64_t d = ap_run__counter(delta, i);
		struct ap_ev_loss l;

		if (!d)
			continue;
		add_counter(&rc->lost, i, d);
		l = (struct ap_ev_loss){
			.ts_ns = ts,
			.kind = counter_names[i],
			.count = d,
			.total = ap_run__counter(&rc->lost, i),
			.what = loss_kinds[k].what,
			.overflowed = loss_kinds[k].overflow,
		};
		ap_run__note_write(rc, ap_evw__loss(rc->w, &l));
	}
}

void ap_run__flush_losses(struct run_ctx *rc, const struct ap_engine_counters *cnt)
{
	struct ap_engine_counters delta;

	for (size_t k = 0; k < sizeof(loss_kinds) / sizeof(loss_kinds[0]); k++) {
		enum ap_counter i = loss_kinds[k].cnt;
		uint64_t seen = ap_run__counter(&rc->lost, i), now = ap_run__counter(cnt, i);

		memset(&delta, 0, sizeof(delta));
		if (now > seen) {
			add_counter(&delta, i, now - seen);
			emit_losses(rc, &delta, 0);
		}
	}
}

/* Supervised mode: the engine evaluates the operation that really took
 * place, at its own hook. A block/ask/kill match there means the
 * supervisor's check was bypassed (a second thread changed the arguments
 * after the check, or the system call is one the filter does not see)
 * unless it is an `ask` a person approved. Kill the process; where the
 * engine ran with --fallback kill semantics it already did. */
static bool supervised_recheck(struct run_ctx *rc, const struct ap_event_rec *ev,
			       struct ap_event_rec *copy)
{
	if (!rc->sup || ev->kind != AP_EVENT_VIOLATION || ev->effect < AP_EFFECT_ASK)
		return false;
	if (ev->effect == AP_EFFECT_ASK &&
	    ap_supervisor__approved(rc->sup, ev->pid, ev->op, ev->target))
		return true; /* the decision event already says it */
	*copy = *ev;
	if (copy->action == AP_ACTION_REPORTED) {
		kill(ev->pid, SIGKILL);
		copy->action = AP_ACTION_KILLED;
	}
	return false;
}

void ap_run__sup_emit(void *ctx, const struct ap_event_rec *ev, const char *approval)
{
	struct run_ctx *rc = ctx;

	pthread_mutex_lock(&ap_run_ev_lock);
	if (rc->w)
		emit_violation(rc, ev, approval);
	pthread_mutex_unlock(&ap_run_ev_lock);
}

void ap_run__sup_decision(void *ctx, const char *approval, const char *decision,
			  const char *by)
{
	struct run_ctx *rc = ctx;

	pthread_mutex_lock(&ap_run_ev_lock);
	if (rc->w)
		ap_run__note_write(rc, ap_evw__decision(rc->w, &(struct ap_ev_decision){
			.approval = approval, .decision = decision, .by = by }));
	pthread_mutex_unlock(&ap_run_ev_lock);
}

static void on_event_locked(void *ctx, const struct ap_event_rec *ev)
{
	struct run_ctx *rc = ctx;
	struct ap_event_rec copy;

	switch (ev->kind) {
	case AP_EVENT_VIOLATION:
	case AP_EVENT_UNRESOLVED:
		if (ev->session != rc->sid)
			break;
		copy.kind = 0;
		if (supervised_recheck(rc, ev, &copy))
			break;
		emit_violation(rc, copy.kind ? &copy : ev, NULL);
		break;
	case AP_EVENT_SESSION_END:
		if (ev->session == rc->sid)
			rc->session_ended = true;
		break;
	case AP_EVENT_LOSS:
		if (ev->overflow) {
			/* the session fails closed: said once (engine/engine.h) */
			struct ap_ev_loss l;
			char buf[640];

			if (ev->session == rc->sid) {
				ap_event__overflow_loss(ev, &l, buf, sizeof(buf));
				ap_run__note_write(rc, ap_evw__loss(rc->w, &l));
			}
			break;
		}
		emit_losses(rc, &ev->loss, ev->ts_ns);
		break;
	case AP_EVENT_OBSERVE:
		break;
	}
}

void ap_run__on_event(void *ctx, const struct ap_event_rec *ev)
{
	pthread_mutex_lock(&ap_run_ev_lock);
	on_event_locked(ctx, ev);
	pthread_mutex_unlock(&ap_run_ev_lock);
}

/* ---- files ---- */

int ap_run__open_user_file(const char *path, int flags, const struct ap_user *u)
{
	struct stat st;
	bool existed = !lstat(path, &st);
	int fd = open(path, flags | O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		return -errno;
	if (!existed)
		ap_user__chown(u, path);
	return fd;
}

/* <root>/.actplane/events.jsonl, appended; directory and file belong to the
 * invoking user when we create them. */
int ap_run__open_audit_trail(const char *root, const struct ap_user *u)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	int fd;

	if (snprintf(dir, sizeof(dir), "%s/.actplane", root) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	if (!mkdir(dir, 0755))
		ap_user__chown(u, dir);
	else if (errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/events.jsonl", dir);
	/* not through a symlink planted in the project: we are root here */
	fd = ap_run__open_user_file(path, O_APPEND | O_NOFOLLOW, u);
	if (fd < 0)
		ap_err("cannot open the audit trail %s: %s", path, strerror(-fd));
	return fd;
}
