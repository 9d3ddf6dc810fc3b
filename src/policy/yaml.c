// SPDX-License-Identifier: MIT
/*
 * The YAML layer of a policy file, on libyaml's document API. Every node
 * keeps its mark; marks count characters, so they are turned into byte
 * offsets of the file (columns in diagnostics count bytes).
 *
 * DSL blocks and their positions:
 * - literal block scalars (`|`, `|-`, `|+`, `|2`): the text is libyaml's
 *   value, and DSL line i is file line (indicator line + 1 + i), starting at
 *   the column where that line's text begins (found by matching the value
 *   line against the end of the file line), so errors land exactly where
 *   the user typed.
 * - folded block scalars (`>`): folding would join lines with spaces and
 *   let a '#' comment swallow the lines folded into it. Newlines are mere
 *   whitespace in the DSL, so the block is read as if it were literal (the
 *   lines as written, indentation removed): same meaning, exact positions,
 *   and comments end where the user sees them end.
 * - plain and quoted scalars: the value as libyaml gives it. Line 0 maps to
 *   where the scalar starts (after the opening quote); a later line i maps
 *   to the start of file line (start + i). Escapes and folding inside a
 *   quoted scalar can shift columns; use a block scalar for exact positions.
 *
 * Schema choices beyond the contract:
 * - every mapping has a fixed key set: an unknown key is an error (with a
 *   suggestion or the list of valid keys), a key given twice too;
 * - a list field (run.seed, bind, disable, guard.allow) also takes one
 *   scalar, and an empty value means an empty list; a bind entry may be a
 *   plain rule name, meaning {rule: NAME, mode: default};
 * - `guard:` is `notify`, `enforce` (the default, said explicitly) or
 *   {allow: [ptrace|namespaces|cgroup|signal|files...]};
 * - form A must declare at least one rule; form B blocks may declare only
 *   sources (a label library) but such a block cannot be bound; form B
 *   without domains enforces every rule; `domains`/`default_domain` with
 *   form A, or `policy` with `rules`, are errors;
 * - a second YAML document in the file is an error, not ignored.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "front_int.h"

struct yctx {
	struct ap_policy *pol;
	struct ap_diags *d;
	yaml_document_t *doc;
	uint32_t si;
	const char *text;
	size_t len;
	uint32_t *ls;    /* byte offset of each line start (malloc) */
	uint32_t nls;
};

static const char *const top_keys[] = {
	"version", "policy", "rules", "default_domain", "domains", "run", "feedback", "guard",
};
enum { K_VERSION, K_POLICY, K_RULES, K_DEFAULT_DOMAIN, K_DOMAINS, K_RUN, K_FEEDBACK,
       K_GUARD, K__TOP };

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- positions ---- */

static size_t mark_off(const struct yctx *y, yaml_mark_t m)
{
	size_t off, line = m.line;

	if (!y->nls)
		return 0;
	if (line >= y->nls)
		return y->len;
	off = y->ls[line];
	if (line == 0 && y->len >= 3 && !memcmp(y->text, "\xef\xbb\xbf", 3))
		off = 3;
	for (size_t c = 0; c < m.column && off < y->len && y->text[off] != '\n'; c++) {
		off++;
		while (off < y->len && ((unsigned char)y->text[off] & 0xc0) == 0x80)
			off++;
	}
	return off;
}

static struct ap_span node_span(const struct yctx *y, const yaml_node_t *n)
{
	size_t a = mark_off(y, n->start_mark), b = mark_off(y, n->end_mark);

	/* a multi-line node is marked on its first line only */
	for (size_t i = a; i < b; i++)
		if (y->text[i] == '\n') {
			b = i;
			break;
		}
	while (b > a && (y->text[b - 1] == ' ' || y->text[b - 1] == '\r'))
		b--;
	return (struct ap_span){ y->si, (uint32_t)a, (uint32_t)(b - a) };
}

static yaml_node_t *node(const struct yctx *y, int idx)
{
	return yaml_document_get_node(y->doc, idx);
}

static const char *type_name(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE: return "a mapping";
	case YAML_SEQUENCE_NODE: return "a list";
	default: return "a scalar";
	}
}

static bool is_null(const yaml_node_t *n)
{
	const char *v;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)n->data.scalar.value;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL");
}

