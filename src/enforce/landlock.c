// SPDX-License-Identifier: MIT
#include "landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "policy/blob.h"
#include "policy/lower.h"

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif

static int ll_abi(void)
{
	long v = syscall(__NR_landlock_create_ruleset, NULL, 0,
			 LANDLOCK_CREATE_RULESET_VERSION);

	return v > 0 ? (int)v : 0;
}

/* "DIR/" "**" with no glob byte in DIR: DIR into out */
static bool literal_dir_glob(const char *g, char *out, size_t size)
{
	size_t n = strlen(g);

	if (n < 4 || strcmp(g + n - 3, "/**") || g[0] != '/')
		return false;
	for (size_t i = 0; i < n - 3; i++)
		if (strchr("*?[]\\", g[i]))
			return false;
	if (n - 3 >= size)
		return false;
	memcpy(out, g, n - 3);
	out[n - 3] = 0;
	if (!out[0])
		snprintf(out, size, "/");
	return true;
}

static bool all_paths(const struct ap_blob_view *bv, const struct ap_clause *c)
{
	if (c->target_kind == AP_TGT_ANY)
		return true;
	if (c->target_kind != AP_TGT_PATTERN || c->target >= bv->hdr->npatterns)
		return false;
	return !strcmp(ap_blob__str(bv, bv->patterns[c->target].lowered), "/**");
}

/* A rule qualifies when all its clauses are `block write "**" unless
 * target "D/" "**"...` holding for every process of the session for its whole
 * life: no label test but seeded labels nothing declassifies, no forbid
 * (a label gained later would switch the rule off), no argument, and only
 * target conditions (lineage and gates change over time). */
static bool rule_static(const struct ap_blob_view *bv, unsigned r,
			struct ap_ll_plan *p)
{
	uint64_t removable = 0;
	unsigned nd = 0, n = 0;

	for (unsigned k = 0; k < bv->hdr->nkeeps; k++)
		if (bv->keeps[k].kind == AP_KEEP_DECLASSIFY)
			removable |= 1ull << (bv->keeps[k].label & 63);
	for (unsigned i = 0; i < bv->hdr->nclauses; i++) {
		const struct ap_clause *c = &bv->clauses[i];

		if (c->rule != r)
			continue;
		n++;
		if (c->op != AP_OP_WRITE || c->effect < AP_EFFECT_BLOCK || c->forbid ||
		    (c->require & ~bv->hdr->seed_labels) || (c->require & removable) ||
		    c->nargs || !all_paths(bv, c))
			return false;
		for (unsigned j = 0; j < c->nunless && j < AP_MAX_UNLESS; j++) {
			const struct ap_cond *cd = &bv->conds[c->unless[j]];
			char dir[4096];

			if (c->unless[j] >= bv->hdr->nconds || cd->kind != AP_COND_TARGET ||
			    cd->negate || cd->target_kind == AP_TGT_ENDPOINT ||
			    cd->arg >= bv->hdr->npatterns ||
			    !literal_dir_glob(ap_blob__str(bv, bv->patterns[cd->arg].lowered),
					      dir, sizeof(dir)))
				return false;
			if (nd >= AP_LL_MAX_DIRS)
				return false;
			snprintf(p->dirs[nd++], sizeof(p->dirs[0]), "%s", dir);
		}
		/* several DNF terms: the same exceptions each time is all we
		 * can express */
		if (n > 1)
			return false;
	}
	if (!n)
		return false;
	p->ndirs = nd;
	return true;
}

int ap_landlock__plan(const struct ap_blob_view *bv, struct ap_ll_plan *p)
{
	memset(p, 0, sizeof(*p));
	p->abi = ll_abi();
	if (!p->abi)
		return 0;
	/* one ruleset can only allow a union: carry the first rule that fits */
	for (unsigned r = 0; r < bv->hdr->nrules && r < AP_MAX_RULES; r++) {
		if (rule_static(bv, r, p)) {
			p->rules[r / 64] |= 1ull << (r % 64);
			return 0;
		}
		p->ndirs = 0;
	}
	return 0;
}

bool ap_landlock__covers(const struct ap_ll_plan *p, unsigned r)
{
	return r < AP_MAX_RULES && (p->rules[r / 64] >> (r % 64) & 1);
}

static struct ap_ll_plan armed_plan;
static bool ll_armed;

void ap_landlock__arm(const struct ap_ll_plan *p)
{
	armed_plan = *p;
	ll_armed = true;
	for (int w = 0; w < 4; w++)
		if (p->rules[w])
			return;
	ll_armed = false;
}

int ap_landlock__child_apply(void)
{
	struct landlock_ruleset_attr ra = { 0 };
	int rs, err = 0;

	if (!ll_armed || !armed_plan.abi)
		return 0;
	ra.handled_access_fs = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_MAKE_REG;
	if (armed_plan.abi >= 3)
		ra.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	rs = (int)syscall(__NR_landlock_create_ruleset, &ra, sizeof(ra), 0);
	if (rs < 0)
		return -errno;
	for (unsigned i = 0; i < armed_plan.ndirs; i++) {
		struct landlock_path_beneath_attr pb = {
			.allowed_access = ra.handled_access_fs,
		};

		pb.parent_fd = open(armed_plan.dirs[i], O_PATH | O_CLOEXEC);
		if (pb.parent_fd < 0)
			continue; /* a directory that does not exist allows nothing */
		if (syscall(__NR_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0))
			err = -errno;
		close(pb.parent_fd);
		if (err)
			goto cleanup;
	}
	if (geteuid() != 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		err = -errno;
		goto cleanup;
	}
	if (syscall(__NR_landlock_restrict_self, rs, 0))
		err = -errno;
cleanup:
	close(rs);
	return err;
}

void ap_landlock__print_coverage(const struct ap_compiled *c, FILE *out)
{
	struct ap_blob_view bv;
	struct ap_ll_plan *p = NULL;
	const char *why = NULL;
	void *blob = NULL;
	size_t size;

	if (!c || ap_compiled__to_blob(c, &blob, &size) ||
	    ap_blob__view(blob, size, &bv, &why))
		goto cleanup;
	p = calloc(1, sizeof(*p));
	if (!p || ap_landlock__plan(&bv, p))
		goto cleanup;
	for (unsigned r = 0; r < bv.hdr->nrules; r++) {
		if (!ap_landlock__covers(p, r))
			continue;
		fprintf(out, "landlock: rule '%s' is also enforced with Landlock (ABI %d) in "
			"supervised mode: writes only beneath", ap_blob__str(&bv, bv.rule_meta[r].name),
			p->abi);
		for (unsigned i = 0; i < p->ndirs; i++)
			fprintf(out, " %s", p->dirs[i]);
		fprintf(out, "%s, even without the supervisor\n", p->ndirs ? "" : " (nothing)");
	}
cleanup:
	free(p);
	free(blob);
}
