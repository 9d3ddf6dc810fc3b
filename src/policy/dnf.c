// SPDX-License-Identifier: MIT
/*
 * `if` expressions to disjunctive normal form (contract in lower.h): each
 * term is a (require, forbid) pair of label masks and becomes one kernel
 * clause. Negation is pushed to the labels (De Morgan), contradictory terms
 * are dropped and a term implied by a weaker one already present is
 * absorbed, so the kernel gets as few clauses as this simple algebra finds.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "lower.h"

static int term_add(struct ap_dnf_term *out, unsigned *n, unsigned max,
		    struct ap_dnf_term t)
{
	unsigned w = 0;

	if (t.require & t.forbid)
		return 0; /* contradiction: drop */
	for (unsigned i = 0; i < *n; i++)
		if ((out[i].require & ~t.require) == 0 &&
		    (out[i].forbid & ~t.forbid) == 0)
			return 0; /* implied by a weaker term already there */
	for (unsigned i = 0; i < *n; i++)
		if (!((t.require & ~out[i].require) == 0 &&
		      (t.forbid & ~out[i].forbid) == 0))
			out[w++] = out[i];
	*n = w;
	if (*n == max)
		return -E2BIG;
	out[(*n)++] = t;
	return 0;
}

static int dnf(const struct ap_expr *e, bool neg,
	       int (*lookup)(const char *, void *), void *ctx,
	       struct ap_dnf_term *out, unsigned max, const struct ap_expr **bad)
{
	struct ap_dnf_term *l = NULL, *r = NULL;
	unsigned n = 0;
	int nl, nr, err = 0, bit;

	if (!e)
		return neg ? 0 : (out[0] = (struct ap_dnf_term){ 0 }, 1);
	switch (e->kind) {
	case AP_EXPR_TRUE:
		return neg ? 0 : (out[0] = (struct ap_dnf_term){ 0 }, 1);
	case AP_EXPR_LABEL:
		bit = lookup(e->label, ctx);
		if (bit < 0) {
			*bad = e;
			return -ENOENT;
		}
		out[0] = neg ? (struct ap_dnf_term){ .forbid = 1ull << bit } :
			       (struct ap_dnf_term){ .require = 1ull << bit };
		return 1;
	case AP_EXPR_NOT:
		return dnf(e->l, !neg, lookup, ctx, out, max, bad);
	case AP_EXPR_AND:
	case AP_EXPR_OR:
		break;
	}
	l = malloc(max * sizeof(*l));
	r = malloc(max * sizeof(*r));
	if (!l || !r) {
		err = -ENOMEM;
		goto cleanup;
	}
	nl = dnf(e->l, neg, lookup, ctx, l, max, bad);
	if (nl < 0) {
		err = nl;
		goto cleanup;
	}
	nr = dnf(e->r, neg, lookup, ctx, r, max, bad);
	if (nr < 0) {
		err = nr;
		goto cleanup;
	}
	if ((e->kind == AP_EXPR_OR) != neg) { /* union */
		for (int i = 0; i < nl && !err; i++)
			err = term_add(out, &n, max, l[i]);
		for (int i = 0; i < nr && !err; i++)
			err = term_add(out, &n, max, r[i]);
	} else { /* product */
		for (int i = 0; i < nl && !err; i++)
			for (int j = 0; j < nr && !err; j++)
				err = term_add(out, &n, max, (struct ap_dnf_term){
					l[i].require | r[j].require,
					l[i].forbid | r[j].forbid });
	}
cleanup:
	free(l);
	free(r);
	return err ? err : (int)n;
}

int ap_expr__dnf(const struct ap_expr *e,
		 int (*lookup)(const char *name, void *ctx), void *ctx,
		 struct ap_dnf_term *out, unsigned max,
		 const struct ap_expr **bad)
{
	const struct ap_expr *b = NULL;
	int n;

	if (max == 0)
		return -E2BIG;
	n = dnf(e, false, lookup, ctx, out, max, &b);
	if (bad)
		*bad = b;
	return n;
}

