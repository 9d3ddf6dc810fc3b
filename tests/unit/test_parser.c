// SPDX-License-Identifier: MIT
#include "policy_fe_test.h"

struct ps {
	struct ap_policy *pol;
	struct ap_diags d;
	struct ap_program *prog;
};

static void ps_parse(struct ps *p, const char *text)
{
	memset(p, 0, sizeof(*p));
	p->pol = fe_parse_dsl(text, &p->d);
	p->prog = &p->pol->prog;
}

static void ps_ok(struct ps *p, const char *text)
{
	ps_parse(p, text);
	if (p->d.nerrors) {
		char *out = fe_render(&p->d, p->pol);

		fail_msg("unexpected errors:\n%s", out);
	}
}

static void ps_close(struct ps *p)
{
	ap_diags__free(&p->d);
	ap_policy__free(p->pol);
}

static void test_sources_and_keeps(void **state)
{
	struct ps p;
	const struct ap_source_decl *s;

	(void)state;
	ps_ok(&p, "source AGENT = exec \"claude\" \"--print\" \"-p\"\n"
		  "source SECRET = file \"**/*credentials*\"\n"
		  "source NET = endpoint \"10.0.0.0/8\"\n"
		  "declassify SECRET by exec \"scrub\"\n"
		  "endorse   TRUSTED by exec \"/usr/bin/review\"\n");
	assert_int_equal(p.prog->nsources, 3);
	s = &p.prog->sources[0];
	assert_string_equal(s->label, "AGENT");
	assert_int_equal(s->kind, AP_S_EXEC);
	assert_string_equal(s->pat.text, "claude");
	assert_int_equal(s->pat.syn, AP_PATSYN_EXEC);
	assert_int_equal(s->args.n, 2);
	assert_string_equal(s->args.v[1].text, "-p");
	assert_int_equal(s->label_loc.off, 7);
	assert_int_equal(s->label_loc.len, 5);
	assert_int_equal(s->loc.off, 0);
	assert_int_equal(s->loc.len, strlen("source AGENT = exec \"claude\" \"--print\" \"-p\""));
	assert_int_equal(p.prog->sources[1].kind, AP_S_FILE);
	assert_string_equal(p.prog->sources[1].pat.text, "**/*credentials*");
	assert_int_equal(p.prog->sources[2].kind, AP_S_ENDPOINT);
	assert_int_equal(p.prog->nkeeps, 2);
	assert_int_equal(p.prog->keeps[0].kind, AP_KEEP_DECLASSIFY);
	assert_string_equal(p.prog->keeps[0].label, "SECRET");
	assert_string_equal(p.prog->keeps[0].program.text, "scrub");
	assert_int_equal(p.prog->keeps[1].kind, AP_KEEP_ENDORSE);
	assert_string_equal(p.prog->keeps[1].label, "TRUSTED");
	ps_close(&p);
}

static void test_rule_and_clauses(void **state)
{
	struct ps p;
	const struct ap_rule_ast *r;
	const struct ap_clause_ast *c;

	(void)state;
	ps_ok(&p, "rule no-push:\n"
		  "  kill exec \"git\" \"push\" if AGENT\n"
		  "  block write file \"src/**\"\n"
		  "  ask connect endpoint \"*:443\"\n"
		  "  notify recv \"127.0.0.1\"\n"
		  "  block exec file \"scripts/**\"\n"
		  "  block open \"a\"\n  block read \"b\"\n  block unlink \"c\"\n"
		  "  block rename \"d\"\n"
		  "  because \"pushing is done by the release job\"\n"
		  "rule exec:\n  notify exec exec \"x\"\n");
	assert_int_equal(p.prog->nrules, 2);
	r = &p.prog->rules[0];
	assert_string_equal(r->name, "no-push");
	assert_int_equal(r->nclauses, 9);
	assert_string_equal(r->because, "pushing is done by the release job");
	c = &r->clauses[0];
	assert_int_equal(c->effect, AP_EFFECT_KILL);
	assert_int_equal(c->op, AP_OP_EXEC);
	assert_string_equal(c->pat.text, "git");
	assert_int_equal(c->pat.syn, AP_PATSYN_DEFAULT);
	assert_int_equal(c->args.n, 1);
	assert_string_equal(c->args.v[0].text, "push");
	assert_non_null(c->cond);
	assert_int_equal(c->cond->kind, AP_EXPR_LABEL);
	assert_string_equal(c->cond->label, "AGENT");
	assert_int_equal(c->loc.off, 16);
	assert_int_equal(c->loc.len, strlen("kill exec \"git\" \"push\" if AGENT"));
	assert_int_equal(r->clauses[1].effect, AP_EFFECT_BLOCK);
	assert_int_equal(r->clauses[1].op, AP_OP_WRITE);
	assert_int_equal(r->clauses[1].pat.syn, AP_PATSYN_FILE);
	assert_null(r->clauses[1].cond);
	assert_int_equal(r->clauses[2].effect, AP_EFFECT_ASK);
	assert_int_equal(r->clauses[2].op, AP_OP_CONNECT);
	assert_int_equal(r->clauses[2].pat.syn, AP_PATSYN_ENDPOINT);
	assert_int_equal(r->clauses[3].effect, AP_EFFECT_NOTIFY);
	assert_int_equal(r->clauses[3].op, AP_OP_RECV);
	assert_int_equal(r->clauses[4].pat.syn, AP_PATSYN_FILE);
	assert_int_equal(r->clauses[5].op, AP_OP_OPEN);
	assert_int_equal(r->clauses[6].op, AP_OP_READ);
	assert_int_equal(r->clauses[7].op, AP_OP_UNLINK);
	assert_int_equal(r->clauses[8].op, AP_OP_RENAME);
	/* a keyword is a fine rule name; exec takes an explicit exec kind */
	assert_string_equal(p.prog->rules[1].name, "exec");
	assert_int_equal(p.prog->rules[1].clauses[0].pat.syn, AP_PATSYN_EXEC);
	assert_null(p.prog->rules[1].because);
	ps_close(&p);
}

