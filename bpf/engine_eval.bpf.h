/* SPDX-License-Identifier: Dual BSD/GPL */
/*
 * Clause evaluation (policy-language.md section 5) and the records put on
 * the ring buffer. Only matches leave the kernel (plus observation records
 * when the loader set AP_CFG_F_OBSERVE).
 */
#ifndef AP_ENGINE_EVAL_BPF_H
#define AP_ENGINE_EVAL_BPF_H

#include "engine_flow.bpf.h"

#define AP_SIGKILL 9

struct ap_eval {
	__u64 labels;
	__u64 lineage;
	__u64 rules[AP_MAX_RULES / 64];
	__u64 mattered;
	struct ap_ep ep;     /* connect/send: the address */
	__u32 session;
	__u32 first;
	__u32 nmatch;
	__u16 rule;
	__u8 best;
	__u8 op;             /* op being evaluated */
	__u8 best_op;
	__u8 which;          /* scratch set holding the target's patterns */
	__u8 has_ep;
	__u8 guard;          /* a session-guard clause of effect block or
			      * stronger matched: the process is killed
			      * whatever the fallback (the guard is never
			      * weakened; in supervised mode the engine only
			      * sees what bypassed the supervisor) */
};

/* The evaluation in progress of ap_eval_op_g: in a map rather than on its
 * stack, which older verifiers (6.1) add to the caller's and to every
 * callback's and global function's down the chain, within 512 bytes. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ap_eval);
} ap_eval_scratch SEC(".maps");

static __always_inline struct ap_eval *ap_eval_scr(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ap_eval_scratch, &zero);
}

static __always_inline bool ap_gate_holds(__u32 session, __u32 gid)
{
	struct ap_gate *g = bpf_map_lookup_elem(&ap_gates, &gid);
	struct ap_session *ss = bpf_map_lookup_elem(&ap_sessions, &session);
	__u64 ts, m;

	if (!g || !ss)
		return false;
	ts = ss->gate_ts[gid & (AP_MAX_GATES - 1)];
	if (!ts)
		return false;
	m = g->since_mask;
	for (int b = 0; b < AP_MAX_SINCE; b++) {
		if (!m)
			break;
		if ((m & 1) && ss->since_ts[b] > ts)
			return false; /* stale: a listed event came after G */
		m >>= 1;
	}
	return true;
}

static __always_inline bool ap_target_ok(struct ap_eval *e, struct ap_scratch *s,
					 __u8 kind, __u16 target, __u16 count)
{
	if (kind == AP_TGT_ANY)
		return true;
	if (kind == AP_TGT_ENDPOINT)
		return e->has_ep && ap_ep_range(&e->ep, target, count);
	return ap_set_has(ap_set_sel(s, e->which), target);
}

/* Separately verified: called up to AP_MAX_UNLESS times per clause. */
__attribute__((noinline)) int ap_cond_holds_g(struct ap_eval *e, __u32 id)
{
	struct ap_cond *c = bpf_map_lookup_elem(&ap_conds, &id);
	struct ap_scratch *s = ap_scr();
	bool h;

	if (!c || !s || !e)
		return false;
	switch (c->kind) {
	case AP_COND_TARGET:
		h = ap_target_ok(e, s, c->target_kind == AP_TGT_ENDPOINT ?
				 AP_TGT_ENDPOINT : AP_TGT_PATTERN, c->arg, c->count);
		return c->negate ? !h : h;
	case AP_COND_LINEAGE:
		return (e->lineage >> (c->arg & 63)) & 1;
	case AP_COND_AFTER:
		return ap_gate_holds(e->session, c->arg);
	}
	return false;
}

static long ap_clause_step(__u32 i, void *unused)
{
	struct ap_eval *e = ap_eval_scr();
	struct ap_clause *c;
	struct ap_scratch *s = ap_scr();
	__u32 rule, idx;

	if (!e || !s)
		return 1;
	idx = e->first + i;
	c = bpf_map_lookup_elem(&ap_clauses, &idx);
	if (!c)
		return 1;
	if ((e->labels & c->require) != c->require || (e->labels & c->forbid))
		return 0;
	if (!ap_target_ok(e, s, c->target_kind, c->target, c->target_count))
		return 0;
	if (!ap_args_ok(s, c->args, c->nargs))
		return 0;
#pragma unroll
	for (int j = 0; j < AP_MAX_UNLESS; j++) {
		if (j >= c->nunless)
			break;
		if (ap_cond_holds_g(e, c->unless[j]))
			return 0;
	}
	rule = c->rule & (AP_MAX_RULES - 1);
	e->rules[rule / 64] |= 1ULL << (rule % 64);
	e->mattered |= c->require;
	/* the first rule with the strongest effect decides; on a tie the
	 * built-in session-guard does, so its events always name it */
	if (!e->nmatch || c->effect > e->best ||
	    ((c->flags & AP_CLAUSE_F_SESSION_GUARD) && c->effect == e->best &&
	     e->rule != c->rule)) {
		e->best = c->effect;
		e->rule = c->rule;
		e->best_op = e->op;
	}
	e->nmatch++;
	if ((c->flags & AP_CLAUSE_F_SESSION_GUARD) && c->effect >= AP_EFFECT_BLOCK)
		e->guard = 1;
	return 0;
}

