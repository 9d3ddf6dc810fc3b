// SPDX-License-Identifier: MIT
/*
 * Loading a policy: discovery, reading, hashing, then YAML + DSL parsing
 * (yaml.c, parser.c) and domain selection (domains.c).
 *
 * Discovery starts in the current directory and walks up to '/'. In each
 * directory it looks for `actplane.yaml`, then `.actplane/policy.yaml`; the
 * nearest directory that has either wins. A file found in the current
 * directory is named relatively in diagnostics ("actplane.yaml"), one found
 * higher up by its absolute path. The project root is the absolute,
 * symlink-resolved directory of the policy file, or, when the file sits in
 * a directory named `.actplane`, the directory containing that.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "front_int.h"

struct ap_policy *ap_policy__new(void)
{
	struct ap_policy *pol = calloc(1, sizeof(*pol));

	if (!pol)
		return NULL;
	pol->arena = ap_arena__new();
	pol->guard = AP_GUARD_ENFORCE;
	return pol;
}

void ap_policy__free(struct ap_policy *pol)
{
	if (!pol)
		return;
	ap_arena__free(pol->arena);
	free(pol);
}

unsigned ap_policy__add_src(struct ap_policy *pol, const char *name,
			    const char *text, size_t len, int parent)
{
	struct ap_src *s;

	pol->srcs = ap_arena__grow(pol->arena, pol->srcs, sizeof(*pol->srcs),
				   pol->nsrcs, &pol->srcs_cap, pol->nsrcs + 1);
	s = &pol->srcs[pol->nsrcs];
	memset(s, 0, sizeof(*s));
	s->name = ap_arena__strdup(pol->arena, name);
	s->text = ap_arena__strndup(pol->arena, text, len);
	s->len = len;
	s->parent = parent;
	return pol->nsrcs++;
}

unsigned ap_policy__add_block(struct ap_policy *pol, unsigned parent,
			      const char *text, size_t len,
			      const uint32_t *map_line, const uint32_t *map_col,
			      uint32_t nlines)
{
	unsigned i = ap_policy__add_src(pol, pol->srcs[parent].name, text, len,
					(int)parent);
	struct ap_src *s = &pol->srcs[i];
	uint32_t *ml = ap_arena__alloc(pol->arena, (nlines + 1) * sizeof(*ml));
	uint32_t *mc = ap_arena__alloc(pol->arena, (nlines + 1) * sizeof(*mc));

	memcpy(ml, map_line, nlines * sizeof(*ml));
	memcpy(mc, map_col, nlines * sizeof(*mc));
	s->map_line = ml;
	s->map_col = mc;
	s->nlines = nlines;
	return i;
}

static void hash(struct ap_policy *pol, const char *text, size_t len)
{
	unsigned int n = 0;

	if (!EVP_Digest(text, len, pol->sha256, &n, EVP_sha256(), NULL))
		memset(pol->sha256, 0, sizeof(pol->sha256));
}

/* Default run.seed: [AGENT] when a source declares AGENT. */
static void default_seed(struct ap_policy *pol)
{
	if (pol->seed_given)
		return;
	for (uint32_t i = 0; i < pol->prog.nsources; i++) {
		if (strcmp(pol->prog.sources[i].label, "AGENT"))
			continue;
		pol->seed = ap_arena__alloc(pol->arena, sizeof(*pol->seed));
		pol->seed_loc = ap_arena__alloc(pol->arena, sizeof(*pol->seed_loc));
		pol->seed[0] = pol->prog.sources[i].label;
		pol->seed_loc[0] = pol->prog.sources[i].label_loc;
		pol->nseed = 1;
		return;
	}
}

/*
 * The loader checks the YAML structure before the DSL inside it and the
 * domains last; users read errors top to bottom, so the diagnostics added
 * from index first on are put in file order (stable; a note stays behind
 * its error or warning, diagnostics without a place come first).
 */
struct group {
	unsigned first, n;
	unsigned line, col;
	bool located;
};

static int group_cmp(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	if (x->located != y->located)
		return x->located ? 1 : -1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->first < y->first ? -1 : x->first > y->first;
}

