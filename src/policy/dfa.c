// SPDX-License-Identifier: MIT
/*
 * Many globs -> one minimal DFA over byte classes.
 *
 * 1. Every glob is parsed into a token program (glob_int.h): a tiny NFA
 *    whose states are positions and whose epsilon moves only go forward.
 * 2. Byte classes: the coarsest partition of 0..255 that no token set
 *    splits, with NUL, '/', and the AP_DFA_PREFIX_* bytes alone.
 * 3. Subset construction over the union of the NFAs, with a hash set of
 *    NFA-state sets and hard limits on states and on the bytes those sets
 *    take, so a pathological policy fails fast with -E2BIG instead of
 *    consuming memory. A state's successors are built once per block of
 *    classes its members cannot tell apart, not once per class.
 * 4. Hopcroft refinement starting from "same accept set" to the minimal
 *    DFA (dfa_min.c).
 * 5. BFS renumbering from the start state in class order (dead = 0,
 *    start = 1), accept sets numbered by first appearance: the output is a
 *    pure function of the patterns and their order.
 * 6. Only when allowed (ap_dfa_builder__set_max_groups) and one automaton
 *    is too big: several automata over the same classes, concatenated into
 *    one table with their starts at 1..ngroups.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/dfa.h"
#include "policy/glob_int.h"

/* Limits on the unminimized automaton (the minimal one must then fit
 * AP_MAX_DFA_STATES): 4x the final limit, and the memory its NFA-state sets
 * and transition rows may take. */
#define BUILD_MAX_STATES (4u * AP_MAX_DFA_STATES)
#define BUILD_MAX_SET_WORDS (1u << 25)  /* 128 MiB of NFA state ids */
#define BUILD_MAX_TRANS (1u << 24)      /* 64 MiB of transitions */
/* When a too-big automaton can still be split into groups, give up on it
 * sooner: minimization removed a third of the states at most on the
 * benchmarks (bench/compile_dfa.c), and a premature "too big" only costs a
 * split, never a wrong answer. */
_Static_assert(BUILD_MAX_STATES <= AP_DFA_MIN_MAX_STATES,
	       "every unminimized automaton can be minimized");
#define SPLIT_MAX_STATES (AP_MAX_DFA_STATES + AP_MAX_DFA_STATES / 2)

struct pat {
	unsigned id;
	enum ap_pattern_kind kind;
	struct ap_gprog prog;
};

struct ap_dfa_builder {
	struct pat *pats;
	size_t npats, cap;
	unsigned max_groups;
};

struct ap_dfa_builder *ap_dfa_builder__new(void)
{
	return calloc(1, sizeof(struct ap_dfa_builder));
}

void ap_dfa_builder__free(struct ap_dfa_builder *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->npats; i++)
		free(b->pats[i].prog.tok);
	free(b->pats);
	free(b);
}

int ap_dfa_builder__add(struct ap_dfa_builder *b, unsigned id,
			enum ap_pattern_kind kind, const char *glob,
			const char **err, size_t *err_off)
{
	struct ap_gprog prog;
	int ret;

	if (id >= AP_MAX_PATTERNS || kind > AP_PAT_UNIX) {
		*err = id >= AP_MAX_PATTERNS ? "pattern id out of range"
					     : "unknown pattern kind";
		*err_off = 0;
		return -EINVAL;
	}
	ret = ap_glob__parse(kind, glob, true, &prog, err, err_off);
	if (ret)
		return ret;
	if (b->npats == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct pat *p = realloc(b->pats, cap * sizeof(*p));

		if (!p) {
			free(prog.tok);
			*err = "out of memory";
			return -ENOMEM;
		}
		b->pats = p;
		b->cap = cap;
	}
	b->pats[b->npats++] = (struct pat){ .id = id, .kind = kind, .prog = prog };
	return 0;
}

void ap_dfa__free(struct ap_dfa *d)
{
	if (!d)
		return;
	free(d->trans);
	free(d->accept);
	free(d->sets);
	free(d);
}

unsigned ap_dfa__run(const struct ap_dfa *d, const char *s, size_t n)
{
	unsigned st = AP_DFA_START;

	for (size_t i = 0; i < n && st != AP_DFA_DEAD; i++)
		st = d->trans[(size_t)st * d->nclasses +
			      d->classes[(unsigned char)s[i]]];
	return d->accept[st];
}

unsigned ap_dfa__match(const struct ap_dfa *d, enum ap_pattern_kind kind,
		       const char *s, size_t n)
{
	unsigned st = AP_DFA_START;

	if (kind == AP_PAT_ARG || kind == AP_PAT_UNIX) {
		unsigned char pfx = kind == AP_PAT_ARG ? AP_DFA_PREFIX_ARG
						       : AP_DFA_PREFIX_UNIX;

		st = d->trans[(size_t)st * d->nclasses + d->classes[pfx]];
	}
	for (size_t i = 0; i < n && st != AP_DFA_DEAD; i++)
		st = d->trans[(size_t)st * d->nclasses +
			      d->classes[(unsigned char)s[i]]];
	return d->accept[st];
}

/* ---- growable arrays ---- */

int ap_dfa__grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap ? *cap : 64;
	void *q;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	q = realloc(*p, c * elem);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

