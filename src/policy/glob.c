// SPDX-License-Identifier: MIT
/*
 * Glob parsing into token programs (glob_int.h), the reference matcher the
 * automaton is tested against, and small glob queries.
 *
 * Decisions the contract leaves open (docs/rule-language.md repeats them):
 * - A run of two or more `*` is `**`. It is a whole component when it starts
 *   the glob or follows '/' and ends the glob or precedes '/'.
 *   `**` + '/' as a whole component is the optional group "any run ending in
 *   '/'": `a/` `**` `/b` matches `a/b`, `a/x/b`, `a/x/y/b`; a leading `**` + `/x`
 *   matches `x`, `/x` and `/d/x`.
 *   A trailing whole-component `**` matches one or more bytes: `/x/` `**`
 *   matches `/x/y` and `/x/y/z` but neither `/x` nor `/x/` (the engine never
 *   produces a trailing slash; `/x/` is not "below" `/x`).
 *   Any other `**` (`a**b`, `**.py`, `x/` `**y`) is a `*` that may cross '/'.
 * - For AP_PAT_ARG '/' is an ordinary byte: `*`, `?` and classes match it;
 *   `**` keeps its component meaning (so `**` + `/.env` matches `.env`).
 * - Classes: `[abc]`, `[a-z]`, `[!x]`, `[^x]`; `]` right after `[`, `[!` or
 *   `[^` is literal, `-` first or last is literal, `\` escapes inside too. No
 *   POSIX `[:alpha:]` classes. A reversed range (`[z-a]`) is an error. In
 *   path kinds a class never matches '/' (`[/]` can match nothing).
 * - Wildcards never match NUL: strings are C strings in the kernel.
 * - A path-kind glob never matches a string that starts with one of the
 *   AP_DFA_PREFIX_* bytes, so argv elements and socket names fed to the one
 *   automaton can never satisfy a path pattern (and the reference matcher
 *   agrees).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/glob_int.h"

struct tokbuf {
	struct ap_gtok *tok;
	size_t n, cap;
};

static struct ap_gtok *tok_push(struct tokbuf *b)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct ap_gtok *t = realloc(b->tok, cap * sizeof(*t));

		if (!t)
			return NULL;
		b->tok = t;
		b->cap = cap;
	}
	memset(&b->tok[b->n], 0, sizeof(b->tok[0]));
	return &b->tok[b->n++];
}

static void set_add(uint64_t set[4], unsigned c)
{
	set[c >> 6] |= 1ull << (c & 63);
}

static void set_del(uint64_t set[4], unsigned c)
{
	set[c >> 6] &= ~(1ull << (c & 63));
}

/* every byte but NUL, and but '/' for path kinds */
static void set_wild(uint64_t set[4], bool path)
{
	memset(set, 0xff, 4 * sizeof(set[0]));
	set_del(set, 0);
	if (path)
		set_del(set, '/');
}

static bool set_empty(const uint64_t set[4])
{
	return !(set[0] | set[1] | set[2] | set[3]);
}

/* Parse the class starting at glob[*i] == '['; on success *i is past ']'. */
static int parse_class(const char *glob, size_t *i, bool path, uint64_t set[4],
		       const char **err, size_t *err_off)
{
	size_t start = *i, j = *i + 1;
	bool neg = false, first = true;

	memset(set, 0, 4 * sizeof(set[0]));
	if (glob[j] == '!' || glob[j] == '^') {
		neg = true;
		j++;
	}
	for (;; first = false) {
		unsigned lo, hi;

		if (!glob[j]) {
			*err = "unterminated character class";
			*err_off = start;
			return -EINVAL;
		}
		if (glob[j] == ']' && !first)
			break;
		if (glob[j] == '\\') {
			if (!glob[j + 1]) {
				*err = "trailing backslash";
				*err_off = j;
				return -EINVAL;
			}
			j++;
		}
		lo = (unsigned char)glob[j++];
		hi = lo;
		if (glob[j] == '-' && glob[j + 1] && glob[j + 1] != ']') {
			size_t r = j;

			j++;
			if (glob[j] == '\\') {
				if (!glob[j + 1]) {
					*err = "trailing backslash";
					*err_off = j;
					return -EINVAL;
				}
				j++;
			}
			hi = (unsigned char)glob[j++];
			if (hi < lo) {
				*err = "reversed range in character class";
				*err_off = r - 1;
				return -EINVAL;
			}
		}
		for (unsigned c = lo; c <= hi; c++)
			set_add(set, c);
	}
	if (neg)
		for (int w = 0; w < 4; w++)
			set[w] = ~set[w];
	set_del(set, 0);
	if (path)
		set_del(set, '/');
	*i = j + 1;
	return 0;
}