/* evaluate every clause of `op`; accumulates into e. Separately verified. */
__attribute__((noinline)) int ap_eval_op_g(struct ap_eval *e, int op, int which)
{
	struct ap_eval *l = ap_eval_scr();
	__u64 o = (__u32)op;
	__u32 n;

	/* one 64-bit register checked and used: 6.1 does not carry the
	 * bound over to a second zero-extension of op */
	barrier_var(o);
	if (!e || !l || o >= AP_OP__COUNT)
		return 0;
	n = cfg_op_count[o];
	if (!n)
		return 0;
	__builtin_memcpy(l, e, sizeof(*l));
	l->first = cfg_op_first[o];
	l->op = op;
	l->which = which;
	bpf_loop(n, ap_clause_step, NULL, 0);
	__builtin_memcpy(e, l, sizeof(*l));
	return l->nmatch;
}

static __always_inline void ap_eval_init(struct ap_eval *e, const struct ap_proc *p)
{
	__builtin_memset(e, 0, sizeof(*e));
	/* an overflowed session: every label seen in it (fail closed) */
	e->labels = ap_eff_labels(p);
	e->lineage = p->lineage;
	e->session = p->session;
}

/* ---- records ---- */
struct ap_prov_copy {
	__u64 bits;
	__u32 tgid;
	__u32 n;
};

static long ap_prov_copy_step(__u32 i, struct ap_prov_copy *c)
{
	struct ap_prov_key k = { .id = c->tgid, .kind = AP_OBJ_PROC, .label = i };
	struct ap_prov *p;
	struct ap_rec *r;
	__u32 zero = 0;

	if (!((c->bits >> i) & 1))
		return 0;
	if (c->n >= AP_REC_PROV_MAX)
		return 1;
	p = bpf_map_lookup_elem(&ap_prov, &k);
	r = bpf_map_lookup_elem(&ap_rec_scratch, &zero);
	if (!p || !r)
		return 0;
	__builtin_memcpy(&r->prov[c->n & (AP_REC_PROV_MAX - 1)], p, sizeof(*p));
	c->n++;
	return 0;
}

struct ap_emit {
	__u32 type;
	__u8 op;
	__u8 flags;
	struct ap_str t1;     /* target (or sockaddr when AP_REC_F_SOCKADDR) */
	struct ap_str t2;     /* exe / second path, optional */
	__u64 argv_start;     /* exec: user address of argv, 0 none */
	__u32 argv_len;
	__u16 argc;
	__u8 action;          /* nonzero: the action a hook that denied took
			       * (cgroup connect_unix), instead of the one
			       * the effect and the load flags imply */
	__u8 pad;
	__s32 exit_code;
};

#define AP_DATA_OFF_MASK (2 * AP_PATH_MAX - 1)

/* Put a record on the ring buffer; returns the action taken (e->nmatch 0:
 * not a match). Separately verified. */
