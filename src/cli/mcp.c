// SPDX-License-Identifier: MIT
/* `actplane mcp [--auto-attach-parent]`: see src/agent/mcp.h. stdout
 * carries protocol messages only; logs go to stderr. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/mcp.h"
#include "commands.h"

static void usage(FILE *out)
{
	fputs("usage: actplane mcp [--auto-attach-parent]\n"
	      "\n"
	      "Model Context Protocol server on stdio for the agent's session: resources\n"
	      "actplane:///policy, actplane:///feedback, actplane:///status; tools\n"
	      "check_policy, explain_last_violation, pending_approvals. It only reads:\n"
	      "nothing in it can approve, deny or weaken the policy.\n"
	      "\n"
	      "  --auto-attach-parent  ask the `actplane watch` daemon to attach the agent\n"
	      "                        (our parent) to its policy, as root or through\n"
	      "                        passwordless sudo; the outcome is logged and shown\n"
	      "                        in actplane:///status\n", out);
}

int ap_cmd_mcp(int argc, char **argv)
{
	struct ap_mcp_opts o = { 0 };
	struct ap_mcp *m;
	int err;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--auto-attach-parent")) {
			o.auto_attach_parent = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return AP_EXIT_OK;
		} else {
			fprintf(stderr, "actplane mcp: unknown argument '%s'\n", argv[i]);
			usage(stderr);
			return AP_EXIT_USAGE;
		}
	}
	err = ap_mcp__new(&o, &m);
	if (err)
		return AP_EXIT_INVALID;
	if (o.auto_attach_parent)
		ap_mcp__attach_parent(m); /* reported, never fatal: the tools still work */
	err = ap_mcp__serve(m, STDIN_FILENO, STDOUT_FILENO);
	ap_mcp__free(m);
	return err ? AP_EXIT_INVALID : AP_EXIT_OK;
}
