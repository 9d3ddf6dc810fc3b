// SPDX-License-Identifier: MIT
#include "eval.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <bpf/bpf.h>

#include "policy/blob.h"

int ap_eval_ctx__init(struct ap_eval_ctx *c, const struct ap_blob_view *bv,
		      int procs_fd, int sessions_fd, int files_fd,
		      int inode_pats_fd, uint32_t session)
{
	const struct ap_blob_header *h = bv->hdr;

	memset(c, 0, sizeof(*c));
	if (!h->ndfa_states || !h->ndfa_classes || !bv->dfa_classes)
		return -EINVAL;
	c->bv = bv;
	c->dfa.nstates = h->ndfa_states;
	c->dfa.nclasses = h->ndfa_classes;
	memcpy(c->dfa.classes, bv->dfa_classes, 256);
	/* the DFA API is not const-correct; it never writes through these */
	c->dfa.trans = (uint16_t *)bv->dfa_trans;
	c->dfa.accept = (uint16_t *)bv->dfa_accept;
	c->dfa.naccept = h->naccept;
	c->dfa.sets = (struct ap_accept_set *)bv->accept_sets;
	c->dfa.ngroups = AP_BLOB_DFA_GROUPS(h->flags);
	c->procs_fd = procs_fd;
	c->sessions_fd = sessions_fd;
	c->files_fd = files_fd;
	c->inode_pats_fd = inode_pats_fd;
	c->session = session;
	return 0;
}

uint32_t ap_eval__kdev(dev_t d)
{
	return (uint32_t)((major(d) << 20) | minor(d));
}

void ap_eval__match_path(const struct ap_eval_ctx *c, const char *path,
			 struct ap_accept_set *out)
{
	memset(out, 0, sizeof(*out));
	if (path)
		ap_dfa__match_set(&c->dfa, AP_PAT_PATH, path, strlen(path), out);
}

static void set_or(struct ap_accept_set *d, const struct ap_accept_set *s)
{
	for (int k = 0; k < AP_PATTERN_WORDS; k++)
		d->bits[k] |= s->bits[k];
}

static bool set_has(const struct ap_accept_set *s, unsigned id)
{
	return id < AP_MAX_PATTERNS && ap_accept_set__has(s, id);
}

/* engine_flow.bpf.h ap_ep_entry_match */
static bool ep_entry_match(const struct ap_endpoint *e, const struct ap_eval_ep *a,
			   const struct ap_accept_set *unix_set)
{
	unsigned bits = e->prefix;

	if (e->family && e->family != a->family)
		return false;
	if (a->family == AF_UNIX)
		return e->family == AF_UNIX && set_has(unix_set, e->unix_pattern);
	if (e->port && e->port != a->port)
		return false;
	for (int k = 0; k < 16 && bits; k++) {
		uint8_t m = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));

		if ((e->addr[k] ^ a->addr[k]) & m)
			return false;
		bits = bits >= 8 ? bits - 8 : 0;
	}
	return true;
}

static bool ep_range(const struct ap_blob_view *bv, const struct ap_eval_ep *a,
		     const struct ap_accept_set *unix_set, unsigned first,
		     unsigned count)
{
	if (!a->family || !count)
		return false;
	for (unsigned i = 0; i < count && first + i < bv->hdr->nendpoints; i++)
		if (ep_entry_match(&bv->endpoints[first + i], a, unix_set))
			return true;
	return false;
}

struct ev_state {
	const struct ap_eval_ctx *c;
	const struct ap_eval_in *in;
	struct ap_accept_set set, set2, argset, unixset;
	struct ap_session ss;
	bool have_ss;
	uint64_t labels, lineage;
	uint64_t gates_now;       /* exec: gates this exec marks */
	uint64_t since_now;       /* since entries this op notes (stale after) */
};

static bool args_ok(const struct ev_state *s, const __u16 *args, unsigned n)
{
	for (unsigned j = 0; j < n && j < AP_MAX_ARGS; j++)
		if (!set_has(&s->argset, args[j]))
			return false;
	return true;
}

