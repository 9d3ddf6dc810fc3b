/* SPDX-License-Identifier: Dual BSD/GPL */
/*
 * Labels through memory (policy-language.md section 4):
 *  - reading another process's memory is a read of that process: the
 *    reader gains the target's labels (with the target's provenance) when
 *    process_vm_readv returned data, when a ptrace request that reads the
 *    tracee (PEEKTEXT/PEEKDATA/PEEKUSER, GETREGS/GETFPREGS/GETREGSET,
 *    PEEKSIGINFO, and ATTACH/SEIZE themselves) succeeded, and when
 *    /proc/PID/mem (or /proc/PID/task/TID/mem) was opened for reading
 *    (at sys_exit of the open calls, after the open handler);
 *  - mmap: mapping a labelled file gives the process its labels; a shared
 *    writable mapping (file MAP_SHARED + PROT_WRITE, memfd, POSIX shm) is a
 *    write of the object and is remembered in ap_shmaps, so that a label the
 *    process gains later reaches it too (ap_pass_on_g in engine_flow.bpf.h).
 * Each is handled at sys_exit (only operations that took place move labels)
 * with the arguments kept from sys_enter in ap_mem_pending.
 *
 * The target pid of ptrace and process_vm_readv is looked up as a thread
 * group id in the engine's process map: a request naming a thread other
 * than the group leader moves nothing (docs/rule-language.md says so).
 */
#ifndef AP_ENGINE_MEMFLOW_BPF_H
#define AP_ENGINE_MEMFLOW_BPF_H

#include "engine_eval.bpf.h"

enum { AP_MEM_VMREAD = 1, AP_MEM_PTRACE = 2, AP_MEM_MMAP = 3 };

#define AP_PROC_SUPER_MAGIC 0x9fa0
#define AP_PROT_READ  0x1
#define AP_PROT_WRITE 0x2
#define AP_MAP_SHARED 0x1 /* MAP_SHARED_VALIDATE (0x3) has the bit,
			   * MAP_PRIVATE (0x2) has not */
#define AP_FMODE_WRITE_MF 0x2

/* the current process gains process `target`'s labels */
static __always_inline void ap_mem_gain(__u32 target)
{
	__u32 tgid = ap_cur_tgid();
	struct ap_prov_key src = { .id = target, .kind = AP_OBJ_PROC };
	struct ap_proc *t, *p;
	__u64 bits;

	if (target == tgid)
		return;
	t = ap_proc_raw(target);
	if (!t)
		return;
	bits = ap_eff_labels(t);
	p = ap_proc_of(tgid);
	if (!p || !(bits & ~p->labels))
		return;
	ap_proc_gain_g(tgid, bits, &src, AP_OP_READ, -ENOENT);
	ap_pass_on_g();
}

static __always_inline int ap_mem_enter(struct ap_mem_op *op)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct ap_proc *p = ap_proc_of(ap_cur_tgid());

	if (!p)
		return 0;
	if (bpf_map_update_elem(&ap_mem_pending, &tid, op, BPF_ANY))
		ap_overflow(p->session, AP_OVF_MEM);
	return 0;
}

static __always_inline struct ap_mem_op *ap_mem_exit(struct ap_mem_op *copy)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct ap_mem_op *op = bpf_map_lookup_elem(&ap_mem_pending, &tid);

	if (!op)
		return NULL;
	*copy = *op;
	bpf_map_delete_elem(&ap_mem_pending, &tid);
	return copy;
}

SEC("tracepoint/syscalls/sys_enter_process_vm_readv")
int ap_mf_enter_vm_readv(struct trace_event_raw_sys_enter *ctx)
{
	struct ap_mem_op op = { .kind = AP_MEM_VMREAD, .pid = (__u32)ctx->args[0] };

	return ap_mem_enter(&op);
}

SEC("tracepoint/syscalls/sys_exit_process_vm_readv")
int ap_mf_exit_vm_readv(struct trace_event_raw_sys_exit *ctx)
{
	struct ap_mem_op c;

	if (ap_mem_exit(&c) && ctx->ret > 0)
		ap_mem_gain(c.pid);
	return 0;
}

