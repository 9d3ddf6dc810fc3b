// SPDX-License-Identifier: MIT
/* Probing what the running kernel can enforce (contract in kernel_caps.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kernel_caps.h"
#include "../engine/lsm_probe.h"

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#endif
#define LSM_FILE "/sys/kernel/security/lsm"

static const char *const mode_names[] = {
#define X(e, s) s,
	AP_MODES(X)
#undef X
};

static const char *const effect_names[] = {
#define X(e, s) s,
	AP_EFFECTS(X)
#undef X
};

const char *ap_mode__name(enum ap_mode m)
{
	return m < AP_MODE__COUNT ? mode_names[m] : "?";
}

int ap_mode__parse(const char *s, enum ap_mode *m)
{
	for (int i = 0; i < AP_MODE__COUNT; i++)
		if (!strcmp(s, mode_names[i])) {
			*m = (enum ap_mode)i;
			return 0;
		}
	return -EINVAL;
}

const char *ap_effect__name(enum ap_effect e)
{
	return e < AP_EFFECT__COUNT ? effect_names[e] : "?";
}

const char *ap_tristate__name(enum ap_tristate t)
{
	return t == AP_YES ? "yes" : t == AP_NO ? "no" : "unknown";
}

/* 1 bpf listed, 0 not listed, -errno unreadable */
static int read_lsm(void)
{
	char buf[1024], *tok, *save = NULL;
	ssize_t n;
	int fd = open(LSM_FILE, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	for (tok = strtok_r(buf, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save))
		if (!strcmp(tok, "bpf"))
			return 1;
	return 0;
}

static void probe_lsm(struct ap_kernel_caps *c)
{
	int r = read_lsm();

	if (r == -ENOENT && geteuid() == 0 &&
	    mount("securityfs", "/sys/kernel/security", "securityfs", 0, NULL) == 0)
		r = read_lsm();
	if (r == 1) {
		/* Listed is not enough: some kernels list "bpf" and still refuse
		 * LSM programs. Only a real load says; without root, unknown. */
		const char *why;
		int p = ap_lsm_probe(&why);

		c->bpf_lsm = p == 1 ? AP_YES : p == 0 ? AP_NO : AP_UNKNOWN;
		c->lsm_why = p == 1 ? NULL : why;
	} else if (r == 0) {
		c->bpf_lsm = AP_NO;
		c->lsm_why = "'bpf' is not in " LSM_FILE " (boot with lsm=...,bpf)";
	} else {
		c->bpf_lsm = AP_UNKNOWN;
		c->lsm_why = r == -ENOENT ?
			LSM_FILE " is missing (securityfs not mounted; run as root to mount it)" :
			LSM_FILE " is not readable (try as root)";
	}
}

static void probe_seccomp(struct ap_kernel_caps *c)
{
	struct seccomp_notif_sizes sz;

	c->seccomp_notify = syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) == 0 ?
			    AP_YES : AP_NO;
}

static void probe_landlock(struct ap_kernel_caps *c)
{
	long v = syscall(__NR_landlock_create_ruleset, NULL, 0,
			 LANDLOCK_CREATE_RULESET_VERSION);

	c->landlock_abi = v > 0 ? (int)v :
			  errno == ENOSYS || errno == EOPNOTSUPP ? 0 : -1;
}

static void pick_mode(struct ap_kernel_caps *c)
{
	if (AP_LSM_ENGINE_AVAILABLE && c->bpf_lsm == AP_YES)
		c->mode = AP_MODE_LSM;
	else if (c->seccomp_notify == AP_YES)
		c->mode = AP_MODE_SUPERVISED;
	else
		c->mode = AP_MODE_TRACEPOINT;
}

