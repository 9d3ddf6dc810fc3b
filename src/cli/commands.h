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
	/* entries: X("check", check, "validate a policy ...") */

#define X(n, f, s) int ap_cmd_##f(int argc, char **argv);
AP_COMMANDS(X)
#undef X

#endif
