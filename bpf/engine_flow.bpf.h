/* SPDX-License-Identifier: Dual BSD/GPL */
/*
 * Label flow (policy-language.md section 4) and the per-session facts rules
 * test (lineage, gates, since events), with provenance: the first time an
 * object gains a label, where it came from is recorded; when labels flow
 * from one object to another the original record is copied, so a violation
 * names the read of the secret and not the last hop.
 */
#ifndef AP_ENGINE_FLOW_BPF_H
#define AP_ENGINE_FLOW_BPF_H

#include "engine_path.bpf.h"

#define AP_AF_UNIX  1
#define AP_AF_INET  2
#define AP_AF_INET6 10

/* which scratch set a check reads */
#define AP_SET1 0
#define AP_SET2 1

static __always_inline struct ap_accept_set *ap_set_sel(struct ap_scratch *s, int which)
{
	return which ? &s->set2 : &s->set;
}

/* ---- endpoints ---- */
struct ap_ep {
	__u16 family;
	__u16 port;    /* host order */
	__u32 pad;
	__u8 addr[16];
};

static __always_inline bool ap_ep_entry_match(const struct ap_endpoint *e,
					      const struct ap_ep *a,
					      struct ap_scratch *s)
{
	__u32 bits = e->prefix;

	if (e->family && e->family != a->family)
		return false;
	if (a->family == AP_AF_UNIX)
		return e->family == AP_AF_UNIX && ap_set_has(&s->set, e->unix_pattern);
	if (e->port && e->port != a->port)
		return false;
for (int k = 0; k < 16; k++) {
		__u8 m;

		if (bits == 0)
			break;
		m = bits >= 8 ? 0xff : (__u8)(0xff << (8 - bits));
		if ((e->addr[k] ^ a->addr[k]) & m)
			return false;
		bits = bits >= 8 ? bits - 8 : 0;
	}
	return true;
}

struct ap_ep_loop {
	struct ap_ep a;
	__u32 first;
	int hit;
};

static long ap_ep_step(__u32 i, struct ap_ep_loop *l)
{
	__u32 idx = l->first + i;
	struct ap_endpoint *e = bpf_map_lookup_elem(&ap_endpoints, &idx);
	struct ap_scratch *s = ap_scr();

	if (!e || !s)
		return 1;
	if (ap_ep_entry_match(e, &l->a, s)) {
		l->hit = 1;
		return 1;
	}
	return 0;
}

static __always_inline bool ap_ep_range(const struct ap_ep *a, __u32 first, __u32 count)
{
	struct ap_ep_loop l = { .first = first };

	if (!a->family || !count)
		return false;
	__builtin_memcpy(&l.a, a, sizeof(*a));
	bpf_loop(count > AP_MAX_ENDPOINTS ? AP_MAX_ENDPOINTS : count, ap_ep_step, &l, 0);
	return l.hit;
}

/* ---- provenance ---- */
struct ap_prov_loop {
	__u64 bits;
	struct ap_prov_key dst;
	struct ap_prov_key src;   /* kind 0: a fresh acquisition */
	__u32 toff, tlen;         /* target in the scratch */
	__u8 op;
	__u8 sockaddr;
};

