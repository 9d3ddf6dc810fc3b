/* SPDX-License-Identifier: Dual BSD/GPL */
/*
 * The engine's maps, load-time constants, counters and per-CPU scratch.
 * Policy tables are filled by src/engine/maps.c from the compiled blob; the
 * loader sizes every map from the blob before load (max_entries 1 here is a
 * placeholder that is always overridden).
 */
#ifndef AP_ENGINE_MAPS_BPF_H
#define AP_ENGINE_MAPS_BPF_H

/* ---- constants set by the loader (rodata) ---- */
const volatile __u32 cfg_flags = 0;        /* AP_CFG_F_* */
const volatile __u32 cfg_protect_pid = 0;
/* session-guard (engine_guard.bpf.h): AP_GUARD_* items reported, whether
 * only reported (guard: notify), and the rule index events carry */
const volatile __u32 cfg_guard_items = 0;
const volatile __u32 cfg_guard_notify = 0;
const volatile __u32 cfg_guard_rule = AP_RULE_GUARD_NONE;
const volatile __u32 cfg_nconds = 0;
const volatile __u32 cfg_ngates = 0;
const volatile __u32 cfg_nsince = 0;
const volatile __u32 cfg_nlineage = 0;
const volatile __u32 cfg_nsources = 0;
const volatile __u32 cfg_nkeeps = 0;
const volatile __u32 cfg_nendpoints = 0;
/* clauses are stored sorted by op: [op_first[op], +op_count[op]) */
const volatile __u16 cfg_op_first[AP_OP__COUNT] = {};
const volatile __u16 cfg_op_count[AP_OP__COUNT] = {};


/* ---- policy tables ---- */
#define AP_ARRAY(name, val)                        \
	struct {                                   \
		__uint(type, BPF_MAP_TYPE_ARRAY);  \
		__uint(max_entries, 1);            \
		__type(key, __u32);                \
		__type(value, val);                \
	} name SEC(".maps")

AP_ARRAY(ap_clauses, struct ap_clause);
AP_ARRAY(ap_conds, struct ap_cond);
AP_ARRAY(ap_gates, struct ap_gate);
AP_ARRAY(ap_since, struct ap_since);
AP_ARRAY(ap_lineage, struct ap_lineage);
AP_ARRAY(ap_sources, struct ap_source);
AP_ARRAY(ap_keeps, struct ap_keep);
AP_ARRAY(ap_endpoints, struct ap_endpoint);

/* ---- state ---- */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, __u32);
	__type(value, struct ap_proc);
} ap_procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct ap_session);
} ap_sessions SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ap_file_key);
	__type(value, struct ap_file);
} ap_files SEC(".maps");

/* Unlabelled, may be evicted (LRU): names learned per inode. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ap_file_key);
	__type(value, struct ap_accept_set);
} ap_inode_pats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ap_prov_key);
	__type(value, struct ap_prov);
} ap_prov SEC(".maps");

/* connect/sendto state between sys_enter and sys_exit, by tid. Not LRU: an
 * evicted entry would be a connect never evaluated. A thread killed between
 * enter and exit leaves its entry behind until sched_process_exit of that
 * thread removes it; an insert into a full map overflows the session. */
struct ap_pending_sa {
	__u32 len;
	__u32 fd;
	__u8 sa[128];
};
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct ap_pending_sa);
} ap_pending SEC(".maps");

/* reads in flight by tid (the fd, in .ino). Not LRU, like ap_pending: a
 * thread's entry goes at its exit; a full map overflows the session. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct ap_file_key);
} ap_io_pending SEC(".maps");

/* ptrace / process_vm_readv / mmap between sys_enter and sys_exit, by tid
 * (engine_memflow.bpf.h); same life cycle as ap_pending */
struct ap_mem_op {
	__u32 kind;      /* AP_MEM_* */
	__u32 pid;       /* target process (ptrace, process_vm_readv) */
	__s32 fd;        /* mmap */
	__u32 prot;
	__u32 flags;
	__u32 pad;
};
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct ap_mem_op);
} ap_mem_pending SEC(".maps");

/* Session identity by cgroup (cgroup v2 id -> session id), filled by user
 * space (ap_engine__add_session_cgroup) when the session has a cgroup of its
 * own: a task of that cgroup the engine has no ap_procs entry for (a fork
 * that could not be recorded) is still the session's, and is treated as an
 * overflowed member. ap_ncgroups: entries, so that processes outside every
 * session pay nothing when no session has a cgroup. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u32);
} ap_sess_cgroups SEC(".maps");
volatile __u32 ap_ncgroups = 0;

/* Shared writable mappings a process made (file MAP_SHARED + PROT_WRITE,
 * memfd, POSIX shm), by tgid: when it gains a label, so do they. Copied to
 * a forked child (the mappings are inherited), dropped at exec and exit.
 * More than AP_SHMAP_MAX, or a full map, overflows the session. */
#define AP_SHMAP_MAX 8
struct ap_shmap {
	__u32 n;
	__u32 pad;
	struct ap_file_key keys[AP_SHMAP_MAX];
};
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct ap_shmap);
} ap_shmaps SEC(".maps");