static const char *sval(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* A scalar that names something (a domain, a rule, a label): non-empty. */
static const char *name_value(struct yctx *y, const yaml_node_t *n, const char *what)
{
	struct ap_span sp = node_span(y, n);

	if (n->type != YAML_SCALAR_NODE) {
		ap_error_at(y->d, &sp, "%s must be a name, found %s", what, type_name(n));
		return NULL;
	}
	if (is_null(n) || !*sval(n)) {
		ap_error_at(y->d, &sp, "%s is empty", what);
		return NULL;
	}
	return ap_arena__strdup(y->pol->arena, sval(n));
}

/*
 * Walk a mapping whose keys are fixed: vals[i] gets the value of keys[i]
 * (NULL when absent), key_loc[i] its key's span. Unknown and duplicate keys
 * are errors; where ("" or " in domain 'x'") completes the messages.
 */
static bool walk_map(struct yctx *y, const yaml_node_t *map, const char *const *keys,
		     size_t nkeys, yaml_node_t **vals, struct ap_span *key_loc,
		     const char *where)
{
	bool ok = true;

	for (size_t i = 0; i < nkeys; i++)
		vals[i] = NULL;
	for (yaml_node_pair_t *pr = map->data.mapping.pairs.start;
	     pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(y, pr->key), *v = node(y, pr->value);
		struct ap_span ks;
		size_t i;

		if (!k || !v)
			continue;
		ks = node_span(y, k);
		if (k->type != YAML_SCALAR_NODE) {
			ap_error_at(y->d, &ks, "a key must be a name, found %s", type_name(k));
			ok = false;
			continue;
		}
		for (i = 0; i < nkeys; i++)
			if (!strcmp(sval(k), keys[i]))
				break;
		if (i == nkeys) {
			const char *s = ap_suggest(sval(k), keys, (unsigned)nkeys);

			if (s) {
				ap_error_at(y->d, &ks, "unknown key '%s'%s (did you mean '%s'?)",
					    sval(k), where, s);
			} else {
				char list[256] = "";
				size_t o = 0;

				for (size_t j = 0; j < nkeys && o < sizeof(list); j++)
					o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
							      j ? ", " : "", keys[j]);
				ap_error_at(y->d, &ks, "unknown key '%s'%s (expected %s)",
					    sval(k), where, list);
			}
			ok = false;
			continue;
		}
		if (vals[i]) {
			ap_error_at(y->d, &ks, "duplicate key '%s'%s", keys[i], where);
			ap_note_at(y->d, &key_loc[i], "first given here");
			ok = false;
			continue;
		}
		vals[i] = v;
		key_loc[i] = ks;
	}
	return ok;
}

static bool expect_type(struct yctx *y, const yaml_node_t *n, yaml_node_type_t t,
			const char *what)
{
	struct ap_span sp = node_span(y, n);

	if (n->type == t)
		return true;
	ap_error_at(y->d, &sp, "%s must be %s, found %s", what,
		    t == YAML_MAPPING_NODE ? "a mapping" : t == YAML_SEQUENCE_NODE ?
		    "a list" : "a scalar", type_name(n));
	return false;
}

/* Items of a list value; a single scalar counts as a one-item list and a
 * null value as an empty one. Returns the count, or -1 after an error. */
static int list_items(struct yctx *y, yaml_node_t *n, const char *what,
		      yaml_node_t ***items)
{
	int cnt = 0;

	if (is_null(n)) {
		*items = NULL;
		return 0;
	}
	if (n->type == YAML_SCALAR_NODE) {
		*items = ap_arena__alloc(y->pol->arena, sizeof(**items));
		(*items)[0] = n;
		return 1;
	}
	if (!expect_type(y, n, YAML_SEQUENCE_NODE, what))
		return -1;
	*items = ap_arena__alloc(y->pol->arena, sizeof(**items) *
				 (size_t)(n->data.sequence.items.top -
					  n->data.sequence.items.start + 1));
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		yaml_node_t *c = node(y, *it);

		if (c)
			(*items)[cnt++] = c;
	}
	return cnt;
}

/* ---- DSL blocks ---- */