/* two words per multiply: the serial chain is what costs here */
static uint64_t hash_words(const uint32_t *w, size_t n, uint64_t h)
{
	size_t i = 0;

	for (; i + 1 < n; i += 2) {
		h ^= (uint64_t)w[i] | (uint64_t)w[i + 1] << 32;
		h *= 0x9e3779b97f4a7c15ull;
	}
	if (i < n)
		h = (h ^ w[i]) * 0x9e3779b97f4a7c15ull;
	h ^= n;
	return h ^ h >> 29 ^ h >> 41;
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ x >> 33;
}

/* ---- construction state ---- */

struct nfa {
	size_t n;           /* NFA states */
	uint32_t *pat;      /* pattern index of each state */
	uint8_t *flags;     /* NF_* */
	uint8_t *skip;      /* epsilon jump, 0 = none */
	uint32_t *mid;      /* id of the class mask of the token here */
	uint64_t *key;      /* random word per state: a set hashes to their sum */
	uint64_t (*mask)[4]; /* the distinct class masks, by id */
	size_t nmask;
	/* epsilon closure of each state, clon[g] members from clo[clooff[g]]
	 * (0: not kept, follow the moves) */
	uint32_t *clooff, *clo;
	uint8_t *clon;
	uint32_t *move;     /* where a byte of the token leads: g, or g + 1 */
};
#define NF_STAR   0x01
#define NF_ACCEPT 0x04

/* DFA states: NFA-state sets, stored unsorted (a set's hash is the sum of
 * its members' keys, so it needs no canonical order). */
struct subsets {
	uint32_t *words;    /* concatenated NFA-state sets */
	size_t nwords, capwords;
	uint32_t *off, *len;
	uint64_t *hash;
	uint8_t *is_start;
	size_t n, cap;
	/* open addressing, UINT64_MAX empty: the hash's high half above the
	 * state id, so a probe rejects most candidates without a cache miss */
	uint64_t *table;
	size_t tcap;
};

#define ACC_TABLE (2 * AP_MAX_ACCEPT_SETS)
_Static_assert((ACC_TABLE & (ACC_TABLE - 1)) == 0 && ACC_TABLE <= 65536,
	       "accept-set table: power of two, ids fit __u16");

struct build {
	const struct ap_dfa_builder *b;
	const struct pat *const *pats; /* this automaton's patterns */
	size_t npats;
	size_t max_states;  /* unminimized */
	struct nfa nfa;
	uint8_t cls[256];
	unsigned ncls;
	unsigned cls_arg, cls_unix;
	struct subsets ss;
	uint32_t *trans;    /* ss.n * ncls */
	size_t captrans;
	uint32_t *acc;      /* pre-minimization accept id per state */
	size_t capacc;
	struct ap_accept_set *sets;
	size_t nsets, capsets;
	uint16_t *acctab;   /* ACC_TABLE slots of set ids, 0 empty */
	uint32_t *stamp;    /* per NFA state: member of the set being built */
	uint32_t curstamp;
	uint32_t *mstamp;   /* per mask id: seen in the current state */
	uint32_t *mlist;    /* the current state's distinct mask ids */
	uint32_t *mhead;    /* per mask id: its first member in the state */
	uint32_t *mnext;    /* per member index: the next one of its mask */
	uint64_t cblk[256][4]; /* classes no member tells apart (successors()) */
	uint64_t allcls[4];
	uint32_t *tmp;      /* collected set, at most nfa.n members */
	size_t ntmp;
	uint64_t tmpsum;    /* sum of the collected members' keys */
};

/* Distinct byte (or class) sets by id: policies repeat a few token sets
 * (wildcards, '/', common letters) across thousands of tokens. */
struct settab {
	uint64_t (*set)[4];
	uint32_t *tab;      /* open addressing, UINT32_MAX empty */
	size_t n, tcap;
};

static int settab_init(struct settab *t, size_t max)
{
	t->n = 0;
	t->tcap = 64;
	while (t->tcap < 2 * max)
		t->tcap *= 2;
	t->set = malloc(max * sizeof(*t->set));
	t->tab = malloc(t->tcap * sizeof(*t->tab));
	if (!t->set || !t->tab)
		return -ENOMEM;
	memset(t->tab, 0xff, t->tcap * sizeof(*t->tab));
	return 0;
}

static void settab_free(struct settab *t)
{
	free(t->set);
	free(t->tab);
}

/* Id of s, a new one (== t->n - 1 on return) when not seen before; the
 * table was sized for every set that can come. */
static uint32_t settab_id(struct settab *t, const uint64_t s[4])
{
	uint64_t h = mix64(s[0] ^ mix64(s[1] ^ mix64(s[2] ^ mix64(s[3]))));
	size_t k;

	for (k = h & (t->tcap - 1); t->tab[k] != UINT32_MAX;
	     k = (k + 1) & (t->tcap - 1))
		if (!memcmp(t->set[t->tab[k]], s, sizeof(t->set[0])))
			return t->tab[k];
	memcpy(t->set[t->n], s, sizeof(t->set[0]));
	t->tab[k] = t->n;
	return t->n++;
}