static __always_inline long ap_prov_step_body(__u32 i, struct ap_prov_loop *c)
{
	struct ap_prov_key dk = c->dst, sk = c->src;
	struct ap_prov *p = NULL;
	struct ap_scratch *s;
	__u32 zero = 0;
	struct ap_rec *tmp;

	if (!((c->bits >> i) & 1))
		return 0;
	dk.label = i;
	if (sk.kind) {
		sk.label = i;
		p = bpf_map_lookup_elem(&ap_prov, &sk);
	}
	if (!p) {
		/* build the fresh record in the record scratch's first slot */
		tmp = bpf_map_lookup_elem(&ap_rec_scratch, &zero);
		s = ap_scr();
		if (!tmp || !s)
			return 1;
		p = &tmp->prov[0];
		p->ts = bpf_ktime_get_boot_ns();
		p->pid = ap_cur_tgid();
		p->op = c->op;
		p->label = i;
		p->flags = AP_PROV_F_VALID | (c->sockaddr ? AP_PROV_F_SOCKADDR : 0);
		bpf_get_current_comm(p->comm, sizeof(p->comm));
		{
			__u32 n = c->tlen, start = c->toff;

			if (n > AP_PROV_TARGET_MAX - 1) {
				start += n - (AP_PROV_TARGET_MAX - 1);
				n = AP_PROV_TARGET_MAX - 1;
				p->flags |= AP_PROV_F_TRUNCATED;
			}
			if (c->sockaddr) {
				n = s->sa_len & 0x7f;
				bpf_probe_read_kernel(p->target, n, s->sa);
			} else if (start < AP_SCR_STR_BYTES - AP_PROV_TARGET_MAX) {
				bpf_probe_read_kernel(p->target, n & 0xff, (char *)s + start);
			} else {
				n = 0;
			}
			p->target_len = n;
		}
	}
	if (bpf_map_update_elem(&ap_prov, &dk, p, BPF_NOEXIST) == -E2BIG)
		ap_count(AP_CNT_MAP_FULL);
	return 0;
}

static long ap_prov_step(__u32 i, struct ap_prov_loop *c)
{
	return ap_prov_step_body(i, c);
}

static __always_inline void ap_prov_record(__u64 bits, struct ap_prov_key *dst,
					   struct ap_prov_key *src, __u8 op,
					   __u32 toff, __u32 tlen, bool sockaddr)
{
	struct ap_prov_loop c = { .bits = bits, .op = op, .toff = toff,
				  .tlen = tlen, .sockaddr = sockaddr };

	if (!bits)
		return;
	c.dst = *dst;
	if (src)
		c.src = *src;
	bpf_loop(64, ap_prov_step, &c, 0);
}

static __always_inline void ap_session_seen(__u32 sid, __u64 bits)
{
	struct ap_session *ss = bpf_map_lookup_elem(&ap_sessions, &sid);

	if (ss)
		__sync_fetch_and_or(&ss->seen_labels, bits);
}

/* the file gains the process's labels. Separately verified. */
/* ap_file_gain_g's provenance loop state: in a map, not on its stack,
 * which on 6.1 adds up with the fd walk's and the program's (512 bytes) */
struct ap_fgain {
	struct ap_prov_loop c;
	struct ap_file_key key;
	struct ap_file nf;
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ap_fgain);
} ap_fgain_scratch SEC(".maps");

static long ap_fgain_prov_step(__u32 i, void *unused)
{
	__u32 zero = 0;
	struct ap_fgain *g = bpf_map_lookup_elem(&ap_fgain_scratch, &zero);

	if (!g)
		return 1;
	return ap_prov_step_body(i, &g->c);
}

__attribute__((noinline)) int ap_file_gain_g(struct ap_file_key *k, __u32 tgid)
{
	struct ap_proc *p = ap_proc_of(tgid);
	struct ap_fgain *g;
	struct ap_file *f;
	__u32 zero = 0;
	__u64 bits, fresh;

	if (!p || !k)
		return 0;
	bits = ap_eff_labels(p);
	if (!bits)
		return 0;
	g = bpf_map_lookup_elem(&ap_fgain_scratch, &zero);
	if (!g)
		return 0;
	g->key = *k;
	f = bpf_map_lookup_elem(&ap_files, &g->key);
	fresh = bits & ~(f ? f->labels : 0);
	if (!fresh)
		return 0;
	if (f) {
		__sync_fetch_and_or(&f->labels, fresh);
	} else {
		g->nf.labels = fresh;
		g->nf.ts = bpf_ktime_get_boot_ns();
		if (bpf_map_update_elem(&ap_files, &g->key, &g->nf, BPF_NOEXIST)) {
			f = bpf_map_lookup_elem(&ap_files, &g->key);
			if (!f) {
				/* the object's labels cannot be kept: fail closed */
				p = ap_proc_of(tgid);
				if (p)
					ap_overflow(p->session, AP_OVF_FILES);
				return 0;
			}
			__sync_fetch_and_or(&f->labels, fresh);
		}
	}
	g->c.bits = fresh;
	g->c.dst.id = g->key.ino;
	g->c.dst.dev = g->key.dev;
	g->c.dst.kind = AP_OBJ_FILE;
	g->c.dst.label = 0;
	g->c.dst.pad = 0;
	g->c.src.id = tgid;
	g->c.src.dev = 0;
	g->c.src.kind = AP_OBJ_PROC;
	g->c.src.label = 0;
	g->c.src.pad = 0;
	g->c.op = AP_OP_WRITE;
	g->c.toff = g->c.tlen = 0;
	g->c.sockaddr = 0;
	bpf_loop(64, ap_fgain_prov_step, NULL, 0);
	return 0;
}

