/* SPDX-License-Identifier: MIT */
/*
 * The subcommand table. Each command lives in src/cli/<name>.c and exports
 * `int ap_cmd_<name>(int argc, char **argv)` where argv[0] is the command
 * name; it returns the process exit status (see AP_EXIT_*).
 */
#ifndef AP_CLI_COMMANDS_H
#define AP_CLI_COMMANDS_H

/* exit codes: cli-and-events.md */
#define AP_EXIT_OK      0
#define AP_EXIT_INVALID 1 /* policy invalid, doctor found a problem */
#define AP_EXIT_USAGE   2
#define AP_EXIT_KERNEL  3 /* kernel or privileges cannot support the request */

/* X(name, function suffix, one-line summary) in the order --help lists them */
#define AP_COMMANDS(X) \
	/* entries: X("check", check, "validate a policy ...") */ \
	X("check", check, "validate a policy; say how this kernel enforces each rule") \
	X("compile", compile, "write the compiled policy blob (--out FILE)") \
	X("init", init, "write a commented starter actplane.yaml") \
	X("run", run, "enforce the policy on a command and everything it starts") \
	X("feedback-hook", feedback_hook, "agent hook: print new actplane feedback as hook output") \
	X("mcp", mcp, "MCP server on stdio: policy, feedback, status, check_policy") \
	X("doctor", doctor, "diagnose kernel support, privileges, policy, agent hooks and MCP") \
	X("pending", pending, "list operations held by ask rules (--json)") \
	X("approve", approve, "let an operation held by an ask rule through once") \
	X("deny", deny, "fail an operation held by an ask rule with EPERM") \
	X("status", status, "the sessions running here: mode, policy, counters (--json)")

#define X(n, f, s) int ap_cmd_##f(int argc, char **argv);
AP_COMMANDS(X)
#undef X

#endif
