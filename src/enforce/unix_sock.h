/* SPDX-License-Identifier: MIT */
/*
 * Unix socket addresses in supervised mode: a connect (or a send with an
 * address) to an AF_UNIX path, evaluated the way the kernel will reach the
 * socket. The path as given is made absolute against the process's cwd and
 * normalised lexically (what the kernel engine matches); the path the
 * kernel will really reach is resolved in the process's view, symbolic
 * links followed (resolve.h). Both are evaluated and the stronger decision
 * wins, so a symlink to a protected socket, a relative name or /var/run for
 * /run does not escape a rule. Abstract names ("@NAME") have one spelling.
 *
 * Owned by this file; called from the supervisor's decision (supervisor.c).
 */
#ifndef AP_ENFORCE_UNIX_SOCK_H
#define AP_ENFORCE_UNIX_SOCK_H

#include <stddef.h>
#include <sys/types.h>

#include "engine/eval.h"

/* The two spellings of in->ep.unix_path for process pid: abs (lexical,
 * cwd-joined) and real (links followed; equal to abs when the socket does
 * not exist). 0, or -ENAMETOOLONG when a spelling does not fit
 * (sizeof(in->ep.unix_path)): the caller denies, it cannot be matched. */
int ap_unix_sock__spellings(pid_t pid, const char *given, char *abs, size_t abs_size,
			    char *real, size_t real_size);

/* Merge b into a: every rule and label that mattered, the stronger effect
 * (the first evaluation keeps ties). Pure. */
void ap_unix_sock__merge(struct ap_eval_out *a, const struct ap_eval_out *b);

/* ap_eval__op for an AF_UNIX endpoint (in->ep.family == AF_UNIX): both
 * spellings evaluated; in->ep.unix_path becomes the absolute spelling and
 * name ("unix:PATH", name_size bytes) the one that decided. 0 or -errno
 * (the supervisor denies on error). */
int ap_unix_sock__eval(const struct ap_eval_ctx *c, struct ap_eval_in *in,
		       struct ap_eval_out *out, char *name, size_t name_size);

#endif