/* ---- a process that gains a label passes it on (section 4) ----
 * to every object it holds open for writing (the fd table, walked up to
 * AP_FD_WALK_MAX descriptors: a larger table overflows the session) and to
 * every shared writable mapping it made (ap_shmaps, recorded at mmap by
 * engine_memflow.bpf.h), so data written later through an old descriptor,
 * by a system call the engine does not follow, or by a plain store into
 * shared memory carries the label. */
#define AP_FD_WALK_MAX 4096
#define AP_FMODE_WRITE_BIT 0x2

struct ap_fd_walk {
	__u64 fds;   /* struct file ** */
	__u32 max;
	__u32 tgid;
	struct ap_file_key k;
};

/* the process that gained a label in this program run (0: none): passed
 * on by ap_pass_on_g at the top level of the program, not from inside
 * ap_proc_gain_g, whose frame would not fit 6.1's 512-byte stack budget
 * together with the walk's */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ap_fd_walk);
} ap_pass_scratch SEC(".maps");

static long ap_fd_walk_step(__u32 i, void *unused)
{
	__u32 zero = 0;
	struct ap_fd_walk *w = bpf_map_lookup_elem(&ap_pass_scratch, &zero);
	struct file *f = NULL;
	struct inode *ino;

	if (!w || i >= w->max)
		return 1;
	if (bpf_probe_read_kernel(&f, sizeof(f), (void *)(w->fds + (__u64)i * 8)) || !f)
		return 0;
	if (!(BPF_CORE_READ(f, f_mode) & AP_FMODE_WRITE_BIT))
		return 0;
	ino = BPF_CORE_READ(f, f_inode);
	w->k.ino = BPF_CORE_READ(ino, i_ino);
	w->k.dev = BPF_CORE_READ(ino, i_sb, s_dev);
	w->k.pad = 0;
	ap_file_gain_g(&w->k, w->tgid);
	return 0;
}

static long ap_shmap_step(__u32 j, void *unused)
{
	__u32 zero = 0;
	struct ap_fd_walk *w = bpf_map_lookup_elem(&ap_pass_scratch, &zero);
	struct ap_shmap *sm;

	if (!w)
		return 1;
	sm = bpf_map_lookup_elem(&ap_shmaps, &w->tgid);
	if (!sm || j >= sm->n)
		return 1;
	w->k = sm->keys[j & (AP_SHMAP_MAX - 1)];
	ap_file_gain_g(&w->k, w->tgid);
	return 0;
}

/* Pass on what the current process gained in this program run (see
 * above). Called at the top level of every program that gains. Separately
 * verified. */
