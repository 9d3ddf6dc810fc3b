/* SPDX-License-Identifier: Dual BSD/GPL */
/*
 * Files. Opens are handled at sys_exit, from the struct file the kernel
 * installed in the fd table: its path is what the kernel really opened
 * (dirfd, cwd, "..", symbolic links and /proc/self/root already resolved)
 * and its (dev, ino) is the object labels are kept on. unlink, rename, link,
 * symlink and truncate(path) are handled at sys_enter from the directory
 * (dirfd or cwd, walked) joined with the name and normalised.
 */
#ifndef AP_ENGINE_FILE_BPF_H
#define AP_ENGINE_FILE_BPF_H

#include "engine_eval.bpf.h"

#define AP_FMODE_READ  0x1
#define AP_FMODE_WRITE 0x2

static __always_inline void ap_file_key_of(struct file *f, struct ap_file_key *k)
{
	struct inode *ino = BPF_CORE_READ(f, f_inode);

	k->ino = BPF_CORE_READ(ino, i_ino);
	k->dev = BPF_CORE_READ(ino, i_sb, s_dev);
	k->pad = 0;
}

/* The patterns the path matches, plus every name known for the inode, in
 * the scratch set; learns this name for the inode. */
static __always_inline void ap_match_file(struct ap_str t, struct ap_file_key *k)
{
	struct ap_accept_set *ip;
	struct ap_scratch *s;

	ap_match_g(t.off, t.len, AP_SET1);
	s = ap_scr();
	if (!s)
		return;
	ip = bpf_map_lookup_elem(&ap_inode_pats, k);
	if (ip) {
#pragma unroll
		for (int w = 0; w < AP_PATTERN_WORDS; w++) {
			__u64 add = s->set.bits[w] & ~ip->bits[w];

			if (add)
				__sync_fetch_and_or(&ip->bits[w], add);
			s->set.bits[w] |= ip->bits[w];
		}
	} else if (!ap_set_empty(&s->set)) {
		if (!bpf_map_update_elem(&ap_inode_pats, k, &s->set, BPF_NOEXIST))
			ap_count(AP_CNT_LRU_INSERTS);
	}
}

