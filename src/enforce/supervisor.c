// SPDX-License-Identifier: MIT
#include "supervisor_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "common/log.h"
#include "enforce/approvals.h"
#include "enforce/resolve.h"
#include "enforce/sysguard.h"
#include "enforce/unix_sock.h"
#include "engine/engine.h"
#include "engine/engine_int.h"
#include "engine/eval.h"
#include "engine/event_json.h"
#include "policy/blob.h"

#define SUP_MAX_ARGS (1u << 18)
#define SUP_MAX_ARG_STRLEN (32 * 4096)      /* the kernel's MAX_ARG_STRLEN */
#define SUP_MAX_ARGV_BYTES (16u << 20)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* ---- events ---- */


/* Provenance of label bit b for the record, as the engine gives it
 * (events.c): the acting process's entry in ap_prov; for a label the
 * operation itself brings (the engine records it after the flow, the
 * supervisor decides before), the object's entry, and for a label the
 * operation's object is a source of (no entry yet anywhere) this very
 * operation. */
static void fill_prov(struct ap_supervisor *s, const struct op_info *oi,
		      struct ap_event_rec *ev, unsigned b, pid_t tgid)
{
	struct ap_prov_key k = { .id = (uint64_t)tgid, .kind = AP_OBJ_PROC, .label = b };
	struct ap_event_prov *ep = &s->prov[ev->nprov];
	char *t = s->prov_target[ev->nprov];
	size_t tsz = sizeof(s->prov_target[0]), tl;
	struct ap_prov pv;
	bool found = false;

	memset(ep, 0, sizeof(*ep));
	ep->label = b;
	if (s->o.prov_fd >= 0) {
		found = !bpf_map_lookup_elem(s->o.prov_fd, &k, &pv);
		if (!found && oi->in.has_ino) {
			struct ap_prov_key fk = { .id = oi->in.ino, .dev = oi->in.dev,
						  .kind = AP_OBJ_FILE, .label = b };

			found = !bpf_map_lookup_elem(s->o.prov_fd, &fk, &pv);
		}
	}
	if (!found) {
		enum ap_op op = oi->in.op;
		uint32_t pk = (uint32_t)tgid;
		struct ap_proc pr;

		/* only a label this operation brings is this operation's;
		 * one the process already had (its entry evicted) or is
		 * only assumed to have (unknown process, fail closed) has
		 * no provenance to give, as in the engine's records */
		if (s->o.procs_fd < 0 || bpf_map_lookup_elem(s->o.procs_fd, &pk, &pr) ||
		    pr.session != s->o.session || (pr.labels >> b & 1))
			return;
		if (op == AP_OP_OPEN)
			op = oi->in.rd ? AP_OP_READ : AP_OP_WRITE;
		ep->op = op;
		tl = strlen(oi->name);
		/* like the engine's record: the tail of a long name is kept */
		ep->truncated = tl > AP_PROV_TARGET_MAX;
		if (ep->truncated)
			snprintf(t, tsz, "...%.*s", AP_PROV_TARGET_MAX,
				 oi->name + tl - AP_PROV_TARGET_MAX);
		else
			snprintf(t, tsz, "%.*s", AP_PROV_TARGET_MAX, oi->name);
		ep->pid = (int)tgid;
		memcpy(ep->comm, ev->comm, sizeof(ep->comm));
		ep->ts_ns = ev->ts_ns;
		ep->target = t;
		ev->nprov++;
		return;
	}
	tl = pv.target_len < AP_PROV_TARGET_MAX ? pv.target_len : AP_PROV_TARGET_MAX;
	ep->op = pv.op < AP_OP__COUNT ? pv.op : AP_OP_READ;
	ep->pid = (int)pv.pid;
	memcpy(ep->comm, pv.comm, sizeof(ep->comm));
	ep->comm[sizeof(ep->comm) - 1] = 0;
	ep->ts_ns = ap_ev__boot_to_real(pv.ts);
	ep->truncated = pv.flags & AP_PROV_F_TRUNCATED;
	if (pv.flags & AP_PROV_F_SOCKADDR)
		ap_sockaddr__format(pv.target, tl, t, tsz);
	else if (!tl)
		snprintf(t, tsz, "?");
	else if (ep->truncated)
		snprintf(t, tsz, "...%.*s", (int)tl, pv.target);
	else
		snprintf(t, tsz, "%.*s", (int)tl, pv.target);
	ep->target = t;
	ev->nprov++;
}

