/* SPDX-License-Identifier: Dual BSD/GPL */
/*
 * Network: connect (evaluated at sys_exit with the address saved at
 * sys_enter, so the process gains the endpoint's source labels only when the
 * connect took place, and an attempt that failed is still reported), and
 * sendto/sendmsg with an address, which a `connect` clause covers too (the
 * record's op is then `send`), and so is a later send or write on a
 * connection the process opened before it gained the labels that now
 * match: the connection remembers the labels it was opened (or last
 * checked) with, and a send that carries more is evaluated as `send`.
 * A Unix socket address is decided before the connect instead (the cgroup
 * connect_unix hook, or sys_enter_connect where the kernel lacks it); see
 * "Unix sockets" below.
 */
#ifndef AP_ENGINE_NET_BPF_H
#define AP_ENGINE_NET_BPF_H

#include "engine_io.bpf.h"

#ifndef EINPROGRESS
#define EINPROGRESS 115
#endif

/*
 * The patterns a Unix socket address in the scratch (s->sa, s->sa_len)
 * matches, into s->set: "\x02@NAME" for an abstract name, "\x02PATH" for a
 * path. A path is made absolute the way the kernel reads it: a relative
 * sun_path is relative to the cwd, and "." ".." "//" are folded lexically
 * (symbolic links are not followed here: the peer check at sys_exit and the
 * supervisor cover them). A relative path is rewritten in the scratch as its
 * absolute form when that fits a sockaddr_un, so the record names it.
 * 0, or -errno when the path could not be built (the caller fails closed).
 * Separately verified.
 */
__attribute__((noinline)) int ap_unix_match_g(void)
{
	struct ap_scratch *s = ap_scr();
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct ap_str r;
	__u32 n, st, len = 0;

	if (!s)
		return -ENOMEM;
	ap_set_clear(&s->set);
	n = s->sa_len & 0x7f;
	if (n <= 2)
		return 0; /* unnamed (autobind): no name to match */
	n -= 2;
	if (n > 108)
		n = 108;
	st = ap_dfa_next(AP_DFA_START, (__u8)AP_DFA_PREFIX_UNIX);
	if (s->sa[2] == 0) {
		/* abstract: every byte of the name counts, NULs included */
		bpf_probe_read_kernel(s->norm[0], 108, s->sa + 2);
		st = ap_dfa_next(st, '@');
		st = ap_dfa_run_str(st, AP_NORM_OFF(0) + 1, n - 1);
		ap_dfa_accept_or(st, &s->set);
		return 0;
	}
	/* a path ends at its NUL or at the address length */
	for (int k = 0; k < 108; k++) {
		if (k >= n || !s->sa[(2 + k) & 127])
			break;
		len++;
	}
	s->sa[(2 + len) & 127] = 0;
	r = ap_path_name(t, AT_FDCWD, (const char *)s->sa + 2, false, 0);
	s = ap_scr();
	if (!s)
		return -ENOMEM;
	if (r.err)
		return r.err;
	if (r.off > AP_SCR_STR_BYTES - AP_PATH_MAX)
		return -ENAMETOOLONG;
	st = ap_dfa_run_str(st, r.off, r.len);
	ap_dfa_accept_or(st, &s->set);
	if (s->sa[2] != '/' && r.len + 3 <= sizeof(s->sa)) {
		__u32 rl = r.len;

		AP_BOUND(rl, 0x7f);

		/* ap_path_name leaves the normalised path in norm[0] */
		bpf_probe_read_kernel(s->sa + 2, rl, s->norm[0]);
		s->sa[(2 + rl) & 127] = 0;
		s->sa_len = rl + 3;
	}
	return 0;
}

/* parse the sockaddr in the scratch; for AF_UNIX match its name (a->pad 1:
 * the name could not be resolved) */
