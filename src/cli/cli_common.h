/* SPDX-License-Identifier: MIT */
/*
 * What the commands that read a policy share: the policy options
 * (--policy FILE, --rule TEXT, --domain NAME, each also as --opt=VALUE),
 * loading and lowering with diagnostics printed the one way
 * (FILE:LINE:COL: level: message, source line, caret; to stderr).
 */
#ifndef AP_CLI_COMMON_H
#define AP_CLI_COMMON_H

#include <stdbool.h>

#include "policy/kernel_caps.h"
#include "policy/lower.h"
#include "policy/policy.h"

/* If argv[*i] is a policy option, consume it (and its value), advance *i
 * past it and return 1; 0 when it is not one; -1 on a usage error (message
 * printed). */
int ap_cli__policy_opt(struct ap_load_opts *o, int argc, char **argv, int *i);

/* "--name VALUE" or "--name=VALUE" at argv[*i]: 1 and *val set, 0 not this
 * option, -1 missing value (message printed). */
int ap_cli__opt_value(const char *name, int argc, char **argv, int *i,
		      const char **val);

/* Probe the kernel (AP_CAPS honoured); on a malformed AP_CAPS prints why
 * and returns -EINVAL. */
int ap_cli__caps(struct ap_kernel_caps *caps);

struct ap_cli_loaded {
	struct ap_policy *pol;
	struct ap_compiled *c;
	struct ap_diags diags;
	int load_err;            /* from ap_policy_load */
	int lower_err;           /* from ap_lower, or 1 when lowering did not run */
};

/* Load and lower. Returns 0 when the policy is valid, else -errno; the
 * diagnostics are in out->diags either way (not printed). */
int ap_cli__load(const struct ap_load_opts *lo, const struct ap_kernel_caps *caps,
		 struct ap_cli_loaded *out);
void ap_cli__print_diags(const struct ap_cli_loaded *l);
void ap_cli__loaded_free(struct ap_cli_loaded *l);

/* the commands built on this file (also listed in commands.h) */
int ap_cmd_check(int argc, char **argv);
int ap_cmd_compile(int argc, char **argv);
int ap_cmd_init(int argc, char **argv);

#endif