static size_t line_len(const struct yctx *y, uint32_t line0)
{
	size_t s, e;

	if (line0 >= y->nls)
		return 0;
	s = y->ls[line0];
	e = s;
	while (e < y->len && y->text[e] != '\n')
		e++;
	if (e > s && y->text[e - 1] == '\r')
		e--;
	return e - s;
}

/* Indentation of a folded block: the explicit indicator, else the first
 * non-blank content line's leading spaces. */
static size_t block_indent(const struct yctx *y, const yaml_node_t *n, uint32_t first,
			   uint32_t last)
{
	size_t h = mark_off(y, n->start_mark) + 1;
	size_t parent_indent = 0, ind;

	/* header: >, then indentation digit and chomping in either order */
	for (int i = 0; i < 2 && h < y->len; i++, h++) {
		if (y->text[h] >= '1' && y->text[h] <= '9') {
			/* relative to the parent node's indentation: the column of
			 * the line that holds the indicator */
			size_t s = n->start_mark.line < y->nls ? y->ls[n->start_mark.line] : y->len;

			while (s < y->len && y->text[s] == ' ')
				s++, parent_indent++;
			return parent_indent + (size_t)(y->text[h] - '0');
		}
		if (y->text[h] != '-' && y->text[h] != '+')
			break;
	}
	for (uint32_t l = first; l <= last && l < y->nls; l++) {
		size_t s = y->ls[l], e = s + line_len(y, l);

		ind = 0;
		while (s + ind < e && y->text[s + ind] == ' ')
			ind++;
		if (s + ind < e)
			return ind;
	}
	return 1;
}

static int add_block(struct yctx *y, const yaml_node_t *n, const char *what)
{
	struct ap_arena *a = y->pol->arena;
	const char *text = (const char *)n->data.scalar.value;
	size_t len = n->data.scalar.length;
	uint32_t nlines = 1, *ml, *mc;
	struct ap_span sp = node_span(y, n);
	uint32_t first = (uint32_t)n->start_mark.line + 1; /* 0-based content line */

	if (n->type != YAML_SCALAR_NODE) {
		ap_error_at(y->d, &sp, "'%s' must be a DSL text (a block: '%s: |'), found %s",
			    what, what, type_name(n));
		return -1;
	}
	if (n->data.scalar.style == YAML_FOLDED_SCALAR_STYLE) {
		/* the scalar's lines: up to the end mark, whose line belongs to
		 * it only when the mark is not at its start */
		uint32_t end = (uint32_t)n->end_mark.line + (n->end_mark.column > 0);
		uint32_t last = end ? end - 1 : 0;
		size_t ind = block_indent(y, n, first, last);
		char *buf;
		size_t o = 0;

		if (last >= y->nls)
			last = y->nls ? y->nls - 1 : 0;
		if (end <= first)
			last = 0, first = 1; /* empty: no lines */
		/* the lines are a part of the file: its size bounds them */
		buf = ap_arena__alloc(a, y->len + 2);
		nlines = 0;
		for (uint32_t l = first; l <= last && l < y->nls; l++) {
			size_t s = y->ls[l], ll = line_len(y, l), k = 0;

			while (k < ll && k < ind && y->text[s + k] == ' ')
				k++;
			if (k < ind && k < ll)
				break; /* less indented: the block ended */
			if (nlines)
				buf[o++] = '\n';
			memcpy(buf + o, y->text + s + k, ll - k);
			o += ll - k;
			nlines++;
		}
		buf[o] = '\0';
		text = buf;
		len = o;
		if (!nlines)
			nlines = 1;
		ml = ap_arena__alloc(a, nlines * sizeof(*ml));
		mc = ap_arena__alloc(a, nlines * sizeof(*mc));
		for (uint32_t i = 0; i < nlines; i++) {
			ml[i] = first + i + 1;
			mc[i] = (uint32_t)ind;
		}
	} else {
		for (size_t i = 0; i < len; i++)
			nlines += text[i] == '\n';
		ml = ap_arena__alloc(a, nlines * sizeof(*ml));
		mc = ap_arena__alloc(a, nlines * sizeof(*mc));
		if (n->data.scalar.style == YAML_LITERAL_SCALAR_STYLE) {
			size_t off = 0;
			uint32_t fallback = 0;

			for (uint32_t i = 0; i < nlines; i++) {
				const char *nl = memchr(text + off, '\n', len - off);
				size_t dl = nl ? (size_t)(nl - text) - off : len - off;
				uint32_t l = first + i < y->nls ? first + i :
					     (y->nls ? y->nls - 1 : 0);
				size_t rl = line_len(y, l);

				ml[i] = l + 1;
				/* the value line is the file line minus indentation */
				if (dl && rl >= dl &&
				    !memcmp(y->text + y->ls[l] + rl - dl, text + off, dl)) {
					mc[i] = (uint32_t)(rl - dl);
					fallback = mc[i];
				} else {
					mc[i] = dl ? fallback : (uint32_t)(rl < fallback ? rl : fallback);
				}
				off += dl + 1;
			}
		} else {
			size_t start = mark_off(y, n->start_mark);
			uint32_t l0 = (uint32_t)n->start_mark.line;

			if (n->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
			    n->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE)
				start++;
			for (uint32_t i = 0; i < nlines; i++) {
				uint32_t l = l0 + i < y->nls ? l0 + i : (y->nls ? y->nls - 1 : 0);

				ml[i] = l + 1;
				mc[i] = i ? 0 : (uint32_t)(start - (l0 < y->nls ? y->ls[l0] : 0));
			}
		}
	}
	return (int)ap_policy__add_block(y->pol, y->si, text, len, ml, mc, nlines);
}

