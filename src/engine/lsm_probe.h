/* SPDX-License-Identifier: MIT */
/*
 * Does BPF-LSM really work here? "bpf" in /sys/kernel/security/lsm is not
 * enough: a kernel can list it and still refuse LSM programs (this project's
 * CI kernel does, with EPERM). The only honest probe is to load and attach a
 * program that allows everything, then detach it at once.
 */
#ifndef AP_ENGINE_LSM_PROBE_H
#define AP_ENGINE_LSM_PROBE_H

/* 1: an lsm/file_open program loaded and attached; 0: the kernel refused
 * (*why says how); -EPERM: not privileged enough to try; other -errno: the
 * probe itself failed (no BTF, ...). *why is a static string. */
int ap_lsm_probe(const char **why);

#endif