static __always_inline void ap_sa_parse(struct ap_scratch *s, struct ap_ep *a)
{
	__u16 fam = *(__u16 *)s->sa;

	__builtin_memset(a, 0, sizeof(*a));
	if (fam == AP_AF_INET && s->sa_len >= 8) {
		a->family = fam;
		a->port = bpf_ntohs(*(__u16 *)(s->sa + 2));
		__builtin_memcpy(a->addr, s->sa + 4, 4);
	} else if (fam == AP_AF_INET6 && s->sa_len >= 24) {
		a->family = fam;
		a->port = bpf_ntohs(*(__u16 *)(s->sa + 2));
		__builtin_memcpy(a->addr, s->sa + 8, 16);
	} else if (fam == AP_AF_UNIX && s->sa_len > 2) {
		a->family = fam;
		if (ap_unix_match_g() < 0)
			a->pad = 1;
	}
}

/* ap_conns: LRU_HASH by the socket's (dev, ino), unlabelled state */
struct ap_conn {
	__u64 labels;   /* the process's labels when last evaluated */
	__u32 len;
	__u32 pad;
	__u8 sa[128];
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct ap_file_key);
	__type(value, struct ap_conn);
} ap_conns SEC(".maps");

/* The evaluations of ap_net_eval_g and ap_unix_peer_check_g live in a map,
 * not on their stacks: on 6.1 the verifier adds up the frames of a whole
 * call chain (callbacks included) within 512 bytes. They never nest. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ap_eval);
} ap_unix_eval SEC(".maps");

/* ap_unresolved (engine_eval.bpf.h) with its evaluation in the map */
__attribute__((noinline)) int ap_unresolved_g(int op)
{
	struct ap_emit m = { .type = AP_REC_UNRESOLVED, .op = op };
	__u32 zero = 0;
	struct ap_eval *e = bpf_map_lookup_elem(&ap_unix_eval, &zero);

	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	m.t1.err = -ENOENT;
	m.t2.err = -ENOENT;
	ap_emit_g(&m, e);
	return 0;
}

/* The flow of a connect/send that took place (the endpoint's source labels)
 * and, when `evaluate`, its clauses: reported, killed per the load flags.
 * Separately verified: its frame stays out of its callers' (6.1 adds them
 * up within 512 bytes). */
__attribute__((noinline)) int ap_net_eval_g(__u32 tgid, int report_op, int took_place,
					    int evaluate)
{
	struct ap_scratch *s = ap_scr();
	struct ap_emit m = { .op = report_op, .flags = AP_REC_F_SOCKADDR };
	struct ap_prov_key none = {};
	struct ap_proc *p;
	struct ap_eval *e;
	struct ap_ep a;
	__u32 zero = 0;
	__u64 gain;

	if (!s)
		return 0;
	ap_set_clear(&s->set);
	ap_sa_parse(s, &a);
	if (!a.family)
		return 0; /* AF_NETLINK and friends: not an endpoint */
	if (a.pad) {
		/* a Unix socket path the engine could not build */
		if (evaluate)
			ap_unresolved_g(report_op);
		return 0;
	}
	if (took_place) {
		gain = ap_source_labels_g(AP_SRC_ENDPOINT, &a);
		if (gain)
			ap_proc_gain_g(tgid, gain, &none,
				       AP_OP_CONNECT | AP_GAIN_SOCKADDR, -ENOENT);
	}
	p = ap_proc_of(tgid);
	e = bpf_map_lookup_elem(&ap_unix_eval, &zero);
	if (!p || !e || !evaluate)
		return 0;
	ap_eval_init(e, p);
	__builtin_memcpy(&e->ep, &a, sizeof(a));
	e->has_ep = 1;
	ap_eval_op_g(e, AP_OP_CONNECT, AP_SET1);
	if (e->nmatch)
		e->best_op = report_op;
	ap_conclude(&m, e);
	return 0;
}

static __always_inline int ap_net_eval(__u32 tgid, __u8 report_op, bool took_place)
{
	return ap_net_eval_g(tgid, report_op, took_place, true);
}

