// SPDX-License-Identifier: MIT
/*
 * The compiled blob: serialising struct ap_compiled (lower.h) and the
 * validating view over bytes from disk (blob.h). Layout in bpf/abi.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "blob.h"
#include "lower.h"
#include "../../bpf/dfa_abi.h"

/* ---- writer ---- */

struct strtab {
	char *buf;
	size_t len, cap;
	uint32_t *slots;         /* offset + 1, 0 = empty */
	size_t nslots, used;
};

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static int strtab_rehash(struct strtab *t)
{
	size_t n = t->nslots ? t->nslots * 2 : 256;
	uint32_t *s = calloc(n, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < t->nslots; i++) {
		size_t h;

		if (!t->slots[i])
			continue;
		h = hash_str(t->buf + t->slots[i] - 1) & (n - 1);
		while (s[h])
			h = (h + 1) & (n - 1);
		s[h] = t->slots[i];
	}
	free(t->slots);
	t->slots = s;
	t->nslots = n;
	return 0;
}

/* offset of s in the table, adding it once; (uint32_t)-1 on ENOMEM */
static uint32_t strtab_add(struct strtab *t, const char *s)
{
	size_t l = strlen(s), h;

	if (!s[0])
		return 0;
	if ((t->used + 1) * 2 > t->nslots && strtab_rehash(t))
		return (uint32_t)-1;
	h = hash_str(s) & (t->nslots - 1);
	while (t->slots[h]) {
		if (!strcmp(t->buf + t->slots[h] - 1, s))
			return t->slots[h] - 1;
		h = (h + 1) & (t->nslots - 1);
	}
	if (t->len + l + 1 > t->cap) {
		size_t nc = t->cap ? t->cap : 4096;
		char *nb;

		while (nc < t->len + l + 1)
			nc *= 2;
		nb = realloc(t->buf, nc);
		if (!nb)
			return (uint32_t)-1;
		t->buf = nb;
		t->cap = nc;
	}
	memcpy(t->buf + t->len, s, l + 1);
	t->slots[h] = (uint32_t)t->len + 1;
	t->used++;
	t->len += l + 1;
	return (uint32_t)(t->len - l - 1);
}

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