void ap_policy__sort_diags(const struct ap_policy *pol, struct ap_diags *d, unsigned first)
{
	struct group *g;
	struct ap_diag *tmp;
	unsigned ng = 0, o = 0;

	if (d->n <= first + 1)
		return;
	g = calloc(d->n - first, sizeof(*g));
	tmp = calloc(d->n - first, sizeof(*tmp));
	if (!g || !tmp)
		goto cleanup;
	for (unsigned i = first; i < d->n; i++) {
		const char *file, *lt;
		unsigned ll;

		if (d->v[i].level == AP_DIAG_NOTE && ng) {
			g[ng - 1].n++;
			continue;
		}
		g[ng].first = i;
		g[ng].n = 1;
		g[ng].located = d->v[i].has_loc &&
			!ap_diag__locate(pol->srcs, pol->nsrcs, &d->v[i].loc, &file,
					 &g[ng].line, &g[ng].col, &lt, &ll);
		ng++;
	}
	qsort(g, ng, sizeof(*g), group_cmp);
	for (unsigned k = 0; k < ng; k++)
		for (unsigned j = 0; j < g[k].n; j++)
			tmp[o++] = d->v[g[k].first + j];
	memcpy(d->v + first, tmp, o * sizeof(*tmp));
cleanup:
	free(g);
	free(tmp);
}

static int load_yaml(struct ap_policy *pol, const char *name, const char *text,
		     size_t len, const char *domain, struct ap_diags *diags)
{
	unsigned errors0 = diags->nerrors, first = diags->n;
	unsigned si;

	pol->path = ap_arena__strdup(pol->arena, name);
	si = ap_policy__add_src(pol, name, text, len, -1);
	hash(pol, text, len);
	ap_yaml__load(pol, si, diags);
	ap_domains__resolve(pol, domain, diags);
	default_seed(pol);
	ap_policy__sort_diags(pol, diags, first);
	return diags->nerrors > errors0 ? -EINVAL : 0;
}

static char *current_dir(const struct ap_load_opts *opts, struct ap_arena *a)
{
	char buf[PATH_MAX];

	if (opts && opts->cwd) {
		if (realpath(opts->cwd, buf))
			return ap_arena__strdup(a, buf);
		return ap_arena__strdup(a, opts->cwd);
	}
	if (!getcwd(buf, sizeof(buf)))
		return NULL;
	return ap_arena__strdup(a, buf);
}

int ap_policy_load_buffer(const char *name, const char *text, size_t len,
			  const struct ap_load_opts *opts,
			  struct ap_diags *diags, struct ap_policy **out)
{
	struct ap_policy *pol = ap_policy__new();

	*out = pol;
	if (!pol)
		return -ENOMEM;
	pol->root = current_dir(opts, pol->arena);
	if (!pol->root)
		pol->root = "/";
	return load_yaml(pol, name, text, len, opts ? opts->domain : NULL, diags);
}

static int load_rule_text(struct ap_policy *pol, const struct ap_load_opts *opts,
			  struct ap_diags *diags)
{
	unsigned errors0 = diags->nerrors;
	unsigned si;

	pol->path = "<rule>";
	pol->root = current_dir(opts, pol->arena);
	if (!pol->root) {
		int err = -errno;

		ap_diags__add(diags, AP_DIAG_ERROR, NULL,
			      "cannot determine the current directory: %s", strerror(errno));
		return err;
	}
	si = ap_policy__add_src(pol, "<rule>", opts->rule_text,
				strlen(opts->rule_text), -1);
	hash(pol, opts->rule_text, strlen(opts->rule_text));
	pol->version = 1;
	ap_dsl__parse_inline(pol, si, &pol->prog, diags);
	if (!pol->prog.nrules && diags->nerrors == errors0) {
		struct ap_span sp = { si, 0, 0 };

		ap_error_at(diags, &sp, "the rule text declares no rule");
	}
	ap_domains__resolve(pol, opts->domain, diags);
	default_seed(pol);
	return diags->nerrors > errors0 ? -EINVAL : 0;
}

static bool is_file(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode);
}

/* Find the policy file from cwd upwards; the display name is relative in
 * cwd itself, absolute elsewhere. */
