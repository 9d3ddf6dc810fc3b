// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"

int ap_cli__opt_value(const char *name, int argc, char **argv, int *i,
		      const char **val)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n))
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
		(*i)++;
		return 1;
	}
	if (a[n])
		return 0;
	if (*i + 1 >= argc) {
		fprintf(stderr, "actplane %s: option '%s' needs a value\n", argv[0], name);
		return -1;
	}
	*val = argv[*i + 1];
	*i += 2;
	return 1;
}

int ap_cli__policy_opt(struct ap_load_opts *o, int argc, char **argv, int *i)
{
	const char *v;
	int r;

	if ((r = ap_cli__opt_value("--policy", argc, argv, i, &v)) != 0) {
		if (r > 0)
			o->policy_path = v;
	} else if ((r = ap_cli__opt_value("--rule", argc, argv, i, &v)) != 0) {
		if (r > 0)
			o->rule_text = v;
	} else if ((r = ap_cli__opt_value("--domain", argc, argv, i, &v)) != 0) {
		if (r > 0)
			o->domain = v;
	} else {
		return 0;
	}
	if (r < 0)
		return -1;
	if (o->policy_path && o->rule_text) {
		fprintf(stderr, "actplane %s: --policy and --rule exclude each other\n",
			argv[0]);
		return -1;
	}
	return 1;
}

int ap_cli__caps(struct ap_kernel_caps *caps)
{
	int err = ap_kernel_caps__probe(caps);

	if (err)
		fprintf(stderr, "actplane: AP_CAPS must be lsm, supervised or tracepoint "
			"(it is a test hook; unset it to probe the kernel)\n");
	return err;
}

int ap_cli__load(const struct ap_load_opts *lo, const struct ap_kernel_caps *caps,
		 struct ap_cli_loaded *out)
{
	struct ap_lower_opts lw = { 0 };

	memset(out, 0, sizeof(*out));
	out->lower_err = 1;
	out->load_err = ap_policy_load(lo, &out->diags, &out->pol);
	if (out->load_err)
		return out->load_err;
	if (caps)
		lw.degraded_effects = ap_kernel_caps__degraded_effects(caps);
	out->lower_err = ap_lower(out->pol, &lw, &out->diags, &out->c);
	ap_policy__sort_diags(out->pol, &out->diags, 0);
	return out->lower_err;
}

void ap_cli__print_diags(const struct ap_cli_loaded *l)
{
	fflush(stdout);
	if (l->pol)
		ap_diags__print(&l->diags, l->pol->srcs, l->pol->nsrcs, stderr);
	else
		ap_diags__print(&l->diags, NULL, 0, stderr);
}

void ap_cli__loaded_free(struct ap_cli_loaded *l)
{
	ap_compiled__free(l->c);
	ap_diags__free(&l->diags);
	ap_policy__free(l->pol);
	memset(l, 0, sizeof(*l));
}
