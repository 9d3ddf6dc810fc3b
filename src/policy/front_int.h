/* SPDX-License-Identifier: MIT */
/*
 * Internal interfaces of the policy front end (YAML loader, domain
 * selection), shared by policy.c, yaml.c and domains.c. Not for other
 * modules: they use policy.h.
 */
#ifndef AP_POLICY_FRONT_INT_H
#define AP_POLICY_FRONT_INT_H

#include "policy.h"

/* Parse the YAML document in source yaml_src into pol: version, form A or
 * B (every DSL block registered as a source and parsed into pol->prog),
 * domains, run, feedback, guard. Errors go to diags; returns 0 or -EINVAL. */
int ap_yaml__load(struct ap_policy *pol, unsigned yaml_src, struct ap_diags *diags);

/* Check the domain graph and fill pol->rules/nrules/domain: form A (or form
 * B without domains) takes every rule; otherwise the domain is selected as
 * `want` (--domain), else default_domain, else "session", else the only
 * one. Returns 0 or -EINVAL with errors in diags. */
int ap_domains__resolve(struct ap_policy *pol, const char *want,
			struct ap_diags *diags);

/* ap_dsl_parse() for --rule text: clauses before any rule form a rule
 * named "inline". */
int ap_dsl__parse_inline(struct ap_policy *pol, unsigned src_index,
			 struct ap_program *prog, struct ap_diags *diags);

/* Register a DSL block taken out of source parent: its text and, per block
 * line, the 1-based line and 0-based byte column in the parent where the
 * line starts. Arrays are copied into the arena. */
unsigned ap_policy__add_block(struct ap_policy *pol, unsigned parent,
			      const char *text, size_t len,
			      const uint32_t *map_line, const uint32_t *map_col,
			      uint32_t nlines);

#endif
