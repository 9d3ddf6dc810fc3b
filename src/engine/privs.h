/* SPDX-License-Identifier: MIT */
/*
 * Privileges: what the engine needs from the system before it loads, and
 * whom the supervised command runs as.
 *
 * ap_privs__check() is the gate in front of every command that loads BPF
 * (exit 3 when it fails). Mounting tracefs/securityfs where they are
 * missing is the engine's job (ap_engine__open).
 *
 * ap_user__resolve() decides the identity of the command `run` starts:
 * --user NAME|UID, else the user who ran sudo (SUDO_UID/SUDO_GID), else the
 * caller itself (root stays root only when root asked for nothing else).
 * ap_user__become() is called in the forked child, before exec: it sets the
 * supplementary groups (initgroups for a named user), then gid, then uid,
 * and verifies root cannot be regained.
 */
#ifndef AP_ENGINE_PRIVS_H
#define AP_ENGINE_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* 0 when the effective capabilities suffice to load and attach the engine
 * (root, or CAP_BPF + CAP_SYS_ADMIN; CAP_SYS_ADMIN alone on kernels older
 * than CAP_BPF); -EPERM with a sentence for the user in why. */
int ap_privs__check(char *why, size_t size);

struct ap_user {
	uid_t uid;
	gid_t gid;
	char name[64];   /* "" when the uid has no passwd entry */
	char home[256];  /* "" when unknown */
	bool change;     /* differs from the current credentials: drop */
	const char *why; /* "sudo", "--user" or "caller" */
};

/* spec: --user NAME or numeric UID, or NULL. 0, -ENOENT (unknown user,
 * message logged) or -EINVAL. */
int ap_user__resolve(const char *spec, struct ap_user *u);

/* In the child: become u (no-op when !u->change) and set HOME, USER and
 * LOGNAME to u's. 0 or -errno; on failure the child must not exec. */
int ap_user__become(const struct ap_user *u);

/* chown a path the engine created for the user (events.jsonl and its
 * directory) to u; no-op when !u->change. */
int ap_user__chown(const struct ap_user *u, const char *path);

#endif