static void fill_rec(struct ap_supervisor *s, const struct seccomp_notif *req,
		     const struct op_info *oi, const struct ap_eval_out *out,
		     enum ap_action action, struct ap_event_rec *ev,
		     unsigned *rules, char *comm_exe, size_t ce_size)
{
	pid_t tgid, ppid;
	uid_t uid;
	char path[64];
	ssize_t n;
	FILE *f;

	memset(ev, 0, sizeof(*ev));
	ev->kind = oi->unresolved ? AP_EVENT_UNRESOLVED : AP_EVENT_VIOLATION;
	ev->ts_ns = ap_ev__now_ns();
	ev->session = s->o.session;
	ev->effect = out->effect;
	ev->action = action;
	ev->rule = out->rule;
	for (unsigned r = 0; r < AP_MAX_RULES; r++)
		if (out->rules[r / 64] >> (r % 64) & 1)
			rules[ev->nrules++] = r;
	ev->rules = rules;
	ev->op = out->nmatch ? out->op : oi->in.op;
	ev->target = oi->name;
	ev->target2 = oi->in.path2;
	if (oi->in.op == AP_OP_EXEC) {
		ev->argv = oi->argv;
		ev->argc = oi->argc;
	}
	ap_proc__status((pid_t)req->pid, &tgid, &ppid, &uid);
	ev->pid = tgid;
	ev->tid = (int)req->pid;
	ev->ppid = ppid;
	ev->uid = uid;
	if (oi->in.op == AP_OP_EXEC) {
		/* the process as the engine reports an exec: the program it
		 * is becoming (comm from the name given, as the kernel sets
		 * it), not the one it was (for the command itself: run) */
		const char *b = strrchr(oi->name, '/');

		snprintf(ev->comm, sizeof(ev->comm), "%.*s", (int)sizeof(ev->comm) - 1,
			 b ? b + 1 : oi->name);
		snprintf(comm_exe, ce_size, "%s", oi->r1.path);
	} else {
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)req->pid);
		f = fopen(path, "re");
		if (f) {
			if (fgets(ev->comm, sizeof(ev->comm), f))
				ev->comm[strcspn(ev->comm, "\n")] = 0;
			fclose(f);
		}
		snprintf(path, sizeof(path), "/proc/%d/exe", (int)tgid);
		n = readlink(path, comm_exe, ce_size - 1);
		comm_exe[n > 0 ? n : 0] = 0;
	}
	ev->exe = comm_exe;
	ev->labels = out->labels;
	ev->mattered = out->mattered;
	for (unsigned b = 0; b < 64 && ev->nprov < AP_REC_PROV_MAX; b++)
		if (out->mattered >> b & 1)
			fill_prov(s, oi, ev, b, tgid);
	ev->prov = s->prov;
}

void ap_sup__respond(struct ap_supervisor *s, uint64_t id, int error)
{
	memset(s->resp, 0, sizeof(*s->resp));
	s->resp->id = id;
	if (error) {
		s->resp->error = -error;
	} else {
		s->resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	}
	/* ENOENT: the process is gone (killed, or the syscall interrupted) */
	if (seccomp_notify_respond(s->listener, s->resp) && errno != ENOENT)
		ap_debug("supervisor: respond to %llu: %s", (unsigned long long)id,
			 strerror(errno));
}

/* ---- decoding the system call ---- */

/* The whole argv: the kernel bounds it (MAX_ARG_STRLEN per string, the
 * stack limit in total); past our bounds the exec is refused, never
 * decided on a partial list. */
static int read_argv(pid_t pid, uint64_t arr, struct op_info *oi)
{
	size_t used = 0;
	uint64_t ptrs[64];
	unsigned have = 0, at = 0;
	int err;

	/* kept from one exec to the next: room for the longest string
	 * from the start, not an allocation (and a munmap) per exec */
	if (!oi->argv_buf) {
		oi->argv_cap = 2 * (SUP_MAX_ARG_STRLEN + 1);
		oi->argv_buf = malloc(oi->argv_cap);
	}
	if (!oi->argv) {
		oi->argv_ncap = 256;
		oi->argv = malloc(oi->argv_ncap * sizeof(*oi->argv));
	}
	if (!oi->argv_buf || !oi->argv)
		return -ENOMEM;

	for (oi->argc = 0;; oi->argc++) {
		uint64_t p;

		if (oi->argc >= SUP_MAX_ARGS)
			return -E2BIG;
		/* the pointers a batch at a time, up to the page's end (the
		 * array may end right before an unmapped page) */
		if (at == have) {
			uint64_t a = arr + 8ull * oi->argc;
			size_t left = 4096 - (a & 4095), n = sizeof(ptrs);

			if (left >= 8 && left < n)
				n = left & ~(size_t)7;
			err = ap_proc__read_mem(pid, a, ptrs, n);
			if (err && n > 8) {
				n = 8;
				err = ap_proc__read_mem(pid, a, ptrs, n);
			}
			if (err)
				return err;
			have = (unsigned)(n / 8);
			at = 0;
		}
		p = ptrs[at++];
		if (!p)
			break;
		if (oi->argc + 1 >= oi->argv_ncap) {
			const char **nv = realloc(oi->argv, 2 * oi->argv_ncap * sizeof(*nv));

			if (!nv)
				return -ENOMEM;
			oi->argv = nv;
			oi->argv_ncap *= 2;
		}
		while (oi->argv_cap - used < SUP_MAX_ARG_STRLEN + 1) {
			char *nb;

			if (oi->argv_cap >= SUP_MAX_ARGV_BYTES)
				return -E2BIG;
			nb = realloc(oi->argv_buf, 2 * oi->argv_cap);
			if (!nb)
				return -ENOMEM;
			/* rebase the pointers already taken */
			for (unsigned i = 0; i < oi->argc; i++)
				oi->argv[i] = nb + (oi->argv[i] - oi->argv_buf);
			oi->argv_buf = nb;
			oi->argv_cap *= 2;
		}
		err = ap_proc__read_str(pid, p, oi->argv_buf + used, SUP_MAX_ARG_STRLEN + 1);
		if (err)
			return err;
		oi->argv[oi->argc] = oi->argv_buf + used;
		used += strlen(oi->argv_buf + used) + 1;
	}
	oi->in.argv = oi->argv;
	oi->in.argc = oi->argc;
	return 0;
}

