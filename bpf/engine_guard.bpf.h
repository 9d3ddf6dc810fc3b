/* SPDX-License-Identifier: Dual BSD/GPL */
/*
 * The system-call items of the built-in `session-guard` rule
 * (policy-language.md section 7) in the tracepoint mode. Where the kernel
 * lets a BPF program deny (fmod_ret on the security_* functions: a BPF
 * trampoline, no BPF-LSM needed) the operation fails with EPERM and the
 * effect is block: signals to the engine (security_task_kill, with the
 * real target task: threads, pidfds and process groups included), ptrace
 * attach/seize and process_vm_writev (security_ptrace_access_check, asked
 * only for the system calls sys_enter marked in ap_guard_intent). The
 * loader sets ap_guard_deny_live once those programs are attached. For the
 * rest, and everywhere when they could not be attached, the process that
 * attempts one is killed (bpf_send_signal(SIGKILL) at sys_enter: fatal
 * before the call returns to user space; the namespace or root it changed
 * dies with it) and the effect is kill: chroot, pivot_root, setns,
 * unshare/clone/clone3 of a mount or user namespace, /proc/PID/mem opened
 * for writing (at sys_exit, before any write).
 *   ptrace      ptrace(ATTACH|SEIZE), process_vm_writev, /proc/PID/mem
 *               opened for writing, of a process outside the session
 *   namespaces  chroot, pivot_root, setns, unshare/clone/clone3 with
 *               CLONE_NEWNS or CLONE_NEWUSER
 *   signal      kill, tkill, tgkill, rt_(tg)sigqueueinfo, pidfd_open and
 *               pidfd_send_signal aimed at an engine process (ap_guard_pids,
 *               filled by the loader), kill(-1, ...) and kill of an engine
 *               process group (also kill(0, ...) from inside one)
 * `guard: notify` reports only; `guard: {allow: [ITEM]}` removes an item
 * (cfg_guard_items); --audit reports what would have happened.
 * A session a seccomp supervisor watches (AP_SESSION_F_SUPERVISED) is left
 * to it: it denies before the call, and what it let through is allowed.
 * In the kill fallback, targets are pids as the acting process names them:
 * a thread id that is not its group's leader counts as outside.
 */
#ifndef AP_ENGINE_GUARD_BPF_H
#define AP_ENGINE_GUARD_BPF_H

#include "engine_eval.bpf.h"

#define AP_GPID_PROC  0x1 /* an engine process or thread */
#define AP_GPID_GROUP 0x2 /* a process group an engine process is in */

/* engine pids, by the loader; HASH: user space may add more (watchdog) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u32);
} ap_guard_pids SEC(".maps");

/* set by the loader once the fmod_ret programs below are attached */
volatile __u32 ap_guard_deny_live = 0;

/* what the thread's current system call may do, sys_enter to sys_exit */
#define AP_GI_PTRACE    0x1 /* ptrace attach/seize, process_vm_writev */
#define AP_GI_BROADCAST 0x2 /* kill(-1|0|-engine pgid): deny every target */
#define AP_GI_REPORTED  0x4 /* the violation of this call is reported */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH); /* a thread killed mid-call leaves one */
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u32);
} ap_guard_intent SEC(".maps");

#define AP_EPERM 1
#define AP_PTRACE_MODE_ATTACH 0x02

#define AP_PTRACE_ATTACH   16
#define AP_PTRACE_SEIZE    0x4206
#define AP_CLONE_NEWNS     0x00020000ULL
#define AP_CLONE_NEWUSER   0x10000000ULL
#define AP_PROC_SUPER_MAGIC 0x9fa0
#define AP_PIDFS_MAGIC     0x50494446
#define AP_ANON_INODE_MAGIC 0x09041934

/* The process this applies to, or NULL: not of a session, item allowed,
 * or a supervisor decides. */