int ap_compiled__to_blob(const struct ap_compiled *c, void **buf, size_t *size)
{
	struct strtab st = { 0 };
	struct ap_blob_header h = { 0 };
	__u32 *labels = NULL;
	struct ap_rule_meta *meta = NULL;
	struct ap_pattern_meta *pats = NULL;
	const void *src[AP_SEC__COUNT] = { 0 };
	size_t len[AP_SEC__COUNT] = { 0 };
	uint32_t bad = (uint32_t)-1, root;
	char *out = NULL;
	size_t off;
	int err = -ENOMEM;

	*buf = NULL;
	*size = 0;
	if (!c || !c->dfa)
		return -EINVAL;
	/* offset 0 is "" */
	st.buf = calloc(1, 4096);
	if (!st.buf)
		goto cleanup;
	st.cap = 4096;
	st.len = 1;
	labels = calloc(c->nlabels + 1, sizeof(*labels));
	meta = calloc(c->nrules + 1, sizeof(*meta));
	pats = calloc(c->npatterns + 1, sizeof(*pats));
	if (!labels || !meta || !pats)
		goto cleanup;
	root = strtab_add(&st, c->root);
	if (root == bad)
		goto cleanup;
	for (uint32_t i = 0; i < c->nlabels; i++)
		if ((labels[i] = strtab_add(&st, c->labels[i].name)) == bad)
			goto cleanup;
	for (uint32_t i = 0; i < c->nrules; i++) {
		const struct ap_compiled_rule *r = &c->rule_info[i];

		meta[i].name = strtab_add(&st, r->name);
		meta[i].because = strtab_add(&st, r->because);
		if (meta[i].name == bad || meta[i].because == bad)
			goto cleanup;
		meta[i].line = r->line;
		meta[i].effect = (__u8)r->effect;
		meta[i].degraded = r->degraded;
		meta[i].nclauses = r->ast ? (__u16)r->ast->nclauses : 0;
	}
	for (uint32_t i = 0; i < c->npatterns; i++) {
		pats[i].text = strtab_add(&st, c->patterns[i].text);
		pats[i].lowered = strtab_add(&st, c->patterns[i].lowered);
		if (pats[i].text == bad || pats[i].lowered == bad)
			goto cleanup;
		pats[i].kind = (__u8)c->patterns[i].kind;
	}

#define SEC(id, ptr, bytes) (src[id] = (ptr), len[id] = (bytes))
	SEC(AP_SEC_STRINGS, st.buf, st.len);
	SEC(AP_SEC_LABELS, labels, c->nlabels * sizeof(*labels));
	SEC(AP_SEC_RULES, c->rules, c->nrules * sizeof(*c->rules));
	SEC(AP_SEC_RULE_META, meta, c->nrules * sizeof(*meta));
	SEC(AP_SEC_CLAUSES, c->clauses, c->nclauses * sizeof(*c->clauses));
	SEC(AP_SEC_CONDS, c->conds, c->nconds * sizeof(*c->conds));
	SEC(AP_SEC_GATES, c->gates, c->ngates * sizeof(*c->gates));
	SEC(AP_SEC_SINCE, c->since, c->nsince * sizeof(*c->since));
	SEC(AP_SEC_LINEAGE, c->lineage, c->nlineage * sizeof(*c->lineage));
	SEC(AP_SEC_SOURCES, c->sources, c->nsources * sizeof(*c->sources));
	SEC(AP_SEC_KEEPS, c->keeps, c->nkeeps * sizeof(*c->keeps));
	SEC(AP_SEC_ENDPOINTS, c->endpoints, c->nendpoints * sizeof(*c->endpoints));
	SEC(AP_SEC_PATTERNS, pats, c->npatterns * sizeof(*pats));
	SEC(AP_SEC_DFA_CLASSES, c->dfa->classes, 256);
	SEC(AP_SEC_DFA_TRANS, c->dfa->trans,
	    (size_t)c->dfa->nstates * c->dfa->nclasses * sizeof(__u16));
	SEC(AP_SEC_DFA_ACCEPT, c->dfa->accept, c->dfa->nstates * sizeof(__u16));
	SEC(AP_SEC_ACCEPT_SETS, c->dfa->sets,
	    c->dfa->naccept * sizeof(struct ap_accept_set));
#undef SEC

	off = sizeof(h);
	for (int s = 0; s < AP_SEC__COUNT; s++) {
		off = align8(off);
		h.sec[s].offset = (__u32)off;
		h.sec[s].size = (__u32)len[s];
		off += len[s];
	}
	off = align8(off);
	if (off > UINT32_MAX) {
		err = -E2BIG;
		goto cleanup;
	}
	h.magic = AP_BLOB_MAGIC;
	h.abi_version = AP_ABI_VERSION;
	h.header_size = sizeof(h);
	h.total_size = (__u32)off;
	h.flags = c->flags;
	memcpy(h.policy_sha256, c->sha256, sizeof(h.policy_sha256));
	h.seed_labels = c->seed_labels;
	h.declared_labels = c->declared_labels;
	h.nlabels = c->nlabels;
	h.nrules = c->nrules;
	h.nclauses = c->nclauses;
	h.nconds = c->nconds;
	h.ngates = c->ngates;
	h.nsince = c->nsince;
	h.nlineage = c->nlineage;
	h.nsources = c->nsources;
	h.nkeeps = c->nkeeps;
	h.nendpoints = c->nendpoints;
	h.npatterns = c->npatterns;
	h.ndfa_states = c->dfa->nstates;
	h.ndfa_classes = c->dfa->nclasses;
	h.naccept = c->dfa->naccept;
	h.guard_allow = c->guard_allow;
	h.root = root;

	out = calloc(1, off); /* zeroed: padding is deterministic */
	if (!out)
		goto cleanup;
	memcpy(out, &h, sizeof(h));
	for (int s = 0; s < AP_SEC__COUNT; s++)
		if (len[s])
			memcpy(out + h.sec[s].offset, src[s], len[s]);
	*buf = out;
	*size = off;
	out = NULL;
	err = 0;
cleanup:
	free(out);
	free(st.buf);
	free(st.slots);
	free(labels);
	free(meta);
	free(pats);
	return err;
}

/* ---- view ---- */

const char *ap_blob__str(const struct ap_blob_view *v, __u32 off)
{
	if (!v->strings || off >= v->strings_size)
		return "";
	return v->strings + off;
}

#define FAIL(msg) do { *why = (msg); return -EINVAL; } while (0)

static bool str_ok(const struct ap_blob_view *v, __u32 off)
{
	return off < v->strings_size;
}

/* an empty range is valid: a host name that did not resolve matches nothing */
static bool range_ok(__u32 first, __u32 count, __u32 n)
{
	return first <= n && count <= n - first;
}