static void set_ino(struct ap_eval_in *in, const struct ap_resolved *r)
{
	if (!r->has_st)
		return;
	in->has_ino = true;
	in->ino = r->st.st_ino;
	in->dev = ap_eval__kdev(r->st.st_dev);
}

static int path_arg(struct ap_supervisor *s, pid_t pid, uint64_t addr, int dirfd,
		    bool follow, struct ap_resolved *r)
{
	char p[SUP_PATH];
	int err = ap_proc__read_str(pid, addr, p, sizeof(p));

	if (err)
		return err;
	return ap_resolve__at(pid, s->root_fd, dirfd, p, follow, r, 0);
}

static void open_mode(struct op_info *oi, uint64_t flags)
{
	unsigned acc = flags & O_ACCMODE;

	oi->in.op = AP_OP_OPEN;
	if (flags & O_PATH) {
		oi->in.rd = oi->in.wr = false;
		return;
	}
	oi->in.rd = acc == O_RDONLY || acc == O_RDWR;
	oi->in.wr = acc == O_WRONLY || acc == O_RDWR || (flags & O_TRUNC) ||
		    ((flags & O_CREAT) && !oi->r1.has_st);
}

static int sockaddr_arg(pid_t pid, uint64_t addr, uint64_t len, struct ap_eval_ep *ep)
{
	uint8_t sa[128] = { 0 };
	uint16_t fam;
	int err;

	memset(ep, 0, sizeof(*ep));
	if (!addr || len < 2)
		return 0;
	if (len > sizeof(sa))
		len = sizeof(sa);
	err = ap_proc__read_mem(pid, addr, sa, len);
	if (err)
		return err;
	memcpy(&fam, sa, 2);
	if (fam == AF_INET && len >= 8) {
		ep->family = AF_INET;
		ep->port = (uint16_t)(sa[2] << 8 | sa[3]);
		memcpy(ep->addr, sa + 4, 4);
	} else if (fam == AF_INET6 && len >= 24) {
		ep->family = AF_INET6;
		ep->port = (uint16_t)(sa[2] << 8 | sa[3]);
		memcpy(ep->addr, sa + 8, 16);
	} else if (fam == AF_UNIX && len > 2) {
		size_t n = len - 2;

		ep->family = AF_UNIX;
		if (sa[2] == 0) {
			ep->unix_path[0] = '@';
			memcpy(ep->unix_path + 1, sa + 3, n - 1 < 108 ? n - 1 : 108);
		} else {
			memcpy(ep->unix_path, sa + 2, n < 108 ? n : 108);
		}
	}
	return 0;
}

static void ep_name(const struct ap_eval_ep *ep, char *out, size_t size)
{
	char a[64];

	if (ep->family == AF_INET) {
		snprintf(out, size, "%u.%u.%u.%u:%u", ep->addr[0], ep->addr[1],
			 ep->addr[2], ep->addr[3], ep->port);
	} else if (ep->family == AF_INET6) {
		struct in6_addr in6;

		memcpy(&in6, ep->addr, 16);
		a[0] = 0;
		if (!inet_ntop(AF_INET6, &in6, a, sizeof(a)))
			snprintf(a, sizeof(a), "?");
		snprintf(out, size, "[%s]:%u", a, ep->port);
	} else if (ep->family == AF_UNIX) {
		snprintf(out, size, "unix:%s", ep->unix_path);
	} else {
		snprintf(out, size, "?");
	}
}