int ap_kernel_caps__probe(struct ap_kernel_caps *c)
{
	const char *fake = getenv("AP_CAPS");

	memset(c, 0, sizeof(*c));
	if (fake && *fake) {
		c->source = "AP_CAPS";
		c->landlock_abi = 0;
		if (!strcmp(fake, "lsm")) {
			c->bpf_lsm = AP_YES;
			c->seccomp_notify = AP_YES;
		} else if (!strcmp(fake, "supervised")) {
			c->bpf_lsm = AP_NO;
			c->seccomp_notify = AP_YES;
		} else if (!strcmp(fake, "tracepoint")) {
			c->bpf_lsm = AP_NO;
			c->seccomp_notify = AP_NO;
		} else {
			return -EINVAL;
		}
		if (c->bpf_lsm == AP_NO)
			c->lsm_why = "'bpf' is not in " LSM_FILE " (boot with lsm=...,bpf)";
		pick_mode(c);
		return 0;
	}
	c->source = "probe";
	probe_lsm(c);
	probe_seccomp(c);
	probe_landlock(c);
	pick_mode(c);
	return 0;
}

void ap_enforcement__describe(enum ap_effect e, const struct ap_kernel_caps *c,
			      enum ap_fallback fb, struct ap_enforcement *out)
{
	memset(out, 0, sizeof(*out));
	out->effect = e;
	out->lands_as = e;
	out->mode = c->mode;
	if (e == AP_EFFECT_NOTIFY) {
		out->how = "reported and fed back to the agent; the operation proceeds";
		return;
	}
	switch (c->mode) {
	case AP_MODE_LSM:
		out->how = e == AP_EFFECT_BLOCK ?
			"denied with EPERM in the kernel (BPF-LSM) before it takes effect" :
			e == AP_EFFECT_ASK ?
			"denied with EPERM in the kernel until a person approves it "
			"(actplane approve); the approval lets the same operation through once" :
			"denied in the kernel (BPF-LSM) and the process is killed with SIGKILL";
		return;
	case AP_MODE_SUPERVISED:
		out->how = e == AP_EFFECT_BLOCK ?
			"held by the seccomp supervisor and failed with EPERM before it takes effect" :
			e == AP_EFFECT_ASK ?
			"held by the seccomp supervisor until a person approves or denies it" :
			"denied by the seccomp supervisor and the process is killed with SIGKILL";
		return;
	default:
		break;
	}
	if (e == AP_EFFECT_KILL) {
		out->how = "the process is killed with SIGKILL at the earliest hook; for "
			   "most operations that is when the system call returns, so the "
			   "operation itself may already have happened";
		return;
	}
	out->degraded = true;
	out->why = c->bpf_lsm == AP_UNKNOWN ?
		"denying an operation before it takes effect needs BPF-LSM, which "
		"could not be confirmed on this kernel" :
		"denying an operation before it takes effect needs BPF-LSM, which "
		"this kernel does not offer";
	switch (fb) {
	case AP_FALLBACK_KILL:
		out->lands_as = AP_EFFECT_KILL;
		out->how = e == AP_EFFECT_BLOCK ?
			"with --fallback kill, a block lands as a kill when the system call "
			"returns, so the operation itself may already have happened" :
			"with --fallback kill, an ask lands as a kill when the system call "
			"returns, so the operation itself may already have happened";
		break;
	case AP_FALLBACK_NOTIFY:
		out->lands_as = AP_EFFECT_NOTIFY;
		out->how = "with --fallback notify, only reported: the operation proceeds";
		break;
	default:
		out->refused = true;
		out->how = "`actplane run` refuses to start unless given --fallback kill "
			   "or --fallback notify";
		break;
	}
}

uint32_t ap_kernel_caps__degraded_effects(const struct ap_kernel_caps *c)
{
	uint32_t m = 0;

	for (int e = 0; e < AP_EFFECT__COUNT; e++) {
		struct ap_enforcement en;

		ap_enforcement__describe((enum ap_effect)e, c, AP_FALLBACK_NONE, &en);
		if (en.degraded)
			m |= 1u << e;
	}
	return m;
}
