// SPDX-License-Identifier: MIT
/* Lowering: labels and bits, DNF, defaults, endpoints, dedupe, limits,
 * warnings, determinism. Policies are parsed by the real front end from
 * small texts (project root /proj); DNF is also tested on hand-built ASTs. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <unistd.h>

#include "engine/eval.h"
#include "policy/blob.h"
#include "policy/lower.h"
#include "policy/policy.h"
#include "policy/summary.h"

struct fixture {
	struct ap_policy *pol;
	struct ap_compiled *c;
	struct ap_diags d;
	int err;
};

/* fake resolver: "two.example" has two addresses, others none */
static int fake_resolve(const char *host, struct ap_endpoint *out, unsigned max,
			void *ctx)
{
	if (strcmp(host, "two.example"))
		return -ENOENT;
	memset(out, 0, 2 * sizeof(*out));
	out[0].family = AF_INET6;
	out[0].prefix = 128;
	out[0].addr[15] = 7;
	out[1].family = AF_INET;
	out[1].prefix = 32;
	memcpy(out[1].addr, "\x0a\x00\x00\x07", 4);
	return 2;
}

/* Parse `dsl` as a form A policy (plus extra YAML), lower it. */
static void build(struct fixture *f, const char *dsl, const char *extra)
{
	struct ap_load_opts o = { .cwd = "/proj" };
	struct ap_lower_opts lo = { .resolve = fake_resolve };
	char *yaml = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&yaml, &n);
	const char *p;

	memset(f, 0, sizeof(*f));
	fputs("version: 1\npolicy: |\n", m);
	for (p = dsl; *p;) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		fprintf(m, "  %.*s\n", (int)l, p);
		p += l + (e ? 1 : 0);
	}
	if (extra)
		fputs(extra, m);
	fclose(m);
	f->err = ap_policy_load_buffer("t.yaml", yaml, n, &o, &f->d, &f->pol);
	free(yaml);
	if (!f->err)
		f->err = ap_lower(f->pol, &lo, &f->d, &f->c);
}

static void release(struct fixture *f)
{
	ap_compiled__free(f->c);
	ap_diags__free(&f->d);
	ap_policy__free(f->pol);
}

static bool has_diag(const struct fixture *f, enum ap_diag_level lvl, const char *needle)
{
	for (unsigned i = 0; i < f->d.n; i++)
		if (f->d.v[i].level == lvl && strstr(f->d.v[i].msg, needle))
			return true;
	return false;
}

static void dump(const struct fixture *f)
{
	for (unsigned i = 0; i < f->d.n; i++)
		fprintf(stderr, "  diag %d: %s\n", f->d.v[i].level, f->d.v[i].msg);
}

#define assert_valid(f) do { if ((f)->err) dump(f); assert_int_equal((f)->err, 0); } while (0)

static int pattern_id(const struct ap_compiled *c, const char *lowered)
{
	for (uint32_t i = 0; i < c->npatterns; i++)
		if (!strcmp(c->patterns[i].lowered, lowered))
			return (int)i;
	return -1;
}

/* distinct patterns the built-in guard's clauses name */
static unsigned guard_patterns(const struct ap_compiled *c)
{
	const struct ap_compiled_rule *g = &c->rule_info[c->guard_rule];
	unsigned n = 0;

	for (uint32_t i = g->first_clause; i < g->first_clause + g->nkclauses; i++) {
		bool seen = false;

		for (uint32_t j = g->first_clause; j < i; j++)
			seen |= c->clauses[j].target == c->clauses[i].target;
		n += !seen;
	}
	return n;
}

/* ---- labels ---- */

static void test_label_bits_in_declaration_order(void **state)
{
	struct fixture f;

	build(&f, "source AGENT = exec \"claude\"\n"
		  "source SECRET = file \"**/.env\"\n"
		  "declassify SECRET by exec \"redact\"\n"
		  "endorse REVIEWED by exec \"review-tool\"\n"
		  "source AGENT = exec \"codex\"\n"
		  "rule r:\n"
		  "  block connect endpoint \"*\" if SECRET and not REVIEWED\n"
		  "  because \"x\"\n", NULL);
	assert_valid(&f);
	assert_int_equal(f.c->nlabels, 3);
	assert_string_equal(f.c->labels[0].name, "AGENT");
	assert_string_equal(f.c->labels[1].name, "SECRET");
	assert_string_equal(f.c->labels[2].name, "REVIEWED");
	assert_true(f.c->labels[1].declassified);
	assert_true(f.c->labels[2].endorsed);
	/* default seed: AGENT, because a source declares it */
	assert_int_equal(f.c->seed_labels, 1);
	assert_int_equal(f.c->declared_labels, 7);
	assert_int_equal(f.c->nsources, 3);
	assert_int_equal(f.c->nkeeps, 2);
	assert_int_equal(f.c->sources[2].label, 0);
	assert_int_equal(f.c->clauses[0].require, 2);
	assert_int_equal(f.c->clauses[0].forbid, 4);
	/* REVIEWED is only endorsed: that is a way to gain it, no warning */
	assert_int_equal(f.d.nwarnings, 0);
	release(&f);
	/* a label only ever declassified can never be carried */
	build(&f, "declassify GONE by exec \"x\"\n"
		  "rule r:\n  block write \"a\" if GONE\n", NULL);
	assert_valid(&f);
	assert_true(has_diag(&f, AP_DIAG_WARNING, "never sourced, seeded or endorsed"));
	release(&f);
}

static void test_seed_explicit(void **state)
{
	struct fixture f;

	build(&f, "source AGENT = exec \"claude\"\n"
		  "rule r:\n  kill exec \"git\" if UNTRUSTED\n",
		  "run:\n  seed: [UNTRUSTED]\n");
	assert_valid(&f);
	assert_int_equal(f.c->nlabels, 2);
	assert_int_equal(f.c->seed_labels, 2); /* not AGENT: seed was given */
	assert_false(has_diag(&f, AP_DIAG_WARNING, "never sourced"));
	release(&f);
}

static void test_seed_typo_warns(void **state)
{
	struct fixture f;

	build(&f, "source AGENT = exec \"claude\"\n"
		  "rule r:\n  kill exec \"git\" if AGENT\n",
		  "run:\n  seed: [AGNET]\n");
	assert_valid(&f);
	assert_true(has_diag(&f, AP_DIAG_WARNING,
			     "seed label 'AGNET' is named by no rule or source (did you mean 'AGENT'?)"));
	assert_int_equal(f.c->seed_labels, 2);
	release(&f);
}

