// SPDX-License-Identifier: MIT
/*
 * `actplane feedback-hook`: see src/agent/hook.h. Whatever goes wrong, it
 * exits 0 and prints nothing but valid hook JSON: a broken hook must never
 * break the agent, so failures only go to stderr (which both agents ignore
 * for a zero exit).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/hook.h"
#include "commands.h"

static char *read_stdin(size_t *len)
{
	size_t cap = 16384, n = 0;
	char *buf = malloc(cap);

	if (!buf)
		return NULL;
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *nb;
			if (cap >= AP_HOOK_MAX_INPUT)
				break; /* a tool_response this large: the rest is not needed */
			nb = realloc(buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		r = read(STDIN_FILENO, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	*len = n;
	return buf;
}

int ap_cmd_feedback_hook(int argc, char **argv)
{
	struct ap_hook_opts opts = { 0 };
	char *in, *out = NULL;
	size_t len = 0;
	int err;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--feedback") && i + 1 < argc) {
			opts.feedback_file = argv[++i];
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: actplane feedback-hook [--feedback FILE]\n"
			       "Agent hook (Claude Code PostToolUse/PostToolUseFailure, Codex\n"
			       "PostToolUse): reads the hook JSON on stdin and prints actplane\n"
			       "feedback written since the previous call as hook output.\n");
			return 0;
		}
		/* unknown options are ignored: the agent must never see us fail */
	}
	in = read_stdin(&len);
	if (!in)
		return 0;
	err = ap_hook__handle(in, len, &opts, &out);
	if (err)
		fprintf(stderr, "actplane feedback-hook: %s\n", strerror(-err));
	if (out) {
		fputs(out, stdout);
		fflush(stdout);
	}
	free(out);
	free(in);
	return 0;
}
