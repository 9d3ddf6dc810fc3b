// SPDX-License-Identifier: MIT
/* actplane check: validate a policy and say how this kernel enforces it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli_common.h"
#include "commands.h"
#include "enforce/landlock.h"
#include "policy/summary.h"

static void usage(FILE *out)
{
	fputs("usage: actplane check [--policy FILE | --rule TEXT] [--domain NAME]\n"
	      "                      [--json] [--fallback kill|notify]\n"
	      "\n"
	      "Validate a policy (no privileges needed) and print its labels, its rules\n"
	      "in words, and how each effect is enforced on this kernel: which rules\n"
	      "degrade and why. Errors and warnings go to stderr as FILE:LINE:COL.\n"
	      "\n"
	      "  --policy FILE    the policy (default: actplane.yaml or\n"
	      "                   .actplane/policy.yaml here or in a parent directory)\n"
	      "  --rule TEXT      a policy given inline as DSL text\n"
	      "  --domain NAME    the domain to select (form B policies)\n"
	      "  --json           one JSON object on stdout (schema in docs/rule-language.md)\n"
	      "  --fallback kill|notify\n"
	      "                   describe enforcement as `run --fallback` would make it\n"
	      "\n"
	      "Exit status: 0 valid (warnings and degradations are reported, not fatal),\n"
	      "1 invalid, 2 usage error.\n", out);
}

int ap_cmd_check(int argc, char **argv)
{
	struct ap_load_opts lo = { 0 };
	struct ap_kernel_caps caps;
	struct ap_cli_loaded l;
	struct ap_summary s = { 0 };
	bool json = false;
	const char *fb = NULL;
	int i = 1, r, rc;

	while (i < argc) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return AP_EXIT_OK;
		}
		r = ap_cli__policy_opt(&lo, argc, argv, &i);
		if (r < 0)
			return AP_EXIT_USAGE;
		if (r > 0)
			continue;
		r = ap_cli__opt_value("--fallback", argc, argv, &i, &fb);
		if (r < 0)
			return AP_EXIT_USAGE;
		if (r > 0)
			continue;
		if (!strcmp(argv[i], "--json")) {
			json = true;
			i++;
			continue;
		}
		fprintf(stderr, "actplane check: unknown argument '%s'\n", argv[i]);
		usage(stderr);
		return AP_EXIT_USAGE;
	}
	if (fb && strcmp(fb, "kill") && strcmp(fb, "notify")) {
		fprintf(stderr, "actplane check: --fallback must be kill or notify\n");
		return AP_EXIT_USAGE;
	}
	if (ap_cli__caps(&caps))
		return AP_EXIT_USAGE;

	rc = ap_cli__load(&lo, &caps, &l) ? AP_EXIT_INVALID : AP_EXIT_OK;
	s.pol = l.pol;
	s.c = l.c;
	s.caps = &caps;
	s.fallback = !fb ? AP_FALLBACK_NONE :
		     !strcmp(fb, "kill") ? AP_FALLBACK_KILL : AP_FALLBACK_NOTIFY;
	s.diags = &l.diags;
	s.valid = rc == AP_EXIT_OK;
	s.policy_arg = lo.rule_text ? "<rule>" : lo.policy_path;
	if (json) {
		if (ap_summary__json(&s, stdout))
			rc = AP_EXIT_INVALID;
	} else if (s.valid) {
		ap_summary__print(&s, stdout);
		if (caps.mode == AP_MODE_SUPERVISED)
			ap_landlock__print_coverage(l.c, stdout);
	}
	ap_cli__print_diags(&l);
	ap_cli__loaded_free(&l);
	return rc;
}