static void test_unknown_label_suggests(void **state)
{
	struct fixture f;

	build(&f, "source SECRET = file \"a\"\n"
		  "rule r:\n  kill exec \"curl\" if SECRT\n", NULL);
	assert_int_equal(f.err, -EINVAL);
	assert_true(has_diag(&f, AP_DIAG_ERROR,
			     "unknown label 'SECRT' (did you mean 'SECRET'?)"));
	release(&f);
	build(&f, "source SECRET = file \"a\"\n"
		  "rule r:\n  kill exec \"curl\" if WHOLLY_OTHER\n", NULL);
	assert_int_equal(f.err, -EINVAL);
	assert_true(has_diag(&f, AP_DIAG_ERROR, "unknown label 'WHOLLY_OTHER'"));
	release(&f);
}

static void test_too_many_labels(void **state)
{
	char *dsl = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&dsl, &n);
	struct fixture f;

	for (int i = 0; i < 65; i++)
		fprintf(m, "source L%d = file \"f%d\"\n", i, i);
	fputs("rule r:\n  notify exec \"x\"\n", m);
	fclose(m);
	build(&f, dsl, NULL);
	free(dsl);
	assert_int_equal(f.err, -EINVAL);
	assert_true(has_diag(&f, AP_DIAG_ERROR, "too many labels"));
	release(&f);
}

/* ---- DNF on hand-built expressions ---- */

static struct ap_expr *mk(enum ap_expr_kind k, const char *label,
			  struct ap_expr *l, struct ap_expr *r)
{
	static struct ap_expr pool[64];
	static unsigned used;
	struct ap_expr *e = &pool[used++ % 64];

	memset(e, 0, sizeof(*e));
	e->kind = k;
	e->label = label;
	e->l = l;
	e->r = r;
	return e;
}

static int lookup(const char *name, void *ctx)
{
	return name[0] >= 'A' && name[0] <= 'Z' && !name[1] ? name[0] - 'A' : -1;
}

#define LBL(x) mk(AP_EXPR_LABEL, x, NULL, NULL)
#define AND(a, b) mk(AP_EXPR_AND, NULL, a, b)
#define OR(a, b) mk(AP_EXPR_OR, NULL, a, b)
#define NOT(a) mk(AP_EXPR_NOT, NULL, a, NULL)

static void test_dnf(void **state)
{
	struct ap_dnf_term t[AP_MAX_DNF_TERMS];
	const struct ap_expr *bad = NULL;
	int n;

	/* NULL and true: one empty term */
	assert_int_equal(ap_expr__dnf(NULL, lookup, NULL, t, 64, &bad), 1);
	assert_int_equal(t[0].require | t[0].forbid, 0);
	/* (A or B) and not (C and A) = A!C | B!C | B!A ... minimised */
	n = ap_expr__dnf(AND(OR(LBL("A"), LBL("B")), NOT(AND(LBL("C"), LBL("A")))),
			 lookup, NULL, t, 64, &bad);
	assert_int_equal(n, 3);
	assert_int_equal(t[0].require, 1); /* A, not C */
	assert_int_equal(t[0].forbid, 4);
	assert_int_equal(t[1].require, 2); /* B, not C */
	assert_int_equal(t[1].forbid, 4);
	assert_int_equal(t[2].require, 2); /* B, not A */
	assert_int_equal(t[2].forbid, 1);
	/* contradictions dropped: A and not A never holds */
	assert_int_equal(ap_expr__dnf(AND(LBL("A"), NOT(LBL("A"))), lookup, NULL, t,
				      64, &bad), 0);
	/* subsumption: A or (A and B) = A */
	n = ap_expr__dnf(OR(LBL("A"), AND(LBL("A"), LBL("B"))), lookup, NULL, t, 64, &bad);
	assert_int_equal(n, 1);
	assert_int_equal(t[0].require, 1);
	/* not not A = A */
	n = ap_expr__dnf(NOT(NOT(LBL("A"))), lookup, NULL, t, 64, &bad);
	assert_int_equal(n, 1);
	assert_int_equal(t[0].require, 1);
	/* unknown label reported with its node */
	assert_int_equal(ap_expr__dnf(AND(LBL("A"), LBL("zz")), lookup, NULL, t, 64, &bad),
			 -ENOENT);
	assert_string_equal(bad->label, "zz");
	/* size cap: (A|B)(C|D)(E|F) = 8 terms > 4 */
	assert_int_equal(ap_expr__dnf(AND(AND(OR(LBL("A"), LBL("B")), OR(LBL("C"), LBL("D"))),
					  OR(LBL("E"), LBL("F"))), lookup, NULL, t, 4, &bad),
			 -E2BIG);
}

static void test_dnf_clauses_and_cap(void **state)
{
	struct fixture f;

	build(&f, "source A = file \"a\"\nsource B = file \"b\"\nsource C = file \"c\"\n"
		  "rule r:\n  block write \"x\" if (A or B) and not C\n"
		  "  notify write \"y\" if A and not A\n", NULL);
	assert_valid(&f);
	/* first clause: 2 terms; second none (then the built-in guard's) */
	assert_int_equal(f.c->rule_info[0].nkclauses, 2);
	assert_int_equal(f.c->rule_info[0].terms[0], 2);
	assert_int_equal(f.c->rule_info[0].terms[1], 0);
	assert_int_equal(f.c->clauses[1].require, 2);
	assert_int_equal(f.c->clauses[1].forbid, 4);
	assert_true(has_diag(&f, AP_DIAG_WARNING, "can never hold"));
	release(&f);

	/* 2^7 = 128 alternatives > AP_MAX_DNF_TERMS */
	{
		char dsl[2048];
		size_t o = 0;

		for (int i = 0; i < 14; i++)
			o += (size_t)snprintf(dsl + o, sizeof(dsl) - o,
					      "source L%d = file \"f%d\"\n", i, i);
		o += (size_t)snprintf(dsl + o, sizeof(dsl) - o, "rule r:\n  block write \"x\" if ");
		for (int i = 0; i < 14; i += 2)
			o += (size_t)snprintf(dsl + o, sizeof(dsl) - o, "%s(L%d or L%d)",
					      i ? " and " : "", i, i + 1);
		snprintf(dsl + o, sizeof(dsl) - o, "\n");
		build(&f, dsl, NULL);
	}
	assert_int_equal(f.err, -EINVAL);
	assert_true(has_diag(&f, AP_DIAG_ERROR, "condition too complex"));
	release(&f);
}

/* ---- patterns and defaults ---- */