static bool gate_holds(const struct ev_state *s, unsigned gid)
{
	const struct ap_blob_view *bv = s->c->bv;
	const struct ap_gate *g;
	uint64_t ts, m;

	if (gid >= bv->hdr->ngates)
		return false;
	g = &bv->gates[gid];
	if (s->gates_now >> (gid & 63) & 1) {
		/* marked by this very exec, "now": stale only if a since
		 * event this op notes comes after it (the engine notes exec
		 * since-events after marking gates) */
		return !(g->since_mask & s->since_now);
	}
	if (!s->have_ss)
		return false;
	ts = s->ss.gate_ts[gid & (AP_MAX_GATES - 1)];
	if (!ts)
		return false;
	m = g->since_mask;
	for (int b = 0; b < AP_MAX_SINCE && m; b++, m >>= 1)
		if ((m & 1) && (s->ss.since_ts[b] > ts || (s->since_now >> b & 1)))
			return false;
	return true;
}

static bool target_ok(const struct ev_state *s, const struct ap_accept_set *set,
		      unsigned kind, unsigned target, unsigned count)
{
	if (kind == AP_TGT_ANY)
		return true;
	if (kind == AP_TGT_ENDPOINT)
		return ep_range(s->c->bv, &s->in->ep, &s->unixset, target, count);
	return set_has(set, target);
}

static bool cond_holds(const struct ev_state *s, const struct ap_accept_set *set,
		       unsigned id)
{
	const struct ap_cond *cd;
	bool h;

	if (id >= s->c->bv->hdr->nconds)
		return false;
	cd = &s->c->bv->conds[id];
	switch (cd->kind) {
	case AP_COND_TARGET:
		h = target_ok(s, set, cd->target_kind == AP_TGT_ENDPOINT ?
			      AP_TGT_ENDPOINT : AP_TGT_PATTERN, cd->arg, cd->count);
		return cd->negate ? !h : h;
	case AP_COND_LINEAGE:
		return s->lineage >> (cd->arg & 63) & 1;
	case AP_COND_AFTER:
		return gate_holds(s, cd->arg);
	}
	return false;
}

/* engine_eval.bpf.h ap_clause_step over every clause of `op` */
static void eval_op(const struct ev_state *s, enum ap_op op,
		    const struct ap_accept_set *set, struct ap_eval_out *o)
{
	const struct ap_blob_view *bv = s->c->bv;

	for (unsigned i = 0; i < bv->hdr->nclauses; i++) {
		const struct ap_clause *cl = &bv->clauses[i];
		unsigned rule, j;

		if (cl->op != op)
			continue;
		if ((s->labels & cl->require) != cl->require || (s->labels & cl->forbid))
			continue;
		if (!target_ok(s, set, cl->target_kind, cl->target, cl->target_count))
			continue;
		if (!args_ok(s, cl->args, cl->nargs))
			continue;
		for (j = 0; j < cl->nunless && j < AP_MAX_UNLESS; j++)
			if (cond_holds(s, set, cl->unless[j]))
				break;
		if (j < cl->nunless && j < AP_MAX_UNLESS)
			continue;
		rule = cl->rule & (AP_MAX_RULES - 1);
		o->rules[rule / 64] |= 1ull << (rule % 64);
		o->mattered |= cl->require;
		/* on a tie the built-in session-guard decides (as the
		 * engine does), so its events always name it */
		if (!o->nmatch || cl->effect > o->effect ||
		    ((cl->flags & AP_CLAUSE_F_SESSION_GUARD) &&
		     cl->effect == o->effect && o->rule != cl->rule)) {
			o->effect = cl->effect;
			o->rule = cl->rule;
			o->op = op;
		}
		o->nmatch++;
	}
}

/* sources of `kind` the target matches (engine_flow.bpf.h ap_src_step) */
static uint64_t source_labels(const struct ev_state *s, unsigned kind)
{
	const struct ap_blob_view *bv = s->c->bv;
	uint64_t l = 0;

	for (unsigned i = 0; i < bv->hdr->nsources; i++) {
		const struct ap_source *src = &bv->sources[i];
		bool hit;

		if (src->kind != kind)
			continue;
		if (kind == AP_SRC_ENDPOINT)
			hit = ep_range(bv, &s->in->ep, &s->unixset, src->pattern, src->count);
		else
			hit = set_has(&s->set, src->pattern);
		if (hit && kind == AP_SRC_EXEC)
			hit = args_ok(s, src->args, src->nargs);
		if (hit)
			l |= 1ull << (src->label & 63);
	}
	return l;
}