static bool dsl_block(struct yctx *y, const yaml_node_t *n, const char *what)
{
	int si = add_block(y, n, what);

	if (si < 0)
		return false;
	return ap_dsl_parse(y->pol, (unsigned)si, &y->pol->prog, y->d) == 0;
}

/* ---- sections ---- */

static void load_version(struct yctx *y, yaml_node_t *n)
{
	struct ap_span sp = node_span(y, n);
	char *end;
	long v;

	if (n->type != YAML_SCALAR_NODE || is_null(n)) {
		ap_error_at(y->d, &sp, "'version' must be 1, found %s",
			    is_null(n) ? "nothing" : type_name(n));
		return;
	}
	errno = 0;
	v = strtol(sval(n), &end, 10);
	if (errno || *end || end == sval(n)) {
		ap_error_at(y->d, &sp, "'version' must be 1, found '%s'", sval(n));
		return;
	}
	if (v != 1) {
		ap_error_at(y->d, &sp, "unsupported policy version %ld (only version 1 exists)",
			    v);
		return;
	}
	y->pol->version = 1;
}

static void load_rules(struct yctx *y, yaml_node_t *n)
{
	static const char *const keys[] = { "ifc", "policy" };
	size_t cap = 0;

	if (is_null(n) || (n->type == YAML_MAPPING_NODE &&
			   n->data.mapping.pairs.top == n->data.mapping.pairs.start)) {
		struct ap_span sp = node_span(y, n);

		ap_error_at(y->d, &sp, "'rules' is empty: add a named rule block "
			    "(NAME: {ifc: ...})");
		return;
	}
	if (!expect_type(y, n, YAML_MAPPING_NODE, "'rules'"))
		return;
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start;
	     pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(y, pr->key), *v = node(y, pr->value);
		yaml_node_t *vals[2];
		struct ap_span kl[2], ks;
		struct ap_rule_block b = { 0 };
		const char *where;
		bool keys_ok;

		if (!k || !v)
			continue;
		ks = node_span(y, k);
		b.name = name_value(y, k, "a rule block name");
		if (!b.name)
			continue;
		for (uint32_t i = 0; i < y->pol->nblocks; i++)
			if (!strcmp(y->pol->blocks[i].name, b.name)) {
				ap_error_at(y->d, &ks, "duplicate rule block '%s'", b.name);
				ap_note_at(y->d, &y->pol->blocks[i].loc, "first given here");
				b.name = NULL;
				break;
			}
		if (!b.name)
			continue;
		b.loc = ks;
		where = ap_arena__printf(y->pol->arena, " in rule block '%s'", b.name);
		if (is_null(v) || !expect_type(y, v, YAML_MAPPING_NODE,
					       ap_arena__printf(y->pol->arena,
								"rule block '%s'", b.name))) {
			if (is_null(v))
				ap_error_at(y->d, &ks, "rule block '%s' is empty: give it "
					    "'ifc: |' and the rule's DSL text", b.name);
			continue;
		}
		keys_ok = walk_map(y, v, keys, 2, vals, kl, where);
		b.first_rule = y->pol->prog.nrules;
		b.broken = true;
		if (vals[0] && vals[1]) {
			ap_error_at(y->d, &kl[1], "'policy' is a synonym of 'ifc'; give one "
				    "of them%s", where);
			ap_note_at(y->d, &kl[0], "'ifc' is here");
		} else if (!vals[0] && !vals[1]) {
			/* a misspelt key already said what is wrong */
			if (keys_ok)
				ap_error_at(y->d, &ks, "rule block '%s' has no 'ifc' (its DSL "
					    "text)", b.name);
		} else {
			int si = add_block(y, vals[0] ? vals[0] : vals[1],
					   vals[0] ? "ifc" : "policy");

			if (si >= 0) {
				b.src = (uint32_t)si;
				b.broken = false;
				ap_dsl_parse(y->pol, b.src, &y->pol->prog, y->d);
				b.nrules = y->pol->prog.nrules - b.first_rule;
			}
		}
		y->pol->blocks = ap_arena__grow(y->pol->arena, y->pol->blocks, sizeof(b),
						y->pol->nblocks, &cap, y->pol->nblocks + 1);
		y->pol->blocks[y->pol->nblocks++] = b;
	}
}

