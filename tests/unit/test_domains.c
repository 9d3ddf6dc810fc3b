// SPDX-License-Identifier: MIT
#include "policy_fe_test.h"

/* three rule blocks; block "pair" declares two rules */
#define BLOCKS \
	"version: 1\n"                                                  \
	"rules:\n"                                                      \
	"  net:\n"                                                      \
	"    ifc: |\n"                                                  \
	"      rule net:\n"                                             \
	"        block connect endpoint \"*\"\n"                        \
	"  ro:\n"                                                       \
	"    ifc: |\n"                                                  \
	"      rule ro:\n"                                              \
	"        block write \"**\"\n"                                  \
	"  pair:\n"                                                     \
	"    ifc: |\n"                                                  \
	"      rule p1:\n"                                              \
	"        notify read \"a\"\n"                                   \
	"      rule p2:\n"                                              \
	"        notify read \"b\"\n"

static struct ap_policy *load(const char *domains, const char *want, struct ap_diags *d,
			      int *err)
{
	char text[4096];

	snprintf(text, sizeof(text), "%s%s", BLOCKS, domains);
	return fe_load_yaml(text, want, d, err);
}

static bool has_rule(const struct ap_policy *pol, const char *name, enum ap_bind_mode mode,
		     const char *from)
{
	for (uint32_t i = 0; i < pol->nrules; i++)
		if (!strcmp(pol->rules[i].rule->name, name))
			return pol->rules[i].mode == mode && !strcmp(pol->rules[i].domain, from);
	return false;
}

static void test_selection_order(void **state)
{
	static const char doms[] =
		"default_domain: review\n"
		"domains:\n"
		"  session:\n"
		"    bind: [net]\n"
		"  review:\n"
		"    bind: [ro]\n"
		"  other:\n"
		"    bind: [pair]\n";
	struct ap_diags d = { 0 };
	struct ap_policy *pol;
	int err;

	(void)state;
	/* --domain first */
	pol = load(doms, "other", &d, &err);
	assert_int_equal(err, 0);
	assert_string_equal(pol->domain, "other");
	assert_int_equal(pol->nrules, 2);
	ap_policy__free(pol);
	/* then default_domain */
	pol = load(doms, NULL, &d, &err);
	assert_int_equal(err, 0);
	assert_string_equal(pol->domain, "review");
	assert_int_equal(pol->nrules, 1);
	assert_string_equal(pol->rules[0].rule->name, "ro");
	ap_policy__free(pol);
	/* then the domain named session */
	pol = load(doms + strlen("default_domain: review\n"), NULL, &d, &err);
	assert_int_equal(err, 0);
	assert_string_equal(pol->domain, "session");
	ap_policy__free(pol);
	/* then the only domain */
	pol = load("domains:\n  solo:\n    bind: [{rule: ro}]\n", NULL, &d, &err);
	assert_int_equal(err, 0);
	assert_string_equal(pol->domain, "solo");
	ap_policy__free(pol);
	/* else an error listing them */
	pol = load("domains:\n  a:\n    bind: [ro]\n  b:\n    bind: [net]\n", NULL, &d, &err);
	assert_int_equal(err, -EINVAL);
	fe_assert_output(&d, pol,
		"p.yaml:17:1: error: several domains (a, b) and none selected: pass --domain "
		"NAME, set 'default_domain', or name one 'session'\n"
		"   17 | domains:\n"
		"      | ^~~~~~~\n");
	ap_diags__free(&d);
	ap_policy__free(pol);
	/* unknown names */
	pol = load(doms, "reveiw", &d, &err);
	assert_int_equal(err, -EINVAL);
	fe_assert_has(&d, pol, "p.yaml:18:1: error: unknown domain 'reveiw' given with --domain (did you mean 'review'?)");
	ap_diags__free(&d);
	ap_policy__free(pol);
	pol = load("default_domain: nope\ndomains:\n  a:\n    bind: [ro]\n", NULL, &d, &err);
	fe_assert_has(&d, pol, "p.yaml:17:17: error: unknown domain 'nope' in 'default_domain' (the policy defines: a)");
	ap_diags__free(&d);
	ap_policy__free(pol);
	/* --domain in a policy without domains */
	pol = load("", "x", &d, &err);
	assert_int_equal(err, -EINVAL);
	assert_string_equal(d.v[0].msg, "--domain 'x' given, but the policy defines no domains");
	ap_diags__free(&d);
	ap_policy__free(pol);
}

static void test_no_domains_means_every_rule(void **state)
{
	struct ap_diags d = { 0 };
	int err;
	struct ap_policy *pol = load("", NULL, &d, &err);

	(void)state;
	assert_int_equal(err, 0);
	assert_null(pol->domain);
	assert_int_equal(pol->nrules, 4);
	ap_policy__free(pol);
}

static void test_inheritance(void **state)
{
	struct ap_diags d = { 0 };
	int err;
	struct ap_policy *pol = load(
		"domains:\n"
		"  session:\n"
		"    bind:\n"
		"      - {rule: net, mode: default}\n"
		"      - {rule: pair, mode: locked}\n"
		"  review:\n"
		"    parent: session\n"
		"    disable: [net]\n"
		"    bind:\n"
		"      - {rule: ro, mode: locked}\n"
		"  leaf:\n"
		"    parent: review\n"
		"    bind: [{rule: p1, mode: default}]\n", "leaf", &d, &err);

	(void)state;
	assert_int_equal(err, 0);
	assert_string_equal(pol->domain, "leaf");
	assert_int_equal(pol->nrules, 3);
	/* a locked rule stays locked (and keeps where it was locked) when
	 * re-bound below as default */
	assert_true(has_rule(pol, "p1", AP_BIND_LOCKED, "session"));
	assert_true(has_rule(pol, "p2", AP_BIND_LOCKED, "session"));
	assert_true(has_rule(pol, "ro", AP_BIND_LOCKED, "review"));
	assert_false(has_rule(pol, "net", AP_BIND_DEFAULT, "session"));
	/* effective rules come in declaration order */
	assert_string_equal(pol->rules[0].rule->name, "ro");
	ap_policy__free(pol);
}