static __always_inline struct ap_proc *ap_guard_proc(__u32 item)
{
	struct ap_session *ss;
	struct ap_proc *p;

	if (!(cfg_guard_items & item))
		return NULL;
	p = ap_proc_of(ap_cur_tgid());
	if (!p)
		return NULL;
	if (!cfg_guard_notify) {
		ss = bpf_map_lookup_elem(&ap_sessions, &p->session);
		if (ss && (ss->flags & AP_SESSION_F_SUPERVISED))
			return NULL;
	}
	return p;
}

static __always_inline bool ap_guard_inside(const struct ap_proc *p, __u32 pid)
{
	struct ap_proc *t = ap_proc_of(pid);

	return t && t->session == p->session;
}

static __always_inline __u32 ap_guard_flags(__u32 pid)
{
	__u32 *v = bpf_map_lookup_elem(&ap_guard_pids, &pid);

	if (pid && pid == cfg_protect_pid)
		return AP_GPID_PROC | (v ? *v : 0);
	return v ? *v : 0;
}

/* ---- the target text, built in the scratch's first name buffer ---- */
#define AP_GUARD_STR(s) ((char *)(s) + AP_NORM_OFF(0))

static __always_inline void ap_g_lit(struct ap_scratch *s, __u32 *pos,
				     const char *lit, __u32 n)
{
	char *d = AP_GUARD_STR(s);

	for (__u32 i = 0; i < 24; i++) {
		if (i >= n)
			break;
		d[(*pos + i) & AP_OFF_MASK] = lit[i];
	}
	*pos = (*pos + n) & 0xff;
}

static __always_inline void ap_g_num(struct ap_scratch *s, __u32 *pos, __s64 v)
{
	char *d = AP_GUARD_STR(s);
	char dig[32];
	__u32 n = 0;
	__u64 u = v;

	if (v < 0) {
		d[*pos & AP_OFF_MASK] = '-';
		*pos = (*pos + 1) & 0xff;
		u = -v;
	}
	for (int k = 0; k < 20; k++) {
		dig[n & 31] = '0' + (char)(u % 10);
		n++;
		u /= 10;
		if (!u)
			break;
	}
	for (__u32 i = 0; i < 20; i++) {
		if (i >= n)
			break;
		d[(*pos + i) & AP_OFF_MASK] = dig[(n - 1 - i) & 31];
	}
	*pos = (*pos + n) & 0xff;
}

/* Report (and, unless notify or --audit, kill) a guard violation whose
 * target text is in the scratch, len bytes. */
/* the record being built: in a map, not on the stack, which older
 * verifiers (6.1) add to the frames of every global function called */
struct ap_guard_scr {
	struct ap_emit m;
	struct ap_eval e;
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ap_guard_scr);
} ap_guard_scratch SEC(".maps");

static __always_inline int ap_guard_report(struct ap_proc *p, __u8 op, __u32 len,
					   bool deny)
{
	__u32 zero = 0, rule = cfg_guard_rule & (AP_MAX_RULES - 1);
	struct ap_guard_scr *x = bpf_map_lookup_elem(&ap_guard_scratch, &zero);

	if (!x)
		return 0;
	__builtin_memset(&x->m, 0, sizeof(x->m));
	x->m.op = op;
	ap_eval_init(&x->e, p);
	x->e.nmatch = 1;
	x->e.best = cfg_guard_notify ? AP_EFFECT_NOTIFY :
		    deny ? AP_EFFECT_BLOCK : AP_EFFECT_KILL;
	if (deny && !cfg_guard_notify)
		x->m.action = AP_ACTION_BLOCKED;
	x->e.rule = rule;
	x->e.op = op;
	x->e.best_op = op;
	x->e.rules[rule / 64] |= 1ULL << (rule % 64);
	x->m.t1.off = AP_NORM_OFF(0);
	x->m.t1.len = len & 0xff;
	x->m.t2.err = -ENOENT;
	ap_conclude(&x->m, &x->e);
	return 0;
}

/* "pid:N"; deny: the caller denies (fmod_ret), else the process is killed */
static __always_inline int ap_guard_pid_hit_d(struct ap_proc *p, __u8 op, __s64 pid,
					      bool deny)
{
	struct ap_scratch *s = ap_scr();
	__u32 pos = 0;

	if (!s)
		return 0;
	ap_g_lit(s, &pos, "pid:", 4);
	ap_g_num(s, &pos, pid);
	return ap_guard_report(p, op, pos, deny);
}