__attribute__((noinline)) int ap_emit_g(struct ap_emit *m, struct ap_eval *e)
{
	__u32 zero = 0, off = 0, n, size;
	struct ap_rec *r = bpf_map_lookup_elem(&ap_rec_scratch, &zero);
	struct ap_scratch *s = ap_scr();
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	__u64 id = bpf_get_current_pid_tgid();
	struct ap_proc *p = ap_proc_of(id >> 32);
	__u8 action = AP_ACTION_REPORTED;

	if (!r || !s || !m || !e || !p)
		return action;
	/* the acting program, from the kernel: the process may be gone (or
	 * killed) before user space could read /proc/PID/exe. buf[1] is free
	 * whenever there is no second string. */
	if ((m->t2.err || !m->t2.len) && !(m->flags & AP_REC_F_TARGET2) &&
	    m->type != AP_REC_SESSION_END) {
		struct file *xf = BPF_CORE_READ(t, mm, exe_file);
		long x = xf ? ap_path_file_g((__u64)xf, 1) : -ENOENT;

		if (x >= 0)
			m->t2 = ap_str_unpack(x);
		s = ap_scr();
		if (!s)
			return action;
	}
	r->type = m->type;
	r->ts = bpf_ktime_get_boot_ns();
	r->pid = id >> 32;
	r->tid = (__u32)id;
	r->ppid = BPF_CORE_READ(t, real_parent, tgid);
	r->uid = (__u32)bpf_get_current_uid_gid();
	r->session = p->session;
	r->op = m->op;
	r->flags = m->flags;
	r->labels = ap_eff_labels(p);
	r->exit_code = m->exit_code;
	r->nprov = 0;
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	if (e->nmatch) {
		r->op = e->best_op;
		r->effect = e->best;
		r->rule = e->rule;
		r->mattered = e->mattered;
		__builtin_memcpy(r->rules, e->rules, sizeof(r->rules));
		if (cfg_flags & AP_CFG_F_AUDIT)
			action = AP_ACTION_AUDITED;
		else if (e->best == AP_EFFECT_KILL || e->guard ||
			 ((e->best == AP_EFFECT_BLOCK || e->best == AP_EFFECT_ASK) &&
			  (cfg_flags & AP_CFG_F_FALLBACK_KILL)))
			action = AP_ACTION_KILLED;
		if (e->mattered) {
			struct ap_prov_copy c = { .bits = e->mattered, .tgid = r->pid };

			bpf_loop(64, ap_prov_copy_step, &c, 0);
			r->nprov = c.n;
		}
	} else {
		r->effect = 0;
		r->rule = 0;
		r->mattered = 0;
		__builtin_memset(r->rules, 0, sizeof(r->rules));
	}
	if (m->action && !(cfg_flags & AP_CFG_F_AUDIT))
		action = m->action;
	r->action = action;
	if (action == AP_ACTION_KILLED)
		r->flags |= AP_REC_F_KILLED;

	/* data: target, argv, exe/target2 */
	n = 0;
	if (m->flags & AP_REC_F_SOCKADDR) {
		n = s->sa_len & 0x7f;
		bpf_probe_read_kernel(r->data, n, s->sa);
	} else if (!m->t1.err && m->t1.len && m->t1.off <= AP_SCR_STR_BYTES - AP_PATH_MAX) {
		n = m->t1.len & AP_OFF_MASK;
		bpf_probe_read_kernel(r->data, n, (char *)s + m->t1.off);
	}
	r->target_len = n;
	off = n;
	n = 0;
	if (m->argv_start && m->argv_len) {
		n = m->argv_len & AP_OFF_MASK;
		if (bpf_probe_read_user(r->data + (off & AP_DATA_OFF_MASK), n,
					(void *)m->argv_start))
			n = 0;
	}
	r->argv_len = n;
	r->argc = m->argc;
	off += n;
	n = 0;
	if (!m->t2.err && m->t2.len && m->t2.off <= AP_SCR_STR_BYTES - AP_PATH_MAX) {
		n = m->t2.len & AP_OFF_MASK;
		bpf_probe_read_kernel(r->data + (off & AP_DATA_OFF_MASK), n,
				      (char *)s + m->t2.off);
	}
	r->exe_len = n;
	off += n;
	size = __builtin_offsetof(struct ap_rec, data) + off;
	if (size > sizeof(*r))
		size = sizeof(*r);
	r->size = size;
	if (bpf_ringbuf_output(&ap_events, r, size, 0))
		ap_count(AP_CNT_RINGBUF_DROPS);
	else
		ap_count(AP_CNT_EVENTS);
	return action;
}

/* After an op's flow and evaluation: report, and kill when the effect says */
static __always_inline void ap_conclude(struct ap_emit *m, struct ap_eval *e)
{
	int action;

	if (e->nmatch) {
		ap_count(AP_CNT_MATCHES);
		m->type = AP_REC_VIOLATION;
		action = ap_emit_g(m, e);
		if (action == AP_ACTION_KILLED)
			bpf_send_signal(AP_SIGKILL);
	} else if (cfg_flags & AP_CFG_F_OBSERVE) {
		m->type = AP_REC_OBSERVE;
		ap_emit_g(m, e);
	}
}

/* an operation whose target could not be built: reported, never allowed
 * silently (the counter says how many) */
static __always_inline void ap_unresolved(__u8 op)
{
	struct ap_emit m = { .type = AP_REC_UNRESOLVED, .op = op };
	struct ap_eval e = {};

	m.t1.err = -ENOENT;
	m.t2.err = -ENOENT;
	ap_emit_g(&m, &e);
}

#endif