/* ---- Unix sockets: denied before the connect ----
 *
 * Kernel 6.7+ runs cgroup `connect_unix` programs on the kernel's own copy
 * of the address, before the socket is looked up: the loader attaches
 * ap_cg_connect_unix at the cgroup2 root (every process of the machine
 * passes through it; anything not in ap_procs returns at once) and sets
 * ap_unix_hook_live. Without it (6.1) sys_enter_connect evaluates a Unix
 * address itself and can only kill (--fallback kill).
 *
 * Either way the raw address is what is matched, made absolute against the
 * cwd; a symbolic link or a bind mount to a socket is a different path, so
 * sys_exit_connect of a connect that took place also matches the path of
 * the socket the process got connected to (the peer's bound inode, walked
 * in the kernel) and kills on a match the raw address did not have.
 */
__u32 ap_unix_hook_live = 0; /* .bss: set by the loader after the attach */

/* a `kill` decided in the hook, carried out at sys_exit_connect (the hook
 * may not send signals) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u32);
} ap_unix_kill SEC(".maps");

/* ap_pending_sa.len flag: the address was (or will be) evaluated before
 * the connect, sys_exit only does its flow */
#define AP_PS_F_EARLY 0x100

static __always_inline int ap_unix_hook(void *ctx, __u8 op)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id, one = 1, len = 0;
	struct ap_emit m = { .op = op, .flags = AP_REC_F_SOCKADDR };
	struct ap_scratch *s;
	struct ap_proc *p = ap_proc_of(tgid);
	struct ap_eval e;
	struct ap_ep a;
	void *ua = NULL;
	bool deny;

	if (!p || (!cfg_op_count[AP_OP_CONNECT] && !(cfg_flags & AP_CFG_F_OBSERVE)))
		return 1;
	s = ap_scr();
	if (!s)
		return 0; /* cannot evaluate: fail closed for the session */
	/* ctx is struct bpf_sock_addr_kern at run time (what the kfunc
	 * bpf_cast_to_kern_ctx returns); read it without the kfunc, which the
	 * libbpf of older distributions cannot leave unresolved on 6.1 */
	if (bpf_probe_read_kernel(&ua, sizeof(ua), (char *)ctx +
				  bpf_core_field_offset(struct bpf_sock_addr_kern, uaddr)) ||
	    bpf_probe_read_kernel(&len, sizeof(len), (char *)ctx +
				  bpf_core_field_offset(struct bpf_sock_addr_kern, uaddrlen)) ||
	    !ua) {
		ap_count(AP_CNT_READ_FAILS);
		return 0;
	}
	if (len > sizeof(s->sa) - 1)
		len = sizeof(s->sa) - 1;
	barrier_var(len);
	len &= 0x7f;
	s->sa_len = len;
	if (bpf_probe_read_kernel(s->sa, len, ua)) {
		ap_count(AP_CNT_READ_FAILS);
		return 0;
	}
	*(__u16 *)s->sa = AP_AF_UNIX;
	ap_sa_parse(s, &a);
	if (a.pad) {
		ap_unresolved_g(op);
		/* a path the engine cannot build: denied when a rule could
		 * match it (the policy has connect clauses) */
		return (cfg_flags & AP_CFG_F_AUDIT) || !cfg_op_count[AP_OP_CONNECT];
	}
	p = ap_proc_of(tgid);
	if (!p)
		return 1;
	ap_eval_init(&e, p);
	__builtin_memcpy(&e.ep, &a, sizeof(a));
	e.has_ep = 1;
	ap_eval_op_g(&e, AP_OP_CONNECT, AP_SET1);
	if (!e.nmatch) {
		if (cfg_flags & AP_CFG_F_OBSERVE) {
			m.type = AP_REC_OBSERVE;
			ap_emit_g(&m, &e);
		}
		return 1;
	}
	e.best_op = op;
	/* block and kill are denied here; an ask too unless a supervisor
	 * holds asks (its sessions load without --fallback kill): there it
	 * was held and approved before the call got this far, and user space
	 * kills one that was not (run.c) */
	deny = !(cfg_flags & AP_CFG_F_AUDIT) &&
	       (e.best >= AP_EFFECT_BLOCK ||
		(e.best == AP_EFFECT_ASK && (cfg_flags & AP_CFG_F_FALLBACK_KILL)));
	if (deny)
		m.action = e.best == AP_EFFECT_KILL ? AP_ACTION_KILLED :
			   e.best == AP_EFFECT_ASK ? AP_ACTION_DENIED : AP_ACTION_BLOCKED;
	ap_count(AP_CNT_MATCHES);
	m.type = AP_REC_VIOLATION;
	ap_emit_g(&m, &e);
	if (deny && e.best == AP_EFFECT_KILL)
		bpf_map_update_elem(&ap_unix_kill, &tid, &one, BPF_ANY);
	return !deny;
}