static __always_inline bool ap_ptrace_reads(long req)
{
	switch (req) {
	case 1:      /* PTRACE_PEEKTEXT */
	case 2:      /* PTRACE_PEEKDATA */
	case 3:      /* PTRACE_PEEKUSER */
	case 12:     /* PTRACE_GETREGS */
	case 14:     /* PTRACE_GETFPREGS */
	case 16:     /* PTRACE_ATTACH */
	case 0x4204: /* PTRACE_GETREGSET */
	case 0x4206: /* PTRACE_SEIZE */
	case 0x4209: /* PTRACE_PEEKSIGINFO */
		return true;
	}
	return false;
}

SEC("tracepoint/syscalls/sys_enter_ptrace")
int ap_mf_enter_ptrace(struct trace_event_raw_sys_enter *ctx)
{
	struct ap_mem_op op = { .kind = AP_MEM_PTRACE, .pid = (__u32)ctx->args[1] };

	if (!ap_ptrace_reads((long)ctx->args[0]))
		return 0;
	return ap_mem_enter(&op);
}

SEC("tracepoint/syscalls/sys_exit_ptrace")
int ap_mf_exit_ptrace(struct trace_event_raw_sys_exit *ctx)
{
	struct ap_mem_op c;

	if (ap_mem_exit(&c) && ctx->ret >= 0)
		ap_mem_gain(c.pid);
	return 0;
}

/* /proc/PID/mem opened for reading: the tgid of the process, 0 otherwise */
static __always_inline __u32 ap_procmem_target(struct file *f)
{
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	struct dentry *d = BPF_CORE_READ(f, f_path.dentry);
	const unsigned char *name;
	struct hlist_node *first;
	struct task_struct *task;
	struct pid *pid;
	char nm[4] = {};

	if (BPF_CORE_READ(ino, i_sb, s_magic) != AP_PROC_SUPER_MAGIC)
		return 0;
	name = BPF_CORE_READ(d, d_name.name);
	if (bpf_probe_read_kernel(nm, sizeof(nm), name) ||
	    nm[0] != 'm' || nm[1] != 'e' || nm[2] != 'm' || nm[3] != 0)
		return 0;
	/* the proc inode embeds the vfs inode; its pid names the task */
	pid = BPF_CORE_READ((struct proc_inode *)((void *)ino -
			    bpf_core_field_offset(struct proc_inode, vfs_inode)), pid);
	if (!pid)
		return 0;
	first = BPF_CORE_READ(pid, tasks[0].first);
	if (!first)
		return 0;
	task = (struct task_struct *)((void *)first -
				      bpf_core_field_offset(struct task_struct, pid_links));
	return BPF_CORE_READ(task, tgid);
}

/* called by the open handler for a file opened for reading; separately
 * verified (its stack stays out of the open handler's) */
__attribute__((noinline)) int ap_procmem_read_g(__u64 f)
{
	__u32 target = ap_procmem_target((struct file *)f);

	if (target)
		ap_mem_gain(target);
	return 0;
}

/* Exec, open and connect gain labels in programs that have no stack left
 * for the descriptor walk (6.1 counts 512 bytes over the whole call
 * chain): a second program on the same hook passes them on. Programs of
 * one hook are attached, and run, in the order they are defined, and this
 * file is included after the others. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(ap_mf_exec_pass, struct task_struct *task, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	return ap_pass_on_g();
}

/* an open: /proc/PID/mem opened for reading is a read of that process */
static __always_inline int ap_mf_open_exit(long fd)
{
	struct file *f;

	if (fd >= 0 && ap_proc_of(ap_cur_tgid())) {
		f = ap_fd_file((struct task_struct *)bpf_get_current_task(), fd);
		if (f && (BPF_CORE_READ(f, f_mode) & 0x1 /* FMODE_READ */))
			ap_procmem_read_g((__u64)f);
	}
	return ap_pass_on_g();
}