/* since entries an op on the set would note */
static uint64_t since_noted(const struct ev_state *s, enum ap_op op,
			    const struct ap_accept_set *set)
{
	const struct ap_blob_view *bv = s->c->bv;
	uint64_t m = 0;

	for (unsigned i = 0; i < bv->hdr->nsince && i < AP_MAX_SINCE; i++)
		if (bv->since[i].op == op && set_has(set, bv->since[i].pattern))
			m |= 1ull << i;
	return m;
}

static void exec_flow(struct ev_state *s)
{
	const struct ap_blob_view *bv = s->c->bv;
	uint64_t declassify = 0, endorse = 0;

	for (unsigned i = 0; i < bv->hdr->nlineage; i++)
		if (set_has(&s->set, bv->lineage[i].program))
			s->lineage |= 1ull << (i & 63);
	for (unsigned i = 0; i < bv->hdr->ngates; i++) {
		const struct ap_gate *g = &bv->gates[i];

		if (!g->passed && set_has(&s->set, g->program) &&
		    args_ok(s, g->args, g->nargs))
			s->gates_now |= 1ull << (i & 63);
	}
	for (unsigned i = 0; i < bv->hdr->nkeeps; i++) {
		const struct ap_keep *k = &bv->keeps[i];

		if (!set_has(&s->set, k->program))
			continue;
		if (k->kind == AP_KEEP_DECLASSIFY)
			declassify |= 1ull << (k->label & 63);
		else if (k->kind == AP_KEEP_ENDORSE)
			endorse |= 1ull << (k->label & 63);
	}
	s->labels |= source_labels(s, AP_SRC_EXEC) | endorse;
	s->labels &= ~declassify;
}

static uint64_t file_labels(const struct ev_state *s)
{
	struct ap_file_key k = { .ino = s->in->ino, .dev = s->in->dev };
	struct ap_file f;

	if (!s->in->has_ino || s->c->files_fd < 0)
		return 0;
	if (bpf_map_lookup_elem(s->c->files_fd, &k, &f))
		return 0;
	return f.labels;
}

/* the target's patterns: the path, the other names of the operation,
 * and every name the engine learned for the inode; the arguments' and a
 * Unix address's patterns */
static void fill_sets(struct ev_state *s)
{
	const struct ap_eval_ctx *c = s->c;
	const struct ap_eval_in *in = s->in;

	if (in->sets) {
		s->set = in->sets->set;
		s->set2 = in->sets->set2;
		s->argset = in->sets->argset;
		s->unixset = in->sets->unixset;
		return;
	}

	ap_eval__match_path(c, in->path, &s->set);
	for (int i = 0; i < 2; i++) {
		struct ap_accept_set t;

		if (!in->alt[i])
			continue;
		ap_eval__match_path(c, in->alt[i], &t);
		set_or(&s->set, &t);
	}
	if (in->has_ino && c->inode_pats_fd >= 0) {
		struct ap_file_key k = { .ino = in->ino, .dev = in->dev };
		struct ap_accept_set t;

		if (!bpf_map_lookup_elem(c->inode_pats_fd, &k, &t))
			set_or(&s->set, &t);
	}
	if (in->path2)
		ap_eval__match_path(c, in->path2, &s->set2);
	for (unsigned i = 1; i < in->argc && in->argv; i++) {
		struct ap_accept_set t;

		memset(&t, 0, sizeof(t));
		if (ap_dfa__match_set(&c->dfa, AP_PAT_ARG, in->argv[i],
				      strlen(in->argv[i]), &t))
			set_or(&s->argset, &t);
	}
	if (in->ep.family == AF_UNIX && in->ep.unix_path[0])
		ap_dfa__match_set(&c->dfa, AP_PAT_UNIX, in->ep.unix_path,
				  strlen(in->ep.unix_path), &s->unixset);
}

/* a clause of op whose target and arguments the operation meets (labels
 * and unless-conditions aside) */
static bool op_candidate(const struct ev_state *s, enum ap_op op,
			 const struct ap_accept_set *set)
{
	const struct ap_blob_view *bv = s->c->bv;

	for (unsigned i = 0; i < bv->hdr->nclauses; i++) {
		const struct ap_clause *cl = &bv->clauses[i];

		if (cl->op == op &&
		    target_ok(s, set, cl->target_kind, cl->target, cl->target_count) &&
		    args_ok(s, cl->args, cl->nargs))
			return true;
	}
	return false;
}

