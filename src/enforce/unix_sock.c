// SPDX-License-Identifier: MIT
/* Unix socket addresses in supervised mode (unix_sock.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "enforce/resolve.h"
#include "enforce/unix_sock.h"

int ap_unix_sock__spellings(pid_t pid, const char *given, char *abs, size_t abs_size,
			    char *real, size_t real_size)
{
	struct ap_resolved r;
	char a[SUP_PATH];
	int err;

	if (!given || !given[0] || given[0] == '@' || strlen(given) >= PATH_MAX)
		return -EINVAL;
	/* a buffer the cwd and a sun_path always fit: exec_name falls back to
	 * the relative name when they do not */
	ap_resolve__exec_name(pid, given, a, sizeof(a));
	if (a[0] != '/' || strlen(a) + 1 > abs_size)
		return -ENAMETOOLONG;
	snprintf(abs, abs_size, "%s", a);
	memset(&r, 0, sizeof(r));
	err = ap_resolve__at(pid, -1, AT_FDCWD, given, true, &r, 0);
	if (err || !r.path[0])
		snprintf(r.path, sizeof(r.path), "%s", abs);
	if (strlen(r.path) + 1 > real_size)
		return -ENAMETOOLONG;
	snprintf(real, real_size, "%s", r.path);
	return 0;
}

void ap_unix_sock__merge(struct ap_eval_out *a, const struct ap_eval_out *b)
{
	if (!b->nmatch)
		return;
	if (!a->nmatch || b->effect > a->effect) {
		a->effect = b->effect;
		a->op = b->op;
		a->rule = b->rule;
	}
	for (unsigned i = 0; i < AP_MAX_RULES / 64; i++)
		a->rules[i] |= b->rules[i];
	a->mattered |= b->mattered;
	a->labels |= b->labels;
	a->nmatch += b->nmatch;
}

int ap_unix_sock__eval(const struct ap_eval_ctx *c, struct ap_eval_in *in,
		       struct ap_eval_out *out, char *name, size_t name_size)
{
	char abs[sizeof(in->ep.unix_path)], real[sizeof(in->ep.unix_path)];
	struct ap_eval_in in2;
	struct ap_eval_out o2;
	int err;

	if (in->ep.family != AF_UNIX || in->ep.unix_path[0] == '@' || !in->ep.unix_path[0])
		return ap_eval__op(c, in, out);
	err = ap_unix_sock__spellings(in->tgid, in->ep.unix_path, abs, sizeof(abs),
				      real, sizeof(real));
	if (err)
		return err;
	memcpy(in->ep.unix_path, abs, sizeof(abs));
	snprintf(name, name_size, "unix:%s", abs);
	err = ap_eval__op(c, in, out);
	if (err || !strcmp(abs, real))
		return err;
	in2 = *in;
	memcpy(in2.ep.unix_path, real, sizeof(real));
	err = ap_eval__op(c, &in2, &o2);
	if (err)
		return err;
	if (o2.nmatch && (!out->nmatch || o2.effect > out->effect))
		snprintf(name, name_size, "unix:%s", real);
	ap_unix_sock__merge(out, &o2);
	return 0;
}
