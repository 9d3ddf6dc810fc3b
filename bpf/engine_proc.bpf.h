/* SPDX-License-Identifier: Dual BSD/GPL */
/*
 * Process lifecycle: fork joins the parent's session and inherits its state
 * (keyed by thread group, so a fork from any thread inherits the group's and
 * a new thread adds nothing); exec gains labels, lineage, gates and
 * declassify/endorse and is evaluated in sched_process_exec, which runs after
 * the point of no return and before the new image executes an instruction:
 * a SIGKILL sent there means the program never runs; exit drops the process
 * when its last thread is gone and credits `passed` gates on status 0.
 */
#ifndef AP_ENGINE_PROC_BPF_H
#define AP_ENGINE_PROC_BPF_H

#include "engine_eval.bpf.h"

SEC("tp_btf/sched_process_fork")
int BPF_PROG(ap_sched_process_fork, struct task_struct *parent,
	     struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	struct ap_prov_key dk = { .id = ctgid, .kind = AP_OBJ_PROC };
	struct ap_prov_key sk = { .id = ptgid, .kind = AP_OBJ_PROC };
	struct ap_session *ss;
	struct ap_proc *p, c;

	p = ap_proc_of(ptgid);
	if (!p || ptgid == ctgid || ap_proc_raw(ctgid))
		return 0;
	__builtin_memcpy(&c, p, sizeof(c));
	c.pending_gates = 0;
	c.gate_ts = 0;
	c.flags &= ~AP_PROC_F_ROOT;
	c.start_ts = bpf_ktime_get_boot_ns();
	if (bpf_map_update_elem(&ap_procs, &ctgid, &c, BPF_NOEXIST)) {
		/* the child cannot be followed by pid: the session fails
		 * closed, and the child is still found by the session's
		 * cgroup (ap_proc_of) where the session has one */
		ap_overflow(c.session, AP_OVF_PROCS);
		return 0;
	}
	ss = bpf_map_lookup_elem(&ap_sessions, &c.session);
	if (ss)
		__sync_fetch_and_add(&ss->live, 1);
	/* shared mappings are inherited */
	{
		struct ap_shmap *sm = bpf_map_lookup_elem(&ap_shmaps, &ptgid);

		if (sm && bpf_map_update_elem(&ap_shmaps, &ctgid, sm, BPF_ANY))
			ap_overflow(c.session, AP_OVF_SHMAPS);
	}
	ap_prov_record(c.labels, &dk, &sk, AP_OP_EXEC, 0, 0, false);
	return 0;
}

struct ap_prov_drop {
	__u64 bits;
	__u32 tgid;
};

static long ap_prov_drop_step(__u32 i, struct ap_prov_drop *d)
{
	struct ap_prov_key k = { .id = d->tgid, .kind = AP_OBJ_PROC, .label = i };

	if ((d->bits >> i) & 1)
		bpf_map_delete_elem(&ap_prov, &k);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(ap_sched_process_exit, struct task_struct *task)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	__u32 tid = BPF_CORE_READ(task, pid);
	struct ap_proc *p = ap_proc_raw(tgid);
	struct ap_session *ss;
	struct ap_prov_drop d;
	int code;

	/* the thread's system calls in flight end with it (the maps are not
	 * LRU: nothing else would remove them) */
	bpf_map_delete_elem(&ap_pending, &tid);
	bpf_map_delete_elem(&ap_io_pending, &tid);
	bpf_map_delete_elem(&ap_mem_pending, &tid);
	if (!p)
		return 0;
	/* a thread's exit does not end the process */
	if (BPF_CORE_READ(task, signal, live.counter) > 0)
		return 0;
	bpf_map_delete_elem(&ap_shmaps, &tgid);
	code = BPF_CORE_READ(task, exit_code);
	if (p->pending_gates && code == 0)
		ap_gates_mark(p->session, p->pending_gates, p->gate_ts);
	ss = bpf_map_lookup_elem(&ap_sessions, &p->session);
	if (ss && __sync_fetch_and_add(&ss->live, -1) == 1) {
		struct ap_emit m = { .type = AP_REC_SESSION_END, .op = AP_OP_EXEC };
		struct ap_eval e = {};

		m.t1.err = m.t2.err = -ENOENT;
		m.exit_code = code;
		ap_emit_g(&m, &e);
	}
	d.bits = p->labels;
	d.tgid = tgid;
	if (d.bits)
		bpf_loop(64, ap_prov_drop_step, &d, 0);
	bpf_map_delete_elem(&ap_procs, &tgid);
	return 0;
}

