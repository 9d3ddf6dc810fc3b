// SPDX-License-Identifier: MIT
#include "policy_fe_test.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_form_a(void **state)
{
	struct ap_diags d = { 0 };
	int err;
	struct ap_policy *pol = fe_load_yaml(
		"version: 1                 # required\n"
		"policy: |\n"
		"  source AGENT = exec \"claude\"\n"
		"  rule no-push:\n"
		"    kill exec \"git\" \"push\" if AGENT\n"
		"    because \"pushing is done by the release job\"\n"
		"feedback:\n"
		"  path: .actplane/last-violation.txt\n", NULL, &d, &err);

	(void)state;
	assert_int_equal(err, 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(pol->version, 1);
	assert_false(pol->form_b);
	assert_int_equal(pol->prog.nrules, 1);
	assert_int_equal(pol->nrules, 1);
	assert_ptr_equal(pol->rules[0].rule, &pol->prog.rules[0]);
	assert_int_equal(pol->rules[0].mode, AP_BIND_DEFAULT);
	assert_null(pol->domain);
	assert_string_equal(pol->feedback_path, ".actplane/last-violation.txt");
	/* no run.seed: the default is AGENT, because a source declares it */
	assert_false(pol->seed_given);
	assert_int_equal(pol->nseed, 1);
	assert_string_equal(pol->seed[0], "AGENT");
	assert_string_equal(pol->path, "p.yaml");
	assert_string_equal(pol->root, "/");
	assert_int_equal(pol->guard, AP_GUARD_ENFORCE);
	assert_int_equal(pol->guard_allow, 0);
	/* spans of the DSL are in the block source, mapped to the file */
	assert_int_equal(pol->nsrcs, 2);
	assert_int_equal(pol->srcs[1].parent, 0);
	assert_int_equal(pol->srcs[1].map_line[0], 3);
	assert_int_equal(pol->srcs[1].map_col[0], 2);
	ap_diags__free(&d);
	ap_policy__free(pol);
}

static void test_sha256_of_bytes(void **state)
{
	struct ap_diags d = { 0 };
	const char *text = "version: 1\npolicy: |\n  rule r:\n    kill exec \"x\"\n";
	struct ap_policy *pol = fe_load_yaml(text, NULL, &d, NULL);
	char hex[65];

	(void)state;
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", pol->sha256[i]);
	/* sha256sum of the same bytes */
	assert_string_equal(hex, "111fdf34525664abf3d1cc77831a7340153e12022e569eb2df7c85f577bec4a3");
	/* no AGENT source: no default seed */
	assert_int_equal(pol->nseed, 0);
	ap_diags__free(&d);
	ap_policy__free(pol);
}

static void test_form_b_and_sections(void **state)
{
	struct ap_diags d = { 0 };
	int err;
	struct ap_policy *pol = fe_load_yaml(
		"version: 1\n"
		"rules:\n"
		"  net:\n"
		"    ifc: |\n"
		"      source AGENT = exec \"claude\"\n"
		"      rule no-network:\n"
		"        block connect endpoint \"*\" if AGENT\n"
		"  ro:\n"
		"    policy: |\n"
		"      rule readonly:\n"
		"        block write \"**\" if AGENT\n"
		"      rule noexec:\n"
		"        block exec \"sh\" if AGENT\n"
		"domains:\n"
		"  session:\n"
		"    bind: [{rule: net, mode: locked}, ro]\n"
		"run:\n"
		"  seed: [AGENT, OTHER]\n"
		"guard: {allow: [namespaces, ptrace]}\n", NULL, &d, &err);

	(void)state;
	assert_int_equal(err, 0);
	assert_true(pol->form_b);
	assert_int_equal(pol->nblocks, 2);
	assert_string_equal(pol->blocks[0].name, "net");
	assert_int_equal(pol->blocks[0].nrules, 1);
	assert_string_equal(pol->blocks[1].name, "ro");
	assert_int_equal(pol->blocks[1].first_rule, 1);
	assert_int_equal(pol->blocks[1].nrules, 2);
	assert_int_equal(pol->prog.nsources, 1); /* sources are global */
	assert_int_equal(pol->ndomains, 1);
	assert_string_equal(pol->domain, "session");
	assert_int_equal(pol->nrules, 3);
	assert_string_equal(pol->rules[0].rule->name, "no-network");
	assert_int_equal(pol->rules[0].mode, AP_BIND_LOCKED);
	assert_string_equal(pol->rules[0].domain, "session");
	assert_int_equal(pol->rules[2].mode, AP_BIND_DEFAULT);
	assert_true(pol->seed_given);
	assert_int_equal(pol->nseed, 2);
	assert_string_equal(pol->seed[1], "OTHER");
	assert_int_equal(pol->guard_allow, AP_GUARD_NAMESPACES | AP_GUARD_PTRACE);
	ap_diags__free(&d);
	ap_policy__free(pol);

	pol = fe_load_yaml("version: 1\npolicy: |\n  rule r:\n    kill exec \"x\"\n"
			   "guard: notify\nrun: {seed: []}\n", NULL, &d, &err);
	assert_int_equal(err, 0);
	assert_int_equal(pol->guard, AP_GUARD_NOTIFY_ONLY);
	assert_true(pol->seed_given);
	assert_int_equal(pol->nseed, 0);
	ap_diags__free(&d);
	ap_policy__free(pol);
}

static void test_unknown_keys(void **state)
{
	struct ap_diags d = { 0 };
	int err;
	struct ap_policy *pol = fe_load_yaml(
		"verison: 1\n"
		"policy: |\n"
		"  rule r:\n"
		"    kill exec \"x\"\n"
		"run:\n"
		"  sed: [A]\n"
		"feedback: {path: x, color: red}\n"
		"guard: {alow: [ptrace]}\n"
		"extra: 1\n", NULL, &d, &err);

	(void)state;
	assert_int_equal(err, -EINVAL);
	fe_assert_output(&d, pol,
		"p.yaml:1:1: error: unknown key 'verison' (did you mean 'version'?)\n"
		"    1 | verison: 1\n"
		"      | ^~~~~~~\n"
		"p.yaml:1:1: error: missing 'version: 1'\n"
		"    1 | verison: 1\n"
		"      | ^\n"
		"p.yaml:6:3: error: unknown key 'sed' in 'run' (did you mean 'seed'?)\n"
		"    6 |   sed: [A]\n"
		"      |   ^~~\n"
		"p.yaml:7:21: error: unknown key 'color' in 'feedback' (expected path)\n"
		"    7 | feedback: {path: x, color: red}\n"
		"      |                     ^~~~~\n"
		"p.yaml:8:9: error: unknown key 'alow' in 'guard' (did you mean 'allow'?)\n"
		"    8 | guard: {alow: [ptrace]}\n"
		"      |         ^~~~\n"
		"p.yaml:9:1: error: unknown key 'extra' (expected version, policy, rules, "
		"default_domain, domains, run, feedback, guard)\n"
		"    9 | extra: 1\n"
		"      | ^~~~~\n");
	ap_diags__free(&d);
	ap_policy__free(pol);

	pol = fe_load_yaml("version: 1\nrules:\n  a:\n    ifc: \"rule a: kill exec \\\"x\\\"\"\n"
			   "    polcy: x\ndomains:\n  s:\n    bind: [{rule: a, mod: locked}]\n"
			   "    parnt: x\n", NULL, &d, &err);
	fe_assert_has(&d, pol, "p.yaml:5:5: error: unknown key 'polcy' in rule block 'a' (did you mean 'policy'?)");
	fe_assert_has(&d, pol, "p.yaml:8:22: error: unknown key 'mod' in a bind entry (did you mean 'mode'?)");
	fe_assert_has(&d, pol, "p.yaml:9:5: error: unknown key 'parnt' in domain 's' (did you mean 'parent'?)");
	ap_diags__free(&d);
	ap_policy__free(pol);
}

static void test_structure_errors(void **state)
{
	struct ap_diags d = { 0 };
	struct ap_policy *pol;

	(void)state;
	pol = fe_load_yaml("version: 2\npolicy: |\n  rule r:\n    kill exec \"x\"\n"
			   "rules:\n  a: {ifc: \"rule a: kill exec \\\"x\\\"\"}\n"
			   "version: 1\n", NULL, &d, NULL);
	fe_assert_has(&d, pol, "p.yaml:1:10: error: unsupported policy version 2 (only version 1 exists)");
	fe_assert_has(&d, pol, "p.yaml:5:1: error: 'rules' cannot be combined with 'policy'");
	fe_assert_has(&d, pol, "p.yaml:2:1: note: 'policy' is here");
	fe_assert_has(&d, pol, "p.yaml:7:1: error: duplicate key 'version'");
	fe_assert_has(&d, pol, "p.yaml:1:1: note: first given here");
	ap_diags__free(&d);
	ap_policy__free(pol);

	pol = fe_load_yaml("version: one\npolicy: |\n  rule r:\n    kill exec \"x\"\n"
			   "domains: {s: {bind: [r]}}\ndefault_domain: s\n", NULL, &d, NULL);
	fe_assert_has(&d, pol, "p.yaml:1:10: error: 'version' must be 1, found 'one'");
	fe_assert_has(&d, pol, "p.yaml:5:1: error: 'domains' needs named rule blocks ('rules:'); with 'policy:' every rule applies");
	fe_assert_has(&d, pol, "p.yaml:6:1: error: 'default_domain' needs named rule blocks");
	ap_diags__free(&d);
	ap_policy__free(pol);

	pol = fe_load_yaml("version: 1\n", NULL, &d, NULL);
	fe_assert_has(&d, pol, "p.yaml:1:1: error: no rules: add 'policy: |' with DSL rules, or named rule blocks under 'rules:'");
	ap_diags__free(&d);
	ap_policy__free(pol);

	pol = fe_load_yaml("version: 1\npolicy: |\n  rule r:\n    kill exec \"x\"\n"
			   "run: {seed: [A}\n", NULL, &d, NULL);
	fe_assert_output(&d, pol,
		"p.yaml:5:15: error: invalid YAML: did not find expected ',' or ']' while parsing a flow sequence\n"
		"    5 | run: {seed: [A}\n"
		"      |               ^\n");
	ap_diags__free(&d);
	ap_policy__free(pol);

	pol = fe_load_yaml("", NULL, &d, NULL);
	fe_assert_has(&d, pol, "p.yaml:1:1: error: empty policy file");
	ap_diags__free(&d);
	ap_policy__free(pol);

	pol = fe_load_yaml("version: 1\npolicy: |\n  rule r:\n    kill exec \"x\"\n---\nversion: 1\n",
			   NULL, &d, NULL);
	fe_assert_has(&d, pol, "p.yaml:5:1: error: a policy file holds one YAML document; this is a second one");
	ap_diags__free(&d);
	ap_policy__free(pol);

	pol = fe_load_yaml("version: 1\npolicy: |\n  rule r:\n    kill exec \"x\"\n"
			   "guard: {allow: [ptrace, namespace]}\nfeedback: [x]\n", NULL, &d, NULL);
	fe_assert_has(&d, pol, "p.yaml:5:25: error: unknown guard item 'namespace' (did you mean 'namespaces'?)");
	fe_assert_has(&d, pol, "p.yaml:6:11: error: 'feedback' must be a mapping, found a list");
	ap_diags__free(&d);
	ap_policy__free(pol);
}

/* DSL errors land on the file line and column for every block style */
static void test_block_positions(void **state)
{
	static const struct {
		const char *yaml;
		const char *where;
	} cases[] = {
		{ "version: 1\npolicy: |\n  rule r:\n    kill exce \"x\"\n", "p.yaml:4:10:" },
		{ "version: 1\npolicy: |-\n\n  rule r:\n\n    kill exce \"x\"\n", "p.yaml:6:10:" },
		{ "version: 1\npolicy: |2\n\n    rule r:\n      kill exce \"x\"\n", "p.yaml:5:12:" },
		{ "version: 1\npolicy: >\n  rule r:\n    # c\n    kill exce \"x\"\n", "p.yaml:5:10:" },
		{ "version: 1\nrules:\n  a:\n    ifc: |+\n       rule a:\n         kill exce \"x\"\n\n",
		  "p.yaml:6:15:" },
		{ "version: 1\npolicy: \"rule r: kill exce 'x'\"\n", "p.yaml:2:23:" },
		{ "version: 1\npolicy: 'rule r: kill exce x'\n", "p.yaml:2:23:" },
		{ "version: 1\npolicy: |\n  rule r:\n  \tkill exce \"x\"\n", "p.yaml:4:9:" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ap_diags d = { 0 };
		struct ap_policy *pol = fe_load_yaml(cases[i].yaml, NULL, &d, NULL);
		char *h;

		assert_true(d.n >= 1);
		h = ap_diag__headline(&d.v[0], pol->srcs, pol->nsrcs);
		if (strncmp(h, cases[i].where, strlen(cases[i].where)))
			fail_msg("case %zu: want %s, got %s", i, cases[i].where, h);
		free(h);
		ap_diags__free(&d);
		ap_policy__free(pol);
	}
}

/* an empty folded block takes no line of what follows it */
static void test_empty_blocks(void **state)
{
	struct ap_diags d = { 0 };
	struct ap_policy *pol;

	(void)state;
	pol = fe_load_yaml("version: 1\r\npolicy: >\r\nx: 1\r\n", NULL, &d, NULL);
	assert_int_equal(d.nerrors, 2);
	fe_assert_has(&d, pol, "p.yaml:2:1: error: 'policy' declares no rule");
	fe_assert_has(&d, pol, "p.yaml:3:1: error: unknown key 'x'");
	ap_diags__free(&d);
	ap_policy__free(pol);

	pol = fe_load_yaml("version: 1\npolicy: |", NULL, &d, NULL);
	assert_int_equal(d.nerrors, 1);
	fe_assert_has(&d, pol, "p.yaml:2:1: error: 'policy' declares no rule");
	ap_diags__free(&d);
	ap_policy__free(pol);

	pol = fe_load_yaml("version: 1\nrules:\n  a:\n    ifc: |\n      source A = exec \"a\"\n",
			   NULL, &d, NULL);
	fe_assert_has(&d, pol, "p.yaml:2:1: error: the rule blocks declare no rule");
	ap_diags__free(&d);
	ap_policy__free(pol);
}

static void test_rule_text(void **state)
{
	struct ap_load_opts o = { .rule_text = "rule r:\n kill exec \"git\" if AGENT\n",
				  .cwd = "/tmp" };
	struct ap_diags d = { 0 };
	struct ap_policy *pol = NULL;

	(void)state;
	assert_int_equal(ap_policy_load(&o, &d, &pol), 0);
	assert_string_equal(pol->path, "<rule>");
	assert_string_equal(pol->root, "/tmp");
	assert_int_equal(pol->nrules, 1);
	assert_int_equal(pol->version, 1);
	ap_policy__free(pol);

	o.rule_text = "kill exec";
	assert_int_equal(ap_policy_load(&o, &d, &pol), -EINVAL);
	fe_assert_has(&d, pol, "<rule>:1:10: error: expected a string (pattern), found the end of the text");
	ap_diags__free(&d);
	ap_policy__free(pol);

	/* bare clauses make one rule named "inline" */
	o.rule_text = "source AGENT = exec \"claude\"\nkill exec \"git\" if AGENT\n"
		      "block connect endpoint \"*\"\nbecause \"no\"\nrule x:\n notify read \"a\"\n";
	assert_int_equal(ap_policy_load(&o, &d, &pol), 0);
	assert_int_equal(pol->nrules, 2);
	assert_string_equal(pol->prog.rules[0].name, "inline");
	assert_int_equal(pol->prog.rules[0].nclauses, 2);
	assert_string_equal(pol->prog.rules[0].because, "no");
	assert_string_equal(pol->prog.rules[1].name, "x");
	assert_int_equal(pol->nseed, 1);
	ap_policy__free(pol);

	o.rule_text = "source A = exec \"x\"";
	assert_int_equal(ap_policy_load(&o, &d, &pol), -EINVAL);
	fe_assert_has(&d, pol, "<rule>:1:1: error: the rule text declares no rule");
	ap_diags__free(&d);
	ap_policy__free(pol);

	o.policy_path = "x.yaml";
	assert_int_equal(ap_policy_load(&o, &d, &pol), -EINVAL);
	assert_string_equal(d.v[0].msg, "--policy and --rule cannot be used together");
	ap_diags__free(&d);
	ap_policy__free(pol);
}

static char tmpdir[PATH_MAX];

static void put(const char *rel, const char *text)
{
	char p[PATH_MAX + 64];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", tmpdir, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_discovery(void **state)
{
	static const char pol_a[] = "version: 1\npolicy: |\n  rule top:\n    kill exec \"a\"\n";
	static const char pol_b[] = "version: 1\npolicy: |\n  rule dot:\n    kill exec \"b\"\n";
	char cwd[PATH_MAX + 32], want[PATH_MAX + 64], real[PATH_MAX];
	struct ap_load_opts o = { 0 };
	struct ap_diags d = { 0 };
	struct ap_policy *pol = NULL;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ap-disc-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	assert_non_null(realpath(tmpdir, real));
	snprintf(cwd, sizeof(cwd), "%s/a/b", real);
	snprintf(want, sizeof(want), "%s/a", real);
	assert_int_equal(mkdir(want, 0700), 0);
	assert_int_equal(mkdir(cwd, 0700), 0);
	snprintf(want, sizeof(want), "%s/.actplane", real);
	assert_int_equal(mkdir(want, 0700), 0);
	put(".actplane/policy.yaml", pol_b);
	o.cwd = cwd;

	/* .actplane/policy.yaml two levels up; root is the dir holding .actplane */
	assert_int_equal(ap_policy_load(&o, &d, &pol), 0);
	assert_string_equal(pol->prog.rules[0].name, "dot");
	assert_string_equal(pol->root, real);
	snprintf(want, sizeof(want), "%s/.actplane/policy.yaml", real);
	assert_string_equal(pol->path, want);
	ap_policy__free(pol);

	/* actplane.yaml comes first in the same directory */
	put("actplane.yaml", pol_a);
	assert_int_equal(ap_policy_load(&o, &d, &pol), 0);
	assert_string_equal(pol->prog.rules[0].name, "top");
	ap_policy__free(pol);

	/* the nearest directory wins, and is named relatively in cwd */
	put("a/b/actplane.yaml", pol_b);
	assert_int_equal(ap_policy_load(&o, &d, &pol), 0);
	assert_string_equal(pol->prog.rules[0].name, "dot");
	assert_string_equal(pol->path, "actplane.yaml");
	assert_string_equal(pol->root, cwd);
	ap_policy__free(pol);

	/* --policy FILE keeps the name as given; a missing file is -ENOENT */
	snprintf(want, sizeof(want), "%s/a/../actplane.yaml", real);
	o.policy_path = want;
	assert_int_equal(ap_policy_load(&o, &d, &pol), 0);
	assert_string_equal(pol->path, want);
	assert_string_equal(pol->root, real);
	ap_policy__free(pol);
	o.policy_path = "/nonexistent/actplane.yaml";
	assert_int_equal(ap_policy_load(&o, &d, &pol), -ENOENT);
	assert_string_equal(d.v[0].msg, "cannot read policy '/nonexistent/actplane.yaml': "
			    "No such file or directory");
	ap_diags__free(&d);
	ap_policy__free(pol);

	/* nothing found */
	o.policy_path = NULL;
	o.cwd = "/proc/self";
	assert_int_equal(ap_policy_load(&o, &d, &pol), -ENOENT);
	assert_non_null(strstr(d.v[0].msg, "no policy found: looked for actplane.yaml and "
			       ".actplane/policy.yaml in /proc/"));
	ap_diags__free(&d);
	ap_policy__free(pol);

	snprintf(want, sizeof(want), "rm -rf '%s'", real);
	assert_int_equal(system(want), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_form_a),
		cmocka_unit_test(test_sha256_of_bytes),
		cmocka_unit_test(test_form_b_and_sections),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_structure_errors),
		cmocka_unit_test(test_block_positions),
		cmocka_unit_test(test_empty_blocks),
		cmocka_unit_test(test_rule_text),
		cmocka_unit_test(test_discovery),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