static void test_pattern_defaults(void **state)
{
	struct fixture f;
	int id;

	build(&f, "rule r:\n"
		  "  block exec \"git\" \"push\"\n"
		  "  block exec \"./scripts/deploy.sh\"\n"
		  "  block exec file \"/usr/bin/*\"\n"
		  "  block write \"src/**\"\n"
		  "  block read \"**/.env\"\n"
		  "  block unlink \"/etc/passwd\"\n"
		  "  block rename \"./a/../b/./c\"\n"
		  "  block connect \"unix:/var/run/docker.sock\"\n"
		  "  block connect \"unix:@abstract\"\n"
		  "  block write \"src/**\"\n", NULL);
	assert_valid(&f);
	id = pattern_id(f.c, "/**/git");
	assert_true(id >= 0);
	assert_int_equal(f.c->patterns[id].kind, AP_PAT_PROGRAM);
	assert_int_equal(f.c->clauses[0].target, id);
	assert_int_equal(f.c->clauses[0].nargs, 1);
	assert_int_equal(f.c->patterns[f.c->clauses[0].args[0]].kind, AP_PAT_ARG);
	assert_string_equal(f.c->patterns[f.c->clauses[0].args[0]].lowered, "push");
	assert_true(pattern_id(f.c, "/proj/scripts/deploy.sh") >= 0);
	id = pattern_id(f.c, "/usr/bin/*");
	assert_true(id >= 0);
	assert_int_equal(f.c->patterns[id].kind, AP_PAT_PATH);
	assert_true(pattern_id(f.c, "/proj/src/**") >= 0);
	assert_true(pattern_id(f.c, "/**/.env") >= 0);
	assert_true(pattern_id(f.c, "/etc/passwd") >= 0);
	assert_true(pattern_id(f.c, "/proj/b/c") >= 0);
	id = pattern_id(f.c, "/var/run/docker.sock");
	assert_true(id >= 0);
	assert_int_equal(f.c->patterns[id].kind, AP_PAT_UNIX);
	assert_int_equal(f.c->clauses[7].target_kind, AP_TGT_ENDPOINT);
	assert_int_equal(f.c->endpoints[f.c->clauses[7].target].family, AF_UNIX);
	assert_int_equal(f.c->endpoints[f.c->clauses[7].target].unix_pattern, id);
	assert_true(pattern_id(f.c, "@abstract") >= 0);
	/* the repeated src pattern is one pattern */
	assert_int_equal(f.c->clauses[9].target, f.c->clauses[3].target);
	/* patterns as written (a Unix socket path may lower to several
	 * spellings), and the built-in guard's */
	{
		unsigned texts = 0;

		for (uint32_t i = 0; i < f.c->npatterns; i++) {
			bool seen = false;

			for (uint32_t j = 0; j < i; j++)
				seen |= f.c->patterns[j].kind == f.c->patterns[i].kind &&
					!strcmp(f.c->patterns[j].text, f.c->patterns[i].text);
			texts += !seen;
		}
		assert_int_equal(texts, 10 + guard_patterns(f.c));
	}
	assert_non_null(f.c->dfa);
	release(&f);
}

static void test_pattern_warnings(void **state)
{
	struct fixture f;

	build(&f, "rule r:\n"
		  "  block read \"~/.ssh/id_rsa\"\n"
		  "  block write \"build/\"\n"
		  "  block write \"src/*/../x\"\n", NULL);
	assert_valid(&f);
	assert_true(has_diag(&f, AP_DIAG_WARNING, "'~' is not expanded"));
	assert_true(has_diag(&f, AP_DIAG_WARNING, "ends in '/'"));
	/* the warning tells the truth: the lowered glob keeps its '/' */
	assert_true(pattern_id(f.c, "/proj/build/") >= 0);
	assert_true(has_diag(&f, AP_DIAG_WARNING, "'..' after a wildcard"));
	release(&f);
	build(&f, "rule r:\n  block write \"[]\"\n", NULL);
	/* either the automaton rejects it or it is flagged as never matching */
	assert_true(f.err == -EINVAL || has_diag(&f, AP_DIAG_WARNING, "never match"));
	release(&f);
}

static void test_kind_mismatch_errors(void **state)
{
	struct fixture f;

	build(&f, "rule r:\n  block read endpoint \"*\"\n", NULL);
	assert_int_equal(f.err, -EINVAL);
	release(&f);
	build(&f, "rule r:\n  block write \"x\" \"arg\"\n", NULL);
	assert_int_equal(f.err, -EINVAL);
	release(&f);
}

/* ---- endpoints ---- */

static int parse1(const char *text, struct ap_endpoint *e, bool *host)
{
	const char *why;
	uint16_t port;

	return ap_endpoint__parse(text, e, 16, fake_resolve, NULL, host, &port, &why);
}

static void test_endpoint_forms(void **state)
{
	struct ap_endpoint e[16];
	bool host;
	char buf[80];

	assert_int_equal(parse1("*", e, &host), 1);
	assert_int_equal(e[0].family, 0);
	assert_int_equal(e[0].port, 0);
	assert_int_equal(parse1("*:443", e, &host), 1);
	assert_int_equal(e[0].port, 443);
	assert_int_equal(parse1("1.2.3.4", e, &host), 1);
	assert_int_equal(e[0].family, AF_INET);
	assert_int_equal(e[0].prefix, 32);
	assert_memory_equal(e[0].addr, "\x01\x02\x03\x04", 4);
	assert_int_equal(parse1("127.0.0.1:8080", e, &host), 1);
	assert_int_equal(e[0].port, 8080);
	assert_int_equal(parse1("10.0.0.0/8", e, &host), 1);
	assert_int_equal(e[0].prefix, 8);
	assert_int_equal(parse1("10.0.0.0/8:53", e, &host), 1);
	assert_int_equal(e[0].port, 53);
	assert_int_equal(parse1("10.0.0.1/8", e, &host), -EINVAL); /* host bits */
	assert_int_equal(parse1("127.", e, &host), 1);
	assert_int_equal(e[0].prefix, 8);
	assert_int_equal(e[0].addr[0], 127);
	assert_int_equal(parse1("10.0.*", e, &host), 1);
	assert_int_equal(e[0].prefix, 16);
	assert_int_equal(parse1("192.168.1.*:22", e, &host), 1);
	assert_int_equal(e[0].prefix, 24);
	assert_int_equal(e[0].port, 22);
	assert_int_equal(parse1("::1", e, &host), 1);
	assert_int_equal(e[0].family, AF_INET6);
	assert_int_equal(e[0].prefix, 128);
	assert_int_equal(parse1("[::1]:22", e, &host), 1);
	assert_int_equal(e[0].port, 22);
	assert_int_equal(parse1("fd00::/8", e, &host), 1);
	assert_int_equal(e[0].prefix, 8);
	assert_int_equal(e[0].addr[0], 0xfd);
	assert_int_equal(parse1("localhost", e, &host), 2);
	assert_int_equal(e[0].family, AF_INET);
	assert_int_equal(e[0].prefix, 8);
	assert_int_equal(e[1].family, AF_INET6);
	assert_int_equal(e[1].addr[15], 1);
	assert_int_equal(parse1("localhost:5432", e, &host), 2);
	assert_int_equal(e[1].port, 5432);
	/* host names: resolved (sorted, deduped), or no entries */
	assert_int_equal(parse1("two.example:443", e, &host), 2);
	assert_true(host);
	assert_int_equal(e[0].family, AF_INET);
	assert_int_equal(e[0].port, 443);
	assert_int_equal(parse1("nowhere.example", e, &host), 0);
	assert_true(host);
	/* errors */
	assert_int_equal(parse1("1.2.3.4:0", e, &host), -EINVAL);
	assert_int_equal(parse1("1.2.3.4:70000", e, &host), -EINVAL);
	assert_int_equal(parse1("300.1.1.1", e, &host), -EINVAL);
	assert_int_equal(parse1("10.0.0.0/33", e, &host), -EINVAL);
	assert_int_equal(parse1("[::1", e, &host), -EINVAL);
	assert_int_equal(parse1("", e, &host), -EINVAL);
	assert_int_equal(parse1("bad host!", e, &host), -EINVAL);
	assert_int_equal(parse1(":80", e, &host), -EINVAL);
	/* formatting */
	parse1("[fd00::/8]:443", e, &host);
	ap_endpoint__format(&e[0], buf, sizeof(buf));
	assert_string_equal(buf, "[fd00::/8]:443");
}