/* 1 when the call concerns the policy (oi filled), 0 to let it run, -errno */
static int decode(struct ap_supervisor *s, const struct seccomp_notif *req,
		  struct op_info *oi)
{
	pid_t pid = (pid_t)req->pid;
	const __u64 *a = req->data.args;
	int nr = req->data.nr, err = 0;
	char name[SUP_PATH];

	if (nr == SCMP_SYS(execve) || nr == SCMP_SYS(execveat)) {
		bool at = nr == SCMP_SYS(execveat);
		int dirfd = at ? (int)a[0] : AT_FDCWD;

		oi->in.op = AP_OP_EXEC;
		err = ap_proc__read_str(pid, at ? a[1] : a[0], name, sizeof(name));
		if (!err)
			err = ap_resolve__at(pid, s->root_fd, dirfd, name,
					     !(at && (a[4] & AT_SYMLINK_NOFOLLOW)), &oi->r1, 0);
		if (err)
			return err;
		if (at && dirfd != AT_FDCWD && name[0] != '/')
			snprintf(oi->name, sizeof(oi->name), "%s", oi->r1.path);
		else
			ap_resolve__exec_name(pid, name, oi->name, sizeof(oi->name));
		oi->in.path = oi->name;
		oi->in.alt[0] = oi->r1.path;
		if (ap_resolve__interp(pid, s->root_fd, oi->r1.path, &oi->interp))
			oi->in.alt[1] = oi->interp.path;
		set_ino(&oi->in, &oi->r1);
		/* a memfd or a deleted file has no name a glob could match */
		if (!strncmp(oi->r1.path, "/memfd:", 7) ||
		    (strlen(oi->r1.path) > 10 &&
		     !strcmp(oi->r1.path + strlen(oi->r1.path) - 10, " (deleted)")))
			oi->unresolved = true;
		return read_argv(pid, at ? a[2] : a[1], oi) ?: 1;
	}
	if (nr == SCMP_SYS(open) || nr == SCMP_SYS(openat) || nr == SCMP_SYS(creat) ||
	    nr == SCMP_SYS(openat2)) {
		int dirfd = AT_FDCWD;
		uint64_t flags, addr;

		if (nr == SCMP_SYS(open)) {
			addr = a[0];
			flags = a[1];
		} else if (nr == SCMP_SYS(creat)) {
			addr = a[0];
			flags = O_CREAT | O_WRONLY | O_TRUNC;
		} else if (nr == SCMP_SYS(openat)) {
			dirfd = (int)a[0];
			addr = a[1];
			flags = a[2];
		} else {
			struct open_how how = { 0 };

			dirfd = (int)a[0];
			addr = a[1];
			err = ap_proc__read_mem(pid, a[2], &how, sizeof(how));
			if (err)
				return err;
			flags = how.flags;
		}
		err = path_arg(s, pid, addr, dirfd,
			       !(flags & O_NOFOLLOW) && !((flags & O_CREAT) && (flags & O_EXCL)),
			       &oi->r1);
		if (err)
			return err;
		open_mode(oi, flags);
		if (!s->o.plan.open_all && !oi->in.wr)
			return 0; /* openat2 read-only, no read rule needs us */
		snprintf(oi->name, sizeof(oi->name), "%s", oi->r1.path);
		oi->in.path = oi->name;
		set_ino(&oi->in, &oi->r1);
		return 1;
	}
	if (nr == SCMP_SYS(truncate) || nr == SCMP_SYS(symlink) || nr == SCMP_SYS(symlinkat)) {
		if (nr == SCMP_SYS(truncate))
			err = path_arg(s, pid, a[0], AT_FDCWD, true, &oi->r1);
		else if (nr == SCMP_SYS(symlink))
			err = path_arg(s, pid, a[1], AT_FDCWD, false, &oi->r1);
		else
			err = path_arg(s, pid, a[2], (int)a[1], false, &oi->r1);
		if (err)
			return err;
		oi->in.op = AP_OP_WRITE;
		goto one_path;
	}
	if (nr == SCMP_SYS(unlink) || nr == SCMP_SYS(rmdir) || nr == SCMP_SYS(unlinkat)) {
		if (nr == SCMP_SYS(unlinkat))
			err = path_arg(s, pid, a[1], (int)a[0], false, &oi->r1);
		else
			err = path_arg(s, pid, a[0], AT_FDCWD, false, &oi->r1);
		if (err)
			return err;
		oi->in.op = AP_OP_UNLINK;
		goto one_path;
	}
	if (nr == SCMP_SYS(rename) || nr == SCMP_SYS(renameat) || nr == SCMP_SYS(renameat2) ||
	    nr == SCMP_SYS(link) || nr == SCMP_SYS(linkat)) {
		bool two = nr == SCMP_SYS(rename) || nr == SCMP_SYS(link);
		bool link = nr == SCMP_SYS(link) || nr == SCMP_SYS(linkat);
		bool follow_old = nr == SCMP_SYS(linkat) && (a[4] & AT_SYMLINK_FOLLOW);

		err = path_arg(s, pid, two ? a[0] : a[1], two ? AT_FDCWD : (int)a[0],
			       follow_old, &oi->r1);
		if (!err)
			err = path_arg(s, pid, two ? a[1] : a[3], two ? AT_FDCWD : (int)a[2],
				       false, &oi->r2);
		if (err)
			return err;
		oi->in.op = AP_OP_RENAME;
		oi->in.link = link;
		oi->in.path2 = oi->r2.path;
		goto one_path;
	}
	if (nr == SCMP_SYS(connect) || nr == SCMP_SYS(sendto) || nr == SCMP_SYS(sendmsg) ||
	    nr == SCMP_SYS(sendmmsg)) {
		uint64_t addr = 0, len = 0;

		if (nr == SCMP_SYS(connect)) {
			addr = a[1];
			len = a[2];
		} else if (nr == SCMP_SYS(sendto)) {
			addr = a[4];
			len = a[5];
		} else {
			struct { uint64_t name; uint32_t namelen; } mh;

			/* sendmmsg: the first message decides (documented) */
			err = ap_proc__read_mem(pid, a[1], &mh, sizeof(mh));
			if (err)
				return err;
			addr = mh.name;
			len = mh.namelen;
		}
		if (!addr)
			return 0; /* a connected socket: the engine follows sends */
		err = sockaddr_arg(pid, addr, len, &oi->in.ep);
		if (err)
			return err;
		if (!oi->in.ep.family)
			return 0;
		oi->in.op = AP_OP_CONNECT;
		ep_name(&oi->in.ep, oi->name, sizeof(oi->name));
		oi->in.path = NULL;
		return 1;
	}
	return 0;
one_path:
	snprintf(oi->name, sizeof(oi->name), "%s", oi->r1.path);
	oi->in.path = oi->name;
	set_ino(&oi->in, &oi->r1);
	return 1;
}