int ap_glob__parse(enum ap_pattern_kind kind, const char *glob, bool prefixed,
		   struct ap_gprog *p, const char **err, size_t *err_off)
{
	bool path = kind != AP_PAT_ARG;
	struct tokbuf b = { 0 };
	struct ap_gtok *t;
	size_t i = 0;
	int ret = -ENOMEM;

	*err = NULL;
	*err_off = 0;
	if (prefixed && (kind == AP_PAT_ARG || kind == AP_PAT_UNIX)) {
		if (!(t = tok_push(&b)))
			goto cleanup;
		set_add(t->set, kind == AP_PAT_ARG ? (unsigned char)AP_DFA_PREFIX_ARG
						   : (unsigned char)AP_DFA_PREFIX_UNIX);
	}
	while (glob[i]) {
		unsigned char c = glob[i];

		if (c == '*') {
			size_t s = i, e = i;
			bool comp;

			while (glob[e] == '*')
				e++;
			i = e;
			if (e - s == 1) {
				if (!(t = tok_push(&b)))
					goto cleanup;
				set_wild(t->set, path);
				t->star = 1;
				continue;
			}
			comp = (s == 0 || glob[s - 1] == '/') &&
			       (glob[e] == '/' || !glob[e]);
			if (comp && glob[e] == '/') {
				/* nothing, or (any run, then '/') */
				if (!(t = tok_push(&b)))
					goto cleanup;
				t->star = 1;
				t->skip = 3;
				if (!(t = tok_push(&b)))
					goto cleanup;
				set_wild(t->set, false);
				t->star = 1;
				if (!(t = tok_push(&b)))
					goto cleanup;
				set_add(t->set, '/');
				i = e + 1;
			} else if (comp) {
				/* trailing: strictly below, one or more bytes */
				if (!(t = tok_push(&b)))
					goto cleanup;
				set_wild(t->set, false);
				if (!(t = tok_push(&b)))
					goto cleanup;
				set_wild(t->set, false);
				t->star = 1;
			} else {
				if (!(t = tok_push(&b)))
					goto cleanup;
				set_wild(t->set, false);
				t->star = 1;
			}
			continue;
		}
		if (!(t = tok_push(&b)))
			goto cleanup;
		if (c == '?') {
			set_wild(t->set, path);
			i++;
		} else if (c == '[') {
			ret = parse_class(glob, &i, path, t->set, err, err_off);
			if (ret)
				goto cleanup;
			ret = -ENOMEM;
		} else if (c == '\\') {
			if (!glob[i + 1]) {
				*err = "trailing backslash";
				*err_off = i;
				ret = -EINVAL;
				goto cleanup;
			}
			set_add(t->set, (unsigned char)glob[i + 1]);
			i += 2;
		} else {
			set_add(t->set, c);
			i++;
		}
	}
	p->tok = b.tok;
	p->ntok = b.n;
	return 0;
cleanup:
	free(b.tok);
	if (ret == -ENOMEM && !*err) {
		*err = "out of memory";
		*err_off = i;
	}
	return ret;
}