static void test_endpoints_lowered(void **state)
{
	struct fixture f;

	build(&f, "source NET = endpoint \"10.0.*\"\n"
		  "rule r:\n"
		  "  block connect \"*\" if NET\n"
		  "  block connect \"two.example:443\"\n"
		  "  notify recv \"10.0.*\"\n"
		  "  block connect \"nowhere.example\"\n", NULL);
	assert_valid(&f);
	/* source 10.0.* (1), "*" as IPv4 + IPv6 (2), two.example (2); the
	 * repeated 10.0.* shares the source's range; nowhere: 0 */
	assert_int_equal(f.c->nendpoints, 5);
	assert_int_equal(f.c->clauses[0].target_count, 2);
	assert_int_equal(f.c->endpoints[f.c->clauses[0].target].family, AF_INET);
	assert_int_equal(f.c->endpoints[f.c->clauses[0].target + 1].family, AF_INET6);
	assert_int_equal(f.c->clauses[2].target, f.c->sources[0].pattern);
	assert_int_equal(f.c->nhosts, 2);
	assert_true(has_diag(&f, AP_DIAG_WARNING, "resolved when the policy loads"));
	assert_true(has_diag(&f, AP_DIAG_WARNING, "does not resolve"));
	/* the unresolved name is an empty range, which the blob view accepts */
	assert_int_equal(f.c->clauses[3].target_count, 0);
	{
		void *b;
		size_t n;
		struct ap_blob_view v;
		const char *why;

		assert_int_equal(ap_compiled__to_blob(f.c, &b, &n), 0);
		assert_int_equal(ap_blob__view(b, n, &v, &why), 0);
		free(b);
	}
	release(&f);
	build(&f, "rule r:\n  block connect \"10.0.0.1/8\"\n", NULL);
	assert_int_equal(f.err, -EINVAL);
	assert_true(has_diag(&f, AP_DIAG_ERROR, "invalid endpoint"));
	release(&f);
}

/* ---- conditions, gates, since ---- */

static void test_gates_and_since_dedupe(void **state)
{
	struct fixture f;

	build(&f, "source AGENT = exec \"claude\"\n"
		  "rule a:\n"
		  "  block exec \"git\" \"commit\" if AGENT unless after exec \"make\" \"test\" "
		  "passed since write \"src/**\"\n"
		  "rule b:\n"
		  "  block exec \"git\" \"push\" if AGENT unless after exec \"make\" \"test\" "
		  "passed since write \"src/**\"\n"
		  "  notify exec \"git\" \"tag\" unless after exec \"make\" \"test\" since "
		  "write \"src/**\" or unlink \"src/**\"\n"
		  "  notify exec \"git\" \"am\" unless lineage-includes exec \"make\" or "
		  "target not \"/usr/bin/git\" or lineage-includes exec \"make\"\n", NULL);
	assert_valid(&f);
	assert_int_equal(f.c->ngates, 2);  /* passed vs not, different since */
	assert_int_equal(f.c->nsince, 2);  /* write and unlink of the same glob */
	assert_int_equal(f.c->gates[0].since_mask, 1);
	assert_int_equal(f.c->gates[1].since_mask, 3);
	assert_true(f.c->gates[0].passed);
	assert_false(f.c->gates[1].passed);
	assert_int_equal(f.c->clauses[0].unless[0], f.c->clauses[1].unless[0]);
	assert_int_equal(f.c->nlineage, 1);
	/* the repeated lineage condition is one */
	assert_int_equal(f.c->clauses[3].nunless, 2);
	assert_int_equal(f.c->conds[f.c->clauses[3].unless[1]].kind, AP_COND_TARGET);
	assert_true(f.c->conds[f.c->clauses[3].unless[1]].negate);
	assert_int_equal(f.c->nconds, 4);
	release(&f);
}

static void test_args_canonical(void **state)
{
	struct fixture f;

	build(&f, "rule r:\n  block exec \"git\" \"push\" \"-f\" \"push\"\n"
		  "rule s:\n  block exec \"git\" \"-f\" \"push\"\n", NULL);
	assert_valid(&f);
	assert_int_equal(f.c->clauses[0].nargs, 2);
	assert_memory_equal(f.c->clauses[0].args, f.c->clauses[1].args,
			    sizeof(f.c->clauses[0].args));
	/* s is covered by r (same args, same effect): shadowed */
	assert_true(has_diag(&f, AP_DIAG_WARNING, "shadowed by rule 'r'"));
	release(&f);
}

static void test_shadowing(void **state)
{
	struct fixture f;

	build(&f, "source A = file \"a\"\nsource B = file \"b\"\n"
		  "rule wide:\n  kill exec \"curl\" if A\n"
		  "rule narrow:\n  block exec \"curl\" \"-d\" if A and B\n"
		  "rule stronger:\n  kill exec \"wget\" if A\n"
		  "rule weaker:\n  notify exec \"wget\"\n", NULL);
	assert_valid(&f);
	assert_true(has_diag(&f, AP_DIAG_WARNING, "shadowed by rule 'wide'"));
	/* `weaker` matches without A: not covered */
	assert_false(has_diag(&f, AP_DIAG_WARNING, "shadowed by rule 'stronger'"));
	release(&f);
}