static void test_domain_errors(void **state)
{
	struct ap_diags d = { 0 };
	int err;
	struct ap_policy *pol = load(
		"domains:\n"                                  /* 17 */
		"  base:\n"
		"    bind: [{rule: net, mode: locked}, ro]\n"
		"  mid:\n"                                    /* 20 */
		"    parent: base\n"
		"    disable: [net, nope, ro, pair]\n"
		"  x:\n"
		"    parent: y\n"
		"  y:\n"                                      /* 25 */
		"    parent: x\n"
		"    bind: [net]\n"
		"  z:\n"
		"    parent: bsae\n"
		"  w:\n"                                      /* 30 */
		"    bind: [net, net, piar]\n"
		"    disable: [ro]\n"
		"  own:\n"
		"    parent: base\n"
		"    bind: [pair]\n"                          /* 35 */
		"    disable: [pair]\n"
		"  empty:\n"
		"    parent: base\n"
		"    disable: [ro]\n"
		"    bind: []\n"                              /* 40 */
		"  none:\n", "mid", &d, &err);

	(void)state;
	assert_int_equal(err, -EINVAL);
	fe_assert_has(&d, pol, "p.yaml:22:15: error: rule 'net' is locked by domain 'base' and cannot be disabled below it");
	fe_assert_has(&d, pol, "p.yaml:19:19: note: locked here");
	fe_assert_has(&d, pol, "p.yaml:22:20: error: unknown rule 'nope'");
	fe_assert_has(&d, pol, "p.yaml:22:30: error: rule block 'pair' is not inherited by domain 'mid' (its parent 'base' does not apply it)");
	fe_assert_has(&d, pol, "p.yaml:26:13: error: domain parents form a cycle: y -> x -> y");
	fe_assert_has(&d, pol, "p.yaml:29:13: error: unknown parent domain 'bsae' (did you mean 'base'?)");
	fe_assert_has(&d, pol, "p.yaml:31:17: error: rule 'net' is bound twice in domain 'w'");
	fe_assert_has(&d, pol, "p.yaml:31:12: note: first bound here");
	fe_assert_has(&d, pol, "p.yaml:31:22: error: unknown rule 'piar' (did you mean 'pair'?)");
	fe_assert_has(&d, pol, "p.yaml:32:15: error: domain 'w' has no parent: only inherited rules can be disabled");
	fe_assert_has(&d, pol, "p.yaml:36:15: error: rule block 'pair' is bound by domain 'own' itself, not inherited; remove the bind instead of disabling it");
	/* 'empty' keeps net (locked in base): not empty */
	assert_int_equal(d.nerrors, 10);
	fe_assert_has(&d, pol, "p.yaml:41:3: error: domain 'none' enforces no rules: bind some, or inherit them from a parent");
	/* the selected domain is still filled: what was valid of it */
	assert_string_equal(pol->domain, "mid");
	assert_true(has_rule(pol, "net", AP_BIND_LOCKED, "base"));
	assert_false(has_rule(pol, "ro", AP_BIND_DEFAULT, "base"));
	ap_diags__free(&d);
	ap_policy__free(pol);
}

static void test_bind_names(void **state)
{
	struct ap_diags d = { 0 };
	int err;
	struct ap_policy *pol;

	(void)state;
	/* a block key binds every rule of the block; a rule name binds one */
	pol = load("domains:\n  s:\n    bind: [pair]\n", NULL, &d, &err);
	assert_int_equal(err, 0);
	assert_int_equal(pol->nrules, 2);
	ap_policy__free(pol);
	pol = load("domains:\n  s:\n    bind: [p2]\n", NULL, &d, &err);
	assert_int_equal(err, 0);
	assert_int_equal(pol->nrules, 1);
	assert_string_equal(pol->rules[0].rule->name, "p2");
	ap_policy__free(pol);
	/* a block without rules cannot be bound */
	pol = fe_load_yaml("version: 1\nrules:\n  labels:\n    ifc: |\n      source A = exec \"a\"\n"
			   "  r:\n    ifc: |\n      rule r:\n        kill exec \"x\" if A\n"
			   "domains:\n  s:\n    bind: [labels, r]\n", NULL, &d, &err);
	assert_int_equal(err, -EINVAL);
	fe_assert_has(&d, pol, "p.yaml:12:12: error: rule block 'labels' declares no rules");
	ap_diags__free(&d);
	ap_policy__free(pol);
	/* bad modes and entries */
	pol = load("domains:\n  s:\n    bind: [{rule: ro, mode: lockd}, {mode: locked}, [x]]\n",
		   NULL, &d, &err);
	fe_assert_has(&d, pol, "p.yaml:19:29: error: 'mode' must be 'default' or 'locked', found 'lockd' (did you mean 'locked'?)");
	fe_assert_has(&d, pol, "p.yaml:19:37: error: a bind entry needs 'rule: NAME'");
	fe_assert_has(&d, pol, "p.yaml:19:53: error: a bind entry must be a mapping, found a list");
	assert_int_equal(d.nerrors, 3);
	ap_diags__free(&d);
	ap_policy__free(pol);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_selection_order),
		cmocka_unit_test(test_no_domains_means_every_rule),
		cmocka_unit_test(test_inheritance),
		cmocka_unit_test(test_domain_errors),
		cmocka_unit_test(test_bind_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