/* ---- session-guard ---- */

/* Answer a guard violation: EPERM (the call never happens) and the event.
 * name: the target; the caller checked that the notification is valid. */
static void guard_deny(struct ap_supervisor *s, const struct seccomp_notif *req,
		       pid_t tgid, enum ap_op op, const char *name)
{
	struct op_info *oi = calloc(1, sizeof(*oi));
	struct ap_eval_out out;
	struct ap_event_rec ev;
	unsigned rules[AP_MAX_RULES];
	char exe[SUP_PATH];
	uint32_t k = (uint32_t)tgid;
	struct ap_proc p;

	if (!oi) {
		ap_sup__respond(s, req->id, EPERM);
		return;
	}
	memset(&out, 0, sizeof(out));
	out.nmatch = 1;
	out.effect = AP_EFFECT_BLOCK;
	out.op = op;
	out.rule = s->guard.rule;
	out.rules[s->guard.rule / 64] |= 1ull << (s->guard.rule % 64);
	if (s->o.procs_fd >= 0 && !bpf_map_lookup_elem(s->o.procs_fd, &k, &p))
		out.labels = p.labels;
	oi->in.op = op;
	snprintf(oi->name, sizeof(oi->name), "%s", name);
	fill_rec(s, req, oi, &out, AP_ACTION_BLOCKED, &ev, rules, exe, sizeof(exe));
	ap_sup__respond(s, req->id, EPERM);
	if (s->o.emit)
		s->o.emit(s->o.ctx, &ev, NULL);
	free(oi);
}

/* ---- one notification ---- */

/* A thread id that is a key of the engine's process map (keyed by thread
 * group) is its group's leader: ids are unique among live tasks and the
 * engine drops a group's entry when the group exits. Saves reading
 * /proc/TID/status for every single-threaded process. */
static bool tgid_fast(struct ap_supervisor *s, pid_t tid, pid_t *tgid, struct ap_proc *p)
{
	uint32_t k = (uint32_t)tid;

	if (s->o.procs_fd < 0 || bpf_map_lookup_elem(s->o.procs_fd, &k, p) ||
	    p->session != s->o.session)
		return false;
	*tgid = tid;
	return true;
}

/* the caller's thread group: the engine's entry when the thread id is a
 * key there (see tgid_fast), else /proc; p filled when found */