static void load_domain(struct yctx *y, struct ap_domain *dom, yaml_node_t *n)
{
	static const char *const keys[] = { "parent", "bind", "disable" };
	static const char *const bind_keys[] = { "rule", "mode" };
	static const char *const modes[] = { "default", "locked" };
	yaml_node_t *vals[3], **items;
	struct ap_span kl[3];
	const char *where = ap_arena__printf(y->pol->arena, " in domain '%s'", dom->name);
	int cnt;

	if (is_null(n))
		return;
	if (!expect_type(y, n, YAML_MAPPING_NODE,
			 ap_arena__printf(y->pol->arena, "domain '%s'", dom->name)))
		return;
	walk_map(y, n, keys, 3, vals, kl, where);
	if (vals[0]) {
		dom->parent = name_value(y, vals[0], "'parent'");
		dom->parent_loc = node_span(y, vals[0]);
	}
	if (vals[1] && (cnt = list_items(y, vals[1], "'bind'", &items)) > 0) {
		dom->binds = ap_arena__alloc(y->pol->arena, sizeof(*dom->binds) * (size_t)cnt);
		for (int i = 0; i < cnt; i++) {
			struct ap_bind *b = &dom->binds[dom->nbinds];
			yaml_node_t *bv[2];
			struct ap_span bl[2], isp = node_span(y, items[i]);

			if (items[i]->type == YAML_SCALAR_NODE) {
				/* shorthand: `- NAME` binds NAME with mode default */
				b->rule = name_value(y, items[i], "a bound rule");
				b->loc = isp;
				if (b->rule)
					dom->nbinds++;
				continue;
			}
			if (!expect_type(y, items[i], YAML_MAPPING_NODE, "a bind entry"))
				continue;
			walk_map(y, items[i], bind_keys, 2, bv, bl, " in a bind entry");
			if (!bv[0]) {
				ap_error_at(y->d, &isp, "a bind entry needs 'rule: NAME'");
				continue;
			}
			b->rule = name_value(y, bv[0], "'rule'");
			b->loc = node_span(y, bv[0]);
			if (!b->rule)
				continue;
			b->mode = AP_BIND_DEFAULT;
			if (bv[1]) {
				struct ap_span ms = node_span(y, bv[1]);

				if (bv[1]->type == YAML_SCALAR_NODE && !strcmp(sval(bv[1]), "locked")) {
					b->mode = AP_BIND_LOCKED;
				} else if (!(bv[1]->type == YAML_SCALAR_NODE &&
					     !strcmp(sval(bv[1]), "default"))) {
					const char *s = bv[1]->type == YAML_SCALAR_NODE ?
						ap_suggest(sval(bv[1]), modes, 2) : NULL;

					if (s)
						ap_error_at(y->d, &ms, "'mode' must be 'default' or "
							    "'locked', found '%s' (did you mean '%s'?)",
							    sval(bv[1]), s);
					else
						ap_error_at(y->d, &ms, "'mode' must be 'default' or "
							    "'locked', found %s%s%s",
							    bv[1]->type == YAML_SCALAR_NODE ? "'" : "",
							    bv[1]->type == YAML_SCALAR_NODE ?
							    sval(bv[1]) : type_name(bv[1]),
							    bv[1]->type == YAML_SCALAR_NODE ? "'" : "");
					/* keep the bind (as default) so the domain is not
					 * also reported empty */
				}
			}
			dom->nbinds++;
		}
	}
	if (vals[2] && (cnt = list_items(y, vals[2], "'disable'", &items)) > 0) {
		dom->disable = ap_arena__alloc(y->pol->arena, sizeof(*dom->disable) * (size_t)cnt);
		dom->disable_loc = ap_arena__alloc(y->pol->arena,
						   sizeof(*dom->disable_loc) * (size_t)cnt);
		for (int i = 0; i < cnt; i++) {
			const char *r = name_value(y, items[i], "a disabled rule");

			if (!r)
				continue;
			dom->disable_loc[dom->ndisable] = node_span(y, items[i]);
			dom->disable[dom->ndisable++] = r;
		}
	}
}