static void test_precedence(void **state)
{
	struct ps p;
	const struct ap_expr *e;

	(void)state;
	/* not > and > or */
	ps_ok(&p, "rule r:\n  kill exec \"x\" if A or B and not C\n"
		  "  kill exec \"x\" if not A and B\n"
		  "  kill exec \"x\" if (A or B) and not (C or true)\n"
		  "  kill exec \"x\" if A and B and C\n");
	e = p.prog->rules[0].clauses[0].cond;
	assert_int_equal(e->kind, AP_EXPR_OR);
	assert_string_equal(e->l->label, "A");
	assert_int_equal(e->r->kind, AP_EXPR_AND);
	assert_string_equal(e->r->l->label, "B");
	assert_int_equal(e->r->r->kind, AP_EXPR_NOT);
	assert_string_equal(e->r->r->l->label, "C");

	e = p.prog->rules[0].clauses[1].cond;
	assert_int_equal(e->kind, AP_EXPR_AND);
	assert_int_equal(e->l->kind, AP_EXPR_NOT);
	assert_string_equal(e->l->l->label, "A");
	assert_string_equal(e->r->label, "B");

	e = p.prog->rules[0].clauses[2].cond;
	assert_int_equal(e->kind, AP_EXPR_AND);
	assert_int_equal(e->l->kind, AP_EXPR_OR);
	assert_int_equal(e->r->kind, AP_EXPR_NOT);
	assert_int_equal(e->r->l->kind, AP_EXPR_OR);
	assert_int_equal(e->r->l->r->kind, AP_EXPR_TRUE);

	e = p.prog->rules[0].clauses[3].cond; /* left associative */
	assert_int_equal(e->kind, AP_EXPR_AND);
	assert_int_equal(e->l->kind, AP_EXPR_AND);
	assert_string_equal(e->r->label, "C");
	/* spans cover the whole expression */
	assert_int_equal(e->loc.len, strlen("A and B and C"));
	ps_close(&p);
}

static void test_conditions(void **state)
{
	struct ps p;
	const struct ap_clause_ast *c;
	const struct ap_condition *u;

	(void)state;
	ps_ok(&p, "rule r:\n"
		  "  block exec \"git\" \"commit\" if AGENT unless target not \"x\" or\n"
		  "    lineage-includes exec \"make\" or\n"
		  "    after exec \"pnpm\" \"test\" \"--all\" passed since write \"src/**\" or "
		  "read \"a\" or unlink \"b\" or exec \"c\"\n");
	c = &p.prog->rules[0].clauses[0];
	assert_int_equal(c->nunless, 3);
	u = &c->unless[0];
	assert_int_equal(u->kind, AP_C_TARGET);
	assert_true(u->negate);
	assert_string_equal(u->pat.text, "x");
	u = &c->unless[1];
	assert_int_equal(u->kind, AP_C_LINEAGE);
	assert_string_equal(u->pat.text, "make");
	assert_int_equal(u->pat.syn, AP_PATSYN_EXEC);
	u = &c->unless[2];
	assert_int_equal(u->kind, AP_C_AFTER);
	assert_true(u->passed);
	assert_string_equal(u->pat.text, "pnpm");
	assert_int_equal(u->args.n, 2);
	assert_string_equal(u->args.v[1].text, "--all");
	assert_int_equal(u->nsince, 4);
	assert_int_equal(u->since[0].op, AP_OP_WRITE);
	assert_string_equal(u->since[0].pat.text, "src/**");
	assert_int_equal(u->since[1].op, AP_OP_READ);
	assert_int_equal(u->since[2].op, AP_OP_UNLINK);
	assert_int_equal(u->since[3].op, AP_OP_EXEC);
	assert_string_equal(u->since[3].pat.text, "c");
	ps_close(&p);
}