/* ---- limits ---- */

static void test_too_many_rules_and_patterns(void **state)
{
	char *dsl = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&dsl, &n);
	struct fixture f;

	/* 255 rules and the built-in guard fill the table: the 256th fails */
	for (int i = 0; i < 255; i++)
		fprintf(m, "rule r%d:\n  notify write \"f%d\"\n", i, i);
	fflush(m);
	build(&f, dsl, NULL);
	assert_valid(&f);
	assert_int_equal(f.c->nrules, AP_MAX_RULES);
	assert_string_equal(f.c->rule_info[AP_MAX_RULES - 1].name, "session-guard");
	release(&f);
	fprintf(m, "rule r255:\n  notify write \"f255\"\n");
	fclose(m);
	build(&f, dsl, NULL);
	free(dsl);
	assert_int_equal(f.err, -EINVAL);
	assert_true(has_diag(&f, AP_DIAG_ERROR, "too many rules: at most 255 fit the kernel "
			     "tables (one more entry is the built-in session-guard)"));
	release(&f);

	dsl = NULL;
	m = open_memstream(&dsl, &n);
	fputs("rule r:\n", m);
	for (int i = 0; i < 130; i++) /* 8 distinct argument patterns each */
		fprintf(m, "  notify exec \"x\" \"%d.1\" \"%d.2\" \"%d.3\" \"%d.4\" "
			"\"%d.5\" \"%d.6\" \"%d.7\" \"%d.8\"\n", i, i, i, i, i, i, i, i);
	fclose(m);
	build(&f, dsl, NULL);
	free(dsl);
	assert_int_equal(f.err, -EINVAL);
	assert_true(has_diag(&f, AP_DIAG_ERROR, "too many distinct patterns"));
	release(&f);
}

static void test_path_max(void **state)
{
	char *dsl = malloc(AP_PATH_MAX + 100);
	struct fixture f;

	strcpy(dsl, "rule r:\n  notify write \"/");
	memset(dsl + strlen(dsl), 'a', AP_PATH_MAX);
	strcpy(dsl + strlen("rule r:\n  notify write \"/") + AP_PATH_MAX, "\"\n");
	build(&f, dsl, NULL);
	free(dsl);
	assert_int_equal(f.err, -EINVAL);
	assert_true(has_diag(&f, AP_DIAG_ERROR, "longer than PATH_MAX"));
	release(&f);
}

/* ---- determinism ---- */

static const char *big =
	"source AGENT = exec \"claude\"\n"
	"source SECRET = file \"**/.env*\"\n"
	"source NET = endpoint \"localhost:8080\"\n"
	"declassify SECRET by exec \"redact\"\n"
	"rule a:\n"
	"  kill exec \"git\" \"push\" if AGENT\n"
	"  block connect \"*\" if SECRET or NET\n"
	"  because \"b\"\n"
	"rule b:\n"
	"  ask write \"prod.db\" unless lineage-includes exec \"migrate\"\n"
	"  notify exec \"git\" \"commit\" unless after exec \"make\" \"test\" passed since "
	"write \"src/**\"\n";

static void test_deterministic_blob(void **state)
{
	struct fixture f1, f2;
	void *b1, *b2;
	size_t s1, s2;
	struct ap_blob_view v;
	const char *why = NULL;

	build(&f1, big, NULL);
	build(&f2, big, NULL);
	assert_valid(&f1);
	assert_valid(&f2);
	assert_int_equal(ap_compiled__to_blob(f1.c, &b1, &s1), 0);
	assert_int_equal(ap_compiled__to_blob(f2.c, &b2, &s2), 0);
	assert_int_equal(s1, s2);
	assert_memory_equal(b1, b2, s1);
	assert_int_equal(ap_blob__view(b1, s1, &v, &why), 0);
	assert_int_equal(v.hdr->nrules, 2 + 1);
	assert_string_equal(ap_blob__str(&v, v.rule_meta[2].name), "session-guard");
	assert_int_equal(v.hdr->nlabels, 3);
	assert_string_equal(ap_blob__str(&v, v.labels[1]), "SECRET");
	assert_string_equal(ap_blob__str(&v, v.rule_meta[0].name), "a");
	assert_string_equal(ap_blob__str(&v, v.rule_meta[0].because), "b");
	assert_string_equal(ap_blob__str(&v, v.hdr->root), "/proj");
	assert_int_equal(v.rule_meta[1].effect, AP_EFFECT_ASK);
	assert_int_equal(v.hdr->seed_labels, 1);
	free(b1);
	free(b2);
	release(&f1);
	release(&f2);
}

static void test_degraded_flag(void **state)
{
	struct fixture f;
	struct ap_load_opts o = { .cwd = "/proj" };
	struct ap_lower_opts lo = { .degraded_effects = 1u << AP_EFFECT_BLOCK };
	const char *y = "version: 1\npolicy: |\n  rule a:\n    block write \"x\"\n"
			"  rule b:\n    kill write \"y\"\n";

	memset(&f, 0, sizeof(f));
	assert_int_equal(ap_policy_load_buffer("t.yaml", y, strlen(y), &o, &f.d, &f.pol), 0);
	assert_int_equal(ap_lower(f.pol, &lo, &f.d, &f.c), 0);
	assert_true(f.c->rule_info[0].degraded);
	assert_false(f.c->rule_info[1].degraded);
	release(&f);
}

/* ap_clause__dsl prints clauses that parse back to the same tables, also
 * with quotes and backslashes in patterns. */