static int check_tables(const struct ap_blob_view *v, const char **why)
{
	const struct ap_blob_header *h = v->hdr;
	__u64 since_all = h->nsince >= 64 ? ~0ull : (1ull << h->nsince) - 1;

	for (__u32 i = 0; i < h->nlabels; i++)
		if (!str_ok(v, v->labels[i]))
			FAIL("label name outside the string table");
	for (__u32 i = 0; i < h->nrules; i++) {
		const struct ap_rule_meta *m = &v->rule_meta[i];

		if (v->rules[i].effect >= AP_EFFECT__COUNT || m->effect >= AP_EFFECT__COUNT)
			FAIL("rule with an unknown effect");
		if (!str_ok(v, m->name) || !str_ok(v, m->because))
			FAIL("rule text outside the string table");
	}
	for (__u32 i = 0; i < h->nclauses; i++) {
		const struct ap_clause *k = &v->clauses[i];

		if (k->rule >= h->nrules || k->op >= AP_OP__POLICY_COUNT ||
		    k->effect >= AP_EFFECT__COUNT)
			FAIL("clause with an unknown rule, op or effect");
		if (k->require & k->forbid || (k->require | k->forbid) & ~h->declared_labels)
			FAIL("clause with undeclared or contradictory labels");
		if (k->target_kind == AP_TGT_PATTERN) {
			if (k->target >= h->npatterns)
				FAIL("clause target outside the pattern table");
		} else if (k->target_kind == AP_TGT_ENDPOINT) {
			if (!range_ok(k->target, k->target_count, h->nendpoints))
				FAIL("clause target outside the endpoint table");
		} else if (k->target_kind != AP_TGT_ANY) {
			FAIL("clause with an unknown target kind");
		}
		if (k->nargs > AP_MAX_ARGS || k->nunless > AP_MAX_UNLESS)
			FAIL("clause with too many arguments or conditions");
		if (k->flags & ~AP_CLAUSE_F_SESSION_GUARD)
			FAIL("clause with unknown flags");
		for (unsigned a = 0; a < k->nargs; a++)
			if (k->args[a] >= h->npatterns)
				FAIL("clause argument outside the pattern table");
		for (unsigned u = 0; u < k->nunless; u++)
			if (k->unless[u] >= h->nconds)
				FAIL("clause condition outside the condition table");
	}
	for (__u32 i = 0; i < h->nconds; i++) {
		const struct ap_cond *k = &v->conds[i];

		switch (k->kind) {
		case AP_COND_TARGET:
			if (k->target_kind == AP_TGT_PATTERN ? k->arg >= h->npatterns :
			    k->target_kind == AP_TGT_ENDPOINT ?
			    !range_ok(k->arg, k->count, h->nendpoints) : true)
				FAIL("target condition outside its table");
			break;
		case AP_COND_LINEAGE:
			if (k->arg >= h->nlineage)
				FAIL("lineage condition outside the lineage table");
			break;
		case AP_COND_AFTER:
			if (k->arg >= h->ngates)
				FAIL("after condition outside the gate table");
			break;
		default:
			FAIL("condition of an unknown kind");
		}
	}
	for (__u32 i = 0; i < h->ngates; i++) {
		const struct ap_gate *g = &v->gates[i];

		if (g->program >= h->npatterns || g->nargs > AP_MAX_ARGS ||
		    g->since_mask & ~since_all)
			FAIL("gate outside its tables");
		for (unsigned a = 0; a < g->nargs; a++)
			if (g->args[a] >= h->npatterns)
				FAIL("gate argument outside the pattern table");
	}
	for (__u32 i = 0; i < h->nsince; i++)
		if (v->since[i].pattern >= h->npatterns ||
		    v->since[i].op >= AP_OP__POLICY_COUNT)
			FAIL("since event outside its tables");
	for (__u32 i = 0; i < h->nlineage; i++)
		if (v->lineage[i].program >= h->npatterns)
			FAIL("lineage program outside the pattern table");
	for (__u32 i = 0; i < h->nsources; i++) {
		const struct ap_source *s = &v->sources[i];

		if (s->label >= h->nlabels || s->nargs > AP_MAX_ARGS)
			FAIL("source with an unknown label");
		if (s->kind == AP_SRC_ENDPOINT ? !range_ok(s->pattern, s->count, h->nendpoints) :
		    s->kind == AP_SRC_FILE || s->kind == AP_SRC_EXEC ?
		    s->pattern >= h->npatterns : true)
			FAIL("source outside its tables");
		for (unsigned a = 0; a < s->nargs; a++)
			if (s->args[a] >= h->npatterns)
				FAIL("source argument outside the pattern table");
	}
	for (__u32 i = 0; i < h->nkeeps; i++)
		if (v->keeps[i].label >= h->nlabels || v->keeps[i].program >= h->npatterns ||
		    (v->keeps[i].kind != AP_KEEP_DECLASSIFY &&
		     v->keeps[i].kind != AP_KEEP_ENDORSE))
			FAIL("declassify/endorse entry outside its tables");
	for (__u32 i = 0; i < h->nendpoints; i++) {
		const struct ap_endpoint *e = &v->endpoints[i];

		if (e->family == AF_UNIX ? e->unix_pattern >= h->npatterns :
		    e->family == AF_INET ? e->prefix > 32 :
		    e->family == AF_INET6 ? e->prefix > 128 : e->family != 0)
			FAIL("endpoint with an unknown family or prefix");
	}
	for (__u32 i = 0; i < h->npatterns; i++)
		if (!str_ok(v, v->patterns[i].text) || !str_ok(v, v->patterns[i].lowered) ||
		    v->patterns[i].kind > AP_PAT_UNIX)
			FAIL("pattern outside the string table");
	/* the automaton: every transition and accept id in range */
	for (unsigned b = 0; b < 256; b++)
		if (v->dfa_classes[b] >= h->ndfa_classes)
			FAIL("byte class out of range");
	for (size_t i = 0; i < (size_t)h->ndfa_states * h->ndfa_classes; i++)
		if (v->dfa_trans[i] >= h->ndfa_states)
			FAIL("transition to a state that does not exist");
	for (__u32 i = 0; i < h->ndfa_states; i++)
		if (v->dfa_accept[i] >= h->naccept)
			FAIL("accept set id out of range");
	for (__u32 i = 0; i < h->naccept; i++)
		for (unsigned w = 0; w < AP_PATTERN_WORDS; w++) {
			unsigned lo = w * 64;
			__u64 valid = h->npatterns <= lo ? 0 :
				      h->npatterns - lo >= 64 ? ~0ull :
				      (1ull << (h->npatterns - lo)) - 1;

			if (v->accept_sets[i].bits[w] & ~valid)
				FAIL("accept set names a pattern that does not exist");
		}
	return 0;
}

