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

/* write buf to path via a temporary file in the same directory + rename:
 * a reader sees the old blob or the new one, never a torn one. No fsync:
 * the blob is derived from the policy and rebuilt by the next compile, so
 * durability across a power cut is not worth a synchronous disk flush on
 * every compile. */
static int write_atomic(const char *path, const void *buf, size_t size)
{
	char *tmp = NULL;
	const char *p = buf;
	int fd = -1, err = 0;

	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
		return -ENOMEM;
	fd = mkstemp(tmp);
	if (fd < 0) {
		err = -errno;
		goto cleanup;
	}
	while (size) {
		ssize_t n = write(fd, p, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto cleanup;
		}
		p += n;
		size -= (size_t)n;
	}
	if (fchmod(fd, 0644)) {
		err = -errno;
		goto cleanup;
	}
	if (close(fd)) {
		fd = -1;
		err = -errno;
		goto cleanup;
	}
	fd = -1;
	if (rename(tmp, path))
		err = -errno;
cleanup:
	if (fd >= 0)
		close(fd);
	if (err && tmp)
		unlink(tmp);
	free(tmp);
	return err;
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
		err = write_atomic(out, blob, size);
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
