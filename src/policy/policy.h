/* SPDX-License-Identifier: MIT */
/*
 * Loading a policy: find the file, parse YAML and DSL, select the domain.
 *
 * ap_policy_load() fills *out even when it fails (-EINVAL with errors in
 * diags), as long as the sources could be read, so the caller can print the
 * diagnostics against out->srcs; the caller always calls ap_policy__free().
 * Returns 0, -EINVAL (policy errors, see diags), -ENOENT (no policy file
 * found; a diagnostic without location says where it looked) or another
 * -errno for I/O failures.
 *
 * Discovery (no --policy/--rule): from cwd up to '/', in each directory
 * `actplane.yaml`, then `.actplane/policy.yaml`; the nearest wins. Names in
 * diagnostics: --policy as given; a discovered file relative in cwd
 * ("actplane.yaml"), absolute above it; "<rule>" for --rule. pol->root is
 * the symlink-resolved directory of the file (the directory holding
 * `.actplane/` for a file inside it), cwd for --rule. pol->sha256 hashes
 * the file bytes (the --rule text). Diagnostics of one load come in file
 * order.
 */
#ifndef AP_POLICY_POLICY_H
#define AP_POLICY_POLICY_H

#include "ast.h"
#include "diag.h"

struct ap_load_opts {
	const char *policy_path; /* --policy; NULL = discover from cwd */
	const char *rule_text;   /* --rule; mutually exclusive with policy_path */
	const char *domain;      /* --domain */
	const char *cwd;         /* where discovery starts; NULL = getcwd() */
};

int ap_policy_load(const struct ap_load_opts *opts, struct ap_diags *diags,
		   struct ap_policy **out);

/* ap_policy_load() on a policy file already in memory (the fuzzer, tests):
 * name is what diagnostics call it; the root is opts->cwd or getcwd().
 * opts may be NULL; opts->policy_path and rule_text are ignored. */
int ap_policy_load_buffer(const char *name, const char *text, size_t len,
			  const struct ap_load_opts *opts,
			  struct ap_diags *diags, struct ap_policy **out);

/* Parse one DSL block (already registered as source src_index) into prog,
 * appending to it. Used by the loader and by tests and the fuzzer. */
int ap_dsl_parse(struct ap_policy *pol, unsigned src_index,
		 struct ap_program *prog, struct ap_diags *diags);

/* Register a text as a source of the policy; returns its index. */
unsigned ap_policy__add_src(struct ap_policy *pol, const char *name,
			    const char *text, size_t len, int parent);

/* Order diagnostics from index `first` on by position in the file (a note
 * stays after its error), so the front end's and the lowering's messages
 * read top to bottom. */
void ap_policy__sort_diags(const struct ap_policy *pol, struct ap_diags *d,
			   unsigned first);

struct ap_policy *ap_policy__new(void);
void ap_policy__free(struct ap_policy *pol);

#endif