/*
 * Backtracking over the tokens with a memo of (token, offset) pairs already
 * known to fail, so stars over 4 KiB strings stay polynomial. Deliberately a
 * different algorithm from the subset construction it checks.
 */
struct ref_ctx {
	const struct ap_gtok *tok;
	size_t ntok;
	const unsigned char *s;
	size_t n;
	uint8_t *failed; /* (ntok + 1) * (n + 1) bits */
};

static bool ref_match(struct ref_ctx *c, size_t ti, size_t si)
{
	size_t bit = ti * (c->n + 1) + si;
	const struct ap_gtok *t;
	bool ok;

	if (ti == c->ntok)
		return si == c->n;
	if (c->failed[bit / 8] >> (bit % 8) & 1)
		return false;
	t = &c->tok[ti];
	if (t->skip && ref_match(c, ti + t->skip, si))
		return true;
	if (t->star)
		ok = ref_match(c, ti + 1, si) ||
		     (si < c->n && ap_gset_has(t->set, c->s[si]) &&
		      ref_match(c, ti, si + 1));
	else
		ok = si < c->n && ap_gset_has(t->set, c->s[si]) &&
		     ref_match(c, ti + 1, si + 1);
	if (!ok)
		c->failed[bit / 8] |= 1u << (bit % 8);
	return ok;
}

bool ap_glob_match_ref(enum ap_pattern_kind kind, const char *glob,
		       const char *s)
{
	struct ap_gprog p;
	struct ref_ctx c;
	const char *err;
	size_t off;
	bool ok = false;

	if (kind != AP_PAT_ARG && kind != AP_PAT_UNIX &&
	    (s[0] == AP_DFA_PREFIX_ARG || s[0] == AP_DFA_PREFIX_UNIX))
		return false;
	if (ap_glob__parse(kind, glob, false, &p, &err, &off))
		return false;
	c.tok = p.tok;
	c.ntok = p.ntok;
	c.s = (const unsigned char *)s;
	c.n = strlen(s);
	c.failed = calloc(((p.ntok + 1) * (c.n + 1) + 7) / 8, 1);
	if (c.failed)
		ok = ref_match(&c, 0, 0);
	free(c.failed);
	free(p.tok);
	return ok;
}

bool ap_glob_is_empty(enum ap_pattern_kind kind, const char *glob)
{
	struct ap_gprog p;
	const char *err;
	size_t off;
	bool empty = false;

	if (ap_glob__parse(kind, glob, false, &p, &err, &off))
		return true;
	/* tokens are a plain sequence: it is empty iff a token that must
	 * consume a byte has none to consume */
	for (size_t i = 0; i < p.ntok; i++) {
		bool optional = p.tok[i].star ||
				(i >= 2 && p.tok[i - 2].skip == 3);

		if (!optional && set_empty(p.tok[i].set))
			empty = true;
	}
	free(p.tok);
	return empty;
}

int ap_glob_literal_dir(const char *glob, char *buf, size_t size)
{
	size_t n = 0, last_slash = (size_t)-1;

	if (glob[0] == '*' && glob[1] == '*') {
		/* `**` + `/...`: may match under any directory */
		if (size < 2)
			return -ENAMETOOLONG;
		strcpy(buf, "/");
		return 0;
	}
	if (glob[0] != '/')
		return -EINVAL;
	for (size_t i = 0; glob[i]; i++) {
		char c = glob[i];

		if (c == '*' || c == '?' || c == '[')
			break;
		if (c == '\\') {
			if (!glob[i + 1])
				break;
			c = glob[++i];
		}
		if (n + 1 >= size)
			return -ENAMETOOLONG;
		buf[n] = c;
		if (c == '/')
			last_slash = n;
		n++;
	}
	/* glob[0] == '/' so a slash was seen; "/x" -> "/" */
	n = last_slash == 0 ? 1 : last_slash;
	if (n + 1 > size)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	return 0;
}