/* the stand-in entry of such a process (rebuilt at every lookup) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ap_proc);
} ap_proc_shadow SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} ap_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, AP_CNT__COUNT);
	__type(key, __u32);
	__type(value, __u64);
} ap_counters SEC(".maps");

/* ---- per-CPU scratch ----
 * Paths are built backwards so that the string ends at AP_PATH_MAX; the
 * second half of each buffer is slack for masked writes (and for a name
 * appended after a directory). */
#define AP_BUF_SIZE (2 * AP_PATH_MAX)
#define AP_BUF_MASK (AP_BUF_SIZE - 1)
#define AP_OFF_MASK (AP_PATH_MAX - 1)
/* Re-bound an offset right before it indexes the scratch. The compiler
 * drops a mask it can prove redundant, but older verifiers (6.1) lose the
 * bounds of sums/ORs whose operands went through a subtraction (stale
 * 32-bit sub-register bounds), so the mask must survive: barrier_var hides
 * the value from the optimiser. */
#define AP_BOUND(v, mask) ({ barrier_var(v); (v) &= (mask); })
/* Loop state lives in the scratch map, not on the stack: the verifier
 * treats map memory as unknown scalars, so a bpf_loop callback converges at
 * once instead of being explored once per distinct counter value. */
struct ap_loopvars {
	__u64 d, m, mnt_root;  /* dentry walk */
	__u32 pos, base;
	int err, done;
	__u32 in, len, which, out_len, comp, depth; /* normaliser */
	__u32 state, start, elem, apos;             /* argv walk */
	__u32 elem1;                                /* offset of argv[1] */
};
struct ap_scratch {
	char buf[2][AP_BUF_SIZE];   /* two paths (rename/link, exec) */
	char norm[2][AP_PATH_MAX];  /* lexically normalised user paths */
	__u16 starts[256];          /* normaliser component stack */
	struct ap_accept_set set;   /* patterns the target matched */
	struct ap_accept_set set2;  /* second path */
	struct ap_accept_set argset; /* arg patterns some argv[1..] matched */
	__u8 sa[128];               /* sockaddr of a connect/send */
	__u32 sa_len;
	__u32 pad;
	struct ap_loopvars lv;
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ap_scratch);
} ap_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ap_rec);
} ap_rec_scratch SEC(".maps");

static __always_inline void ap_count(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&ap_counters, &which);

	if (v)
		*v += 1;
}

static __always_inline struct ap_scratch *ap_scr(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ap_scratch, &zero);
}

static __always_inline __u32 ap_cur_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

/* Fail closed (policy-language.md section 4): state of session `sid` could
 * not be recorded. From now on every process of the session is evaluated
 * with every label seen in it; user space reports it once as a `loss`. */
static __always_inline void ap_overflow(__u32 sid, __u32 why)
{
	struct ap_session *ss = bpf_map_lookup_elem(&ap_sessions, &sid);

	ap_count(AP_CNT_MAP_FULL);
	if (!ss)
		return;
	/* plain stores (32-bit atomics need a newer BPF ISA): only the
	 * kernel sets these bits and it never clears them; a reason bit lost
	 * to a race between CPUs leaves the flag, which is what matters */
	if ((ss->overflow & why) != why)
		ss->overflow |= why;
	if (!(ss->flags & AP_SESSION_F_OVERFLOWED))
		ss->flags |= AP_SESSION_F_OVERFLOWED;
}

/* the labels a process of the session is evaluated with */
static __attribute__((noinline)) __u64 ap_eff_labels(const struct ap_proc *p)
{
	__u32 sid = p->session;
	struct ap_session *ss = bpf_map_lookup_elem(&ap_sessions, &sid);

	if (ss && (ss->flags & AP_SESSION_F_OVERFLOWED))
		return p->labels | ss->seen_labels;
	return p->labels;
}

/* the entry the engine recorded, nothing else (exit, fork bookkeeping) */
static __always_inline struct ap_proc *ap_proc_raw(__u32 tgid)
{
	return bpf_map_lookup_elem(&ap_procs, &tgid);
}

/* The current task has no entry: is it in a session's cgroup? Then it is
 * an overflowed member, carrying every label seen in the session. */
static __attribute__((noinline)) struct ap_proc *ap_proc_by_cgroup(void)
{
	__u64 cg = bpf_get_current_cgroup_id();
	__u32 *sid = bpf_map_lookup_elem(&ap_sess_cgroups, &cg);
	struct ap_session *ss;
	struct ap_proc *sh;
	__u32 zero = 0, id;

	if (!sid)
		return NULL;
	id = *sid;
	ss = bpf_map_lookup_elem(&ap_sessions, &id);
	sh = bpf_map_lookup_elem(&ap_proc_shadow, &zero);
	if (!ss || !sh)
		return NULL;
	if (!(ss->flags & AP_SESSION_F_OVERFLOWED))
		ap_overflow(id, AP_OVF_CGROUP);
	__builtin_memset(sh, 0, sizeof(*sh));
	sh->labels = ss->seen_labels;
	sh->session = id;
	return sh;
}

/* The session state of a process: its entry, or for the current task with
 * none, the stand-in of its session's cgroup. NULL: not in a session. */
static __always_inline struct ap_proc *ap_proc_of(__u32 tgid)
{
	struct ap_proc *p = bpf_map_lookup_elem(&ap_procs, &tgid);

	if (p || !ap_ncgroups || tgid != ap_cur_tgid())
		return p;
	return ap_proc_by_cgroup();
}

#endif