static pid_t caller_tgid(struct ap_supervisor *s, pid_t tid, struct ap_proc *p, bool *have_p)
{
	pid_t tgid, ppid;
	uid_t uid;

	*have_p = tgid_fast(s, tid, &tgid, p);
	if (!*have_p && ap_proc__status(tid, &tgid, &ppid, &uid))
		tgid = tid;
	return tgid;
}

/* The guard's own system calls (sysguard.h); true when answered. */
static bool guard_handle(struct ap_supervisor *s, const struct seccomp_notif *req)
{
	char target[SUP_PATH];
	struct ap_proc p;
	enum ap_op op;
	uint64_t a[6];
	bool have_p;

	for (int i = 0; i < 6; i++)
		a[i] = req->data.args[i];
	if (ap_sysguard__check(&s->guard, (pid_t)req->pid, 0, req->data.nr, a, &op,
			       target, sizeof(target)) != 1)
		return false;
	if (seccomp_notify_id_valid(s->listener, req->id))
		return true; /* the caller is gone */
	guard_deny(s, req, caller_tgid(s, (pid_t)req->pid, &p, &have_p), op, target);
	return true;
}

/* The one op_info of the thread, cleared for the next call; its argv
 * buffers are kept (a cleared struct, not a fresh allocation, per call) */
static struct op_info *op_info__reset(struct op_info *oi)
{
	memset(&oi->in, 0, sizeof(oi->in));
	oi->name[0] = 0;
	oi->r1.path[0] = oi->r2.path[0] = oi->interp.path[0] = 0;
	oi->r1.has_st = oi->r2.has_st = oi->interp.has_st = false;
	oi->argc = 0;
	oi->unresolved = false;
	return oi;
}

static void handle(struct ap_supervisor *s)
{
	struct seccomp_notif *req = s->req;
	struct op_info *oi = NULL;
	struct ap_eval_out out;
	struct ap_proc proc;
	struct ap_eval_sets sets;
	bool have_proc;
	uint64_t t0;
	pid_t tgid;
	int r, deny = 0;

	memset(req, 0, sizeof(*req));
	if (seccomp_notify_receive(s->listener, req)) {
		if (errno != EINTR && errno != ENOENT)
			ap_debug("supervisor: receive: %s", strerror(errno));
		return;
	}
	t0 = now_ns();
	if (s->guard.items && guard_handle(s, req))
		goto cleanup;
	oi = op_info__reset(s->oi);
	r = decode(s, req, oi);
	/* what we read must still belong to the process that asked */
	if (seccomp_notify_id_valid(s->listener, req->id))
		goto cleanup;
	/* a target that does not exist: the kernel fails the call (ENOENT)
	 * without an effect; if a racing thread creates it first, the
	 * engine's re-check at its own hook sees the real operation */
	if (r > 0 && !oi->r1.has_st && !oi->unresolved &&
	    (oi->in.op == AP_OP_EXEC || oi->in.op == AP_OP_UNLINK ||
	     oi->in.op == AP_OP_RENAME || (oi->in.op == AP_OP_OPEN && !oi->in.wr)))
		r = 0;
	if (r == 0) {
		ap_sup__respond(s, req->id, 0);
		goto cleanup;
	}
	if (r > 0 && oi->in.op == AP_OP_OPEN && oi->in.wr) {
		char target[SUP_PATH];

		if (ap_sysguard__check_mem(&s->guard, oi->r1.path, target, sizeof(target))) {
			guard_deny(s, req, caller_tgid(s, (pid_t)req->pid, &proc, &have_proc),
				   AP_OP_PTRACE, target);
			goto cleanup;
		}
	}
	if (r < 0) {
		/* an argument we could not read: the kernel will fail the call
		 * with EFAULT too; a path too long for us to check is denied */
		ap_sup__respond(s, req->id, r == -EFAULT ? 0 : EPERM);
		goto cleanup;
	}
	/* nothing of the policy can match: no need to know who asks */
	if (!oi->unresolved && oi->in.op != AP_OP_CONNECT) {
		if (!ap_eval__may_match(&s->ev, &oi->in, &sets)) {
			ap_sup__respond(s, req->id, 0);
			goto cleanup;
		}
		oi->in.sets = &sets; /* not computed twice */
	}
	/* the entry read for the thread id is the group's (see tgid_fast):
	 * the evaluation need not read it again */
	tgid = caller_tgid(s, (pid_t)req->pid, &proc, &have_proc);
	if (have_proc)
		oi->in.proc = &proc;
	oi->in.tgid = tgid;
	if (oi->in.op == AP_OP_CONNECT && oi->in.ep.family == AF_UNIX ?
	    ap_unix_sock__eval(&s->ev, &oi->in, &out, oi->name, sizeof(oi->name)) :
	    ap_eval__op(&s->ev, &oi->in, &out)) {
		ap_sup__respond(s, req->id, EPERM);
		goto cleanup;
	}
	if (oi->unresolved && (!out.nmatch || out.effect < AP_EFFECT_BLOCK)) {
		out.effect = AP_EFFECT_BLOCK;
		out.nmatch = 0;
	}
	if (!oi->unresolved && (!out.nmatch || out.effect == AP_EFFECT_NOTIFY)) {
		ap_sup__respond(s, req->id, 0); /* notify: the engine reports it */
		goto cleanup;
	}
	{
		struct ap_event_rec ev;
		unsigned rules[AP_MAX_RULES];
		char exe[SUP_PATH];
		enum ap_action action = AP_ACTION_BLOCKED;
		struct held *h = NULL;

		if (out.effect == AP_EFFECT_ASK) {
			h = ap_sup__hold(s, req, oi, tgid);
			action = h ? AP_ACTION_HELD : AP_ACTION_DENIED;
			deny = h ? 0 : EPERM;
		} else {
			deny = EPERM;
			if (out.effect == AP_EFFECT_KILL)
				action = AP_ACTION_KILLED;
		}
		/* identity first (/proc of a killed process is gone), then the
		 * kill before the answer: the process must not get to handle
		 * EPERM and exit on its own */
		fill_rec(s, req, oi, &out, action, &ev, rules, exe, sizeof(exe));
		if (out.effect == AP_EFFECT_KILL)
			kill(tgid, SIGKILL);
		if (deny)
			ap_sup__respond(s, req->id, deny);
		if (s->o.emit)
			s->o.emit(s->o.ctx, &ev, h ? h->id : NULL);
	}
cleanup:
	pthread_mutex_lock(&s->lock);
	t0 = now_ns() - t0;
	s->nnotif++;
	s->total_ns += t0;
	if (req->data.nr >= 0 && req->data.nr < SUP_NR_MAX) {
		s->nr_n[req->data.nr]++;
		s->nr_ns[req->data.nr] += t0;
	}
	pthread_mutex_unlock(&s->lock);
}