/* 6.7+; switched off by the loader where the attach type is missing. The
 * section name is libbpf's for the type; the loader also sets the type by
 * hand for a libbpf that predates it. */
SEC("cgroup/connect_unix")
int ap_cg_connect_unix(struct bpf_sock_addr *ctx)
{
	return ap_unix_hook(ctx, AP_OP_CONNECT);
}

/* After a Unix connect that took place: the path of the socket the process
 * is now connected to (symbolic links, bind mounts and /var/run-style
 * aliases resolved by the kernel), matched for the patterns the address as
 * given did not have. A match is reported and killed per the load flags
 * (the connection exists, so block can only kill); an `ask` only where
 * --fallback kill is in force, as a supervisor decides its asks itself. */
__attribute__((noinline)) int ap_unix_peer_check_g(__u32 tgid, int fd)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct ap_emit m = { .op = AP_OP_CONNECT, .flags = AP_REC_F_SOCKADDR };
	struct file *f = ap_fd_file(t, fd);
	struct unix_sock *u, *pu;
	struct ap_scratch *s;
	struct dentry *d;
	struct vfsmount *mnt;
	struct ap_proc *p;
	struct ap_eval *ev;
	struct ap_str r;
	struct socket *sock;
	__u64 fresh = 0;
	__u32 st, zero = 0;

	if (!f)
		return 0;
	sock = (struct socket *)BPF_CORE_READ(f, private_data);
	u = (struct unix_sock *)BPF_CORE_READ(sock, sk);
	pu = (struct unix_sock *)BPF_CORE_READ(u, peer);
	if (!pu)
		return 0;
	d = BPF_CORE_READ(pu, path.dentry);
	mnt = BPF_CORE_READ(pu, path.mnt);
	if (!d || !mnt)
		return 0; /* abstract or unnamed: no other spelling exists */
	/* the address as given: its patterns into set2 */
	ap_unix_match_g();
	s = ap_scr();
	if (!s)
		return 0;
	__builtin_memcpy(&s->set2, &s->set, sizeof(s->set));
	r = ap_path_build(d, mnt, 0);
	s = ap_scr();
	if (!s)
		return 0;
	if (r.err || r.off > AP_SCR_STR_BYTES - AP_PATH_MAX) {
		ap_unresolved_g(AP_OP_CONNECT);
		return 0;
	}
	st = ap_dfa_next(AP_DFA_START, (__u8)AP_DFA_PREFIX_UNIX);
	st = ap_dfa_run_str(st, r.off, r.len);
	ap_set_clear(&s->set);
	ap_dfa_accept_or(st, &s->set);
#pragma unroll
	for (int k = 0; k < AP_PATTERN_WORDS; k++) {
		s->set.bits[k] &= ~s->set2.bits[k];
		fresh |= s->set.bits[k];
	}
	if (!fresh)
		return 0;
	p = ap_proc_of(tgid);
	ev = bpf_map_lookup_elem(&ap_unix_eval, &zero);
	if (!p || !ev)
		return 0;
	ap_eval_init(ev, p);
	ev->ep.family = AP_AF_UNIX;
	ev->has_ep = 1;
	ap_eval_op_g(ev, AP_OP_CONNECT, AP_SET1);
	if (!ev->nmatch ||
	    (ev->best == AP_EFFECT_ASK && !(cfg_flags & AP_CFG_F_FALLBACK_KILL)))
		return 0;
	s = ap_scr();
	if (!s)
		return 0;
	/* the record names the socket's own path (cut to a sockaddr_un) */
	{
		__u32 n = r.len, o = r.off;

		if (n > 108)
			n = 108;
		AP_BOUND(n, 0x7f);
		AP_BOUND(o, AP_BUF_SIZE - 1);
		*(__u16 *)s->sa = AP_AF_UNIX;
		bpf_probe_read_kernel(s->sa + 2, n, (char *)s + o);
		s->sa[(2 + n) & 127] = 0;
		s->sa_len = n + 3;
	}
	ev->best_op = AP_OP_CONNECT;
	ap_conclude(&m, ev);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_connect")
