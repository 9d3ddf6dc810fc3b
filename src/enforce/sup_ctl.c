// SPDX-License-Identifier: MIT
/*
 * The supervisor's `ask` side (supervisor_int.h): operations held for a
 * decision, the approvals they leave for the engine's re-check, and the
 * control socket through which a person outside the session decides.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "common/log.h"
#include "common/procfs.h"
#include "enforce/approvals.h"
#include "enforce/supervisor_int.h"
#include "engine/event_json.h"

/* ---- ask ---- */

static void argv_json(const struct op_info *oi, char *out, size_t size)
{
	struct json_object *a = json_object_new_array();

	for (unsigned i = 0; i < oi->argc && a; i++)
		json_object_array_add(a, json_object_new_string(oi->argv[i]));
	snprintf(out, size, "%s", a ? json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN) : "[]");
	json_object_put(a);
}

struct held *ap_sup__hold(struct ap_supervisor *s, const struct seccomp_notif *req,
			  const struct op_info *oi, pid_t tgid)
{
	unsigned timeout = s->o.ask_timeout_s ? s->o.ask_timeout_s : AP_ASK_TIMEOUT_DEFAULT_S;

	for (int i = 0; i < SUP_MAX_HELD; i++) {
		struct held *h = &s->held[i];

		if (h->used)
			continue;
		memset(h, 0, sizeof(*h));
		h->used = true;
		h->notif_id = req->id;
		snprintf(h->id, sizeof(h->id), "%.8s-%u", s->o.session_name, ++s->next_id);
		h->pid = tgid;
		h->op = oi->in.op;
		snprintf(h->target, sizeof(h->target), "%s", oi->name);
		if (oi->in.op == AP_OP_EXEC)
			argv_json(oi, h->argv, sizeof(h->argv));
		else
			snprintf(h->argv, sizeof(h->argv), "null");
		h->since_ns = ap_ev__now_ns();
		h->deadline_ms = now_ms() + (uint64_t)timeout * 1000;
		return h;
	}
	return NULL;
}

static void remember_approved(struct ap_supervisor *s, const struct held *h)
{
	struct approved *a;

	pthread_mutex_lock(&s->lock);
	a = &s->approved[s->napproved++ % SUP_APPROVED_RING];
	a->pid = h->pid;
	a->op = h->op;
	snprintf(a->target, sizeof(a->target), "%s", h->target);
	a->at_ms = now_ms();
	pthread_mutex_unlock(&s->lock);
}