/* an fd-based operation: open (at exit), ftruncate */
static __always_inline int ap_on_fd(int fd, bool force_write)
{
	__u32 tgid = ap_cur_tgid();
	struct ap_proc *p = ap_proc_of(tgid);
	struct task_struct *task;
	struct ap_file_key k;
	struct ap_prov_key fk = {}, none = {};
	struct ap_emit m = { .flags = AP_REC_F_TARGET_FD };
	struct ap_eval e;
	struct ap_ep noep = {};
	struct ap_file *fl;
	struct ap_str t;
	struct file *f;
	bool rd, wr;
	__u32 mode;
	__u64 gain;
	long packed;

	if (!p || fd < 0)
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	f = ap_fd_file(task, fd);
	if (!f)
		return 0;
	mode = BPF_CORE_READ(f, f_mode);
	rd = !force_write && (mode & AP_FMODE_READ);
	wr = force_write || (mode & AP_FMODE_WRITE);
	ap_file_key_of(f, &k);
	packed = ap_path_file_g((__u64)f, 0);
	t = ap_str_unpack(packed);
	if (t.err) {
		__u32 fmt = BPF_CORE_READ(f, f_inode, i_mode) & 00170000;

		/* an anonymous pipe or socket reopened through /proc/PID/fd has
		 * no path for a pattern to match: not a path operation */
		if (fmt == 0010000 /* S_IFIFO */ || fmt == 0140000 /* S_IFSOCK */)
			return 0;
		ap_unresolved(wr ? AP_OP_WRITE : AP_OP_OPEN);
		return 0;
	}
	ap_match_file(t, &k);
	p = ap_proc_of(tgid);
	if (!p)
		return 0;

	if (rd) {
		fl = bpf_map_lookup_elem(&ap_files, &k);
		if (fl && fl->labels) {
			fk.id = k.ino;
			fk.dev = k.dev;
			fk.kind = AP_OBJ_FILE;
			ap_proc_gain_g(tgid, fl->labels, &fk, AP_OP_READ, packed);
		}
		gain = ap_source_labels_g(AP_SRC_FILE, &noep);
		if (gain)
			ap_proc_gain_g(tgid, gain, &none, AP_OP_READ, packed);
		m.flags |= AP_REC_F_READ;
	}
	if (wr) {
		ap_file_gain_g(&k, tgid);
		m.flags |= AP_REC_F_WRITE;
	}
	p = ap_proc_of(tgid);
	if (!p)
		return 0;
	if (rd)
		ap_since_note_g(p->session, AP_OP_READ, AP_SET1);
	if (wr)
		ap_since_note_g(p->session, AP_OP_WRITE, AP_SET1);

	ap_eval_init(&e, p);
	if (!force_write)
		ap_eval_op_g(&e, AP_OP_OPEN, AP_SET1);
	if (rd)
		ap_eval_op_g(&e, AP_OP_READ, AP_SET1);
	if (wr)
		ap_eval_op_g(&e, AP_OP_WRITE, AP_SET1);
	m.op = force_write ? AP_OP_WRITE : AP_OP_OPEN;
	m.t1 = t;
	m.t2.err = -ENOENT;
	ap_conclude(&m, &e);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int ap_sys_exit_openat(struct trace_event_raw_sys_exit *ctx)
{
	return ap_on_fd(ctx->ret, false);
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int ap_sys_exit_openat2(struct trace_event_raw_sys_exit *ctx)
{
	return ap_on_fd(ctx->ret, false);
}

SEC("tracepoint/syscalls/sys_exit_open")
int ap_sys_exit_open(struct trace_event_raw_sys_exit *ctx)
{
	return ap_on_fd(ctx->ret, false);
}

SEC("tracepoint/syscalls/sys_exit_creat")
int ap_sys_exit_creat(struct trace_event_raw_sys_exit *ctx)
{
	return ap_on_fd(ctx->ret, false);
}

SEC("tracepoint/syscalls/sys_enter_ftruncate")
int ap_sys_enter_ftruncate(struct trace_event_raw_sys_enter *ctx)
{
	return ap_on_fd((int)ctx->args[0], true);
}

/*
 * A name-based operation. op2/dirfd2/name2: a second path (rename's
 * destination, link's new name) evaluated as op2.
 */
static __always_inline int ap_on_names(__u8 op, int dirfd, const char *name,
				       __u8 op2, int dirfd2, const char *name2,
				       bool dir)
{
	__u32 tgid = ap_cur_tgid();
	struct ap_proc *p = ap_proc_of(tgid);
	struct ap_emit m = { .op = op };
	struct ap_eval e;
	struct ap_str t1, t2 = { .err = -ENOENT };

	if (!p)
		return 0;
	t1 = ap_str_unpack(ap_path_name_g(dirfd, (__u64)name, 1, 0));
	if (name2)
		t2 = ap_str_unpack(ap_path_name_g(dirfd2, (__u64)name2, 1, 1));
	if (t1.err || (name2 && t2.err)) {
		ap_unresolved(op);
		return 0;
	}
	ap_match_g(t1.off, t1.len, AP_SET1);
	if (name2)
		ap_match_g(t2.off, t2.len, AP_SET2);
	/* rmdir, and rename (which may move a directory): also every path
	 * below the name */
	if (dir || op == AP_OP_RENAME)
		ap_match_below_g(t1.off, t1.len, AP_SET1);
	if (name2 && op2 == AP_OP_RENAME && op == AP_OP_RENAME)
		ap_match_below_g(t2.off, t2.len, AP_SET2);
	p = ap_proc_of(tgid);
	if (!p)
		return 0;
	if (op == AP_OP_UNLINK || op == AP_OP_WRITE)
		ap_since_note_g(p->session, op, AP_SET1);
	if (name2 && op2 == AP_OP_WRITE)
		ap_since_note_g(p->session, op2, AP_SET2);

	ap_eval_init(&e, p);
	ap_eval_op_g(&e, op, AP_SET1);
	if (name2)
		ap_eval_op_g(&e, op2, AP_SET2);
	m.t1 = t1;
	m.t2 = t2;
	if (name2)
		m.flags |= AP_REC_F_TARGET2;
	ap_conclude(&m, &e);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_unlinkat")
int ap_sys_enter_unlinkat(struct trace_event_raw_sys_enter *ctx)
{
	return ap_on_names(AP_OP_UNLINK, (int)ctx->args[0], (const char *)ctx->args[1],
			   0, 0, NULL, ctx->args[2] & 0x200 /* AT_REMOVEDIR */);
}

SEC("tracepoint/syscalls/sys_enter_unlink")
int ap_sys_enter_unlink(struct trace_event_raw_sys_enter *ctx)
{
	return ap_on_names(AP_OP_UNLINK, AT_FDCWD, (const char *)ctx->args[0],
			   0, 0, NULL, false);
}

SEC("tracepoint/syscalls/sys_enter_rmdir")
int ap_sys_enter_rmdir(struct trace_event_raw_sys_enter *ctx)
{
	return ap_on_names(AP_OP_UNLINK, AT_FDCWD, (const char *)ctx->args[0],
			   0, 0, NULL, true);
}

SEC("tracepoint/syscalls/sys_enter_renameat2")
int ap_sys_enter_renameat2(struct trace_event_raw_sys_enter *ctx)
{
	return ap_on_names(AP_OP_RENAME, (int)ctx->args[0], (const char *)ctx->args[1],
			   AP_OP_RENAME, (int)ctx->args[2], (const char *)ctx->args[3], false);
}

SEC("tracepoint/syscalls/sys_enter_renameat")
int ap_sys_enter_renameat(struct trace_event_raw_sys_enter *ctx)
{
	return ap_on_names(AP_OP_RENAME, (int)ctx->args[0], (const char *)ctx->args[1],
			   AP_OP_RENAME, (int)ctx->args[2], (const char *)ctx->args[3], false);
}

SEC("tracepoint/syscalls/sys_enter_rename")
int ap_sys_enter_rename(struct trace_event_raw_sys_enter *ctx)
{
	return ap_on_names(AP_OP_RENAME, AT_FDCWD, (const char *)ctx->args[0],
			   AP_OP_RENAME, AT_FDCWD, (const char *)ctx->args[1], false);
}

/* a hard link is a rename of the old name and a write of the new one */
SEC("tracepoint/syscalls/sys_enter_linkat")
int ap_sys_enter_linkat(struct trace_event_raw_sys_enter *ctx)
{
	return ap_on_names(AP_OP_RENAME, (int)ctx->args[0], (const char *)ctx->args[1],
			   AP_OP_WRITE, (int)ctx->args[2], (const char *)ctx->args[3], false);
}

SEC("tracepoint/syscalls/sys_enter_link")
int ap_sys_enter_link(struct trace_event_raw_sys_enter *ctx)
{
	return ap_on_names(AP_OP_RENAME, AT_FDCWD, (const char *)ctx->args[0],
			   AP_OP_WRITE, AT_FDCWD, (const char *)ctx->args[1], false);
}

/* a symlink writes its own name; its target string is not a file operation */
SEC("tracepoint/syscalls/sys_enter_symlinkat")
int ap_sys_enter_symlinkat(struct trace_event_raw_sys_enter *ctx)
{
	return ap_on_names(AP_OP_WRITE, (int)ctx->args[1], (const char *)ctx->args[2],
			   0, 0, NULL, false);
}

SEC("tracepoint/syscalls/sys_enter_symlink")
int ap_sys_enter_symlink(struct trace_event_raw_sys_enter *ctx)
{
	return ap_on_names(AP_OP_WRITE, AT_FDCWD, (const char *)ctx->args[1],
			   0, 0, NULL, false);
}

SEC("tracepoint/syscalls/sys_enter_truncate")
int ap_sys_enter_truncate(struct trace_event_raw_sys_enter *ctx)
{
	return ap_on_names(AP_OP_WRITE, AT_FDCWD, (const char *)ctx->args[0],
			   0, 0, NULL, false);
}

#endif