static void test_dsl_round_trip(void **state)
{
	static const char *src =
		"source AGENT = exec \"claude\"\n"
		"source SECRET = file \"**/.env*\"\n"
		"rule a:\n"
		"  kill exec \"git\" \"push\" \"-m \\\"x\\\"\" if AGENT and not (SECRET or AGENT)\n"
		"  block write \"dir\\\\name/**\" if AGENT or SECRET unless target \"./ok/**\" or "
		"lineage-includes exec \"tools/m\"\n"
		"  ask exec file \"/usr/bin/*\" unless after exec \"make\" \"test\" passed since "
		"write \"src/**\" or exec \"gen\"\n"
		"  notify connect endpoint \"10.0.*:443\" if not SECRET unless target not \"localhost\"\n";
	struct fixture f1, f2;
	char *dsl = NULL;
	size_t n = 0;
	FILE *m;

	build(&f1, src, NULL);
	assert_valid(&f1);
	m = open_memstream(&dsl, &n);
	fputs("source AGENT = exec \"claude\"\nsource SECRET = file \"**/.env*\"\nrule a:\n", m);
	for (uint32_t i = 0; i < f1.c->rule_info[0].ast->nclauses; i++) {
		char *t = ap_clause__dsl(&f1.c->rule_info[0].ast->clauses[i]);

		fprintf(m, "  %s\n", t);
		free(t);
	}
	fclose(m);
	build(&f2, dsl, NULL);
	if (f2.err)
		fprintf(stderr, "%s", dsl);
	free(dsl);
	assert_valid(&f2);
	assert_int_equal(f1.c->nclauses, f2.c->nclauses);
	assert_memory_equal(f1.c->clauses, f2.c->clauses, f1.c->nclauses * sizeof(struct ap_clause));
	assert_int_equal(f1.c->nconds, f2.c->nconds);
	assert_memory_equal(f1.c->conds, f2.c->conds, f1.c->nconds * sizeof(struct ap_cond));
	assert_memory_equal(f1.c->gates, f2.c->gates, f1.c->ngates * sizeof(struct ap_gate));
	assert_int_equal(f1.c->npatterns, f2.c->npatterns);
	for (uint32_t i = 0; i < f1.c->npatterns; i++)
		assert_string_equal(f1.c->patterns[i].lowered, f2.c->patterns[i].lowered);
	assert_true(pattern_id(f1.c, "-m \"x\"") >= 0);
	assert_true(pattern_id(f1.c, "/proj/dir\\name/**") >= 0);
	release(&f1);
	release(&f2);
}

/* ---- the built-in session-guard ---- */

/* the guard clause (op, lowered pattern) and its item, or -1 */
static int guard_clause(const struct ap_compiled *c, enum ap_op op, const char *glob)
{
	const struct ap_compiled_rule *g = &c->rule_info[c->guard_rule];

	for (uint32_t i = 0; i < g->nkclauses; i++) {
		const struct ap_clause *k = &c->clauses[g->first_clause + i];

		if (k->op == op && !strcmp(c->patterns[k->target].lowered, glob))
			return c->guard_items[i];
	}
	return -1;
}

static void assert_guard_shape(const struct ap_compiled *c, enum ap_effect eff)
{
	const struct ap_compiled_rule *g;

	assert_int_equal(c->guard_rule, c->nrules - 1);
	g = &c->rule_info[c->guard_rule];
	assert_string_equal(g->name, "session-guard");
	assert_null(g->ast);
	assert_false(g->degraded);
	assert_non_null(strstr(g->because, ".actplane/"));
	assert_int_equal(g->effect, eff);
	assert_int_equal(c->rules[c->guard_rule].effect, eff);
	assert_int_equal(g->first_clause + g->nkclauses, c->nclauses);
	for (uint32_t i = 0; i < c->nclauses; i++) {
		const struct ap_clause *k = &c->clauses[i];
		bool mine = i >= g->first_clause;

		assert_int_equal(k->flags == AP_CLAUSE_F_SESSION_GUARD, mine);
		assert_int_equal(k->rule == c->guard_rule, mine);
		if (!mine)
			continue;
		assert_int_equal(k->require | k->forbid, 0); /* no labels */
		assert_int_equal(k->effect, eff);
		assert_int_equal(k->target_kind, AP_TGT_PATTERN);
		assert_int_equal(k->nunless + k->nargs, 0);
	}
}

static void test_guard_rule_last(void **state)
{
	static const enum ap_op ops[] = { AP_OP_WRITE, AP_OP_RENAME, AP_OP_UNLINK };
	static const char *const files[] = { "/proj/t.yaml", "/proj/.actplane",
					     "/proj/.actplane/**" };
	struct fixture f;

	build(&f, "rule a:\n  block write \"x\"\nrule b:\n  notify exec \"git\"\n", NULL);
	assert_valid(&f);
	assert_int_equal(f.c->nrules, 3);
	assert_guard_shape(f.c, AP_EFFECT_BLOCK);
	for (size_t i = 0; i < 3; i++)
		for (size_t k = 0; k < 3; k++)
			assert_int_equal(guard_clause(f.c, ops[k], files[i]), AP_GUARD_FILES);
	assert_int_equal(guard_clause(f.c, AP_OP_WRITE, "/**/cgroup.procs"), AP_GUARD_CGROUP);
	assert_int_equal(guard_clause(f.c, AP_OP_WRITE, "/**/cgroup.threads"), AP_GUARD_CGROUP);
	assert_int_equal(guard_clause(f.c, AP_OP_RENAME, "/**/cgroup.procs"), -1);
	assert_int_equal(f.c->rule_info[f.c->guard_rule].nkclauses, 9 + 2);
	release(&f);

	/* a policy inside .actplane/: its directory's clauses cover the file */
	{
		struct ap_load_opts o = { .cwd = "/proj" };
		const char *y = "version: 1\npolicy: |\n  rule a:\n    notify exec \"x\"\n";

		memset(&f, 0, sizeof(f));
		assert_int_equal(ap_policy_load_buffer(".actplane/policy.yaml", y, strlen(y),
						       &o, &f.d, &f.pol), 0);
		assert_int_equal(ap_lower(f.pol, NULL, &f.d, &f.c), 0);
		assert_int_equal(f.c->rule_info[f.c->guard_rule].nkclauses, 6 + 2);
		assert_int_equal(guard_clause(f.c, AP_OP_WRITE, "/proj/.actplane/**"),
				 AP_GUARD_FILES);
		assert_int_equal(pattern_id(f.c, "/proj/.actplane/policy.yaml"), -1);
		release(&f);
	}
	/* the name is reserved */
	build(&f, "rule session-guard:\n  notify exec \"x\"\n", NULL);
	assert_int_equal(f.err, -EINVAL);
	assert_true(has_diag(&f, AP_DIAG_ERROR, "rule name 'session-guard' is reserved"));
	release(&f);
}

