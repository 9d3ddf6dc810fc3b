// SPDX-License-Identifier: MIT
/*
 * The path clauses of the built-in session-guard rule (contract in lower.h,
 * ap_guard__specs): which files the `files` and `cgroup` items protect.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../common/arena.h"
#include "lower.h"

/* A path as a glob that matches exactly it: glob bytes escaped. */
static char *glob_escape(struct ap_arena *a, const char *path)
{
	size_t n = strlen(path);
	char *g = ap_arena__alloc(a, 2 * n + 1), *o = g;

	for (const char *p = path; *p; p++) {
		if (strchr("*?[]\\", *p))
			*o++ = '\\';
		*o++ = *p;
	}
	*o = '\0';
	return g;
}

static const char *join(struct ap_arena *a, const char *dir, const char *name)
{
	return ap_arena__printf(a, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", name);
}

/* dir is `under` or below it */
static bool is_under(const char *path, const char *under)
{
	size_t n = strlen(under);

	return !strncmp(path, under, n) && (path[n] == '/' || !path[n]);
}

/* The policy file's absolute name: pol->path is as shown in diagnostics,
 * which may be relative to a directory other than ours (discovery from
 * opts->cwd), so it is rebuilt from the project root the loader resolved:
 * the root is the file's directory (symbolic links resolved), or the
 * directory holding the `.actplane/` the file sits in. The file's own name
 * is kept: a link's target is the caller's second name. NULL for --rule
 * (no file). */
static const char *policy_name(const struct ap_policy *pol, struct ap_arena *a)
{
	const char *p = pol->path, *base, *slash;

	if (!p || !*p || !strcmp(p, "<rule>") || !pol->root)
		return NULL;
	slash = strrchr(p, '/');
	base = slash ? slash + 1 : p;
	if (!*base)
		return NULL;
	/* "x/.actplane/policy.yaml" (or a bare name) */
	if (slash && slash - p >= 9 && !strncmp(slash - 9, ".actplane", 9) &&
	    (slash - 9 == p || slash[-10] == '/'))
		return join(a, join(a, pol->root, ".actplane"), base);
	return join(a, pol->root, base);
}

static void add(struct ap_guard_spec *out, unsigned *n, enum ap_op op,
		uint32_t item, const char *glob)
{
	for (unsigned i = 0; i < *n; i++)
		if (out[i].op == op && !strcmp(out[i].glob, glob))
			return;
	if (*n < AP_GUARD_MAX_SPECS)
		out[(*n)++] = (struct ap_guard_spec){ .op = op, .item = item, .glob = glob };
}

/* write, rename and remove one path */
static void protect(struct ap_guard_spec *out, unsigned *n, const char *glob)
{
	static const enum ap_op ops[] = { AP_OP_WRITE, AP_OP_RENAME, AP_OP_UNLINK };

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		add(out, n, ops[i], AP_GUARD_FILES, glob);
}

unsigned ap_guard__specs(const struct ap_policy *pol, struct ap_arena *a,
			 struct ap_guard_spec *out)
{
	uint32_t allow = pol->guard_allow & AP_GUARD_ALL;
	const char *root = pol->root && pol->root[0] == '/' ? pol->root : "/";
	unsigned n = 0;

	if (!(allow & AP_GUARD_FILES)) {
		const char *dirs[2] = { join(a, root, ".actplane"), NULL };
		const char *names[2] = { policy_name(pol, a), NULL };
		char buf[PATH_MAX];

		/* where writes really land when .actplane or the policy file
		 * is a symbolic link: the engine matches resolved paths, while
		 * rename and unlink name the link itself */
		if (realpath(dirs[0], buf) && strcmp(buf, dirs[0]))
			dirs[1] = ap_arena__strdup(a, buf);
		if (names[0] && realpath(names[0], buf) && strcmp(buf, names[0]))
			names[1] = ap_arena__strdup(a, buf);
		for (int i = 0; i < 2; i++) {
			bool inside = false;

			if (!names[i])
				continue;
			for (int k = 0; k < 2; k++)
				inside |= dirs[k] && is_under(names[i], dirs[k]);
			if (!inside) /* else the directory's clauses cover it */
				protect(out, &n, glob_escape(a, names[i]));
		}
		for (int k = 0; k < 2; k++) {
			if (!dirs[k])
				continue;
			protect(out, &n, glob_escape(a, dirs[k]));
			protect(out, &n, ap_arena__printf(a, "%s/**", glob_escape(a, dirs[k])));
		}
	}
	if (!(allow & AP_GUARD_CGROUP)) {
		/* moving a process is a write of the pid to cgroup.procs (or of
		 * a tid to cgroup.threads) of the destination, wherever cgroup2
		 * is mounted (/sys/fs/cgroup, .../unified, actplane's own) */
		add(out, &n, AP_OP_WRITE, AP_GUARD_CGROUP, "/**/cgroup.procs");
		add(out, &n, AP_OP_WRITE, AP_GUARD_CGROUP, "/**/cgroup.threads");
	}
	return n;
}
