// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "commands.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
#define X(n, f, s) { n, ap_cmd_##f, s },
	AP_COMMANDS(X)
#undef X
	{ NULL, NULL, NULL },
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: actplane [-v] COMMAND [ARGS...]\n"
		"\n"
		"Labeled information-flow policies for AI coding agents, enforced in\n"
		"the kernel with eBPF.\n"
		"\n"
		"commands:\n");
	for (size_t i = 0; commands[i].name; i++)
		fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
		"\n"
		"Run 'actplane COMMAND --help' for a command's options, and\n"
		"'man actplane' for the policy language.\n");
}

int main(int argc, char **argv)
{
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			ap_verbose++;
		} else if (!strcmp(argv[i], "-vv")) {
			ap_verbose += 2;
		} else if (!strcmp(argv[i], "--version")) {
			printf("actplane %s (policy ABI %d, event schema v1)\n",
			       AP_VERSION, 1);
			return 0;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "actplane: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
		i++;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t c = 0; commands[c].name; c++)
		if (!strcmp(argv[i], commands[c].name))
			return commands[c].fn(argc - i, argv + i);
	if (!strcmp(argv[i], "help")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "actplane: unknown command '%s' (see 'actplane --help')\n",
		argv[i]);
	return 2;
}