/* 'or' + event keyword continues 'since'; 'or' + condition keyword starts
 * the next unless-condition */
static void test_or_ambiguity(void **state)
{
	struct ps p;
	const struct ap_clause_ast *c;

	(void)state;
	ps_ok(&p, "rule r:\n"
		  "  block exec \"git\" unless after exec \"make\" since write \"a\" or exec \"b\""
		  " or target \"c\" or after exec \"d\" since read \"e\" or lineage-includes exec \"f\"\n"
		  "  block exec \"git\" unless after exec \"make\" or after exec \"x\"\n");
	c = &p.prog->rules[0].clauses[0];
	assert_int_equal(c->nunless, 4);
	assert_int_equal(c->unless[0].kind, AP_C_AFTER);
	assert_int_equal(c->unless[0].nsince, 2);
	assert_int_equal(c->unless[0].since[1].op, AP_OP_EXEC);
	assert_int_equal(c->unless[1].kind, AP_C_TARGET);
	assert_int_equal(c->unless[2].kind, AP_C_AFTER);
	assert_int_equal(c->unless[2].nsince, 1);
	assert_int_equal(c->unless[3].kind, AP_C_LINEAGE);
	c = &p.prog->rules[0].clauses[1];
	assert_int_equal(c->nunless, 2);
	assert_int_equal(c->unless[0].nsince, 0);
	ps_close(&p);
}

static void test_multiline_clauses(void **state)
{
	struct ps p;
	const struct ap_rule_ast *r;

	(void)state;
	/* newlines are whitespace; the next effect keyword starts a clause */
	ps_ok(&p, "source AGENT = exec \"claude\"\n"
		  "rule regenerate-after-schema:\n"
		  "  notify exec \"git\" \"commit\"\n"
		  "    if SCHEMA_CHANGED unless after exec \"protoc\" since write \"src/protocol/**\"\n"
		  "  kill exec \"x\" if A kill exec \"y\"\n"
		  "  because \"Protocol schema changed\"\n"
		  "source B = file \"b\"\n");
	r = &p.prog->rules[0];
	assert_int_equal(r->nclauses, 3);
	assert_int_equal(r->clauses[0].nunless, 1);
	assert_string_equal(r->clauses[2].pat.text, "y");
	assert_int_equal(p.prog->nsources, 2);
	ps_close(&p);
}

static void test_misspelled_keywords(void **state)
{
	struct ps p;

	(void)state;
	ps_parse(&p, "rule r:\n  kill opne \"x\"\n  blok exec \"y\"\n"
		     "  kill exec \"z\" iff A\n  kill exec \"z\" unless taget \"q\"\n"
		     "rul s:\n  kill exec \"a\"\n"
		     "source X = fiel \"x\"\n");
	fe_assert_output(&p.d, p.pol,
		"t:2:8: error: expected an operation (exec, open, read, write, unlink, rename, "
		"connect, recv), found 'opne' (did you mean 'open'?)\n"
		"    2 |   kill opne \"x\"\n"
		"      |        ^~~~\n"
		"t:3:3: error: expected the next clause, 'because' or a declaration, found "
		"'blok' (did you mean 'block'?)\n"
		"    3 |   blok exec \"y\"\n"
		"      |   ^~~~\n"
		"t:4:17: error: expected 'if', 'unless', the next clause or 'because', found "
		"'iff' (did you mean 'if'?)\n"
		"    4 |   kill exec \"z\" iff A\n"
		"      |                 ^~~\n"
		"t:5:24: error: expected a condition (target, lineage-includes, after), found "
		"'taget' (did you mean 'target'?)\n"
		"    5 |   kill exec \"z\" unless taget \"q\"\n"
		"      |                        ^~~~~\n"
		"t:6:1: error: expected the next clause, 'because' or a declaration, found "
		"'rul'\n"
		"    6 | rul s:\n"
		"      | ^~~\n"
		"t:8:12: error: expected a source kind (file, endpoint, exec), found 'fiel' "
		"(did you mean 'file'?)\n"
		"    8 | source X = fiel \"x\"\n"
		"      |            ^~~~\n");
	assert_int_equal(p.d.nerrors, 6);
	ps_close(&p);
}

