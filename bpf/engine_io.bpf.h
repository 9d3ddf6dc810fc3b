/* SPDX-License-Identifier: Dual BSD/GPL */
/*
 * Data flow through descriptors: a write (write, writev, pwrite, send
 * without an address, sendfile) gives the object behind the fd the
 * process's labels; a read (read, readv, pread, recv) that returned data
 * gives the process the object's labels. Objects are (dev, ino): files,
 * pipes and sockets alike; a Unix socket's write also labels its peer, so
 * socketpair()s and connected Unix sockets carry labels like pipes.
 *
 * Cost for processes outside every session: one hash lookup (the process
 * map) at enter, and for reads one more (the pending map) at exit.
 */
#ifndef AP_ENGINE_IO_BPF_H
#define AP_ENGINE_IO_BPF_H

#include "engine_eval.bpf.h"

#define AP_S_IFMT   00170000
#define AP_S_IFSOCK 0140000

/* the inode of the other end of a connected Unix socket, 0 otherwise */
static __always_inline int ap_unix_peer(struct file *f, struct ap_file_key *pk)
{
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	struct socket *sock;
	struct sock *sk, *peer;
	struct inode *pino;
	umode_t mode = BPF_CORE_READ(ino, i_mode);

	if ((mode & AP_S_IFMT) != AP_S_IFSOCK)
		return 0;
	sock = BPF_CORE_READ(f, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ(sk, __sk_common.skc_family) != AP_AF_UNIX)
		return 0;
	peer = BPF_CORE_READ((struct unix_sock *)sk, peer);
	if (!peer)
		return 0;
	pino = BPF_CORE_READ(peer, sk_socket, file, f_inode);
	if (!pino)
		return 0;
	pk->ino = BPF_CORE_READ(pino, i_ino);
	pk->dev = BPF_CORE_READ(pino, i_sb, s_dev);
	pk->pad = 0;
	return 1;
}

static __always_inline int ap_io_write(int fd)
{
	__u32 tgid = ap_cur_tgid();
	struct ap_proc *p = ap_proc_of(tgid);
	struct ap_file_key k = {};
	struct file *f;

	if (!p || !ap_eff_labels(p))
		return 0;
	f = ap_fd_file((struct task_struct *)bpf_get_current_task(), fd);
	if (!f)
		return 0;
	k.ino = BPF_CORE_READ(f, f_inode, i_ino);
	k.dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	ap_file_gain_g(&k, tgid);
	if (ap_unix_peer(f, &k))
		ap_file_gain_g(&k, tgid);
	return 0;
}

/* a read may block until a writer labels the pipe: the fd is remembered at
 * enter and the object's labels are looked at when the read returned data */
static __always_inline int ap_io_read_enter(int fd)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct ap_file_key k = { .ino = (__u32)fd };

	struct ap_proc *p = ap_proc_of(id >> 32);

	if (!p)
		return 0;
	if (bpf_map_update_elem(&ap_io_pending, &tid, &k, BPF_ANY))
		ap_overflow(p->session, AP_OVF_IO);
	return 0;
}

static __always_inline int ap_io_read_exit(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, tgid = id >> 32;
	struct ap_file_key *pk = bpf_map_lookup_elem(&ap_io_pending, &tid);
	struct ap_prov_key fk = { .kind = AP_OBJ_FILE };
	struct ap_file_key k = {};
	struct ap_proc *p;
	struct ap_file *fl;
	struct file *f;
	int fd;

	if (!pk)
		return 0;
	fd = (int)pk->ino;
	bpf_map_delete_elem(&ap_io_pending, &tid);
	if (ret <= 0)
		return 0; /* nothing was read: nothing flows */
	p = ap_proc_of(tgid);
	f = ap_fd_file((struct task_struct *)bpf_get_current_task(), fd);
	if (!p || !f)
		return 0;
	k.ino = BPF_CORE_READ(f, f_inode, i_ino);
	k.dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	fl = bpf_map_lookup_elem(&ap_files, &k);
	if (!fl || !(fl->labels & ~p->labels))
		return 0;
	fk.id = k.ino;
	fk.dev = k.dev;
	ap_proc_gain_g(tgid, fl->labels, &fk, AP_OP_READ, -ENOENT);
	ap_pass_on_g();
	return 0;
}

#define AP_IO_READ(name)                                                    \
	SEC("tracepoint/syscalls/sys_enter_" #name)                         \
	int ap_sys_enter_##name(struct trace_event_raw_sys_enter *ctx)      \
	{                                                                   \
		return ap_io_read_enter((int)ctx->args[0]);                 \
	}                                                                   \
	SEC("tracepoint/syscalls/sys_exit_" #name)                          \
	int ap_sys_exit_##name(struct trace_event_raw_sys_exit *ctx)        \
	{                                                                   \
		return ap_io_read_exit(ctx->ret);                           \
	}

AP_IO_READ(read)
AP_IO_READ(readv)
AP_IO_READ(pread64)
AP_IO_READ(preadv)
AP_IO_READ(recvfrom)
AP_IO_READ(recvmsg)

/* sendfile(out, in, ...): the data read from `in` goes to `out` */
SEC("tracepoint/syscalls/sys_enter_sendfile64")
int ap_sys_enter_sendfile64(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct ap_proc *p = ap_proc_of(tgid);
	struct ap_prov_key fk = { .kind = AP_OBJ_FILE };
	struct ap_file_key k = {};
	struct ap_file *fl;
	struct file *f;

	if (!p)
		return 0;
	f = ap_fd_file((struct task_struct *)bpf_get_current_task(), (int)ctx->args[1]);
	if (f) {
		k.ino = BPF_CORE_READ(f, f_inode, i_ino);
		k.dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
		fl = bpf_map_lookup_elem(&ap_files, &k);
		if (fl && (fl->labels & ~p->labels)) {
			fk.id = k.ino;
			fk.dev = k.dev;
			ap_proc_gain_g(tgid, fl->labels, &fk, AP_OP_READ, -ENOENT);
			ap_pass_on_g();
		}
	}
	return ap_io_write((int)ctx->args[0]);
}

#endif