static __always_inline int ap_guard_pid_hit(struct ap_proc *p, __u8 op, __s64 pid)
{
	return ap_guard_pid_hit_d(p, op, pid, false);
}

/* kill()'s pid: "pid:-1" (every process) or "pgid:N" */
static __always_inline int ap_guard_group_hit(struct ap_proc *p, __s64 pid, bool deny)
{
	struct ap_scratch *s = ap_scr();
	__u32 pos = 0;

	if (!s)
		return 0;
	if (pid == -1)
		return ap_guard_pid_hit_d(p, AP_OP_SIGNAL, -1, deny);
	ap_g_lit(s, &pos, "pgid:", 5);
	ap_g_num(s, &pos, -pid);
	return ap_guard_report(p, AP_OP_SIGNAL, pos, deny);
}

static __always_inline void ap_guard_mark(__u32 bits)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_update_elem(&ap_guard_intent, &tid, &bits, BPF_ANY);
}

static __always_inline int ap_guard_unmark(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (ap_guard_deny_live)
		bpf_map_delete_elem(&ap_guard_intent, &tid);
	return 0;
}

/* ---- ptrace ---- */
static __always_inline int ap_guard_ptrace(__s32 pid)
{
	struct ap_proc *p = ap_guard_proc(AP_GUARD_PTRACE);

	if (!p || pid <= 0)
		return 0;
	if (ap_guard_deny_live) {
		/* security_ptrace_access_check decides, on the real task */
		ap_guard_mark(AP_GI_PTRACE);
		return 0;
	}
	if (ap_guard_inside(p, pid))
		return 0;
	return ap_guard_pid_hit(p, AP_OP_PTRACE, pid);
}

SEC("tracepoint/syscalls/sys_enter_ptrace")
int ap_sys_enter_ptrace(struct trace_event_raw_sys_enter *ctx)
{
	long req = ctx->args[0];

	if (req != AP_PTRACE_ATTACH && req != AP_PTRACE_SEIZE)
		return 0;
	return ap_guard_ptrace((__s32)ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_exit_ptrace")
int ap_sys_exit_ptrace(struct trace_event_raw_sys_exit *ctx)
{
	return ap_guard_unmark();
}

SEC("tracepoint/syscalls/sys_enter_process_vm_writev")
int ap_sys_enter_process_vm_writev(struct trace_event_raw_sys_enter *ctx)
{
	return ap_guard_ptrace((__s32)ctx->args[0]);
}

SEC("tracepoint/syscalls/sys_exit_process_vm_writev")
int ap_sys_exit_process_vm_writev(struct trace_event_raw_sys_exit *ctx)
{
	return ap_guard_unmark();
}

/* The deny half: the kernel asks whether current may attach to child. */
SEC("fmod_ret/security_ptrace_access_check")
int BPF_PROG(ap_guard_ptrace_access, struct task_struct *child, unsigned int mode,
	     int ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), *gi, ctgid;
	struct ap_proc *p;

	if (ret || !(mode & AP_PTRACE_MODE_ATTACH))
		return ret;
	gi = bpf_map_lookup_elem(&ap_guard_intent, &tid);
	if (!gi || !(*gi & AP_GI_PTRACE))
		return 0;
	p = ap_guard_proc(AP_GUARD_PTRACE);
	ctgid = BPF_CORE_READ(child, tgid);
	if (!p || ap_guard_inside(p, ctgid))
		return 0;
	if (!(*gi & AP_GI_REPORTED)) {
		*gi |= AP_GI_REPORTED;
		ap_guard_pid_hit_d(p, AP_OP_PTRACE, ctgid, true);
	}
	if (cfg_guard_notify || (cfg_flags & AP_CFG_F_AUDIT))
		return 0;
	return -AP_EPERM;
}

/* the digits of a dentry's name as a number, 0 when it is not one */
static __always_inline __u32 ap_dentry_num(struct dentry *d)
{
	char name[12] = {};
	__u32 v = 0;

	if (bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(d, d_name.name)) <= 1)
		return 0;
	for (int i = 0; i < 11; i++) {
		if (!name[i])
			break;
		if (name[i] < '0' || name[i] > '9')
			return 0;
		v = v * 10 + (name[i] - '0');
	}
	return v;
}