static void test_recovery_several_errors(void **state)
{
	struct ps p;

	(void)state;
	ps_parse(&p, "source = file \"x\"\n"
		     "rule a:\n  kill exec\n  kill exec \"ok\"\n  block read \"x\" \"y\"\n"
		     "rule b\n  kill exec \"x\" if (A\n"
		     "kill exec \"outside\"\n"
		     "rule c:\n  notify write \"x\" if A B\n  because \"fine\"\n");
	assert_int_equal(p.d.nerrors, 6);
	fe_assert_has(&p.d, p.pol, "t:1:8: error: expected a label name after 'source', found '='");
	fe_assert_has(&p.d, p.pol, "t:3:12: error: expected a string (pattern), found the end of the line");
	fe_assert_has(&p.d, p.pol, "t:5:18: error: argument patterns are only allowed on 'exec' clauses");
	fe_assert_has(&p.d, p.pol, "t:6:7: error: expected ':' after the rule name, found the end of the line");
	fe_assert_has(&p.d, p.pol, "t:7:22: error: expected ')' to close the '(' (or 'and', 'or'), found the end of the line");
	fe_assert_has(&p.d, p.pol, "t:7:20: note: the '(' is here");
	fe_assert_has(&p.d, p.pol, "t:10:25: error: expected 'and', 'or', 'unless', the next clause or 'because', found 'B'");
	/* the rules are still there for later passes */
	assert_int_equal(p.prog->nrules, 3);
	assert_string_equal(p.prog->rules[2].because, "fine");
	ps_close(&p);
}

static void test_semantic_errors(void **state)
{
	struct ps p;

	(void)state;
	ps_parse(&p, "rule a:\n  kill exec \"x\"\n"
		     "rule a:\n  notify connect file \"x\"\n  notify recv exec \"x\"\n"
		     "  ask exec endpoint \"x\"\n  ask write endpoint \"x\"\n  ask read exec \"x\"\n"
		     "rule empty:\n"
		     "rule b:\n  kill exec \"\" \"\"\n  kill exec \"x\" unless after exec \"m\" since write \"a\" passed\n"
		     "  kill exec \"x\" unless after exec \"m\" passed passed\n"
		     "  kill exec \"x\" unless target \"a\" and target \"b\"\n"
		     "  kill exec \"x\" unless target \"a\" if A\n"
		     "  kill exec \"x\" unless target \"a\" unless target \"b\"\n"
		     "  kill exec \"x\" unless not target \"a\"\n"
		     "  because \"one\"\n  because \"two\"\n  kill exec \"late\"\n"
		     "  because \"\"\n");
	fe_assert_has(&p.d, p.pol, "t:3:6: error: duplicate rule 'a'");
	fe_assert_has(&p.d, p.pol, "t:1:6: note: 'a' is first declared here");
	fe_assert_has(&p.d, p.pol, "t:4:18: error: a 'connect' clause takes an endpoint pattern, not 'file' (a Unix socket is written endpoint \"unix:PATH\")");
	fe_assert_has(&p.d, p.pol, "t:5:15: error: a 'recv' clause takes an endpoint pattern, not 'exec'");
	fe_assert_has(&p.d, p.pol, "t:6:12: error: an 'exec' clause takes a program pattern ('exec') or a file pattern ('file'), not 'endpoint'");
	fe_assert_has(&p.d, p.pol, "t:7:13: error: a 'write' clause takes a file pattern, not 'endpoint'");
	fe_assert_has(&p.d, p.pol, "t:8:12: error: a 'read' clause takes a file pattern, not 'exec'");
	fe_assert_has(&p.d, p.pol, "t:9:6: error: rule 'empty' has no clauses");
	fe_assert_has(&p.d, p.pol, "t:11:13: error: empty pattern");
	fe_assert_has(&p.d, p.pol, "t:11:16: error: empty argument pattern");
	fe_assert_has(&p.d, p.pol, "t:12:55: error: 'passed' must come before 'since'");
	fe_assert_has(&p.d, p.pol, "t:13:46: error: 'passed' given twice");
	fe_assert_has(&p.d, p.pol, "t:13:39: note: first given here");
	fe_assert_has(&p.d, p.pol, "t:14:35: error: unless-conditions are joined with 'or'");
	fe_assert_has(&p.d, p.pol, "t:15:35: error: 'if' must come before 'unless'");
	fe_assert_has(&p.d, p.pol, "t:16:35: error: a clause takes one 'unless'; join its conditions with 'or'");
	fe_assert_has(&p.d, p.pol, "t:17:24: error: 'not' cannot negate an unless-condition");
	fe_assert_has(&p.d, p.pol, "t:19:3: error: rule 'b' already has a 'because' text");
	fe_assert_has(&p.d, p.pol, "t:20:3: error: 'because' must come after the last clause of rule 'b'");
	fe_assert_has(&p.d, p.pol, "t:21:3: error: rule 'b' already has a 'because' text");
	assert_int_equal(p.d.nerrors, 18);
	ps_close(&p);

	ps_parse(&p, "rule q:\n  kill exec \"x\"\n  because \"\"\n");
	assert_int_equal(p.d.nerrors, 0);
	assert_int_equal(p.d.nwarnings, 1);
	fe_assert_has(&p.d, p.pol, "t:3:11: warning: empty 'because' text: the agent is told nothing about why");
	ps_close(&p);
}