static int compute_classes(struct build *B)
{
	const struct ap_dfa_builder *b = B->b;
	uint8_t cls[256], map[512];
	struct settab st;
	size_t ntok = 4;
	unsigned n = 1;
	int ret;

	for (size_t p = 0; p < b->npats; p++)
		ntok += b->pats[p].prog.ntok;
	ret = settab_init(&st, ntok);
	if (ret)
		goto cleanup;
	/* refine "all bytes equal" by every distinct token set and the fixed
	 * singletons (the coarsest partition does not depend on the order) */
	memset(cls, 0, sizeof(cls));
	for (size_t p = 0; p <= b->npats; p++) {
		ntok = p < b->npats ? b->pats[p].prog.ntok : 4;

		for (size_t t = 0; t < ntok; t++) {
			uint64_t single[4] = { 0 };
			const uint64_t *set = single;
			unsigned m = 0;

			if (p < b->npats) {
				set = b->pats[p].prog.tok[t].set;
			} else {
				static const unsigned char fixed[4] = {
					0, '/', AP_DFA_PREFIX_ARG, AP_DFA_PREFIX_UNIX
				};
				single[fixed[t] >> 6] = 1ull << (fixed[t] & 63);
			}
			if (settab_id(&st, set) != st.n - 1)
				continue;
			memset(map, 0xff, 2 * n);
			for (unsigned c = 0; c < 256; c++) {
				unsigned k = cls[c] * 2 + ap_gset_has(set, c);

				if (map[k] == 0xff)
					map[k] = m++;
				cls[c] = map[k];
			}
			n = m;
		}
	}
	/* canonical numbering: by the smallest byte of each class */
	memset(map, 0xff, 256);
	B->ncls = 0;
	for (unsigned c = 0; c < 256; c++) {
		if (map[cls[c]] == 0xff)
			map[cls[c]] = B->ncls++;
		B->cls[c] = map[cls[c]];
	}
	B->cls_arg = B->cls[(unsigned char)AP_DFA_PREFIX_ARG];
	B->cls_unix = B->cls[(unsigned char)AP_DFA_PREFIX_UNIX];
cleanup:
	settab_free(&st);
	return ret;
}

/* Add g and its epsilon closure to B->tmp, following the epsilon moves
 * (the closures too long to keep in nfa.clo). */
static void tmp_add_closure(struct build *B, uint32_t g)
{
	uint32_t first = g, last;

	/* a member already in the set brought its whole closure with it */
	if (B->stamp[g] == B->curstamp)
		return;
	for (;; g++) {
		if (B->stamp[g] != B->curstamp) {
			B->stamp[g] = B->curstamp;
			B->tmp[B->ntmp++] = g;
			B->tmpsum += B->nfa.key[g];
		}
		if (!(B->nfa.flags[g] & NF_STAR))
			break;
	}
	last = g;
	for (g = first; g <= last; g++)
		if (B->nfa.skip[g])
			tmp_add_closure(B, g + B->nfa.skip[g]);
}

static void tmp_reset(struct build *B)
{
	B->curstamp++;
	B->ntmp = 0;
	B->tmpsum = 0;
}

/* Closures are a few states each, but a glob of many directory groups
 * (a/ ** / ** / ** ...) has closures as long as itself: those stay
 * computed on the fly so the lists take at most CLO_MAX words a state. */
#define CLO_MAX 16

/* tmp_add_closure() that gives up (false) past CLO_MAX members, so that
 * the lists cost O(CLO_MAX) per state however long the closures get. */
static bool closure_capped(struct build *B, uint32_t g)
{
	uint32_t first = g, last;

	if (B->stamp[g] == B->curstamp)
		return true;
	for (;; g++) {
		if (B->stamp[g] != B->curstamp) {
			if (B->ntmp == CLO_MAX)
				return false;
			B->stamp[g] = B->curstamp;
			B->tmp[B->ntmp++] = g;
		}
		if (!(B->nfa.flags[g] & NF_STAR))
			break;
	}
	last = g;
	for (g = first; g <= last; g++)
		if (B->nfa.skip[g] && !closure_capped(B, g + B->nfa.skip[g]))
			return false;
	return true;
}