int ap_sys_enter_connect(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct ap_pending_sa *ps;
	struct ap_scratch *s;
	__u32 len = ctx->args[2];
	bool unix_early;

	if (!ap_proc_of(tgid))
		return 0;
	s = ap_scr();
	if (!s)
		return 0;
	/* build in the scratch, then insert (values are too big for the stack) */
	ps = (struct ap_pending_sa *)&s->set2;
	ps->fd = ctx->args[0];
	if (len > sizeof(ps->sa) - 1)
		len = sizeof(ps->sa) - 1;
	barrier_var(len);
	len &= 0x7f;
	ps->len = len;
	if (bpf_probe_read_user(ps->sa, len, (void *)ctx->args[1])) {
		ap_count(AP_CNT_READ_FAILS);
		return 0;
	}
	/* a Unix address is decided before the connect: by the cgroup hook
	 * where it is live, else here (kill only) */
	unix_early = len > 2 && *(__u16 *)ps->sa == AP_AF_UNIX;
	if (unix_early)
		ps->len |= AP_PS_F_EARLY;
	if (bpf_map_update_elem(&ap_pending, &tid, ps, BPF_ANY)) {
		struct ap_proc *pp = ap_proc_of(tgid);

		if (pp)
			ap_overflow(pp->session, AP_OVF_PENDING);
		/* not seen at exit: evaluated now, as an attempt */
		s = ap_scr();
		if (!s || unix_early)
			goto unix;
		s->sa_len = ps->len & 0x7f;
		__builtin_memcpy(s->sa, ps->sa, sizeof(s->sa));
		ap_net_eval(tgid, AP_OP_CONNECT, false);
	}
unix:
	if (!unix_early || ap_unix_hook_live)
		return 0;
	s = ap_scr();
	if (!s)
		return 0;
	/* ps is scratch memory (set2) that the evaluation reuses: copy first */
	s->sa_len = ps->len & 0x7f;
	__builtin_memcpy(s->sa, ps->sa, sizeof(s->sa));
	ap_net_eval(tgid, AP_OP_CONNECT, false);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int ap_sys_exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct ap_pending_sa *ps;
	struct ap_scratch *s;
	struct ap_proc *p;
	long ret = ctx->ret;

	{
		/* a kill the cgroup hook decided (it denied the connect) */
		__u32 *k = bpf_map_lookup_elem(&ap_unix_kill, &tid);

		if (k) {
			bpf_map_delete_elem(&ap_unix_kill, &tid);
			bpf_send_signal(AP_SIGKILL);
		}
	}
	ps = bpf_map_lookup_elem(&ap_pending, &tid);
	if (!ps)
		return 0;
	p = ap_proc_of(tgid);
	s = ap_scr();
	if (p && s) {
		bool ok = ret == 0 || ret == -EINPROGRESS;
		bool early = ps->len & AP_PS_F_EARLY;
		int fd = ps->fd;
		struct file *f;

		s->sa_len = ps->len & 0x7f;
		__builtin_memcpy(s->sa, ps->sa, sizeof(s->sa));
		bpf_map_delete_elem(&ap_pending, &tid);
		ap_net_eval_g(tgid, AP_OP_CONNECT, ok, !early);
		if (early && ok)
			ap_unix_peer_check_g(tgid, fd);
		p = ap_proc_of(tgid);
		s = ap_scr();
		f = ap_fd_file((struct task_struct *)bpf_get_current_task(), fd);
		if (ok && p && s && f) {
			struct ap_file_key k = {};
			struct ap_conn *c = (struct ap_conn *)&s->set2; /* scratch */

			k.ino = BPF_CORE_READ(f, f_inode, i_ino);
			k.dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
			c->labels = p->labels;
			c->len = s->sa_len;
			c->pad = 0;
			__builtin_memcpy(c->sa, s->sa, sizeof(c->sa));
			if (!bpf_map_update_elem(&ap_conns, &k, c, BPF_NOEXIST))
				ap_count(AP_CNT_LRU_INSERTS);
			else
				bpf_map_update_elem(&ap_conns, &k, c, BPF_ANY);
		}
		return 0;
	}
	bpf_map_delete_elem(&ap_pending, &tid);
	return 0;
}