static void test_guard_notify_kill_allow(void **state)
{
	struct ap_load_opts o = { .cwd = "/proj" };
	struct ap_lower_opts tp = { .degraded_effects = 1u << AP_EFFECT_BLOCK |
							1u << AP_EFFECT_ASK };
	const char *y = "version: 1\npolicy: |\n  rule a:\n    block write \"x\"\n";
	struct fixture f;

	/* guard: notify lowers every clause, and says so in the blob */
	build(&f, "rule a:\n  notify exec \"x\"\n", "guard: notify\n");
	assert_valid(&f);
	assert_guard_shape(f.c, AP_EFFECT_NOTIFY);
	assert_int_equal(f.c->rule_info[f.c->guard_rule].nkclauses, 11);
	assert_true(f.c->flags & AP_BLOB_F_GUARD_NOTIFY);
	release(&f);

	/* a kernel that cannot deny: kill, and never "degraded" (run must
	 * not refuse because of the guard) */
	memset(&f, 0, sizeof(f));
	assert_int_equal(ap_policy_load_buffer("t.yaml", y, strlen(y), &o, &f.d, &f.pol), 0);
	assert_int_equal(ap_lower(f.pol, &tp, &f.d, &f.c), 0);
	assert_guard_shape(f.c, AP_EFFECT_KILL);
	assert_true(f.c->rule_info[0].degraded);
	release(&f);

	/* items one by one */
	build(&f, "rule a:\n  notify exec \"x\"\n", "guard: {allow: [files]}\n");
	assert_valid(&f);
	assert_guard_shape(f.c, AP_EFFECT_BLOCK);
	assert_int_equal(f.c->rule_info[f.c->guard_rule].nkclauses, 2);
	assert_int_equal(guard_clause(f.c, AP_OP_WRITE, "/proj/.actplane/**"), -1);
	assert_int_equal(guard_clause(f.c, AP_OP_WRITE, "/**/cgroup.procs"), AP_GUARD_CGROUP);
	release(&f);
	build(&f, "rule a:\n  notify exec \"x\"\n", "guard: {allow: [cgroup, ptrace]}\n");
	assert_valid(&f);
	assert_int_equal(f.c->rule_info[f.c->guard_rule].nkclauses, 9);
	assert_int_equal(guard_clause(f.c, AP_OP_WRITE, "/**/cgroup.procs"), -1);
	assert_int_equal(f.c->guard_allow, AP_GUARD_CGROUP | AP_GUARD_PTRACE);
	release(&f);
	/* nothing left to guard by path: the rule is still there, empty */
	build(&f, "rule a:\n  notify exec \"x\"\n", "guard: {allow: [files, cgroup]}\n");
	assert_valid(&f);
	assert_guard_shape(f.c, AP_EFFECT_BLOCK);
	assert_int_equal(f.c->nrules, 2);
	assert_int_equal(f.c->rule_info[1].nkclauses, 0);
	release(&f);
}

/* --rule has no file: only the project's .actplane/ (cwd's) */
static void test_guard_rule_text(void **state)
{
	struct ap_load_opts o = { .cwd = "/proj", .rule_text = "block exec \"curl\"" };
	struct fixture f;

	memset(&f, 0, sizeof(f));
	assert_int_equal(ap_policy_load(&o, &f.d, &f.pol), 0);
	assert_int_equal(ap_lower(f.pol, NULL, &f.d, &f.c), 0);
	assert_guard_shape(f.c, AP_EFFECT_BLOCK);
	assert_int_equal(f.c->rule_info[f.c->guard_rule].nkclauses, 6 + 2);
	assert_int_equal(guard_clause(f.c, AP_OP_UNLINK, "/proj/.actplane"), AP_GUARD_FILES);
	assert_int_equal(pattern_id(f.c, "/proj/<rule>"), -1);
	release(&f);
}

static bool dfa_hits(const struct ap_compiled *c, const char *path, int id)
{
	struct ap_accept_set set;

	memset(&set, 0, sizeof(set));
	ap_dfa__match_set(c->dfa, AP_PAT_PATH, path, strlen(path), &set);
	return id >= 0 && ap_accept_set__has(&set, (unsigned)id);
}

/* real files: a symbolic link as policy file and as .actplane, and a root
 * with glob bytes in its name */