/* An open for writing of /proc/PID/mem or /proc/PID/task/TID/mem: at
 * sys_exit, from the file the kernel installed (every spelling of the path
 * resolved); nothing was written yet. */
static __always_inline int ap_guard_mem(long fd)
{
	struct ap_proc *p;
	struct file *f;
	struct dentry *d, *up;
	char name[4] = {};
	__u32 pid;

	if (fd < 0)
		return 0;
	p = ap_guard_proc(AP_GUARD_PTRACE);
	if (!p)
		return 0;
	f = ap_fd_file((struct task_struct *)bpf_get_current_task(), (int)fd);
	if (!f || !(BPF_CORE_READ(f, f_mode) & 0x2 /* FMODE_WRITE */))
		return 0;
	if (BPF_CORE_READ(f, f_inode, i_sb, s_magic) != AP_PROC_SUPER_MAGIC)
		return 0;
	d = BPF_CORE_READ(f, f_path.dentry);
	if (bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(d, d_name.name)) != 4 ||
	    name[0] != 'm' || name[1] != 'e' || name[2] != 'm')
		return 0;
	up = BPF_CORE_READ(d, d_parent);
	pid = ap_dentry_num(up);
	/* .../task/TID/mem: the process is two levels up */
	if (pid) {
		struct dentry *t = BPF_CORE_READ(up, d_parent);
		char tn[5] = {};

		if (bpf_probe_read_kernel_str(tn, sizeof(tn), BPF_CORE_READ(t, d_name.name)) == 5 &&
		    tn[0] == 't' && tn[1] == 'a' && tn[2] == 's' && tn[3] == 'k')
			pid = ap_dentry_num(BPF_CORE_READ(t, d_parent));
	}
	p = ap_proc_of(ap_cur_tgid());
	if (!pid || !p || ap_guard_inside(p, pid))
		return 0;
	return ap_guard_pid_hit(p, AP_OP_PTRACE, pid);
}