bool ap_supervisor__approved(struct ap_supervisor *s, int pid, unsigned op,
			     const char *target)
{
	bool hit = false;

	if (!s || !target)
		return false;
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < SUP_APPROVED_RING && i < s->napproved; i++) {
		struct approved *a = &s->approved[i];

		/* the engine reports an approved open as open/read/write */
		if (a->pid == pid && !strcmp(a->target, target) &&
		    (a->op == op || (a->op == AP_OP_OPEN &&
				     (op == AP_OP_READ || op == AP_OP_WRITE))) &&
		    now_ms() - a->at_ms < 60000) {
			hit = true;
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return hit;
}

void ap_sup__decide(struct ap_supervisor *s, struct held *h, const char *decision,
		    const char *by)
{
	bool ok = !strcmp(decision, "approved");

	if (ok && seccomp_notify_id_valid(s->listener, h->notif_id))
		ok = false; /* the process went away meanwhile */
	if (ok)
		remember_approved(s, h);
	ap_sup__respond(s, h->notif_id, ok ? 0 : EPERM);
	if (s->o.decision)
		s->o.decision(s->o.ctx, h->id, decision, by);
	h->used = false;
}

/* ---- control socket ---- */

/* a member of a session's cgroup (watchdog.h names them actplane-SESSION) */
static bool in_session_cgroup(struct ap_supervisor *s, pid_t pid)
{
	char buf[4096];

	(void)s;
	if (ap_procfs__read(pid, "cgroup", buf, sizeof(buf)))
		return false;
	/* any session's, not only ours: an agent in one session must not
	 * approve what another agent's session holds either */
	return strstr(buf, "/actplane-") != NULL;
}

static bool in_session(struct ap_supervisor *s, pid_t pid)
{
	if (in_session_cgroup(s, pid))
		return true;
	/* the caller or any ancestor a process of this session */
	for (int depth = 0; pid > 1 && depth < 256; depth++) {
		struct ap_proc p;
		uint32_t k = (uint32_t)pid;
		pid_t tg, pp;
		uid_t u;

		if (pid == s->o.root_pid)
			return true;
		if (s->o.procs_fd >= 0 && !bpf_map_lookup_elem(s->o.procs_fd, &k, &p) &&
		    p.session == s->o.session)
			return true;
		if (ap_proc__status(pid, &tg, &pp, &u))
			return false;
		pid = pp;
	}
	return false;
}

static void ctl_reply(int fd, const char *text)
{
	ssize_t n = write(fd, text, strlen(text));

	(void)n;
}

void ap_sup__handle_ctl(struct ap_supervisor *s)
{
	struct ucred cr;
	socklen_t cl = sizeof(cr);
	struct timeval tv = { .tv_sec = 1 };
	char line[256], by[160];
	struct passwd *pw;
	ssize_t n;
	int c = accept4(s->ctl, NULL, NULL, SOCK_CLOEXEC), pidfd = -1;

	if (c < 0)
		return;
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cl))
		goto cleanup;
	/* pinned before anything is read: checked again after the lineage */
	pidfd = ap_approvals__peer_pidfd(c, cr.pid);
	n = read(c, line, sizeof(line) - 1);
	if (n <= 0)
		goto cleanup;
	line[n] = 0;
	line[strcspn(line, "\r\n")] = 0;
	if (!strcmp(line, "pending")) {
		for (int i = 0; i < SUP_MAX_HELD; i++) {
			struct held *h = &s->held[i];
			char ts[40], buf[SUP_PATH + 3000];
			struct json_object *o;

			if (!h->used)
				continue;
			ap_ev__format_ts(h->since_ns, ts, sizeof(ts));
			o = json_object_new_object();
			json_object_object_add(o, "approval", json_object_new_string(h->id));
			json_object_object_add(o, "session", json_object_new_string(s->o.session_name));
			json_object_object_add(o, "op", json_object_new_string(ap_ev__op_name(h->op)));
			json_object_object_add(o, "target", json_object_new_string(h->target));
			json_object_object_add(o, "argv", json_tokener_parse(h->argv));
			json_object_object_add(o, "pid", json_object_new_int(h->pid));
			json_object_object_add(o, "since", json_object_new_string(ts));
			snprintf(buf, sizeof(buf), "%s\n",
				 json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
			json_object_put(o);
			ctl_reply(c, buf);
		}
		goto cleanup;
	}
	if (strncmp(line, "approve ", 8) && strncmp(line, "deny ", 5)) {
		ctl_reply(c, "error: unknown request\n");
		goto cleanup;
	}
	{
		bool approve = line[0] == 'a';
		const char *id = line + (approve ? 8 : 5);
		struct held *h = NULL;

		for (int i = 0; i < SUP_MAX_HELD; i++)
			if (s->held[i].used && !strcmp(s->held[i].id, id))
				h = &s->held[i];
		if (!h) {
			ctl_reply(c, "unknown\n");
			goto cleanup;
		}
		bool inside = in_session(s, cr.pid);

		/* a caller that is gone can no longer be shown to be outside (its
		 * /proc entry and engine state went with it): refused, an event */
		if (!inside && !ap_approvals__pidfd_alive(pidfd)) {
			snprintf(by, sizeof(by), "pid %d uid %u (exited before it could be checked)",
				 (int)cr.pid, (unsigned)cr.uid);
			if (s->o.decision)
				s->o.decision(s->o.ctx, h->id, "refused", by);
			ctl_reply(c, "error: refused: the caller exited before it could be checked\n");
			goto cleanup;
		}
		/* a process of a session is refused as such, whatever its uid:
		 * the attempt must be an event */
		if (cr.uid != 0 && cr.uid != s->o.owner_uid && !inside) {
			ctl_reply(c, "error: refused: only root or the session's owner may decide\n");
			goto cleanup;
		}
		if (inside) {
			/* the operation stays held; the attempt is an event */
			char msg[300], sess[40];

			if (ap_approvals__caller_session(cr.pid, sess, sizeof(sess)) <= 0)
				snprintf(sess, sizeof(sess), "%s", s->o.session_name);
			ap_approvals__refusal(approve ? "approve" : "deny", sess, cr.pid, cr.uid,
					      msg, sizeof(msg), by, sizeof(by));
			if (s->o.decision)
				s->o.decision(s->o.ctx, h->id, "refused", by);
			ctl_reply(c, msg);
			goto cleanup;
		}
		pw = getpwuid(cr.uid);
		if (pw)
			snprintf(by, sizeof(by), "%s", pw->pw_name);
		else
			snprintf(by, sizeof(by), "%u", (unsigned)cr.uid);
		ap_sup__decide(s, h, approve ? "approved" : "denied", by);
		ctl_reply(c, "ok\n");
	}
cleanup:
	if (pidfd >= 0)
		close(pidfd);
	close(c);
}