/* argv: every element after argv[0] through the automaton with the ARG
 * prefix; the loop state is s->lv (state, start, elem, apos) */
static long ap_argv_step(__u32 i, void *unused)
{
	struct ap_scratch *s = ap_scr();
	struct ap_loopvars *w;
	__u32 idx;
	__u8 c;

	if (!s)
		return 1;
	w = &s->lv;
	idx = w->apos + i;
	if (idx >= AP_SCR_STR_BYTES)
		return 1;
	c = ((__u8 *)s)[idx];
	if (c == 0) {
		if (w->elem > 0)
			ap_dfa_accept_or(w->state, &s->argset);
		w->elem++;
		if (w->elem == 1)
			w->elem1 = i + 1;
		w->state = w->start;
		return 0;
	}
	if (w->elem > 0 && w->state != AP_DFA_DEAD)
		w->state = ap_dfa_next(w->state, c);
	return 0;
}

/* Is the executed file the dynamic loader (basename ld-*.so* or ld.so)?
 * Then argv[1] names the program it runs. */
static __always_inline bool ap_is_loader(struct ap_str t)
{
	struct ap_scratch *s = ap_scr();
	__u32 end = t.off + t.len;
	__u8 *tail;
	int slash = -1;

	if (!s || t.len < 4 || end < 64 || end > AP_SCR_STR_BYTES)
		return false;
	/* the last 64 bytes of the path, copied to the (at exec unused)
	 * sockaddr slot: constant indices, and no stack (exec's frame plus
	 * its global callees must fit in 512 bytes) */
	tail = s->sa;
	if (bpf_probe_read_kernel(tail, 64, (char *)s + (end - 64)))
		return false;
	for (int k = 63; k >= 0; k--) {
		if (63 - k >= (int)t.len)
			break;
		if (tail[k] == '/') {
			slash = k;
			break;
		}
	}
	if (slash < 0 || slash > 60)
		return false;
	return tail[slash + 1] == 'l' && tail[slash + 2] == 'd' &&
	       (tail[slash + 3] == '-' || tail[slash + 3] == '.');
}

/* exec's record and evaluation state: in a map, not on the stack, whose
 * 512 bytes must also hold the frames of the global functions exec calls
 * (older verifiers count them all, at 32-byte granularity) */
struct ap_exec_scr {
	struct ap_emit m;
	struct ap_eval e;
	struct ap_file_key key;
	struct ap_prov_key fk, none;
	struct ap_ep noep;
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ap_exec_scr);
} ap_exec_scratch SEC(".maps");