static int discover(struct ap_policy *pol, const char *cwd, char **path, char **shown)
{
	static const char *const names[] = { "actplane.yaml", ".actplane/policy.yaml" };
	char *dir = ap_arena__strdup(pol->arena, cwd);
	bool first = true;

	for (;;) {
		for (size_t i = 0; i < 2; i++) {
			char *p = ap_arena__printf(pol->arena, "%s%s%s", dir,
						   strcmp(dir, "/") ? "/" : "", names[i]);

			if (is_file(p)) {
				*path = p;
				*shown = first ? (char *)names[i] : p;
				return 0;
			}
		}
		if (!strcmp(dir, "/"))
			return -ENOENT;
		{
			char *slash = strrchr(dir, '/');

			if (slash == dir)
				dir[1] = '\0';
			else if (slash)
				*slash = '\0';
			else
				return -ENOENT;
		}
		first = false;
	}
}

static int read_file(const char *path, char **text, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;
	int err = 0;

	if (!f)
		return -errno;
	{
		struct stat st;

		if (!fstat(fileno(f), &st) && S_ISDIR(st.st_mode)) {
			err = -EISDIR;
			goto cleanup;
		}
	}
	for (;;) {
		size_t r;

		if (cap - n < 4096) {
			char *nb;

			cap = cap ? cap * 2 : 8192;
			if (cap > (64u << 20)) {
				err = -EFBIG;
				goto cleanup;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				err = -ENOMEM;
				goto cleanup;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0) {
			if (ferror(f))
				err = -EIO;
			break;
		}
	}
	buf[n] = '\0';
cleanup:
	fclose(f);
	if (err) {
		free(buf);
		return err;
	}
	*text = buf;
	*len = n;
	return 0;
}

/* The project root of a policy file; see the header comment. */
static const char *root_of(struct ap_policy *pol, const char *path)
{
	char buf[PATH_MAX];
	char *copy = ap_arena__strdup(pol->arena, path);
	char *slash = strrchr(copy, '/');
	const char *dir;

	if (!slash)
		dir = ".";
	else if (slash == copy)
		dir = "/";
	else {
		*slash = '\0';
		dir = copy;
	}
	if (!realpath(dir, buf))
		return NULL;
	slash = strrchr(buf, '/');
	if (slash && !strcmp(slash + 1, ".actplane")) {
		if (slash == buf)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	return ap_arena__strdup(pol->arena, buf);
}

int ap_policy_load(const struct ap_load_opts *opts, struct ap_diags *diags,
		   struct ap_policy **out)
{
	static const struct ap_load_opts defaults;
	struct ap_policy *pol = ap_policy__new();
	char *path = NULL, *shown = NULL, *text = NULL;
	size_t len = 0;
	int err;

	if (!opts)
		opts = &defaults;
	*out = pol;
	if (!pol)
		return -ENOMEM;
	if (opts->policy_path && opts->rule_text) {
		ap_diags__add(diags, AP_DIAG_ERROR, NULL,
			      "--policy and --rule cannot be used together");
		return -EINVAL;
	}
	if (opts->rule_text)
		return load_rule_text(pol, opts, diags);
	if (opts->policy_path) {
		path = shown = (char *)opts->policy_path;
	} else {
		const char *cwd = current_dir(opts, pol->arena);

		if (!cwd) {
			err = -errno;
			ap_diags__add(diags, AP_DIAG_ERROR, NULL,
				      "cannot determine the current directory: %s",
				      strerror(errno));
			return err;
		}
		err = discover(pol, cwd, &path, &shown);
		if (err) {
			ap_diags__add(diags, AP_DIAG_ERROR, NULL,
				      "no policy found: looked for actplane.yaml and "
				      ".actplane/policy.yaml in %s and every directory above "
				      "it; write one with 'actplane init' or pass --policy FILE",
				      cwd);
			return err;
		}
	}
	err = read_file(path, &text, &len);
	if (err) {
		ap_diags__add(diags, AP_DIAG_ERROR, NULL, "cannot read policy '%s': %s",
			      shown, strerror(-err));
		return err;
	}
	pol->root = root_of(pol, path);
	if (!pol->root) {
		err = -errno;
		ap_diags__add(diags, AP_DIAG_ERROR, NULL,
			      "cannot resolve the directory of policy '%s': %s", shown,
			      strerror(errno));
		free(text);
		return err;
	}
	err = load_yaml(pol, shown, text, len, opts->domain, diags);
	free(text);
	return err;
}