__attribute__((noinline)) int ap_pass_on_g(void)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt;
	struct ap_fd_walk *w;
	struct ap_proc *p;
	__u32 zero = 0, tgid = ap_cur_tgid(), max;

	w = bpf_map_lookup_elem(&ap_pass_scratch, &zero);
	if (!w || !w->tgid)
		return 0;
	if (w->tgid != tgid) {
		w->tgid = 0;
		return 0;
	}
	fdt = BPF_CORE_READ(t, files, fdt);
	if (fdt) {
		w->fds = (__u64)BPF_CORE_READ(fdt, fd);
		max = BPF_CORE_READ(fdt, max_fds);
		if (max > AP_FD_WALK_MAX) {
			p = ap_proc_of(tgid);
			if (p)
				ap_overflow(p->session, AP_OVF_FDS);
			max = AP_FD_WALK_MAX;
		}
		w->max = max;
		if (w->fds)
			bpf_loop(AP_FD_WALK_MAX, ap_fd_walk_step, NULL, 0);
	}
	bpf_loop(AP_SHMAP_MAX, ap_shmap_step, NULL, 0);
	w = bpf_map_lookup_elem(&ap_pass_scratch, &zero);
	if (w)
		w->tgid = 0;
	return 0;
}

/* remember that the current process gained: ap_pass_on_g passes it on */
static __always_inline void ap_pass_note(__u32 tgid)
{
	__u32 zero = 0;
	struct ap_fd_walk *w = bpf_map_lookup_elem(&ap_pass_scratch, &zero);

	if (w && tgid == ap_cur_tgid())
		w->tgid = tgid;
}

#define AP_GAIN_SOCKADDR 0x100 /* op_flags: the target is the scratch sockaddr */

/* Process tgid gains `bits`; src (kind 0: acquired here) names where they
 * come from; the target of a fresh acquisition is the packed scratch
 * string t. Separately verified. */
__attribute__((noinline)) int ap_proc_gain_g(__u32 tgid, __u64 bits,
					     struct ap_prov_key *src, int op_flags,
					     long t)
{
	struct ap_prov_key dk = { .id = tgid, .kind = AP_OBJ_PROC };
	struct ap_proc *p = ap_proc_of(tgid);
	struct ap_str ts = ap_str_unpack(t);
	__u64 fresh;

	if (!p || !src)
		return 0;
	fresh = bits & ~p->labels & ~p->declassified;
	if (!fresh)
		return 0;
	__sync_fetch_and_or(&p->labels, fresh);
	ap_session_seen(p->session, fresh);
	ap_prov_record(fresh, &dk, src->kind ? src : NULL, op_flags & 0xff,
		       ts.err ? 0 : ts.off, ts.err ? 0 : ts.len,
		       op_flags & AP_GAIN_SOCKADDR);
	ap_pass_note(tgid);
	return 0;
}

/* ---- sources ---- */
struct ap_src_loop {
	__u64 labels;
	struct ap_ep a;
	__u8 kind;
};

static __always_inline bool ap_args_ok(struct ap_scratch *s, const __u16 *args, __u8 nargs)
{
#pragma unroll
	for (int j = 0; j < AP_MAX_ARGS; j++) {
		if (j >= nargs)
			break;
		if (!ap_set_has(&s->argset, args[j]))
			return false;
	}
	return true;
}

static long ap_src_step(__u32 i, struct ap_src_loop *l)
{
	struct ap_source *src = bpf_map_lookup_elem(&ap_sources, &i);
	struct ap_scratch *s = ap_scr();
	bool hit;

	if (!src || !s)
		return 1;
	if (src->kind != l->kind)
		return 0;
	if (src->kind == AP_SRC_ENDPOINT)
		hit = ap_ep_range(&l->a, src->pattern, src->count);
	else
		hit = ap_set_has(&s->set, src->pattern);
	if (hit && src->kind == AP_SRC_EXEC)
		hit = ap_args_ok(s, src->args, src->nargs);
	if (hit)
		l->labels |= 1ULL << (src->label & 63);
	return 0;
}

/* labels of the sources of `kind` the current target (scratch set / ep)
 * matches. Separately verified. */
__attribute__((noinline)) __u64 ap_source_labels_g(int kind, struct ap_ep *a)
{
	struct ap_src_loop l = { .kind = kind };

	if (!cfg_nsources || !a)
		return 0;
	__builtin_memcpy(&l.a, a, sizeof(*a));
	bpf_loop(cfg_nsources, ap_src_step, &l, 0);
	return l.labels;
}

