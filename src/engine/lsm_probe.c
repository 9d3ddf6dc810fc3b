// SPDX-License-Identifier: MIT
#include "lsm_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

/* The answer cannot change until the next boot, and finding the hook's BTF
 * id means parsing all of vmlinux BTF (~15 ms, most of a `check`), so the
 * result is kept in /run (tmpfs: gone at reboot) keyed by the boot id. */
#define CACHE_DIR "/run/actplane"
#define CACHE_FILE CACHE_DIR "/lsm-probe"

static const char *const whys[] = {
	"",
	"no kernel BTF (/sys/kernel/btf/vmlinux)",
	"the kernel has no BPF-LSM hooks (CONFIG_BPF_LSM is off)",
	"the kernel refused to load a BPF-LSM program (EPERM)",
	"the kernel could not load a BPF-LSM program",
	"the kernel refused to attach a BPF-LSM program (EPERM)",
	"the kernel could not attach a BPF-LSM program ('bpf' missing from lsm=)",
};

static int boot_id(char *buf, size_t size)
{
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static int cache_get(const char *boot, const char **why)
{
	char line[128], id[64];
	int r = -ENOENT, w = 0;
	FILE *f = fopen(CACHE_FILE, "re");

	if (!f)
		return -ENOENT;
	if (!fgets(line, sizeof(line), f) ||
	    sscanf(line, "%63s %d %d", id, &r, &w) != 3 || strcmp(id, boot) ||
	    (r != 0 && r != 1) || w < 0 || (size_t)w >= sizeof(whys) / sizeof(whys[0]))
		r = -ENOENT;
	fclose(f);
	if (r == 0 || r == 1)
		*why = w ? whys[w] : NULL;
	return r;
}

static void cache_put(const char *boot, int r, const char *why)
{
	char tmp[] = CACHE_DIR "/lsm-probe.XXXXXX";
	int w = 0, fd;
	FILE *f;

	for (size_t i = 1; why && i < sizeof(whys) / sizeof(whys[0]); i++)
		if (!strcmp(why, whys[i]))
			w = (int)i;
	mkdir(CACHE_DIR, 0755);
	fd = mkstemp(tmp);
	if (fd < 0)
		return;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		return;
	}
	fprintf(f, "%s %d %d\n", boot, r, w);
	if (fchmod(fd, 0644) || fclose(f) || rename(tmp, CACHE_FILE))
		unlink(tmp);
}

static int probe(const char **why);

int ap_lsm_probe(const char **why)
{
	char boot[64] = "";
	int r;

	*why = NULL;
	if (boot_id(boot, sizeof(boot)) == 0) {
		r = cache_get(boot, why);
		if (r == 0 || r == 1)
			return r;
	}
	r = probe(why);
	if ((r == 0 || r == 1) && boot[0])
		cache_put(boot, r, *why);
	return r;
}

static int probe(const char **why)
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