static void load_domains(struct yctx *y, yaml_node_t *n)
{
	if (is_null(n))
		return;
	if (!expect_type(y, n, YAML_MAPPING_NODE, "'domains'"))
		return;
	y->pol->domains = ap_arena__alloc(y->pol->arena, sizeof(*y->pol->domains) *
					  (size_t)(n->data.mapping.pairs.top -
						   n->data.mapping.pairs.start + 1));
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start;
	     pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(y, pr->key), *v = node(y, pr->value);
		struct ap_domain *dom = &y->pol->domains[y->pol->ndomains];
		struct ap_span ks;

		if (!k || !v)
			continue;
		ks = node_span(y, k);
		dom->name = name_value(y, k, "a domain name");
		if (!dom->name)
			continue;
		dom->loc = ks;
		for (uint32_t i = 0; i < y->pol->ndomains; i++)
			if (!strcmp(y->pol->domains[i].name, dom->name)) {
				ap_error_at(y->d, &ks, "duplicate domain '%s'", dom->name);
				ap_note_at(y->d, &y->pol->domains[i].loc, "first given here");
				dom->name = NULL;
				break;
			}
		if (!dom->name)
			continue;
		y->pol->ndomains++;
		load_domain(y, dom, v);
	}
}

static void load_run(struct yctx *y, yaml_node_t *n)
{
	static const char *const keys[] = { "seed" };
	yaml_node_t *vals[1], **items;
	struct ap_span kl[1];
	int cnt;

	if (is_null(n) || !expect_type(y, n, YAML_MAPPING_NODE, "'run'"))
		return;
	walk_map(y, n, keys, 1, vals, kl, " in 'run'");
	if (!vals[0])
		return;
	cnt = list_items(y, vals[0], "'seed'", &items);
	if (cnt < 0)
		return;
	y->pol->seed_given = true;
	y->pol->seed = ap_arena__alloc(y->pol->arena, sizeof(*y->pol->seed) * (size_t)(cnt + 1));
	y->pol->seed_loc = ap_arena__alloc(y->pol->arena,
					   sizeof(*y->pol->seed_loc) * (size_t)(cnt + 1));
	for (int i = 0; i < cnt; i++) {
		const char *l = name_value(y, items[i], "a seed label");

		if (!l)
			continue;
		y->pol->seed_loc[y->pol->nseed] = node_span(y, items[i]);
		y->pol->seed[y->pol->nseed++] = l;
	}
}

static void load_feedback(struct yctx *y, yaml_node_t *n)
{
	static const char *const keys[] = { "path" };
	yaml_node_t *vals[1];
	struct ap_span kl[1];

	if (is_null(n) || !expect_type(y, n, YAML_MAPPING_NODE, "'feedback'"))
		return;
	walk_map(y, n, keys, 1, vals, kl, " in 'feedback'");
	if (vals[0])
		y->pol->feedback_path = name_value(y, vals[0], "'path'");
}