/* ---- since events: an op on a pattern makes gates stale ---- */
struct ap_since_loop {
	__u32 session;
	__u8 op;
	__u8 which;
	__u64 now;
};

static long ap_since_step(__u32 i, struct ap_since_loop *l)
{
	struct ap_since *e = bpf_map_lookup_elem(&ap_since, &i);
	struct ap_scratch *s = ap_scr();
	struct ap_session *ss;

	if (!e || !s)
		return 1;
	if (e->op != l->op || !ap_set_has(ap_set_sel(s, l->which), e->pattern))
		return 0;
	ss = bpf_map_lookup_elem(&ap_sessions, &l->session);
	if (ss)
		ss->since_ts[i & (AP_MAX_SINCE - 1)] = l->now;
	return 0;
}

__attribute__((noinline)) int ap_since_note_g(__u32 session, int op, int which)
{
	struct ap_since_loop l = { .session = session, .op = op, .which = which,
				   .now = bpf_ktime_get_boot_ns() };

	if (cfg_nsince)
		bpf_loop(cfg_nsince, ap_since_step, &l, 0);
	return 0;
}

/* ---- exec-time facts: lineage, gates, declassify/endorse ---- */
struct ap_exec_loop {
	__u64 lineage;
	__u64 gates_now;     /* gates without `passed`: hold from now */
	__u64 gates_pending; /* `passed` gates: hold when this process exits 0 */
	__u64 declassify;
	__u64 endorse;
};

static long ap_lineage_step(__u32 i, struct ap_exec_loop *l)
{
	struct ap_lineage *e = bpf_map_lookup_elem(&ap_lineage, &i);
	struct ap_scratch *s = ap_scr();

	if (!e || !s)
		return 1;
	if (ap_set_has(&s->set, e->program))
		l->lineage |= 1ULL << (i & 63);
	return 0;
}

static long ap_gate_step(__u32 i, struct ap_exec_loop *l)
{
	struct ap_gate *g = bpf_map_lookup_elem(&ap_gates, &i);
	struct ap_scratch *s = ap_scr();

	if (!g || !s)
		return 1;
	if (!ap_set_has(&s->set, g->program) || !ap_args_ok(s, g->args, g->nargs))
		return 0;
	if (g->passed)
		l->gates_pending |= 1ULL << (i & 63);
	else
		l->gates_now |= 1ULL << (i & 63);
	return 0;
}

static long ap_keep_step(__u32 i, struct ap_exec_loop *l)
{
	struct ap_keep *k = bpf_map_lookup_elem(&ap_keeps, &i);
	struct ap_scratch *s = ap_scr();

	if (!k || !s)
		return 1;
	if (!ap_set_has(&s->set, k->program))
		return 0;
	if (k->kind == AP_KEEP_DECLASSIFY)
		l->declassify |= 1ULL << (k->label & 63);
	else if (k->kind == AP_KEEP_ENDORSE)
		l->endorse |= 1ULL << (k->label & 63);
	return 0;
}

struct ap_gate_set {
	__u32 session;
	__u64 bits;
	__u64 ts;
};

static long ap_gate_set_step(__u32 i, struct ap_gate_set *g)
{
	struct ap_session *ss;

	if (!((g->bits >> i) & 1))
		return 0;
	ss = bpf_map_lookup_elem(&ap_sessions, &g->session);
	if (!ss)
		return 1;
	if (ss->gate_ts[i & (AP_MAX_GATES - 1)] < g->ts)
		ss->gate_ts[i & (AP_MAX_GATES - 1)] = g->ts;
	return 0;
}

/* mark the gates in `bits` as run at `ts` in the session */
static __always_inline void ap_gates_mark(__u32 session, __u64 bits, __u64 ts)
{
	struct ap_gate_set g = { .session = session, .bits = bits, .ts = ts };

	if (bits)
		bpf_loop(AP_MAX_GATES, ap_gate_set_step, &g, 0);
}

#endif