static void test_labels_and_limits(void **state)
{
	struct ps p;
	char text[4096];
	size_t o;

	(void)state;
	ps_parse(&p, "source exec = file \"x\"\nrule r:\n  kill exec \"x\" if read\n"
		     "  kill exec \"x\" \"1\" \"2\" \"3\" \"4\" \"5\" \"6\" \"7\" \"8\" \"9\"\n");
	fe_assert_has(&p.d, p.pol, "t:1:8: error: 'exec' is a keyword and cannot be used as a label");
	fe_assert_has(&p.d, p.pol, "t:3:20: error: expected a label, 'true', 'not' or '(', found 'read'");
	fe_assert_has(&p.d, p.pol, "t:4:49: error: too many argument patterns (at most 8)");
	ps_close(&p);

	/* a clause before any rule; the rule after it still parses */
	ps_parse(&p, "source A = exec \"a\"\nkill exec \"x\"\n  if A\nrule r:\n  kill exec \"y\"\n");
	fe_assert_output(&p.d, p.pol,
		"t:2:1: error: a clause must be inside a rule: write 'rule NAME:' above it\n"
		"    2 | kill exec \"x\"\n"
		"      | ^~~~\n");
	assert_int_equal(p.prog->nrules, 1);
	ps_close(&p);

	/* deep nesting is an error, not a stack overflow */
	o = (size_t)snprintf(text, sizeof(text), "rule r:\n  kill exec \"x\" if ");
	for (int i = 0; i < 1000; i++)
		text[o++] = '(';
	text[o++] = 'A';
	text[o] = '\0';
	ps_parse(&p, text);
	fe_assert_has(&p.d, p.pol, "error: expression nested too deeply (more than 128 levels)");
	ps_close(&p);
}

static void test_rule_names_across_blocks(void **state)
{
	struct ap_policy *pol = ap_policy__new();
	struct ap_diags d = { 0 };
	static const char ta[] = "rule x:\n kill exec \"a\"\n", tb[] = "rule x:\n kill exec \"b\"\n";
	unsigned a = ap_policy__add_src(pol, "t", ta, strlen(ta), -1);
	unsigned b = ap_policy__add_src(pol, "t", tb, strlen(tb), -1);

	(void)state;
	assert_int_equal(ap_dsl_parse(pol, a, &pol->prog, &d), 0);
	assert_int_equal(ap_dsl_parse(pol, b, &pol->prog, &d), -EINVAL);
	assert_int_equal(pol->prog.nrules, 2);
	assert_int_equal(d.nerrors, 1);
	assert_string_equal(d.v[0].msg, "duplicate rule 'x'");
	assert_int_equal(d.v[1].loc.src, a);
	ap_diags__free(&d);
	ap_policy__free(pol);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sources_and_keeps),
		cmocka_unit_test(test_rule_and_clauses),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_conditions),
		cmocka_unit_test(test_or_ambiguity),
		cmocka_unit_test(test_multiline_clauses),
		cmocka_unit_test(test_misspelled_keywords),
		cmocka_unit_test(test_recovery_several_errors),
		cmocka_unit_test(test_semantic_errors),
		cmocka_unit_test(test_labels_and_limits),
		cmocka_unit_test(test_rule_names_across_blocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