static int build_nfa(struct build *B)
{
	struct nfa *N = &B->nfa;
	struct settab st = { 0 };
	size_t g = 0, nclo = 0;
	int ret;

	for (size_t p = 0; p < B->npats; p++)
		N->n += B->pats[p]->prog.ntok + 1;
	ret = settab_init(&st, N->n + 1);
	if (ret)
		goto cleanup;
	ret = -ENOMEM;
	N->pat = calloc(N->n + 1, sizeof(*N->pat));
	N->flags = calloc(N->n + 1, sizeof(*N->flags));
	N->skip = calloc(N->n + 1, sizeof(*N->skip));
	N->mid = calloc(N->n + 1, sizeof(*N->mid));
	N->key = calloc(N->n + 1, sizeof(*N->key));
	N->mask = calloc(N->n + 1, sizeof(*N->mask));
	N->clooff = calloc(N->n + 1, sizeof(*N->clooff));
	N->move = calloc(N->n + 1, sizeof(*N->move));
	N->clon = calloc(N->n + 1, sizeof(*N->clon));
	N->clo = malloc((N->n + 1) * CLO_MAX * sizeof(*N->clo));
	B->stamp = calloc(N->n + 1, sizeof(*B->stamp));
	B->mstamp = calloc(N->n + 1, sizeof(*B->mstamp));
	B->mhead = calloc(N->n + 1, sizeof(*B->mhead));
	B->mlist = calloc(N->n + 1, sizeof(*B->mlist));
	B->mnext = calloc(N->n + 1, sizeof(*B->mnext));
	B->tmp = calloc(N->n + 1, sizeof(*B->tmp));
	if (!N->pat || !N->flags || !N->skip || !N->mid || !N->key ||
	    !N->mask || !N->clooff || !N->move || !N->clon || !N->clo || !B->stamp ||
	    !B->mstamp || !B->mhead || !B->mlist || !B->mnext || !B->tmp)
		goto cleanup;
	/* mask id 0: no byte (accepting positions, empty classes) */
	settab_id(&st, N->mask[0]);
	N->nmask = 1;
	for (size_t p = 0; p < B->npats; p++) {
		const struct ap_gprog *pr = &B->pats[p]->prog;

		for (size_t i = 0; i <= pr->ntok; i++, g++) {
			N->pat[g] = p;
			N->key[g] = mix64(g + 1);
			if (i == pr->ntok) {
				N->flags[g] = NF_ACCEPT;
				continue;
			}
			N->flags[g] = pr->tok[i].star ? NF_STAR : 0;
			N->move[g] = pr->tok[i].star ? g : g + 1;
			N->skip[g] = pr->tok[i].skip;
			/* token sets are unions of classes: one class mask per
			 * distinct byte set */
			N->mid[g] = settab_id(&st, pr->tok[i].set);
			if (N->mid[g] == N->nmask) {
				for (unsigned c = 0; c < 256; c++)
					if (ap_gset_has(pr->tok[i].set, c))
						N->mask[N->nmask][B->cls[c] >> 6] |=
							1ull << (B->cls[c] & 63);
				N->nmask++;
			}
		}
	}
	for (g = 0; g < N->n; g++) {
		tmp_reset(B);
		if (!closure_capped(B, g))
			continue;
		N->clooff[g] = nclo;
		N->clon[g] = B->ntmp;
		memcpy(N->clo + nclo, B->tmp, B->ntmp * sizeof(*B->tmp));
		nclo += B->ntmp;
	}
	ret = 0;
cleanup:
	settab_free(&st);
	return ret;
}

static uint64_t tmp_hash(const struct build *B, bool is_start)
{
	return mix64(B->tmpsum ^ mix64(B->ntmp * 2 + is_start));
}

#define SLOT(h, i) ((h) >> 32 << 32 | (i))

static int ss_rehash(struct subsets *ss, size_t tcap)
{
	uint64_t *t = malloc(tcap * sizeof(*t));

	if (!t)
		return -ENOMEM;
	memset(t, 0xff, tcap * sizeof(*t));
	for (size_t i = 0; i < ss->n; i++) {
		size_t k = ss->hash[i] & (tcap - 1);

		while (t[k] != UINT64_MAX)
			k = (k + 1) & (tcap - 1);
		t[k] = SLOT(ss->hash[i], i);
	}
	free(ss->table);
	ss->table = t;
	ss->tcap = tcap;
	return 0;
}

/* Find or add the set B->tmp; *id gets its DFA state number. Its members
 * carry the current stamp, so a candidate of the same size is the same set
 * when all of its members do. */
static int ss_intern(struct build *B, bool is_start, uint32_t *id)
{
	struct subsets *ss = &B->ss;
	uint64_t h = tmp_hash(B, is_start);
	size_t k;
	int ret;

	for (k = h & (ss->tcap - 1); ss->table[k] != UINT64_MAX;
	     k = (k + 1) & (ss->tcap - 1)) {
		uint32_t i = (uint32_t)ss->table[k], m;
		const uint32_t *w;

		if (ss->table[k] >> 32 != h >> 32 || ss->hash[i] != h ||
		    ss->len[i] != B->ntmp || ss->is_start[i] != is_start)
			continue;
		w = ss->words + ss->off[i];
		for (m = 0; m < B->ntmp; m++)
			if (B->stamp[w[m]] != B->curstamp)
				break;
		if (m == B->ntmp) {
			*id = i;
			return 0;
		}
	}
	if (ss->n >= B->max_states ||
	    ss->nwords + B->ntmp > BUILD_MAX_SET_WORDS ||
	    (ss->n + 1) * B->ncls > BUILD_MAX_TRANS)
		return -E2BIG;
	if (ap_dfa__grow((void **)&ss->words, &ss->capwords, ss->nwords + B->ntmp,
		 sizeof(*ss->words)))
		return -ENOMEM;
	if (ss->n == ss->cap) {
		size_t cap = ss->cap ? ss->cap * 2 : 256;
		uint32_t *o = realloc(ss->off, cap * sizeof(*o));
		uint64_t *hs;
		uint8_t *s;

		if (!o)
			return -ENOMEM;
		ss->off = o;
		if (!(o = realloc(ss->len, cap * sizeof(*o))))
			return -ENOMEM;
		ss->len = o;
		if (!(hs = realloc(ss->hash, cap * sizeof(*hs))))
			return -ENOMEM;
		ss->hash = hs;
		if (!(s = realloc(ss->is_start, cap)))
			return -ENOMEM;
		ss->is_start = s;
		ss->cap = cap;
	}
	memcpy(ss->words + ss->nwords, B->tmp, B->ntmp * sizeof(*B->tmp));
	ss->off[ss->n] = ss->nwords;
	ss->len[ss->n] = B->ntmp;
	ss->hash[ss->n] = h;
	ss->is_start[ss->n] = is_start;
	ss->nwords += B->ntmp;
	*id = ss->n++;
	ss->table[k] = SLOT(h, *id);
	if (ss->n * 2 > ss->tcap) {
		ret = ss_rehash(ss, ss->tcap * 2);
		if (ret)
			return ret;
	}
	return 0;
}

