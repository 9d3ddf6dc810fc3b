// SPDX-License-Identifier: MIT
/*
 * actplane pending [--json]: the operations `ask` rules hold in every
 * supervised session on this machine (enforce/approvals.h).
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "enforce/approvals.h"

struct pending_ctx {
	bool json;
	unsigned n;
};

static int on_reply(void *ctx, const char *sock, const char *reply)
{
	struct pending_ctx *p = ctx;
	struct json_object *o = json_tokener_parse(reply), *v;
	const char *argv = "";

	if (!o)
		return 0;
	p->n++;
	if (p->json) {
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	} else {
		if (json_object_object_get_ex(o, "argv", &v) && json_object_is_type(v, json_type_array))
			argv = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
		printf("%-20s %-8s pid %-7d %s %s\n",
		       json_object_get_string(json_object_object_get(o, "approval")),
		       json_object_get_string(json_object_object_get(o, "op")),
		       json_object_get_int(json_object_object_get(o, "pid")),
		       json_object_get_string(json_object_object_get(o, "target")), argv);
	}
	json_object_put(o);
	return 0;
}

int ap_cmd_pending(int argc, char **argv)
{
	struct pending_ctx p = { 0 };
	int r;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			p.json = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: actplane pending [--json]\n"
			       "List operations held by `ask` rules, waiting for\n"
			       "`actplane approve ID` or `actplane deny ID`.\n");
			return AP_EXIT_OK;
		} else {
			fprintf(stderr, "actplane pending: unknown option '%s'\n", argv[i]);
			return AP_EXIT_USAGE;
		}
	}
	r = ap_approvals__request("pending", on_reply, &p);
	if (r < 0) {
		fprintf(stderr, "actplane pending: %s: %s\n", AP_CTL_DIR, strerror(-r));
		return AP_EXIT_INVALID;
	}
	if (!p.json && !p.n)
		printf("no operation is waiting for approval\n");
	return AP_EXIT_OK;
}