bool ap_eval__may_match(const struct ap_eval_ctx *c, const struct ap_eval_in *in,
			struct ap_eval_sets *sets)
{
	struct ev_state *s = calloc(1, sizeof(*s));
	bool r;

	if (!s)
		return true;
	s->c = c;
	s->in = in;
	fill_sets(s);
	switch (in->op) {
	case AP_OP_OPEN:
		r = op_candidate(s, AP_OP_OPEN, &s->set) ||
		    (in->rd && op_candidate(s, AP_OP_READ, &s->set)) ||
		    (in->wr && op_candidate(s, AP_OP_WRITE, &s->set));
		break;
	case AP_OP_RENAME:
		r = op_candidate(s, AP_OP_RENAME, &s->set) ||
		    (in->path2 && op_candidate(s, in->link ? AP_OP_WRITE : AP_OP_RENAME,
					       &s->set2));
		break;
	default:
		r = op_candidate(s, in->op, &s->set);
		break;
	}
	if (sets) {
		sets->set = s->set;
		sets->set2 = s->set2;
		sets->argset = s->argset;
		sets->unixset = s->unixset;
	}
	free(s);
	return r;
}

int ap_eval__op(const struct ap_eval_ctx *c, const struct ap_eval_in *in,
		struct ap_eval_out *o)
{
	struct ev_state *s;
	struct ap_proc p;
	uint32_t tgid = (uint32_t)in->tgid;

	memset(o, 0, sizeof(*o));
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->c = c;
	s->in = in;
	o->session = c->session;

	if (in->proc)
		p = *in->proc;
	if (in->proc || (c->procs_fd >= 0 && !bpf_map_lookup_elem(c->procs_fd, &tgid, &p))) {
		s->labels = p.labels;
		s->lineage = p.lineage;
		o->session = p.session;
		o->known = true;
	}
	/* the session's state: gates, and whether it overflowed */
	if (c->sessions_fd >= 0 &&
	    !bpf_map_lookup_elem(c->sessions_fd, &o->session, &s->ss))
		s->have_ss = true;
	if (!o->known && c->procs_fd >= 0)
		s->labels = s->have_ss ? s->ss.seen_labels : ~0ull; /* fail closed */
	/* an overflowed session: every process carries every label seen in
	 * it (bpf/engine_maps.bpf.h ap_eff_labels) */
	if (s->have_ss && (s->ss.flags & AP_SESSION_F_OVERFLOWED))
		s->labels |= s->ss.seen_labels;

	fill_sets(s);

	switch (in->op) {
	case AP_OP_EXEC:
		s->labels |= file_labels(s);
		exec_flow(s);
		s->since_now = since_noted(s, AP_OP_EXEC, &s->set);
		eval_op(s, AP_OP_EXEC, &s->set, o);
		break;
	case AP_OP_OPEN:
		if (in->rd)
			s->labels |= file_labels(s) | source_labels(s, AP_SRC_FILE);
		s->since_now = (in->rd ? since_noted(s, AP_OP_READ, &s->set) : 0) |
			       (in->wr ? since_noted(s, AP_OP_WRITE, &s->set) : 0);
		eval_op(s, AP_OP_OPEN, &s->set, o);
		if (in->rd)
			eval_op(s, AP_OP_READ, &s->set, o);
		if (in->wr)
			eval_op(s, AP_OP_WRITE, &s->set, o);
		break;
	case AP_OP_CONNECT:
		s->labels |= source_labels(s, AP_SRC_ENDPOINT);
		eval_op(s, AP_OP_CONNECT, &s->set, o);
		break;
	case AP_OP_UNLINK:
	case AP_OP_WRITE:
		s->since_now = since_noted(s, in->op, &s->set);
		eval_op(s, in->op, &s->set, o);
		break;
	case AP_OP_RENAME:
		if (in->link)
			s->since_now = since_noted(s, AP_OP_WRITE, &s->set2);
		eval_op(s, AP_OP_RENAME, &s->set, o);
		if (in->path2)
			eval_op(s, in->link ? AP_OP_WRITE : AP_OP_RENAME, &s->set2, o);
		break;
	default:
		eval_op(s, in->op, &s->set, o);
		break;
	}
	o->labels = s->labels;
	free(s);
	return 0;
}