static __always_inline int ap_on_send(const void *addr, __u32 len)
{
	__u32 tgid = ap_cur_tgid();
	struct ap_proc *p = ap_proc_of(tgid);
	struct ap_scratch *s;

	if (!p || !addr || len < 2)
		return 0;
	s = ap_scr();
	if (!s)
		return 0;
	if (len > sizeof(s->sa) - 1)
		len = sizeof(s->sa) - 1;
	barrier_var(len);
	len &= 0x7f;
	s->sa_len = len;
	if (bpf_probe_read_user(s->sa, len, addr)) {
		ap_count(AP_CNT_READ_FAILS);
		return 0;
	}
	return ap_net_eval(tgid, AP_OP_SEND, false);
}

/* a send on a connection made before the process gained labels */
static __always_inline int ap_conn_send(int fd)
{
	__u32 tgid = ap_cur_tgid();
	struct ap_proc *p = ap_proc_of(tgid);
	struct ap_file_key k = {};
	struct ap_scratch *s;
	struct ap_conn *c;
	struct file *f;

	if (!p || !p->labels)
		return 0;
	f = ap_fd_file((struct task_struct *)bpf_get_current_task(), fd);
	if (!f)
		return 0;
	k.ino = BPF_CORE_READ(f, f_inode, i_ino);
	k.dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	c = bpf_map_lookup_elem(&ap_conns, &k);
	s = ap_scr();
	if (!c || !s || !(p->labels & ~c->labels))
		return 0;
	__sync_fetch_and_or(&c->labels, p->labels);
	s->sa_len = c->len & 0x7f;
	__builtin_memcpy(s->sa, c->sa, sizeof(s->sa));
	return ap_net_eval(tgid, AP_OP_SEND, false);
}

/* writes: data flow, and a send on an older connection */
#define AP_NET_WRITE(name)                                                  \
	SEC("tracepoint/syscalls/sys_enter_" #name)                         \
	int ap_sys_enter_##name(struct trace_event_raw_sys_enter *ctx)      \
	{                                                                   \
		struct ap_proc *p = ap_proc_of(ap_cur_tgid());              \
									    \
		if (!p || !p->labels)                                       \
			return 0; /* nothing to carry */                    \
		ap_io_write((int)ctx->args[0]);                             \
		return ap_conn_send((int)ctx->args[0]);                     \
	}
AP_NET_WRITE(write)
AP_NET_WRITE(writev)
AP_NET_WRITE(pwrite64)
AP_NET_WRITE(pwritev)

SEC("tracepoint/syscalls/sys_enter_sendto")
int ap_sys_enter_sendto(struct trace_event_raw_sys_enter *ctx)
{
	ap_io_write((int)ctx->args[0]);
	if (!ctx->args[4])
		return ap_conn_send((int)ctx->args[0]);
	return ap_on_send((const void *)ctx->args[4], (__u32)ctx->args[5]);
}

SEC("tracepoint/syscalls/sys_enter_sendmsg")
int ap_sys_enter_sendmsg(struct trace_event_raw_sys_enter *ctx)
{
	struct user_msghdr mh;

	if (!ap_proc_of(ap_cur_tgid()))
		return 0;
	ap_io_write((int)ctx->args[0]);
	if (bpf_probe_read_user(&mh, sizeof(mh), (void *)ctx->args[1]))
		return 0;
	if (!mh.msg_name)
		return ap_conn_send((int)ctx->args[0]);
	return ap_on_send(mh.msg_name, mh.msg_namelen);
}

#endif
