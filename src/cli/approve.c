// SPDX-License-Identifier: MIT
/*
 * actplane approve ID / actplane deny ID: decide an operation an `ask` rule
 * holds. The running session checks who asks (enforce/approvals.h) and
 * refuses a process of the session itself: exit 1.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "enforce/approvals.h"

struct decide_ctx {
	int found;      /* 1 ok, -1 refused */
	char msg[512];
};

static int on_reply(void *ctx, const char *sock, const char *reply)
{
	struct decide_ctx *d = ctx;

	if (!strcmp(reply, "unknown"))
		return 0;
	if (!strcmp(reply, "ok")) {
		d->found = 1;
		return 1;
	}
	d->found = -1;
	if (!strncmp(reply, "error: ", 7))
		reply += 7;
	snprintf(d->msg, sizeof(d->msg), "%s", reply);
	return 1;
}

/* shared by approve and deny */
int ap_cli__decide(const char *verb, int argc, char **argv);
int ap_cli__decide(const char *verb, int argc, char **argv)
{
	struct decide_ctx d = { 0 };
	char line[256];
	int r;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: actplane %s ID   (IDs: actplane pending)\n", verb);
		return argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) ?
			       AP_EXIT_OK : AP_EXIT_USAGE;
	}
	if (strlen(argv[1]) > 64 || strpbrk(argv[1], " \n\r")) {
		fprintf(stderr, "actplane %s: '%s' is not an approval id\n", verb, argv[1]);
		return AP_EXIT_USAGE;
	}
	snprintf(line, sizeof(line), "%s %s", verb, argv[1]);
	r = ap_approvals__request(line, on_reply, &d);
	if (r < 0) {
		fprintf(stderr, "actplane %s: %s: %s\n", verb, AP_CTL_DIR, strerror(-r));
		return AP_EXIT_INVALID;
	}
	if (d.found == 1) {
		printf("%s %s\n", argv[1], !strcmp(verb, "approve") ? "approved" : "denied");
		return AP_EXIT_OK;
	}
	if (d.found < 0)
		fprintf(stderr, "actplane %s: %s\n", verb, d.msg);
	else
		fprintf(stderr, "actplane %s: no pending operation '%s' (see actplane pending)\n",
			verb, argv[1]);
	return AP_EXIT_INVALID;
}

int ap_cmd_approve(int argc, char **argv)
{
	return ap_cli__decide("approve", argc, argv);
}