#define AP_MF_OPEN(name)                                                    \
	SEC("tracepoint/syscalls/sys_exit_" #name)                          \
	int ap_mf_exit_##name(struct trace_event_raw_sys_exit *ctx)         \
	{                                                                   \
		return ap_mf_open_exit(ctx->ret);                           \
	}
AP_MF_OPEN(openat)
AP_MF_OPEN(openat2)
AP_MF_OPEN(open)
AP_MF_OPEN(creat)

SEC("tracepoint/syscalls/sys_exit_connect")
int ap_mf_exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	return ap_pass_on_g();
}

SEC("tracepoint/syscalls/sys_enter_mmap")
int ap_mf_enter_mmap(struct trace_event_raw_sys_enter *ctx)
{
	struct ap_mem_op op = { .kind = AP_MEM_MMAP, .fd = (__s32)ctx->args[4],
				.prot = (__u32)ctx->args[2], .flags = (__u32)ctx->args[3] };

	if (op.fd < 0 || !(op.prot & (AP_PROT_READ | AP_PROT_WRITE)))
		return 0;
	return ap_mem_enter(&op);
}

/* remember a shared writable mapping of the process (deduplicated) */
static __always_inline void ap_shmap_add(__u32 tgid, struct ap_file_key *k,
					 __u32 session)
{
	struct ap_shmap *sm = bpf_map_lookup_elem(&ap_shmaps, &tgid);
	__u32 n;

	if (!sm) {
		struct ap_scratch *s = ap_scr();

		if (!s)
			return;
		/* a zeroed value from the scratch (too big for the stack) */
		__builtin_memset(s->buf[1], 0, sizeof(struct ap_shmap));
		if (bpf_map_update_elem(&ap_shmaps, &tgid, s->buf[1], BPF_NOEXIST) &&
		    !bpf_map_lookup_elem(&ap_shmaps, &tgid)) {
			ap_overflow(session, AP_OVF_SHMAPS);
			return;
		}
		sm = bpf_map_lookup_elem(&ap_shmaps, &tgid);
		if (!sm)
			return;
	}
	n = sm->n;
#pragma unroll
	for (int j = 0; j < AP_SHMAP_MAX; j++) {
		if (j >= n)
			break;
		if (sm->keys[j].ino == k->ino && sm->keys[j].dev == k->dev)
			return;
	}
	if (n >= AP_SHMAP_MAX) {
		ap_overflow(session, AP_OVF_SHMAPS);
		return;
	}
	sm->keys[n & (AP_SHMAP_MAX - 1)] = *k;
	sm->n = n + 1;
}

SEC("tracepoint/syscalls/sys_exit_mmap")
int ap_mf_exit_mmap(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tgid = ap_cur_tgid();
	struct ap_prov_key fk = { .kind = AP_OBJ_FILE };
	struct ap_file_key k = {};
	struct ap_mem_op c;
	struct ap_proc *p;
	struct ap_file *fl;
	struct inode *ino;
	struct file *f;

	if (!ap_mem_exit(&c) || (unsigned long)ctx->ret >= (unsigned long)-4095L)
		return 0;
	f = ap_fd_file((struct task_struct *)bpf_get_current_task(), c.fd);
	if (!f)
		return 0;
	ino = BPF_CORE_READ(f, f_inode);
	k.ino = BPF_CORE_READ(ino, i_ino);
	k.dev = BPF_CORE_READ(ino, i_sb, s_dev);
	/* the mapping can be read: its labels are the process's */
	fl = bpf_map_lookup_elem(&ap_files, &k);
	if (fl && fl->labels) {
		fk.id = k.ino;
		fk.dev = k.dev;
		ap_proc_gain_g(tgid, fl->labels, &fk, AP_OP_READ, -ENOENT);
		ap_pass_on_g();
	}
	if (c.flags & AP_MAP_SHARED) {
		if (!(c.prot & AP_PROT_WRITE) ||
		    !(BPF_CORE_READ(f, f_mode) & AP_FMODE_WRITE_MF))
			return 0;
		p = ap_proc_of(tgid);
		if (!p)
			return 0;
		ap_shmap_add(tgid, &k, p->session);
		/* a writable shared mapping: a write of the object */
		ap_file_gain_g(&k, tgid);
	}
	return 0;
}

#endif
