/* SPDX-License-Identifier: MIT */
/*
 * What this kernel can honour, found by probing (never by version numbers),
 * and how each effect is enforced in the resulting mode.
 *
 * Probes: BPF-LSM ("bpf" in /sys/kernel/security/lsm, securityfs mounted if
 * missing and we are root), seccomp user notification
 * (seccomp(SECCOMP_GET_NOTIF_SIZES)), the Landlock ABI
 * (landlock_create_ruleset(.., LANDLOCK_CREATE_RULESET_VERSION)).
 *
 * Test hook: AP_CAPS=lsm|supervised|tracepoint in the environment replaces
 * the probes with a fixed kernel (lsm: BPF-LSM and seccomp notify;
 * supervised: seccomp notify, no BPF-LSM; tracepoint: neither), so golden
 * outputs do not depend on the machine. `source` then reads "AP_CAPS".
 */
#ifndef AP_POLICY_KERNEL_CAPS_H
#define AP_POLICY_KERNEL_CAPS_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#include "../../bpf/abi.h"

#define AP_MODES(X) \
	X(LSM,        "lsm")        \
	X(SUPERVISED, "supervised") \
	X(TRACEPOINT, "tracepoint")
enum ap_mode {
#define X(e, s) AP_MODE_##e,
	AP_MODES(X)
#undef X
	AP_MODE__COUNT
};

/* The BPF-LSM engine (deny in the kernel) is not in this build: on a kernel
 * with BPF-LSM, `run` still uses the seccomp supervisor, and check must
 * describe that, not the LSM mode. */
#define AP_LSM_ENGINE_AVAILABLE 0

/* The built-in session guard (policy-language.md section 7) is enforced in
 * every mode: its path items (files, cgroup) are clauses of the built-in
 * rule (policy/lower.h), its system-call items (ptrace, namespaces,
 * signal) the supervisor's (enforce/sysguard.h) and the engine's
 * (bpf/engine_guard.bpf.h). 0 would make check say it is not. */
#define AP_GUARD_ENFORCED 1

enum ap_tristate { AP_NO = 0, AP_YES = 1, AP_UNKNOWN = -1 };

struct ap_kernel_caps {
	enum ap_tristate bpf_lsm;
	enum ap_tristate seccomp_notify;
	int landlock_abi;        /* 0 none, -1 unknown */
	enum ap_mode mode;       /* the best mode this kernel offers */
	const char *source;      /* "probe" or "AP_CAPS" */
	const char *lsm_why;     /* why BPF-LSM is missing or unknown, or NULL */
};

enum ap_fallback { AP_FALLBACK_NONE = 0, AP_FALLBACK_KILL, AP_FALLBACK_NOTIFY };

/* Probe (or read AP_CAPS). Never fails: what cannot be read is unknown.
 * Returns -EINVAL only for a malformed AP_CAPS. */
int ap_kernel_caps__probe(struct ap_kernel_caps *c);

const char *ap_mode__name(enum ap_mode m);
int ap_mode__parse(const char *s, enum ap_mode *m);
const char *ap_effect__name(enum ap_effect e);
const char *ap_tristate__name(enum ap_tristate t);

/* How one effect is enforced in a mode. */
struct ap_enforcement {
	enum ap_effect effect;
	enum ap_mode mode;
	bool degraded;           /* cannot be honoured as written */
	bool refused;            /* degraded and no fallback: `run` refuses */
	enum ap_effect lands_as; /* what happens instead (== effect if not degraded) */
	const char *how;         /* one sentence: what happens on a match */
	const char *why;         /* degraded: why; else NULL */
};

void ap_enforcement__describe(enum ap_effect e, const struct ap_kernel_caps *c,
			      enum ap_fallback fb, struct ap_enforcement *out);

/* Effects (1 << enum ap_effect) the mode cannot honour, for lowering. */
uint32_t ap_kernel_caps__degraded_effects(const struct ap_kernel_caps *c);

#endif