int ap_blob__view(const void *blob, size_t size, struct ap_blob_view *v,
		  const char **why)
{
	static const size_t elem[AP_SEC__COUNT] = {
		[AP_SEC_STRINGS] = 1, [AP_SEC_LABELS] = 4,
		[AP_SEC_RULES] = sizeof(struct ap_rule),
		[AP_SEC_RULE_META] = sizeof(struct ap_rule_meta),
		[AP_SEC_CLAUSES] = sizeof(struct ap_clause),
		[AP_SEC_CONDS] = sizeof(struct ap_cond),
		[AP_SEC_GATES] = sizeof(struct ap_gate),
		[AP_SEC_SINCE] = sizeof(struct ap_since),
		[AP_SEC_LINEAGE] = sizeof(struct ap_lineage),
		[AP_SEC_SOURCES] = sizeof(struct ap_source),
		[AP_SEC_KEEPS] = sizeof(struct ap_keep),
		[AP_SEC_ENDPOINTS] = sizeof(struct ap_endpoint),
		[AP_SEC_PATTERNS] = sizeof(struct ap_pattern_meta),
		[AP_SEC_DFA_CLASSES] = 1, [AP_SEC_DFA_TRANS] = 2,
		[AP_SEC_DFA_ACCEPT] = 2,
		[AP_SEC_ACCEPT_SETS] = sizeof(struct ap_accept_set),
	};
	const struct ap_blob_header *h = blob;
	const char *base = blob;
	size_t count[AP_SEC__COUNT];
	const char *dummy;

	if (!why)
		why = &dummy;
	memset(v, 0, sizeof(*v));
	if (!blob || size < sizeof(*h))
		FAIL("shorter than the blob header");
	if ((uintptr_t)blob % 8)
		FAIL("blob not 8-byte aligned in memory");
	if (h->magic != AP_BLOB_MAGIC)
		FAIL("not a compiled actplane policy (bad magic)");
	if (h->abi_version != AP_ABI_VERSION) {
		*why = "compiled for another policy ABI version";
		return -EPROTO;
	}
	if (h->header_size != sizeof(*h) || h->total_size != size)
		FAIL("header or total size does not match the file");
	if (h->nlabels > AP_MAX_LABELS || h->nrules > AP_MAX_RULES ||
	    h->nclauses > AP_MAX_CLAUSES || h->nconds > AP_MAX_CONDS ||
	    h->ngates > AP_MAX_GATES || h->nsince > AP_MAX_SINCE ||
	    h->nlineage > AP_MAX_LINEAGE || h->nsources > AP_MAX_SOURCES ||
	    h->nkeeps > AP_MAX_KEEPS || h->nendpoints > AP_MAX_ENDPOINTS ||
	    h->npatterns > AP_MAX_PATTERNS || h->ndfa_states < 2 ||
	    h->ndfa_states > AP_MAX_DFA_STATES || h->ndfa_classes < 1 ||
	    h->ndfa_classes > 256 || h->naccept < 1 || h->naccept > AP_MAX_ACCEPT_SETS)
		FAIL("a table count exceeds its limit");
	if (h->declared_labels != (h->nlabels >= 64 ? ~0ull : (1ull << h->nlabels) - 1) ||
	    h->seed_labels & ~h->declared_labels)
		FAIL("label masks do not match the label table");
	if (h->guard_allow & ~(__u32)AP_GUARD_ALL)
		FAIL("unknown session-guard items");
	if (h->flags & ~(__u32)(AP_BLOB_F_GUARD_NOTIFY | AP_BLOB_F_DFA_GROUPS_MASK) ||
	    AP_BLOB_DFA_GROUPS(h->flags) > AP_DFA_MAX_GROUPS ||
	    AP_BLOB_DFA_GROUPS(h->flags) + 1 > h->ndfa_states)
		FAIL("unknown flags or automaton groups");

	count[AP_SEC_STRINGS] = h->sec[AP_SEC_STRINGS].size;
	count[AP_SEC_LABELS] = h->nlabels;
	count[AP_SEC_RULES] = count[AP_SEC_RULE_META] = h->nrules;
	count[AP_SEC_CLAUSES] = h->nclauses;
	count[AP_SEC_CONDS] = h->nconds;
	count[AP_SEC_GATES] = h->ngates;
	count[AP_SEC_SINCE] = h->nsince;
	count[AP_SEC_LINEAGE] = h->nlineage;
	count[AP_SEC_SOURCES] = h->nsources;
	count[AP_SEC_KEEPS] = h->nkeeps;
	count[AP_SEC_ENDPOINTS] = h->nendpoints;
	count[AP_SEC_PATTERNS] = h->npatterns;
	count[AP_SEC_DFA_CLASSES] = 256;
	count[AP_SEC_DFA_TRANS] = (size_t)h->ndfa_states * h->ndfa_classes;
	count[AP_SEC_DFA_ACCEPT] = h->ndfa_states;
	count[AP_SEC_ACCEPT_SETS] = h->naccept;
	for (int s = 0; s < AP_SEC__COUNT; s++) {
		const struct ap_section_desc *d = &h->sec[s];

		if (d->offset % 8 || d->offset < sizeof(*h) || d->offset > size ||
		    d->size > size - d->offset)
			FAIL("a section lies outside the blob");
		if (d->size != count[s] * elem[s])
			FAIL("a section's size does not match its count");
	}
	v->hdr = h;
	v->strings = base + h->sec[AP_SEC_STRINGS].offset;
	v->strings_size = h->sec[AP_SEC_STRINGS].size;
	if (!v->strings_size || v->strings[0] || v->strings[v->strings_size - 1])
		FAIL("string table must start and end with NUL");
	if (!str_ok(v, h->root))
		FAIL("project root outside the string table");
#define P(field, id) v->field = (const void *)(base + h->sec[id].offset)
	P(labels, AP_SEC_LABELS);
	P(rules, AP_SEC_RULES);
	P(rule_meta, AP_SEC_RULE_META);
	P(clauses, AP_SEC_CLAUSES);
	P(conds, AP_SEC_CONDS);
	P(gates, AP_SEC_GATES);
	P(since, AP_SEC_SINCE);
	P(lineage, AP_SEC_LINEAGE);
	P(sources, AP_SEC_SOURCES);
	P(keeps, AP_SEC_KEEPS);
	P(endpoints, AP_SEC_ENDPOINTS);
	P(patterns, AP_SEC_PATTERNS);
	P(dfa_classes, AP_SEC_DFA_CLASSES);
	P(dfa_trans, AP_SEC_DFA_TRANS);
	P(dfa_accept, AP_SEC_DFA_ACCEPT);
	P(accept_sets, AP_SEC_ACCEPT_SETS);
#undef P
	if (check_tables(v, why)) {
		memset(v, 0, sizeof(*v));
		return -EINVAL;
	}
	return 0;
}
