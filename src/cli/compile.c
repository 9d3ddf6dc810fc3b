// SPDX-License-Identifier: MIT
/* actplane compile: write the compiled policy blob (layout in bpf/abi.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_common.h"
#include "commands.h"
#include "common/file.h"
#include "common/log.h"

static void usage(FILE *out)
{
	fputs("usage: actplane compile [--policy FILE | --rule TEXT] [--domain NAME]\n"
	      "                        --out FILE\n"
	      "\n"
	      "Compile a policy into the blob the kernel engine loads (no privileges\n"
	      "needed). The same policy always gives the same bytes. FILE is replaced\n"
	      "atomically. Rules whose effect this kernel cannot honour are marked\n"
	      "degraded in the blob; `actplane check` explains them.\n", out);
}

int ap_cmd_compile(int argc, char **argv)
{
	struct ap_load_opts lo = { 0 };
	struct ap_kernel_caps caps;
	struct ap_cli_loaded l;
	const char *out = NULL;
	void *blob = NULL;
	size_t size = 0;
	int i = 1, r, rc = AP_EXIT_OK, err;

	while (i < argc) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return AP_EXIT_OK;
		}
		r = ap_cli__policy_opt(&lo, argc, argv, &i);
		if (r == 0)
			r = ap_cli__opt_value("--out", argc, argv, &i, &out);
		if (r < 0)
			return AP_EXIT_USAGE;
		if (r > 0)
			continue;
		fprintf(stderr, "actplane compile: unknown argument '%s'\n", argv[i]);
		usage(stderr);
		return AP_EXIT_USAGE;
	}
	if (!out || !*out) {
		fprintf(stderr, "actplane compile: --out FILE is required "
			"(use `actplane check` to only validate)\n");
		return AP_EXIT_USAGE;
	}
	if (ap_cli__caps(&caps))
		return AP_EXIT_USAGE;
	if (ap_cli__load(&lo, &caps, &l)) {
		ap_cli__print_diags(&l);
		ap_cli__loaded_free(&l);
		return AP_EXIT_INVALID;
	}
	ap_cli__print_diags(&l);
	err = ap_compiled__to_blob(l.c, &blob, &size);
	if (!err)
		err = ap_file__write_atomic(out, blob, size, 0644);
	if (err) {
		ap_err("compile: cannot write '%s': %s", out, strerror(-err));
		rc = AP_EXIT_INVALID;
	} else {
		unsigned ndeg = 0;

		for (uint32_t k = 0; k < l.c->nrules; k++)
			ndeg += l.c->rule_info[k].degraded;
		printf("wrote %s: %zu bytes, %u rules, %u kernel clauses, %u patterns, "
		       "%u automaton states\n", out, size, l.c->nrules, l.c->nclauses,
		       l.c->npatterns, l.c->dfa->nstates);
		if (ndeg)
			ap_warn("%u rule%s cannot be enforced as written on this kernel "
				"(%s mode); `actplane check` says why", ndeg,
				ndeg == 1 ? "" : "s", ap_mode__name(caps.mode));
	}
	free(blob);
	ap_cli__loaded_free(&l);
	return rc;
}