static void load_guard(struct yctx *y, yaml_node_t *n)
{
	static const char *const keys[] = { "allow" };
	static const char *const items_names[] = {
#define X(e, s, v) s,
		AP_GUARD_ITEMS(X)
#undef X
	};
	static const uint32_t items_bits[] = {
#define X(e, s, v) v,
		AP_GUARD_ITEMS(X)
#undef X
	};
	struct ap_span sp = node_span(y, n);
	yaml_node_t *vals[1], **items;
	struct ap_span kl[1];
	int cnt;

	if (n->type == YAML_SCALAR_NODE) {
		if (!strcmp(sval(n), "notify")) {
			y->pol->guard = AP_GUARD_NOTIFY_ONLY;
		} else if (!strcmp(sval(n), "enforce")) {
			y->pol->guard = AP_GUARD_ENFORCE;
		} else {
			ap_error_at(y->d, &sp, "'guard' must be 'notify', 'enforce' or "
				    "{allow: [ITEM...]}, found '%s'", sval(n));
		}
		return;
	}
	if (!expect_type(y, n, YAML_MAPPING_NODE, "'guard'"))
		return;
	walk_map(y, n, keys, 1, vals, kl, " in 'guard'");
	if (!vals[0])
		return;
	cnt = list_items(y, vals[0], "'allow'", &items);
	for (int i = 0; i < cnt; i++) {
		struct ap_span is = node_span(y, items[i]);
		size_t j;

		if (!expect_type(y, items[i], YAML_SCALAR_NODE, "a guard item"))
			continue;
		for (j = 0; j < N(items_names); j++)
			if (!strcmp(sval(items[i]), items_names[j]))
				break;
		if (j < N(items_names)) {
			y->pol->guard_allow |= items_bits[j];
			continue;
		}
		{
			const char *s = ap_suggest(sval(items[i]), items_names,
						   (unsigned)N(items_names));

			if (s)
				ap_error_at(y->d, &is, "unknown guard item '%s' (did you mean '%s'?)",
					    sval(items[i]), s);
			else
				ap_error_at(y->d, &is, "unknown guard item '%s' (expected ptrace, "
					    "namespaces, cgroup, signal, files)", sval(items[i]));
		}
	}
}

static void load_root(struct yctx *y, yaml_node_t *root)
{
	yaml_node_t *v[K__TOP];
	struct ap_span kl[K__TOP];
	struct ap_span rs = node_span(y, root);
	unsigned errors0 = y->d->nerrors;

	if (root->type != YAML_MAPPING_NODE) {
		ap_error_at(y->d, &rs, "a policy file is a mapping ('version: 1' and "
			    "'policy:' or 'rules:'), found %s", type_name(root));
		return;
	}
	rs.len = 0;
	walk_map(y, root, top_keys, K__TOP, v, kl, "");
	if (v[K_VERSION])
		load_version(y, v[K_VERSION]);
	else
		ap_error_at(y->d, &rs, "missing 'version: 1'");

	if (v[K_POLICY] && v[K_RULES]) {
		ap_error_at(y->d, &kl[K_RULES], "'rules' cannot be combined with 'policy': "
			    "use one DSL block ('policy:') or named rule blocks ('rules:')");
		ap_note_at(y->d, &kl[K_POLICY], "'policy' is here");
	} else if (v[K_POLICY]) {
		if (v[K_DOMAINS]) {
			ap_error_at(y->d, &kl[K_DOMAINS], "'domains' needs named rule blocks "
				    "('rules:'); with 'policy:' every rule applies");
			ap_note_at(y->d, &kl[K_POLICY], "'policy' is here");
		}
		if (v[K_DEFAULT_DOMAIN]) {
			ap_error_at(y->d, &kl[K_DEFAULT_DOMAIN], "'default_domain' needs "
				    "named rule blocks ('rules:') and 'domains:'");
			ap_note_at(y->d, &kl[K_POLICY], "'policy' is here");
		}
		if (is_null(v[K_POLICY]))
			ap_error_at(y->d, &kl[K_POLICY], "'policy' is empty: give it a DSL "
				    "block ('policy: |' and rules below)");
		else if (dsl_block(y, v[K_POLICY], "policy") && !y->pol->prog.nrules)
			ap_error_at(y->d, &kl[K_POLICY], "'policy' declares no rule");
	} else if (v[K_RULES]) {
		y->pol->form_b = true;
		load_rules(y, v[K_RULES]);
		if (v[K_DOMAINS]) {
			y->pol->domains_loc = kl[K_DOMAINS];
			load_domains(y, v[K_DOMAINS]);
		}
		if (!y->pol->ndomains && !y->pol->prog.nrules && y->pol->nblocks &&
		    y->d->nerrors == errors0)
			ap_error_at(y->d, &kl[K_RULES], "the rule blocks declare no rule");
		if (v[K_DEFAULT_DOMAIN]) {
			y->pol->default_domain = name_value(y, v[K_DEFAULT_DOMAIN],
							    "'default_domain'");
			y->pol->default_domain_loc = node_span(y, v[K_DEFAULT_DOMAIN]);
		}
	} else {
		ap_error_at(y->d, &rs, "no rules: add 'policy: |' with DSL rules, or "
			    "named rule blocks under 'rules:'");
	}
	if (v[K_RUN])
		load_run(y, v[K_RUN]);
	if (v[K_FEEDBACK])
		load_feedback(y, v[K_FEEDBACK]);
	if (v[K_GUARD])
		load_guard(y, v[K_GUARD]);
}