SEC("tp_btf/sched_process_exec")
int BPF_PROG(ap_sched_process_exec, struct task_struct *task, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	__u32 tgid = ap_cur_tgid();
	struct ap_proc *p = ap_proc_of(tgid);
	struct ap_scratch *s;
	struct ap_str t_exe, t_fn, t;
	struct ap_exec_loop l = {};
	struct ap_exec_scr *x;
	struct ap_file *fl;
	struct ap_accept_set *ip;
	struct file *f;
	struct inode *ino;
	__u64 astart, aend, alen, now = bpf_ktime_get_boot_ns(), gain;
	long packed_t;
	__u32 zero = 0;

	if (!p)
		return 0;
	x = bpf_map_lookup_elem(&ap_exec_scratch, &zero);
	if (!x)
		return 0;
	__builtin_memset(x, 0, sizeof(*x));
	x->m.op = AP_OP_EXEC;
	f = BPF_CORE_READ(bprm, file);
	t_exe = ap_str_unpack(ap_path_file_g((__u64)f, 0));
	/* the name given to execve (a #! script's own path) */
	t_fn = ap_str_unpack(ap_path_name_g(AT_FDCWD,
					    (__u64)BPF_CORE_READ(bprm, filename), 0, 1));
	if (t_exe.err && t_fn.err) {
		ap_unresolved(AP_OP_EXEC);
		return 0;
	}
	s = ap_scr();
	if (!s)
		return 0;
	ap_set_clear(&s->set);
	ap_set_clear(&s->set2);
	ap_set_clear(&s->argset);
	if (!t_exe.err)
		ap_match_g(t_exe.off, t_exe.len, AP_SET1);
	if (!t_fn.err)
		ap_match_g(t_fn.off, t_fn.len, AP_SET2);
	s = ap_scr();
	if (!s)
		return 0;
#pragma unroll
	for (int k = 0; k < AP_PATTERN_WORDS; k++)
		s->set.bits[k] |= s->set2.bits[k];
	ino = BPF_CORE_READ(f, f_inode);
	x->key.ino = BPF_CORE_READ(ino, i_ino);
	x->key.dev = BPF_CORE_READ(ino, i_sb, s_dev);
	ip = bpf_map_lookup_elem(&ap_inode_pats, &x->key);
	if (ip) {
#pragma unroll
		for (int k = 0; k < AP_PATTERN_WORDS; k++)
			s->set.bits[k] |= ip->bits[k];
	}

	/* argv */
	astart = BPF_CORE_READ(task, mm, arg_start);
	aend = BPF_CORE_READ(task, mm, arg_end);
	alen = aend > astart ? aend - astart : 0;
	if (alen > AP_PATH_MAX - 1) {
		alen = AP_PATH_MAX - 1;
		x->m.flags |= AP_REC_F_ARGV_TRUNCATED;
		ap_count(AP_CNT_ARGV_TRUNC);
	}
	if (alen && !bpf_probe_read_user(s->norm[0], alen & AP_OFF_MASK, (void *)astart)) {
		s->lv.start = ap_dfa_next(AP_DFA_START, (__u8)AP_DFA_PREFIX_ARG);
		s->lv.state = s->lv.start;
		s->lv.elem = 0;
		s->lv.elem1 = 0;
		s->lv.apos = AP_NORM_OFF(0);
		bpf_loop(alen & AP_OFF_MASK, ap_argv_step, NULL, 0);
		s = ap_scr();
		if (!s)
			return 0;
		x->m.argv_start = astart;
		x->m.argv_len = alen;
		x->m.argc = s->lv.elem;
		/* `ld.so PROG ARGS`: PROG is the program */
		if (!t_exe.err && s->lv.elem >= 2 && s->lv.elem1 &&
		    ap_is_loader(t_exe)) {
			struct ap_str t_prog = ap_str_unpack(
				ap_path_name_g(AT_FDCWD, astart + s->lv.elem1, 1, 1));

			if (!t_prog.err) {
				ap_match_g(t_prog.off, t_prog.len, AP_SET2);
				s = ap_scr();
				if (!s)
					return 0;
#pragma unroll
				for (int k = 0; k < AP_PATTERN_WORDS; k++)
					s->set.bits[k] |= s->set2.bits[k];
				t_fn = t_prog;
			}
		}
	} else if (alen) {
		ap_count(AP_CNT_READ_FAILS);
	}

	/* flow: the executed file's labels, exec sources, endorse, declassify */
	t = t_fn.err ? t_exe : t_fn;
	packed_t = ap_str_pack(t);
	fl = bpf_map_lookup_elem(&ap_files, &x->key);
	if (fl && fl->labels) {
		x->fk.id = x->key.ino;
		x->fk.dev = x->key.dev;
		x->fk.kind = AP_OBJ_FILE;
		ap_proc_gain_g(tgid, fl->labels, &x->fk, AP_OP_EXEC, packed_t);
	}
	gain = ap_source_labels_g(AP_SRC_EXEC, &x->noep);
	if (gain)
		ap_proc_gain_g(tgid, gain, &x->none, AP_OP_EXEC, packed_t);
	if (cfg_nlineage)
		bpf_loop(cfg_nlineage, ap_lineage_step, &l, 0);
	if (cfg_ngates)
		bpf_loop(cfg_ngates, ap_gate_step, &l, 0);
	if (cfg_nkeeps)
		bpf_loop(cfg_nkeeps, ap_keep_step, &l, 0);
	if (l.endorse)
		ap_proc_gain_g(tgid, l.endorse, &x->none, AP_OP_EXEC, packed_t);
	/* the old image's mappings are gone (what was gained is passed on to
	 * the descriptors kept open by ap_mf_exec_pass) */
	bpf_map_delete_elem(&ap_shmaps, &tgid);
	p = ap_proc_of(tgid);
	if (!p)
		return 0;
	if (l.declassify) {
		__sync_fetch_and_and(&p->labels, ~l.declassify);
		p->declassified |= l.declassify;
	}
	p->lineage |= l.lineage;
	if (l.gates_now)
		ap_gates_mark(p->session, l.gates_now, now);
	if (l.gates_pending) {
		p->pending_gates |= l.gates_pending;
		p->gate_ts = now;
	}
	ap_since_note_g(p->session, AP_OP_EXEC, AP_SET1);

	ap_eval_init(&x->e, p);
	ap_eval_op_g(&x->e, AP_OP_EXEC, AP_SET1);
	x->m.t1 = t;
	x->m.t2 = t_exe;
	ap_conclude(&x->m, &x->e);
	return 0;
}

#endif