static void test_guard_paths_on_disk(void **state)
{
	char base[] = "/tmp/ap-guard-XXXXXX", dir[256], path[512], tgt[512];
	struct ap_load_opts o = { 0 };
	struct fixture f;
	FILE *fp;
	int id;

	assert_non_null(mkdtemp(base));
	snprintf(dir, sizeof(dir), "%s/p[1]*", base);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(tgt, sizeof(tgt), "%s/real.yaml", base);
	fp = fopen(tgt, "w");
	assert_non_null(fp);
	fputs("version: 1\npolicy: |\n  rule a:\n    notify exec \"x\"\n", fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/actplane.yaml", dir);
	assert_int_equal(symlink(tgt, path), 0);
	snprintf(tgt, sizeof(tgt), "%s/elsewhere", base);
	assert_int_equal(mkdir(tgt, 0700), 0);
	snprintf(tgt, sizeof(tgt), "%s/.actplane", dir);
	assert_int_equal(symlink("../elsewhere", tgt), 0);

	memset(&f, 0, sizeof(f));
	o.policy_path = path;
	assert_int_equal(ap_policy_load(&o, &f.d, &f.pol), 0);
	assert_int_equal(ap_lower(f.pol, NULL, &f.d, &f.c), 0);
	assert_guard_shape(f.c, AP_EFFECT_BLOCK);
	/* the link's name (rename/unlink) and where writes land, escaped */
	snprintf(tgt, sizeof(tgt), "%s/p\\[1\\]\\*/actplane.yaml", base);
	id = pattern_id(f.c, tgt);
	assert_true(id >= 0);
	assert_true(dfa_hits(f.c, path, id));
	snprintf(tgt, sizeof(tgt), "%s/p11x/actplane.yaml", base);
	assert_false(dfa_hits(f.c, tgt, id));
	snprintf(tgt, sizeof(tgt), "%s/real.yaml", base);
	assert_int_equal(guard_clause(f.c, AP_OP_WRITE, tgt), AP_GUARD_FILES);
	snprintf(tgt, sizeof(tgt), "%s/elsewhere/**", base);
	assert_int_equal(guard_clause(f.c, AP_OP_WRITE, tgt), AP_GUARD_FILES);
	snprintf(tgt, sizeof(tgt), "%s/p\\[1\\]\\*/.actplane/**", base);
	id = pattern_id(f.c, tgt);
	snprintf(tgt, sizeof(tgt), "%s/.actplane/events.jsonl", dir);
	assert_true(dfa_hits(f.c, tgt, id));
	release(&f);

	snprintf(tgt, sizeof(tgt), "%s/.actplane", dir);
	unlink(tgt);
	unlink(path);
	rmdir(dir);
	snprintf(tgt, sizeof(tgt), "%s/elsewhere", base);
	rmdir(tgt);
	snprintf(tgt, sizeof(tgt), "%s/real.yaml", base);
	unlink(tgt);
	rmdir(base);
}

/* the user-space evaluator (supervised mode) decides with the guard: a
 * hard link is a rename of the old name, reads and other files pass */
static void test_guard_eval(void **state)
{
	struct fixture f;
	struct ap_eval_ctx ev;
	struct ap_eval_out out;
	struct ap_blob_view v;
	const char *why = NULL;
	void *blob;
	size_t size;
	struct {
		enum ap_op op;
		bool rd, wr, link;
		const char *path, *path2;
		bool guarded;
		enum ap_op dop;
	} cases[] = {
		{ AP_OP_OPEN, false, true, false, "/proj/t.yaml", NULL, true, AP_OP_WRITE },
		{ AP_OP_OPEN, true, false, false, "/proj/t.yaml", NULL, false, 0 },
		{ AP_OP_OPEN, false, true, false, "/proj/.actplane/events.jsonl", NULL, true,
		  AP_OP_WRITE },
		{ AP_OP_OPEN, false, true, false, "/proj/src/a.c", NULL, false, 0 },
		{ AP_OP_RENAME, false, false, false, "/proj/t.yaml", "/proj/x", true,
		  AP_OP_RENAME },
		{ AP_OP_RENAME, false, false, false, "/proj/y", "/proj/t.yaml", true,
		  AP_OP_RENAME },
		{ AP_OP_RENAME, false, false, true, "/proj/t.yaml", "/proj/x", true, AP_OP_RENAME },
		{ AP_OP_RENAME, false, false, true, "/proj/a", "/proj/.actplane/b", true,
		  AP_OP_WRITE },
		{ AP_OP_RENAME, false, false, false, "/proj/.actplane", "/proj/z", true,
		  AP_OP_RENAME },
		{ AP_OP_UNLINK, false, false, false, "/proj/.actplane/last-violation.txt", NULL,
		  true, AP_OP_UNLINK },
		{ AP_OP_UNLINK, false, false, false, "/proj/.actplane", NULL, true, AP_OP_UNLINK },
		{ AP_OP_WRITE, false, false, false, "/proj/t.yaml", NULL, true, AP_OP_WRITE },
		{ AP_OP_OPEN, false, true, false, "/sys/fs/cgroup/unified/cgroup.procs", NULL,
		  true, AP_OP_WRITE },
		{ AP_OP_OPEN, false, true, false, "/run/actplane/cgroup2/x/cgroup.threads", NULL,
		  true, AP_OP_WRITE },
		{ AP_OP_OPEN, true, false, false, "/sys/fs/cgroup/cgroup.procs", NULL, false, 0 },
	};

	build(&f, "rule a:\n  notify write \"src/**\"\n", NULL);
	assert_valid(&f);
	assert_int_equal(ap_compiled__to_blob(f.c, &blob, &size), 0);
	assert_int_equal(ap_blob__view(blob, size, &v, &why), 0);
	assert_int_equal(ap_eval_ctx__init(&ev, &v, -1, -1, -1, -1, 1), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ap_eval_in in = { .op = cases[i].op, .rd = cases[i].rd,
					 .wr = cases[i].wr, .link = cases[i].link,
					 .tgid = 1, .path = cases[i].path,
					 .path2 = cases[i].path2 };

		assert_int_equal(ap_eval__op(&ev, &in, &out), 0);
		if (!cases[i].guarded) {
			assert_true(!out.nmatch || out.rule != f.c->guard_rule);
			continue;
		}
		if (out.rule != f.c->guard_rule || out.effect != AP_EFFECT_BLOCK ||
		    out.op != cases[i].dop)
			fail_msg("case %zu (%s): rule %u effect %d op %d", i, cases[i].path,
				 out.rule, out.effect, out.op);
	}
	free(blob);
	release(&f);

	/* on a tie with a rule of the policy the guard decides */
	build(&f, "rule a:\n  block write \".actplane/**\"\n  block rename \"**\"\n", NULL);
	assert_valid(&f);
	assert_int_equal(ap_compiled__to_blob(f.c, &blob, &size), 0);
	assert_int_equal(ap_blob__view(blob, size, &v, &why), 0);
	assert_int_equal(ap_eval_ctx__init(&ev, &v, -1, -1, -1, -1, 1), 0);
	{
		struct ap_eval_in in = { .op = AP_OP_OPEN, .wr = true, .tgid = 1,
					 .path = "/proj/.actplane/x" };

		assert_int_equal(ap_eval__op(&ev, &in, &out), 0);
		assert_int_equal(out.rule, f.c->guard_rule);
		assert_true(out.rules[0] & 1); /* rule a matched too */
		in = (struct ap_eval_in){ .op = AP_OP_RENAME, .tgid = 1,
					  .path = "/proj/src", .path2 = "/proj/t.yaml" };
		assert_int_equal(ap_eval__op(&ev, &in, &out), 0);
		assert_int_equal(out.rule, f.c->guard_rule);
		in.path2 = "/proj/src2";
		assert_int_equal(ap_eval__op(&ev, &in, &out), 0);
		assert_int_equal(out.rule, 0);
	}
	/* a flag this version does not know makes the blob invalid */
	((struct ap_clause *)(v.clauses))[v.hdr->nclauses - 1].flags |= 0x80;
	assert_int_equal(ap_blob__view(blob, size, &v, &why), -EINVAL);
	free(blob);
	release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_bits_in_declaration_order),
		cmocka_unit_test(test_seed_explicit),
		cmocka_unit_test(test_seed_typo_warns),
		cmocka_unit_test(test_unknown_label_suggests),
		cmocka_unit_test(test_too_many_labels),
		cmocka_unit_test(test_dnf),
		cmocka_unit_test(test_dnf_clauses_and_cap),
		cmocka_unit_test(test_pattern_defaults),
		cmocka_unit_test(test_pattern_warnings),
		cmocka_unit_test(test_kind_mismatch_errors),
		cmocka_unit_test(test_endpoint_forms),
		cmocka_unit_test(test_endpoints_lowered),
		cmocka_unit_test(test_gates_and_since_dedupe),
		cmocka_unit_test(test_args_canonical),
		cmocka_unit_test(test_shadowing),
		cmocka_unit_test(test_too_many_rules_and_patterns),
		cmocka_unit_test(test_path_max),
		cmocka_unit_test(test_deterministic_blob),
		cmocka_unit_test(test_degraded_flag),
		cmocka_unit_test(test_dsl_round_trip),
		cmocka_unit_test(test_guard_rule_last),
		cmocka_unit_test(test_guard_notify_kill_allow),
		cmocka_unit_test(test_guard_rule_text),
		cmocka_unit_test(test_guard_paths_on_disk),
		cmocka_unit_test(test_guard_eval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
