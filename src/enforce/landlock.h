/* SPDX-License-Identifier: MIT */
/*
 * Landlock for the supervised mode: a policy's file-write rules that are
 * static for the whole session ("block write file "**" unless target
 * "WORKSPACE/" "**"" (one glob) that holds for every process of the session: `if true`,
 * or only labels the session root is seeded with and nothing declassifies)
 * are also applied with Landlock in the command before it execs, so they
 * hold even without the supervisor (and for io_uring, which seccomp cannot
 * see).
 *
 * ap_landlock__plan() finds such rules; ap_landlock__arm() (parent, before
 * the spawn) remembers what the child applies in ap_landlock__child_apply()
 * (called from ap_enforce__child_pre_exec). Returns 0 or -errno.
 */
#ifndef AP_ENFORCE_LANDLOCK_H
#define AP_ENFORCE_LANDLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct ap_blob_view;

#define AP_LL_MAX_DIRS 16

struct ap_ll_plan {
	int abi;                          /* Landlock ABI of this kernel, 0 none */
	unsigned ndirs;                   /* directories writes stay allowed in */
	char dirs[AP_LL_MAX_DIRS][4096];
	uint64_t rules[4];                /* rule bits covered (blob rule index) */
};

/* Which rules Landlock can carry for this policy. 0 with ndirs 0 and no
 * rules when none qualifies (or the kernel has no Landlock). */
int ap_landlock__plan(const struct ap_blob_view *bv, struct ap_ll_plan *p);

/* true when rule r (blob index) is enforced by Landlock too */
bool ap_landlock__covers(const struct ap_ll_plan *p, unsigned r);

void ap_landlock__arm(const struct ap_ll_plan *p);

/* For `check` (text output): one line per rule Landlock also enforces in
 * supervised mode, or nothing. */
struct ap_compiled;
void ap_landlock__print_coverage(const struct ap_compiled *c, FILE *out);
int ap_landlock__child_apply(void);

#endif