/* accept set of DFA state i -> pre-minimization id (0 = empty) */
static int intern_accept(struct build *B, uint32_t i, uint32_t *acc)
{
	const struct subsets *ss = &B->ss;
	struct ap_accept_set set = { 0 };
	bool any = false;
	uint64_t h;
	size_t k;

	for (uint32_t m = 0; m < ss->len[i]; m++) {
		uint32_t g = ss->words[ss->off[i] + m];

		if (B->nfa.flags[g] & NF_ACCEPT) {
			unsigned id = B->pats[B->nfa.pat[g]]->id;

			set.bits[id / 64] |= 1ull << (id % 64);
			any = true;
		}
	}
	if (!any) {
		*acc = 0;
		return 0;
	}
	/* the table holds at most AP_MAX_ACCEPT_SETS ids: never over half full */
	h = hash_words((const uint32_t *)set.bits, sizeof(set) / 4, 11);
	for (k = h & (ACC_TABLE - 1); B->acctab[k];
	     k = (k + 1) & (ACC_TABLE - 1))
		if (!memcmp(&B->sets[B->acctab[k]], &set, sizeof(set))) {
			*acc = B->acctab[k];
			return 0;
		}
	if (B->nsets >= AP_MAX_ACCEPT_SETS)
		return -E2BIG;
	if (ap_dfa__grow((void **)&B->sets, &B->capsets, B->nsets + 1, sizeof(set)))
		return -ENOMEM;
	B->sets[B->nsets] = set;
	B->acctab[k] = B->nsets;
	*acc = B->nsets++;
	return 0;
}

/* At the very start the prefix bytes only advance patterns of their own
 * kind: a path glob never matches an argv element or a socket name. */
static bool advances(const struct build *B, bool is_start, uint32_t m, unsigned c)
{
	if (!is_start || (c != B->cls_arg && c != B->cls_unix))
		return true;
	return (int)B->pats[B->nfa.pat[m]]->kind ==
	       (c == B->cls_arg ? AP_PAT_ARG : AP_PAT_UNIX);
}

/* Split every block of B->cblk[0..*nb) by mask m. */
static void refine_classes(struct build *B, unsigned *nb, const uint64_t m[4])
{
	if (B->ncls <= 64) {
		/* the usual case: one word */
		for (unsigned k = 0, n = *nb; k < n; k++) {
			uint64_t in = B->cblk[k][0] & m[0], out = B->cblk[k][0] & ~m[0];

			if (in && out) {
				B->cblk[k][0] = in;
				B->cblk[(*nb)++][0] = out;
			}
		}
		return;
	}
	for (unsigned k = 0, n = *nb; k < n; k++) {
		uint64_t *blk = B->cblk[k], in[4], out[4], any_in = 0, any_out = 0;

		for (int w = 0; w < 4; w++) {
			in[w] = blk[w] & m[w];
			out[w] = blk[w] & ~m[w];
			any_in |= in[w];
			any_out |= out[w];
		}
		if (any_in && any_out) {
			memcpy(blk, in, sizeof(in));
			memcpy(B->cblk[(*nb)++], out, sizeof(out));
		}
	}
}

static unsigned first_class(const uint64_t blk[4])
{
	int w = 0;

	while (!blk[w])
		w++;
	return w * 64 + __builtin_ctzll(blk[w]);
}

/* The transitions of DFA state i on every class. Classes on which every
 * member's token agrees lead to the same set, so the members' distinct
 * masks first split the classes into blocks (a handful, against tens of
 * classes) and each block's successor is built once. */