SEC("tracepoint/syscalls/sys_exit_openat")
int ap_sys_exit_openat_guard(struct trace_event_raw_sys_exit *ctx)
{
	return ap_guard_mem(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int ap_sys_exit_openat2_guard(struct trace_event_raw_sys_exit *ctx)
{
	return ap_guard_mem(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_open")
int ap_sys_exit_open_guard(struct trace_event_raw_sys_exit *ctx)
{
	return ap_guard_mem(ctx->ret);
}

/* ---- namespaces ---- */
static __always_inline int ap_guard_ns(const char *name, __u32 n)
{
	struct ap_proc *p = ap_guard_proc(AP_GUARD_NAMESPACES);
	struct ap_scratch *s;
	__u32 pos = 0;

	if (!p)
		return 0;
	s = ap_scr();
	if (!s)
		return 0;
	ap_g_lit(s, &pos, name, n);
	return ap_guard_report(p, AP_OP_NAMESPACE, pos, false);
}

SEC("tracepoint/syscalls/sys_enter_chroot")
int ap_sys_enter_chroot(struct trace_event_raw_sys_enter *ctx)
{
	return ap_guard_ns("chroot", 6);
}

SEC("tracepoint/syscalls/sys_enter_pivot_root")
int ap_sys_enter_pivot_root(struct trace_event_raw_sys_enter *ctx)
{
	return ap_guard_ns("pivot_root", 10);
}

SEC("tracepoint/syscalls/sys_enter_setns")
int ap_sys_enter_setns(struct trace_event_raw_sys_enter *ctx)
{
	return ap_guard_ns("setns", 5);
}

static __always_inline int ap_guard_ns_flags(__u64 flags, bool is_clone)
{
	if (!(flags & (AP_CLONE_NEWNS | AP_CLONE_NEWUSER)))
		return 0;
	if (flags & AP_CLONE_NEWUSER)
		return is_clone ? ap_guard_ns("clone(CLONE_NEWUSER)", 20) :
				  ap_guard_ns("unshare(CLONE_NEWUSER)", 22);
	return is_clone ? ap_guard_ns("clone(CLONE_NEWNS)", 18) :
			  ap_guard_ns("unshare(CLONE_NEWNS)", 20);
}

SEC("tracepoint/syscalls/sys_enter_unshare")
int ap_sys_enter_unshare(struct trace_event_raw_sys_enter *ctx)
{
	return ap_guard_ns_flags(ctx->args[0], false);
}

SEC("tracepoint/syscalls/sys_enter_clone")
int ap_sys_enter_clone(struct trace_event_raw_sys_enter *ctx)
{
	return ap_guard_ns_flags(ctx->args[0], true);
}

SEC("tracepoint/syscalls/sys_enter_clone3")
int ap_sys_enter_clone3(struct trace_event_raw_sys_enter *ctx)
{
	__u64 flags = 0;

	/* struct clone_args starts with the flags */
	if (!ap_guard_proc(AP_GUARD_NAMESPACES))
		return 0;
	if (bpf_probe_read_user(&flags, sizeof(flags), (void *)ctx->args[0]))
		return 0; /* the kernel fails the call with EFAULT too */
	return ap_guard_ns_flags(flags, true);
}

/* ---- signals ---- */

/* kill()'s meaning of pid: >0 a process, 0 the caller's group, -1 every
 * process, < -1 the group -pid */
static __always_inline int ap_guard_sig(__s64 pid, int sig, bool group_forms)
{
	struct ap_proc *p;
	struct task_struct *t;
	__u32 pg;

	/* signal 0 to one process delivers nothing: an existence check
	 * (`actplane status` run from the session, `kill -0 $PPID`) */
	if (pid > 0 && sig == 0)
		return 0;
	p = ap_guard_proc(AP_GUARD_SIGNAL);
	if (!p)
		return 0;
	if (pid > 0) {
		/* deny mode: security_task_kill sees the real target */
		if (ap_guard_deny_live || !(ap_guard_flags((__u32)pid) & AP_GPID_PROC))
			return 0;
		return ap_guard_pid_hit(p, AP_OP_SIGNAL, pid);
	}
	if (!group_forms)
		return 0;
	if (pid == 0) {
		t = (struct task_struct *)bpf_get_current_task();
		pg = BPF_CORE_READ(t, signal, pids[PIDTYPE_PGID], numbers[0].nr);
		if (!(ap_guard_flags(pg) & AP_GPID_GROUP))
			return 0;
		pid = -(__s64)pg;
	} else if (pid != -1 &&
		   !(ap_guard_flags((__u32)-pid) & (AP_GPID_GROUP | AP_GPID_PROC))) {
		return 0;
	}
	if (ap_guard_deny_live) {
		/* report once here; security_task_kill denies every target */
		ap_guard_mark(AP_GI_BROADCAST | AP_GI_REPORTED);
		return ap_guard_group_hit(p, pid, true);
	}
	return ap_guard_group_hit(p, pid, false);
}

SEC("tracepoint/syscalls/sys_exit_kill")
int ap_sys_exit_kill(struct trace_event_raw_sys_exit *ctx)
{
	return ap_guard_unmark();
}

/* The deny half for every signal a process sends (kill, tkill, tgkill,
 * sigqueue, pidfd_send_signal; each member of a process group). */
SEC("fmod_ret/security_task_kill")
int BPF_PROG(ap_guard_task_kill, struct task_struct *target, void *info, int sig,
	     const void *cred, int ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), *gi, ttgid;
	struct ap_proc *p;

	if (ret)
		return ret;
	p = ap_guard_proc(AP_GUARD_SIGNAL);
	if (!p)
		return 0;
	gi = bpf_map_lookup_elem(&ap_guard_intent, &tid);
	if (!gi || !(*gi & AP_GI_BROADCAST)) {
		if (sig == 0)
			return 0; /* an existence check of one process */
		ttgid = BPF_CORE_READ(target, tgid);
		if (!(ap_guard_flags(ttgid) & AP_GPID_PROC))
			return 0;
		ap_guard_pid_hit_d(p, AP_OP_SIGNAL, ttgid, true);
	}
	if (cfg_guard_notify || (cfg_flags & AP_CFG_F_AUDIT))
		return 0;
	return -AP_EPERM;
}

SEC("tracepoint/syscalls/sys_enter_kill")
int ap_sys_enter_kill(struct trace_event_raw_sys_enter *ctx)
{
	return ap_guard_sig((__s32)ctx->args[0], (int)ctx->args[1], true);
}

SEC("tracepoint/syscalls/sys_enter_tkill")
int ap_sys_enter_tkill(struct trace_event_raw_sys_enter *ctx)
{
	return ap_guard_sig((__s32)ctx->args[0], (int)ctx->args[1], false);
}

SEC("tracepoint/syscalls/sys_enter_tgkill")
int ap_sys_enter_tgkill(struct trace_event_raw_sys_enter *ctx)
{
	return ap_guard_sig((__s32)ctx->args[0], (int)ctx->args[2], false);
}

SEC("tracepoint/syscalls/sys_enter_rt_sigqueueinfo")
int ap_sys_enter_rt_sigqueueinfo(struct trace_event_raw_sys_enter *ctx)
{
	return ap_guard_sig((__s32)ctx->args[0], (int)ctx->args[1], false);
}

SEC("tracepoint/syscalls/sys_enter_rt_tgsigqueueinfo")
int ap_sys_enter_rt_tgsigqueueinfo(struct trace_event_raw_sys_enter *ctx)
{
	return ap_guard_sig((__s32)ctx->args[0], (int)ctx->args[2], false);
}

/* a pidfd is not a signal yet, but the way to one: refused outright in
 * the kill fallback only (with the deny half, pidfd_send_signal is
 * denied like any other signal) */
SEC("tracepoint/syscalls/sys_enter_pidfd_open")
int ap_sys_enter_pidfd_open(struct trace_event_raw_sys_enter *ctx)
{
	return ap_guard_sig((__s32)ctx->args[0], -1, false);
}

/* the process a pidfd (pidfs or anon inode "[pidfd]", private_data a
 * struct pid) or an fd of a /proc/PID directory refers to; 0 unknown */
static __always_inline __u32 ap_pidfd_pid(int fd)
{
	struct file *f = ap_fd_file((struct task_struct *)bpf_get_current_task(), fd);
	unsigned long magic;
	struct pid *pid;
	char name[8] = {};

	if (!f)
		return 0;
	magic = BPF_CORE_READ(f, f_inode, i_sb, s_magic);
	if (magic == AP_PROC_SUPER_MAGIC)
		return ap_dentry_num(BPF_CORE_READ(f, f_path.dentry));
	if (magic == AP_ANON_INODE_MAGIC) {
		bpf_probe_read_kernel_str(name, sizeof(name),
					  BPF_CORE_READ(f, f_path.dentry, d_name.name));
		if (name[0] != '[' || name[1] != 'p' || name[2] != 'i' || name[3] != 'd' ||
		    name[4] != 'f' || name[5] != 'd')
			return 0;
	} else if (magic != AP_PIDFS_MAGIC) {
		return 0;
	}
	pid = BPF_CORE_READ(f, private_data);
	return pid ? BPF_CORE_READ(pid, numbers[0].nr) : 0;
}

SEC("tracepoint/syscalls/sys_enter_pidfd_send_signal")
int ap_sys_enter_pidfd_send_signal(struct trace_event_raw_sys_enter *ctx)
{
	__u32 pid;

	if (ap_guard_deny_live || !ap_guard_proc(AP_GUARD_SIGNAL))
		return 0;
	pid = ap_pidfd_pid((int)ctx->args[0]);
	return pid ? ap_guard_sig(pid, (int)ctx->args[1], false) : 0;
}

#endif