/* ---- the thread ---- */

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

/* A held caller does nothing until we answer, so let the kernel hand its
 * CPU straight to this thread (6.6+) instead of waking us elsewhere: on
 * busy machines the wake-up, not the decision, is most of a round trip.
 * Older kernels say EINVAL and keep the ordinary wake-up. */
static void sup_sync_wakeup(int listener)
{
	if (getenv("ACTPLANE_SUP_NO_SYNC_WAKEUP"))
		return;
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS,
		  (__u64)SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) && errno != EINVAL)
		ap_debug("supervisor: synchronous wake-up: %s", strerror(errno));
}

/* With chroot, pivot_root and mount namespaces out of the session's reach
 * (the guard's namespaces item), every process of it keeps the command's
 * root: when that is ours too, absolute names resolve against one
 * descriptor instead of /proc/PID/root opened per call. */
static int shared_root(const struct ap_supervisor *s)
{
	char base[64];
	struct stat a, b;
	int fd;

	if (!(s->guard.items & AP_GUARD_NAMESPACES) || s->o.root_pid <= 0)
		return -1;
	snprintf(base, sizeof(base), "/proc/%d/root", (int)s->o.root_pid);
	if (stat(base, &a) || stat("/", &b) || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		return -1;
	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd >= 0 ? fd : -1;
}

static void *sup_main(void *arg)
{
	struct ap_supervisor *s = arg;
	int err;

	for (;;) {
		struct pollfd pf[3] = {
			{ .fd = s->listener >= 0 ? s->listener : s->o.sock, .events = POLLIN },
			{ .fd = s->stop_rd, .events = POLLIN },
			{ .fd = s->ctl, .events = POLLIN },
		};
		uint64_t next = UINT64_MAX, now = now_ms();
		int timeout = -1, r;

		for (int i = 0; i < SUP_MAX_HELD; i++) {
			if (!s->held[i].used)
				continue;
			if (s->held[i].deadline_ms <= now)
				ap_sup__decide(s, &s->held[i], "expired", "timeout");
			else if (s->held[i].deadline_ms < next)
				next = s->held[i].deadline_ms;
		}
		if (next != UINT64_MAX)
			timeout = (int)(next - now);
		r = poll(pf, s->ctl >= 0 ? 3 : 2, timeout);
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		if (pf[1].revents)
			break;
		if (s->listener < 0 && pf[0].revents) {
			/* the command's filter is in: from now on, notifications */
			err = ap_seccomp__recv_listener(s->o.sock, s->o.root_pid, &s->listener);
			if (err) {
				if (err != -EPIPE)
					ap_err("supervisor: no listener from the command: %s",
					       strerror(-err));
				break;
			}
			sup_sync_wakeup(s->listener);
			s->root_fd = shared_root(s);
		} else if (pf[0].revents & POLLIN)
			handle(s);
		else if (pf[0].revents & (POLLHUP | POLLERR))
			break; /* every filtered process is gone */
		if (s->ctl >= 0 && (pf[2].revents & POLLIN))
			ap_sup__handle_ctl(s);
	}
	for (int i = 0; i < SUP_MAX_HELD; i++)
		if (s->held[i].used)
			ap_sup__decide(s, &s->held[i], "denied", "actplane (session ended)");
	/* nobody answers on the control socket any more */
	if (s->ctl >= 0) {
		close(s->ctl);
		s->ctl = -1;
	}
	return NULL;
}

int ap_supervisor__start(const struct ap_sup_opts *o, struct ap_supervisor **out)
{
	struct ap_supervisor *s;
	int p[2], err;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->o = *o;
	s->listener = s->ctl = s->stop_rd = s->stop_wr = s->root_fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	err = ap_eval_ctx__init(&s->ev, o->bv, o->procs_fd, o->sessions_fd, o->files_fd,
				o->inode_pats_fd, o->session);
	if (err)
		goto fail;
	ap_sysguard__init(&s->guard, o->bv, o->procs_fd, o->session, o->session_name);
	s->guard.items = o->plan.guard;
	/* the kernel engine leaves the guard of this session to us (its own
	 * programs would kill what we decided to let through); set before
	 * the command runs, so nothing of the session races the update */
	if (s->guard.items && o->sessions_fd >= 0) {
		struct ap_session *ss = calloc(1, sizeof(*ss));
		uint32_t k = o->session;

		if (ss && !bpf_map_lookup_elem(o->sessions_fd, &k, ss)) {
			ss->flags |= AP_SESSION_F_SUPERVISED;
			bpf_map_update_elem(o->sessions_fd, &k, ss, BPF_EXIST);
		}
		free(ss);
	}
	s->oi = calloc(1, sizeof(*s->oi));
	if (!s->oi || seccomp_notify_alloc(&s->req, &s->resp)) {
		err = -ENOMEM;
		goto fail;
	}
	if (pipe2(p, O_CLOEXEC)) {
		err = -errno;
		goto fail;
	}
	s->stop_rd = p[0];
	s->stop_wr = p[1];
	err = ap_approvals__listen(o->session_name, &s->ctl);
	if (err)
		ap_warn("supervisor: no control socket (%s): `ask` operations can only "
			"time out", strerror(-err));
	else
		ap_approvals__sock_path(o->session_name, s->ctl_path, sizeof(s->ctl_path));
	err = pthread_create(&s->th, NULL, sup_main, s);
	if (err) {
		err = -err;
		goto fail;
	}
	s->started = true;
	*out = s;
	return 0;
fail:
	ap_supervisor__stop(s);
	return err;
}

void ap_supervisor__stop(struct ap_supervisor *s)
{
	if (!s)
		return;
	if (s->started) {
		ssize_t n = write(s->stop_wr, "x", 1);

		(void)n;
		pthread_join(s->th, NULL);
	}
	if (s->ctl_path[0])
		unlink(s->ctl_path);
	if (s->ctl >= 0)
		close(s->ctl);
	if (s->listener >= 0)
		close(s->listener);
	if (s->root_fd >= 0)
		close(s->root_fd);
	if (s->stop_rd >= 0)
		close(s->stop_rd);
	if (s->stop_wr >= 0)
		close(s->stop_wr);
	seccomp_notify_free(s->req, s->resp);
	if (s->oi) {
		free(s->oi->argv_buf);
		free(s->oi->argv);
		free(s->oi);
	}
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void ap_supervisor__stats(struct ap_supervisor *s, uint64_t *n, uint64_t *mean_ns)
{
	*n = 0;
	*mean_ns = 0;
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	*n = s->nnotif;
	*mean_ns = s->nnotif ? s->total_ns / s->nnotif : 0;
	pthread_mutex_unlock(&s->lock);
}

void ap_supervisor__stats_by_call(struct ap_supervisor *s, char *buf, size_t size)
{
	size_t n = 0;

	if (!size)
		return;
	buf[0] = 0;
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	for (int nr = 0; nr < SUP_NR_MAX; nr++) {
		char *name;
		int k;

		if (!s->nr_n[nr] || n >= size)
			continue;
		name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		k = snprintf(buf + n, size - n, "%s%s %llu x %.1f us", n ? ", " : "",
			     name ? name : "?", (unsigned long long)s->nr_n[nr],
			     s->nr_ns[nr] / 1000.0 / s->nr_n[nr]);
		free(name);
		n += k > 0 ? (size_t)k : 0;
	}
	pthread_mutex_unlock(&s->lock);
}