static void yaml_problem(struct yctx *y, const yaml_parser_t *ps)
{
	struct ap_span sp = { y->si, (uint32_t)mark_off(y, ps->problem_mark), 1 };

	if (sp.off >= y->len)
		sp.len = 0;
	if (ps->context)
		ap_error_at(y->d, &sp, "invalid YAML: %s %s", ps->problem ? ps->problem :
			    "syntax error", ps->context);
	else
		ap_error_at(y->d, &sp, "invalid YAML: %s", ps->problem ? ps->problem :
			    "syntax error");
}

int ap_yaml__load(struct ap_policy *pol, unsigned yaml_src, struct ap_diags *diags)
{
	struct yctx y = { .pol = pol, .d = diags, .si = yaml_src };
	unsigned errors0 = diags->nerrors;
	yaml_parser_t ps;
	yaml_document_t doc, doc2;
	yaml_node_t *root;
	bool have_doc = false;
	int err = 0;

	y.text = pol->srcs[yaml_src].text;
	y.len = pol->srcs[yaml_src].len;
	y.ls = malloc(sizeof(*y.ls) * 16);
	if (!y.ls)
		return -ENOMEM;
	y.ls[y.nls++] = 0;
	for (size_t i = 0, cap = 16; i < y.len; i++) {
		if (y.text[i] != '\n')
			continue;
		if (y.nls == cap) {
			uint32_t *n = realloc(y.ls, sizeof(*y.ls) * cap * 2);

			if (!n) {
				err = -ENOMEM;
				goto cleanup;
			}
			y.ls = n;
			cap *= 2;
		}
		y.ls[y.nls++] = (uint32_t)i + 1;
	}

	if (!yaml_parser_initialize(&ps)) {
		err = -ENOMEM;
		goto cleanup;
	}
	yaml_parser_set_input_string(&ps, (const unsigned char *)y.text, y.len);
	if (!yaml_parser_load(&ps, &doc)) {
		yaml_problem(&y, &ps);
		yaml_parser_delete(&ps);
		err = -EINVAL;
		goto cleanup;
	}
	have_doc = true;
	y.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		struct ap_span sp = { yaml_src, 0, 0 };

		ap_error_at(diags, &sp, "empty policy file: expected 'version: 1' and "
			    "'policy:' or 'rules:'");
	} else {
		load_root(&y, root);
		/* a second document would be ignored silently: refuse it */
		if (!yaml_parser_load(&ps, &doc2)) {
			yaml_problem(&y, &ps);
		} else {
			if (yaml_document_get_root_node(&doc2)) {
				struct ap_span sp = { yaml_src,
					(uint32_t)mark_off(&y, doc2.start_mark), 3 };

				ap_error_at(diags, &sp, "a policy file holds one YAML document; "
					    "this is a second one");
			}
			yaml_document_delete(&doc2);
		}
	}
	yaml_parser_delete(&ps);
cleanup:
	if (have_doc)
		yaml_document_delete(&doc);
	free(y.ls);
	if (err)
		return err;
	return diags->nerrors > errors0 ? -EINVAL : 0;
}
