// SPDX-License-Identifier: MIT
#include "lsm_probe.h"

#include <errno.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

int ap_lsm_probe(const char **why)
{
	/* r0 = 0; exit: allow, whatever the hook is asked */
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_LSM_MAC);
	struct btf *vmlinux;
	int id, prog = -1, link = -1, err;

	*why = NULL;
	if (geteuid() != 0) {
		*why = "loading a BPF-LSM program needs root; run as root to test it";
		return -EPERM;
	}
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux) {
		*why = "no kernel BTF (/sys/kernel/btf/vmlinux)";
		return -ENOENT;
	}
	id = btf__find_by_name_kind(vmlinux, "bpf_lsm_file_open", BTF_KIND_FUNC);
	btf__free(vmlinux);
	if (id < 0) {
		*why = "the kernel has no BPF-LSM hooks (CONFIG_BPF_LSM is off)";
		return 0;
	}
	opts.attach_btf_id = (__u32)id;
	prog = bpf_prog_load(BPF_PROG_TYPE_LSM, "ap_probe_lsm", "GPL", insns,
			     sizeof(insns) / sizeof(insns[0]), &opts);
	if (prog < 0) {
		err = -errno;
		*why = err == -EPERM ?
			"the kernel refused to load a BPF-LSM program (EPERM)" :
			"the kernel could not load a BPF-LSM program";
		return 0;
	}
	link = bpf_link_create(prog, 0, BPF_LSM_MAC, NULL);
	if (link < 0) {
		*why = errno == EPERM ?
			"the kernel refused to attach a BPF-LSM program (EPERM)" :
			"the kernel could not attach a BPF-LSM program ('bpf' missing from lsm=)";
		err = 0;
		goto cleanup;
	}
	err = 1;
cleanup:
	if (link >= 0)
		close(link);
	close(prog);
	return err;
}