static int successors(struct build *B, uint32_t i)
{
	struct subsets *ss = &B->ss;
	const struct nfa *N = &B->nfa;
	uint32_t len = ss->len[i], off = ss->off[i], nm = 0, id;
	bool is_start = ss->is_start[i];
	unsigned nb = 1;
	int ret;

	memcpy(B->cblk[0], B->allcls, sizeof(B->allcls));
	if (is_start) {
		/* the prefix classes depend on the member's kind there */
		uint64_t single[4] = { 0 };

		single[B->cls_arg >> 6] = 1ull << (B->cls_arg & 63);
		refine_classes(B, &nb, single);
		memset(single, 0, sizeof(single));
		single[B->cls_unix >> 6] = 1ull << (B->cls_unix & 63);
		refine_classes(B, &nb, single);
	}
	/* members by mask id (mask 0 never moves) */
	B->curstamp++;
	for (uint32_t k = 0; k < len; k++) {
		uint32_t mid = N->mid[ss->words[off + k]];

		if (!mid)
			continue;
		if (B->mstamp[mid] != B->curstamp) {
			B->mstamp[mid] = B->curstamp;
			B->mlist[nm++] = mid;
			B->mhead[mid] = UINT32_MAX;
		}
		B->mnext[k] = B->mhead[mid];
		B->mhead[mid] = k;
	}
	for (uint32_t k = 0; k < nm; k++)
		refine_classes(B, &nb, N->mask[B->mlist[k]]);

	for (unsigned bk = 0; bk < nb; bk++) {
		unsigned c = first_class(B->cblk[bk]);
		/* locals: the stores to stamp[] would otherwise reload B */
		uint32_t cur = ++B->curstamp, *stamp = B->stamp, *tmp = B->tmp;
		const uint32_t *words = ss->words + off;
		size_t nt = 0;
		uint64_t sum = 0;
		uint32_t *row;

		for (uint32_t j = 0; j < nm; j++) {
			uint32_t mid = B->mlist[j];

			if (!ap_gset_has(N->mask[mid], c))
				continue;
			for (uint32_t k = B->mhead[mid]; k != UINT32_MAX; k = B->mnext[k]) {
				uint32_t m = words[k], t = N->move[m];

				/* t in the set brought its closure with it */
				if (stamp[t] == cur ||
				    (is_start && !advances(B, is_start, m, c)))
					continue;
				if (N->clon[t] == 1) {
					/* the usual literal: the closure is t */
					stamp[t] = cur;
					tmp[nt++] = t;
					sum += N->key[t];
					continue;
				}
				if (!N->clon[t]) {
					B->ntmp = nt;
					B->tmpsum = sum;
					tmp_add_closure(B, t);
					nt = B->ntmp;
					sum = B->tmpsum;
					continue;
				}
				for (uint32_t e = N->clooff[t], end = e + N->clon[t]; e < end; e++) {
					uint32_t g = N->clo[e];

					if (stamp[g] != cur) {
						stamp[g] = cur;
						tmp[nt++] = g;
						sum += N->key[g];
					}
				}
			}
		}
		B->ntmp = nt;
		B->tmpsum = sum;
		id = 0; /* the empty set is the dead state */
		if (B->ntmp) {
			ret = ss_intern(B, false, &id);
			if (ret)
				return ret;
		}
		row = B->trans + (size_t)i * B->ncls;
		for (int w = 0; w < 4; w++)
			for (uint64_t bits = B->cblk[bk][w]; bits; bits &= bits - 1)
				row[w * 64 + __builtin_ctzll(bits)] = id;
	}
	return 0;
}

static int subset_construction(struct build *B)
{
	struct subsets *ss = &B->ss;
	uint32_t id, g = 0;
	int ret;

	ret = ss_rehash(ss, 1024);
	if (ret)
		return ret;
	/* allocated up front so that the empty set copies from a real (if
	 * zero-length) buffer */
	if (ap_dfa__grow((void **)&ss->words, &ss->capwords, 1, sizeof(*ss->words)))
		return -ENOMEM;
	if (ap_dfa__grow((void **)&B->sets, &B->capsets, 1, sizeof(*B->sets)))
		return -ENOMEM;
	B->acctab = calloc(ACC_TABLE, sizeof(*B->acctab));
	if (!B->acctab)
		return -ENOMEM;
	memset(&B->sets[0], 0, sizeof(B->sets[0]));
	B->nsets = 1;

	/* state 0: the empty set (dead); state 1: the start */
	tmp_reset(B);
	ret = ss_intern(B, false, &id);
	if (ret)
		return ret;
	tmp_reset(B);
	for (size_t p = 0; p < B->npats; p++) {
		tmp_add_closure(B, g);
		g += B->pats[p]->prog.ntok + 1;
	}
	ret = ss_intern(B, true, &id);
	if (ret)
		return ret;

	for (uint32_t i = 0; i < ss->n; i++) {
		if (ap_dfa__grow((void **)&B->trans, &B->captrans,
			 (size_t)(i + 1) * B->ncls, sizeof(*B->trans)) ||
		    ap_dfa__grow((void **)&B->acc, &B->capacc, i + 1, sizeof(*B->acc)))
			return -ENOMEM;
		ret = intern_accept(B, i, &B->acc[i]);
		if (ret)
			return ret;
		ret = successors(B, i);
		if (ret)
			return ret;
	}
	return 0;
}

/* BFS renumbering from the start in class order; dead is 0, start 1. */
static int emit(struct build *B, const uint32_t *block, uint32_t nblocks,
		struct ap_dfa **out)
{
	size_t ncls = B->ncls;
	uint32_t *num = malloc(nblocks * sizeof(*num));
	uint32_t *rep = malloc(nblocks * sizeof(*rep));
	uint32_t *queue = malloc((nblocks + 1) * sizeof(*queue));
	uint32_t *accnum = malloc(B->nsets * sizeof(*accnum));
	uint32_t n = 0, head = 0, nacc = 1, dead = block[0];
	struct ap_dfa *d = NULL;
	int ret = -ENOMEM;

