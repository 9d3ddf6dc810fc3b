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
 */
#ifndef AP_ENGINE_NET_BPF_H
#define AP_ENGINE_NET_BPF_H

#include "engine_io.bpf.h"

#ifndef EINPROGRESS
#define EINPROGRESS 115
#endif

/* parse the sockaddr in the scratch; for AF_UNIX match its name */
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
		__u32 n = s->sa_len - 2, st;

		a->family = fam;
		if (n > 108)
			n = 108;
		/* "\x02" PATH, or "\x02@" NAME for an abstract socket */
		bpf_probe_read_kernel(s->norm[0], 108, s->sa + 2);
		st = ap_dfa_next(AP_DFA_START, (__u8)AP_DFA_PREFIX_UNIX);
		if (s->sa[2] == 0) {
			st = ap_dfa_next(st, '@');
			st = ap_dfa_run_str(st, AP_NORM_OFF(0) + 1, n - 1);
		} else {
			__u32 len = 0;

			/* a path ends at its NUL */
for (int k = 0; k < 108; k++) {
				if (k >= n || !s->sa[(2 + k) & 127])
					break;
				len++;
			}
			st = ap_dfa_run_str(st, AP_NORM_OFF(0), len);
		}
		ap_set_clear(&s->set);
		ap_dfa_accept_or(st, &s->set);
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

static __always_inline int ap_net_eval(__u32 tgid, __u8 report_op, bool took_place)
{
	struct ap_scratch *s = ap_scr();
	struct ap_emit m = { .op = report_op, .flags = AP_REC_F_SOCKADDR };
	struct ap_prov_key none = {};
	struct ap_proc *p;
	struct ap_eval e;
	struct ap_ep a;
	__u64 gain;

	if (!s)
		return 0;
	ap_set_clear(&s->set);
	ap_sa_parse(s, &a);
	if (!a.family)
		return 0; /* AF_NETLINK and friends: not an endpoint */
	if (took_place) {
		gain = ap_source_labels_g(AP_SRC_ENDPOINT, &a);
		if (gain)
			ap_proc_gain_g(tgid, gain, &none,
				       AP_OP_CONNECT | AP_GAIN_SOCKADDR, -ENOENT);
	}
	p = ap_proc_of(tgid);
	if (!p)
		return 0;
	ap_eval_init(&e, p);
	__builtin_memcpy(&e.ep, &a, sizeof(a));
	e.has_ep = 1;
	ap_eval_op_g(&e, AP_OP_CONNECT, AP_SET1);
	if (e.nmatch)
		e.best_op = report_op;
	ap_conclude(&m, &e);
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
	if (bpf_map_update_elem(&ap_pending, &tid, ps, BPF_ANY))
		ap_count(AP_CNT_MAP_FULL);
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

	ps = bpf_map_lookup_elem(&ap_pending, &tid);
	if (!ps)
		return 0;
	p = ap_proc_of(tgid);
	s = ap_scr();
	if (p && s) {
		bool ok = ret == 0 || ret == -EINPROGRESS;
		int fd = ps->fd;
		struct file *f;

		s->sa_len = ps->len;
		__builtin_memcpy(s->sa, ps->sa, sizeof(s->sa));
		bpf_map_delete_elem(&ap_pending, &tid);
		ap_net_eval(tgid, AP_OP_CONNECT, ok);
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