	if (!num || !rep || !queue || !accnum)
		goto cleanup;
	memset(num, 0xff, nblocks * sizeof(*num));
	memset(accnum, 0xff, B->nsets * sizeof(*accnum));
	accnum[0] = 0;
	for (size_t i = B->ss.n; i-- > 0;)
		rep[block[i]] = i;
	num[dead] = n++;
	/* the start gets 1 even when it is equivalent to dead (no pattern can
	 * match): the walker always begins at AP_DFA_START */
	queue[0] = block[1];
	if (block[1] != dead)
		num[block[1]] = n;
	n++;
	for (uint32_t qn = 1; head < qn; head++) {
		uint32_t r = rep[queue[head]];

		for (size_t c = 0; c < ncls; c++) {
			uint32_t to = block[B->trans[(size_t)r * ncls + c]];

			if (num[to] == UINT32_MAX) {
				num[to] = n++;
				queue[qn++] = to;
			}
		}
	}
	if (n > AP_MAX_DFA_STATES) {
		ret = -E2BIG;
		goto cleanup;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		goto cleanup;
	d->nstates = n;
	d->nclasses = ncls;
	d->ngroups = 1;
	memcpy(d->classes, B->cls, 256);
	d->trans = calloc((size_t)n * ncls, sizeof(*d->trans));
	d->accept = calloc(n, sizeof(*d->accept));
	d->sets = calloc(B->nsets, sizeof(*d->sets));
	if (!d->trans || !d->accept || !d->sets)
		goto cleanup;
	/* walk states in final order so accept ids follow it too */
	{
		uint32_t *byn = malloc(n * sizeof(*byn));

		if (!byn)
			goto cleanup;
		for (uint32_t k = 0; k < nblocks; k++)
			if (num[k] != UINT32_MAX)
				byn[num[k]] = k;
		byn[1] = block[1];
		for (uint32_t s = 0; s < n; s++) {
			uint32_t r = rep[byn[s]], a = B->acc[r];

			if (s == 1 && block[1] == dead) {
				/* trans and accept stay 0 */
				continue;
			}
			for (size_t c = 0; c < ncls; c++)
				d->trans[(size_t)s * ncls + c] =
					num[block[B->trans[(size_t)r * ncls + c]]];
			if (accnum[a] == UINT32_MAX) {
				accnum[a] = nacc;
				d->sets[nacc++] = B->sets[a];
			}
			d->accept[s] = accnum[a];
		}
		free(byn);
	}
	d->naccept = nacc;
	*out = d;
	d = NULL;
	ret = 0;
cleanup:
	ap_dfa__free(d);
	free(num);
	free(rep);
	free(queue);
	free(accnum);
	return ret;
}

/* One automaton for `npats` of the builder's patterns, over the classes
 * of all of them. */
static int build_one(const struct build *classes, const struct pat *const *pats,
		     size_t npats, bool can_split, struct ap_dfa **out)
{
	struct build B = { .b = classes->b, .pats = pats, .npats = npats,
			   .max_states = can_split ? SPLIT_MAX_STATES
						   : BUILD_MAX_STATES };
	uint32_t *block = NULL, nblocks = 0;
	int ret;

	*out = NULL;
	memcpy(B.cls, classes->cls, sizeof(B.cls));
	B.ncls = classes->ncls;
	B.cls_arg = classes->cls_arg;
	B.cls_unix = classes->cls_unix;
	for (unsigned c = 0; c < B.ncls; c++)
		B.allcls[c >> 6] |= 1ull << (c & 63);
	ret = build_nfa(&B);
	if (ret)
		goto cleanup;
	ret = subset_construction(&B);
	if (ret)
		goto cleanup;
	block = malloc(B.ss.n * sizeof(*block));
	if (!block) {
		ret = -ENOMEM;
		goto cleanup;
	}
	/* the NFA-state sets are done with: their buffer (pages already
	 * touched, which saves a sizeable share of the build's page faults)
	 * goes to the minimizer */
	ret = ap_dfa__minimize(B.trans, B.ss.n, B.ncls, B.acc, B.nsets,
			       (void **)&B.ss.words, block, &nblocks);
	if (ret)
		goto cleanup;
	ret = emit(&B, block, nblocks, out);
cleanup:
	free(block);
	free(B.nfa.pat);
	free(B.nfa.flags);
	free(B.nfa.skip);
	free(B.nfa.mid);
	free(B.nfa.key);
	free(B.nfa.mask);
	free(B.nfa.clooff);
	free(B.nfa.move);
	free(B.nfa.clon);
	free(B.nfa.clo);
	free(B.stamp);
	free(B.mstamp);
	free(B.mlist);
	free(B.mhead);
	free(B.mnext);
	free(B.tmp);
	free(B.ss.words);
	free(B.ss.off);
	free(B.ss.len);
	free(B.ss.hash);
	free(B.ss.is_start);
	free(B.ss.table);
	free(B.trans);
	free(B.acc);
	free(B.sets);
	free(B.acctab);
	return ret;
}

int ap_dfa_builder__set_max_groups(struct ap_dfa_builder *b, unsigned n)
{
	if (n < 1 || n > AP_DFA_MAX_GROUPS)
		return -EINVAL;
	b->max_groups = n;
	return 0;
}

/* Concatenate group automata (same classes): dead 0, the starts 1..G, then
 * each group's other states in group order; accept ids likewise. */
static int merge_groups(struct ap_dfa *const *g, unsigned ng, struct ap_dfa **out)
{
	uint32_t base[AP_DFA_MAX_GROUPS], abase[AP_DFA_MAX_GROUPS];
	uint32_t n = 1 + ng, na = 1, ncls = g[0]->nclasses;
	struct ap_dfa *d;

	for (unsigned k = 0; k < ng; k++) {
		base[k] = n;
		n += g[k]->nstates - 2;
		abase[k] = na;
		na += g[k]->naccept - 1;
	}
	if (n > AP_MAX_DFA_STATES || na > AP_MAX_ACCEPT_SETS)
		return -E2BIG;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->nstates = n;
	d->nclasses = ncls;
	d->naccept = na;
	d->ngroups = ng;
	memcpy(d->classes, g[0]->classes, sizeof(d->classes));
	d->trans = calloc((size_t)n * ncls, sizeof(*d->trans));
	d->accept = calloc(n, sizeof(*d->accept));
	d->sets = calloc(na, sizeof(*d->sets));
	if (!d->trans || !d->accept || !d->sets) {
		ap_dfa__free(d);
		return -ENOMEM;
	}
	for (unsigned k = 0; k < ng; k++) {
		const struct ap_dfa *s = g[k];

#define MAP(st) ((st) == 0 ? 0u : (st) == 1 ? 1u + k : base[k] + (st) - 2)
		for (uint32_t st = 1; st < s->nstates; st++) {
			uint32_t to = MAP(st);

			for (uint32_t c = 0; c < ncls; c++)
				d->trans[(size_t)to * ncls + c] =
					MAP(s->trans[(size_t)st * ncls + c]);
			d->accept[to] = s->accept[st] ? abase[k] + s->accept[st] - 1 : 0;
		}
#undef MAP
		memcpy(&d->sets[abase[k]], &s->sets[1],
		       (s->naccept - 1) * sizeof(*d->sets));
	}
	*out = d;
	return 0;
}

/* A path-kind glob that can start matching anywhere: "**" + "/x", "*x",
 * and "/" + "**" + "/x" (how base-name program globs are lowered). */
static bool unanchored(const struct pat *p)
{
	const struct ap_gtok *t = p->prog.tok;

	return p->kind < AP_PAT_ARG && p->prog.ntok &&
	       (t[0].star || (p->prog.ntok > 1 && t[1].star && t[1].skip));
}

int ap_dfa_builder__build(struct ap_dfa_builder *b, struct ap_dfa **out)
{
	struct build C = { .b = b };
	const struct pat **order = NULL;
	struct { size_t lo, hi; } grp[AP_DFA_MAX_GROUPS];
	struct ap_dfa *g[AP_DFA_MAX_GROUPS] = { 0 };
	unsigned ng = 0, max = b->max_groups ? b->max_groups : 1;
	size_t n = 0, nanch;
	int ret;

	*out = NULL;
	ret = compute_classes(&C);
	if (ret)
		return ret;
	order = malloc((b->npats + 1) * sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < b->npats; i++)
		order[i] = &b->pats[i];
	ret = build_one(&C, order, b->npats, max > 1, out);
	if (ret != -E2BIG || max == 1)
		goto cleanup;

	/* Too big as one automaton: the usual cause is the product of globs
	 * that match anywhere with the anchored ones, so those go apart
	 * first; a group still too big is halved while groups remain. The
	 * order is fixed by the patterns', so the result stays reproducible. */
	for (size_t i = 0; i < b->npats; i++)
		if (!unanchored(&b->pats[i]))
			order[n++] = &b->pats[i];
	if (n) {
		grp[ng].lo = 0;
		grp[ng++].hi = n;
	}
	nanch = n;
	for (size_t i = 0; i < b->npats; i++)
		if (unanchored(&b->pats[i]))
			order[n++] = &b->pats[i];
	if (n > nanch) {
		grp[ng].lo = nanch;
		grp[ng++].hi = n;
	}
	for (unsigned k = 0; k < ng;) {
		bool can_split = ng < max && grp[k].hi - grp[k].lo > 1;

		ret = build_one(&C, order + grp[k].lo, grp[k].hi - grp[k].lo,
				can_split, &g[k]);
		if (ret == -E2BIG && can_split) {
			memmove(&grp[k + 2], &grp[k + 1], (ng - k - 1) * sizeof(grp[0]));
			grp[k + 1].hi = grp[k].hi;
			grp[k].hi = grp[k + 1].lo = (grp[k].lo + grp[k].hi) / 2;
			ng++;
			continue;
		}
		if (ret)
			goto cleanup;
		k++;
	}
	ret = merge_groups(g, ng, out);
cleanup:
	for (unsigned k = 0; k < AP_DFA_MAX_GROUPS; k++)
		ap_dfa__free(g[k]);
	free(order);
	return ret;
}

unsigned ap_dfa__match_set(const struct ap_dfa *d, enum ap_pattern_kind kind,
			   const char *s, size_t n, struct ap_accept_set *out)
{
	unsigned any = 0;

	memset(out, 0, sizeof(*out));
	for (uint32_t k = 0; k < (d->ngroups ? d->ngroups : 1); k++) {
		unsigned st = AP_DFA_START + k;
		const struct ap_accept_set *set;

		if (kind == AP_PAT_ARG || kind == AP_PAT_UNIX)
			st = d->trans[(size_t)st * d->nclasses +
				      d->classes[kind == AP_PAT_ARG
						 ? AP_DFA_PREFIX_ARG
						 : AP_DFA_PREFIX_UNIX]];
		for (size_t i = 0; i < n && st != AP_DFA_DEAD; i++)
			st = d->trans[(size_t)st * d->nclasses +
				      d->classes[(unsigned char)s[i]]];
		if (!d->accept[st])
			continue;
		set = &d->sets[d->accept[st]];
		for (int w = 0; w < AP_PATTERN_WORDS; w++)
			out->bits[w] |= set->bits[w];
		any = 1;
	}
	return any;
}
