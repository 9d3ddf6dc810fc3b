// SPDX-License-Identifier: MIT
/*
 * The engine's life cycle: open (mounts, feature probes, map sizes,
 * load-time constants), load (verify, fill the policy), attach, sessions,
 * polling and counters. Never open_and_load: everything is configured
 * between open and load.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpf/btf.h>

#include "common/log.h"
#include "common/procfs.h"
#include "engine_int.h"
#include "enforce/sysguard.h"
#include "policy/blob.h"
#include "policy/dfa.h"
#include "engine.skel.h"

#define AP_DEF_PROCS   32768
#define AP_DEF_FILES   65536
#define AP_DEF_RINGBUF (8u << 20)
#define AP_MAX_SESSIONS 1024
#define AP_LEARN_BUDGET 200000


struct ap_engine {
	struct engine_bpf *skel;
	struct ap_engine_opts opts;
	struct ap_clause_order order;
	struct ring_buffer *rb;
	struct ap_event_decoder *dec;
	struct ap_engine_counters reported; /* loss counters already reported */
	unsigned degraded;
	uint32_t next_session;
	/* overflowed sessions: reported (1), seen_labels last spread to the
	 * session's processes; indexed by session id (< AP_MAX_SESSIONS) */
	uint8_t ovf_reported[AP_MAX_SESSIONS];
	uint64_t ovf_spread[AP_MAX_SESSIONS];
	bool any_overflowed;
	uint64_t map_full_seen;
	int stats_fd;
	int cb_err;
	int handled;
	bool loaded, attached;
};

/* tracefs for the tracepoints, securityfs for the LSM modes later */
static int ensure_mount(const char *dir, const char *type, unsigned long magic)
{
	struct statfs sf;

	if (!statfs(dir, &sf) && (unsigned long)sf.f_type == magic)
		return 0;
	if (mount(type, dir, type, 0, NULL) && errno != EBUSY) {
		int err = -errno;

		ap_warn("engine: cannot mount %s on %s: %s", type, dir, strerror(-err));
		return err;
	}
	return 0;
}

static bool tracepoint_exists(const char *cat, const char *name)
{
	char p[256];

	snprintf(p, sizeof(p), "/sys/kernel/tracing/events/%s/%s/id", cat, name);
	if (!access(p, R_OK))
		return true;
	snprintf(p, sizeof(p), "/sys/kernel/debug/tracing/events/%s/%s/id", cat, name);
	return !access(p, R_OK);
}

/* tp_btf needs the tracepoint's BTF type; this is how the kernel says it has it */
static bool btf_tracepoint_exists(const struct btf *vm, const char *tp)
{
	char name[128];

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	return vm && btf__find_by_name_kind(vm, name, BTF_KIND_TYPEDEF) > 0;
}

/* fmod_ret on a security_* function: needs its BTF and a kernel that lets
 * BPF change a return value (not every kernel does, e.g. under lockdown):
 * load the smallest such program to know */
static bool fmod_ret_exists(const struct btf *vm, const char *func)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int id = vm ? btf__find_by_name_kind(vm, func, BTF_KIND_FUNC) : -1, fd;
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = BPF_MODIFY_RETURN);

	if (id <= 0)
		return false;
	o.attach_btf_id = id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, NULL, "GPL", insns, 2, &o);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Switch off the programs whose hook this kernel lacks; -EOPNOTSUPP when a
 * hook the engine cannot do without is missing. */
static int probe_hooks(struct engine_bpf *skel)
{
	struct bpf_program *prog;
	struct btf *vm = btf__load_vmlinux_btf();
	int err = 0;

	if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_loop, NULL) != 1) {
		ap_err("engine: this kernel has no bpf_loop (5.17+ needed)");
		err = -EOPNOTSUPP;
		goto cleanup;
	}
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) != 1) {
		ap_err("engine: this kernel has no BPF ring buffer (5.8+ needed)");
		err = -EOPNOTSUPP;
		goto cleanup;
	}
	bpf_object__for_each_program(prog, skel->obj) {
		const char *sec = bpf_program__section_name(prog);
		bool ok = true, vital = false;

		if (!strncmp(sec, "tp_btf/", 7)) {
			ok = btf_tracepoint_exists(vm, sec + 7);
			vital = true;
		} else if (!strncmp(sec, "fmod_ret/", 9)) {
			/* the session guard's deny half: a trampoline on a
			 * security_* function; attached on its own (guard_attach) */
			ok = fmod_ret_exists(vm, sec + 9);
			bpf_program__set_autoattach(prog, false);
		} else if (!strncmp(sec, "tracepoint/", 11)) {
			char cat[64];
			const char *slash = strchr(sec + 11, '/');

			if (slash && (size_t)(slash - (sec + 11)) < sizeof(cat)) {
				memcpy(cat, sec + 11, slash - (sec + 11));
				cat[slash - (sec + 11)] = 0;
				ok = tracepoint_exists(cat, slash + 1);
			}
			/* openat, exec-time and connect are the core; the legacy
			 * syscalls (open, creat, rename, ...) may be absent */
			vital = strstr(sec, "openat") && !strstr(sec, "openat2");
		}
		/* debugging and cost attribution: AP_ENGINE_SKIP=name,name... */
		{
			const char *skip = getenv("AP_ENGINE_SKIP");
			const char *nm = bpf_program__name(prog);

			if (skip && strstr(skip, nm)) {
				ap_warn("engine: program %s skipped (AP_ENGINE_SKIP)", nm);
				bpf_program__set_autoload(prog, false);
				continue;
			}
		}
		if (!ok) {
			if (vital) {
				ap_err("engine: hook %s missing on this kernel", sec);
				err = -EOPNOTSUPP;
				goto cleanup;
			}
			ap_debug("engine: hook %s missing, program %s off", sec,
				 bpf_program__name(prog));
			bpf_program__set_autoload(prog, false);
		}
	}
cleanup:
	btf__free(vm);
	return err;
}

/* ---- the cgroup connect_unix hook (bpf/engine_net.bpf.h) ----
 * The uapi value of 6.7: this libbpf's headers and section table may
 * predate it, so the type is set by hand and the hook attached by fd. */
#define AP_BPF_CGROUP_UNIX_CONNECT 49

/* libbpf_probe_bpf_prog_type says nothing about attach types: load the
 * smallest program with this one expected (6.1 refuses it with EINVAL) */
static bool unix_connect_hook_exists(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o,
		    .expected_attach_type = (enum bpf_attach_type)AP_BPF_CGROUP_UNIX_CONNECT);
	int fd = bpf_prog_load(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, NULL, "GPL", insns, 2, &o);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int probe_unix_hook(struct engine_bpf *skel)
{
	struct bpf_program *prog = skel->progs.ap_cg_connect_unix;

	if (!bpf_program__autoload(prog))
		return 0; /* AP_ENGINE_SKIP */
	if (!unix_connect_hook_exists()) {
		ap_debug("engine: no cgroup connect_unix (6.7+): Unix socket rules are "
			 "decided at sys_enter_connect (kill only)");
		return bpf_program__set_autoload(prog, false);
	}
	return bpf_program__set_type(prog, BPF_PROG_TYPE_CGROUP_SOCK_ADDR) ?:
	       bpf_program__set_expected_attach_type(
		       prog, (enum bpf_attach_type)AP_BPF_CGROUP_UNIX_CONNECT);
}


/* at the root, so that every process of a session passes through it
 * wherever it moves; not fatal (sys_enter_connect then decides, by kill) */
static void attach_unix_hook(struct engine_bpf *skel)
{
	struct bpf_program *prog = skel->progs.ap_cg_connect_unix;
	char root[PATH_MAX];
	struct bpf_link *l;
	int fd, err;

	if (!bpf_program__autoload(prog) || bpf_program__fd(prog) < 0)
		return;
	err = ap_procfs__cgroup2_mount(root, sizeof(root));
	fd = err ? err : open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = err ? err : -errno;
		ap_warn("engine: no cgroup2 mount for the connect_unix hook (%s): Unix "
			"socket rules kill instead of blocking", strerror(-err));
		return;
	}
	l = bpf_program__attach_cgroup(prog, fd);
	err = l ? 0 : -errno;
	close(fd);
	if (err) {
		ap_warn("engine: attaching connect_unix at %s: %s: Unix socket rules kill "
			"instead of blocking", root, strerror(-err));
		return;
	}
	skel->links.ap_cg_connect_unix = l;
	skel->bss->ap_unix_hook_live = 1;
}

/* The session guard denies signals to the engine and ptrace of processes
 * outside the session where both trampolines attach; otherwise its
 * tracepoints kill the process that tried (bpf/engine_guard.bpf.h). */
static void attach_guard_deny(struct engine_bpf *skel)
{
	struct bpf_program *progs[2] = { skel->progs.ap_guard_task_kill,
					 skel->progs.ap_guard_ptrace_access };
	struct bpf_link *l[2] = { NULL, NULL };
	int err = 0;

	for (int i = 0; i < 2 && !err; i++) {
		if (!bpf_program__autoload(progs[i]) || bpf_program__fd(progs[i]) < 0) {
			err = -EOPNOTSUPP;
			break;
		}
		l[i] = bpf_program__attach(progs[i]);
		if (!l[i])
			err = -errno;
	}
	if (err) {
		for (int i = 0; i < 2; i++)
			bpf_link__destroy(l[i]);
		ap_debug("engine: session guard: no fmod_ret on security_* (%s): signals to "
			 "the engine and ptrace kill the process instead of failing",
			 strerror(-err));
		return;
	}
	skel->links.ap_guard_task_kill = l[0];
	skel->links.ap_guard_ptrace_access = l[1];
	skel->bss->ap_guard_deny_live = 1;
}

static uint32_t at_least1(uint32_t n)
{
	return n ? n : 1;
}

/* Test knob (docs/run.md): smaller state maps, to reach their limits. */
static uint32_t env_size(const char *name, uint32_t def)
{
	const char *v = getenv(name);
	char *end;
	unsigned long n;

	if (!v || !*v)
		return def;
	n = strtoul(v, &end, 10);
	if (*end || n < 16 || n > def) {
		ap_warn("engine: %s='%s' ignored (16..%u)", name, v, def);
		return def;
	}
	ap_warn("engine: %s=%lu: state maps shrunk for testing", name, n);
	return (uint32_t)n;
}

static int configure(struct ap_engine *e)
{
	const struct ap_blob_view *b = e->opts.blob;
	const struct ap_blob_header *h = b->hdr;
	struct engine_bpf *s = e->skel;
	struct ap_dfa d = { 0 };
	uint32_t max_procs = e->opts.max_procs ? e->opts.max_procs :
			     env_size("ACTPLANE_ENGINE_MAX_PROCS", AP_DEF_PROCS);
	uint32_t max_files = e->opts.max_files ? e->opts.max_files :
			     env_size("ACTPLANE_ENGINE_MAX_FILES", AP_DEF_FILES);
	int err;

	err = ap_clause_order__build(b, &e->order);
	if (err)
		return err;
	s->rodata->cfg_flags =
		(e->opts.flags & AP_ENGINE_F_AUDIT ? AP_CFG_F_AUDIT : 0) |
		(e->opts.flags & AP_ENGINE_F_OBSERVE ? AP_CFG_F_OBSERVE : 0) |
		(e->opts.fallback == AP_EFFECT_KILL ? AP_CFG_F_FALLBACK_KILL : 0);
	s->rodata->cfg_protect_pid = e->opts.protect_pid;
	/* session-guard: every item the policy does not allow is reported,
	 * and enforced unless guard: notify */
	s->rodata->cfg_guard_items = (AP_GUARD_PTRACE | AP_GUARD_NAMESPACES | AP_GUARD_SIGNAL) &
				     ~h->guard_allow;
	s->rodata->cfg_guard_notify = !!(h->flags & AP_BLOB_F_GUARD_NOTIFY);
	s->rodata->cfg_guard_rule = ap_sysguard__rule_index(b);
	s->rodata->cfg_nconds = h->nconds;
	s->rodata->cfg_ngates = h->ngates;
	s->rodata->cfg_nsince = h->nsince;
	s->rodata->cfg_nlineage = h->nlineage;
	s->rodata->cfg_nsources = h->nsources;
	s->rodata->cfg_nkeeps = h->nkeeps;
	s->rodata->cfg_nendpoints = h->nendpoints;
	for (int op = 0; op < AP_OP__COUNT; op++) {
		s->rodata->cfg_op_first[op] = e->order.first[op];
		s->rodata->cfg_op_count[op] = e->order.count[op];
	}

#define SZ(map, n) \
	if (!err) err = bpf_map__set_max_entries(s->maps.map, at_least1(n))
	SZ(ap_clauses, e->order.n);
	SZ(ap_conds, h->nconds);
	SZ(ap_gates, h->ngates);
	SZ(ap_since, h->nsince);
	SZ(ap_lineage, h->nlineage);
	SZ(ap_sources, h->nsources);
	SZ(ap_keeps, h->nkeeps);
	SZ(ap_endpoints, h->nendpoints);
	SZ(ap_procs, max_procs);
	SZ(ap_files, max_files);
	SZ(ap_inode_pats, max_files);
	SZ(ap_prov, 2 * max_files);
	SZ(ap_sessions, AP_MAX_SESSIONS);
	SZ(ap_events, e->opts.ringbuf_bytes ? e->opts.ringbuf_bytes : AP_DEF_RINGBUF);
#undef SZ
	if (err)
		return err;
	d.nstates = h->ndfa_states;
	d.nclasses = h->ndfa_classes;
	d.naccept = h->naccept;
	return ap_dfa__size_maps(&d, s->maps.ap_dfa_trans, s->maps.ap_dfa_accept,
				 s->maps.ap_accept_sets);
}

int ap_engine__open(const struct ap_engine_opts *opts, struct ap_engine **out)
{
	struct ap_engine *e = NULL;
	struct timespec rt, bt;
	int err;

	*out = NULL;
	if (!opts || !opts->blob || !opts->blob->hdr)
		return -EINVAL;
	if (geteuid() != 0)
		ap_debug("engine: not root; loading needs CAP_BPF and CAP_PERFMON");
	ensure_mount("/sys/kernel/tracing", "tracefs", TRACEFS_MAGIC);
	ensure_mount("/sys/kernel/security", "securityfs", SECURITYFS_MAGIC);
	ap_log_libbpf_install();

	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->dec = calloc(1, sizeof(*e->dec));
	if (!e->dec) {
		err = -ENOMEM;
		goto cleanup;
	}
	e->opts = *opts;
	e->stats_fd = -1;
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_BOOTTIME, &bt);
	e->dec->boot_to_real_ns = (rt.tv_sec - bt.tv_sec) * 1000000000LL +
				  (rt.tv_nsec - bt.tv_nsec);
	e->degraded = ap_engine__degraded_mask(opts->blob);

	e->skel = engine_bpf__open();
	if (!e->skel) {
		err = -errno;
		ap_err("engine: cannot open the BPF object: %s", strerror(-err));
		goto cleanup;
	}
	err = probe_hooks(e->skel);
	if (!err)
		err = probe_unix_hook(e->skel);
	if (err)
		goto cleanup;
	err = configure(e);
	if (err) {
		ap_err("engine: configuring maps: %s", strerror(-err));
		goto cleanup;
	}
	*out = e;
	return 0;
cleanup:
	ap_engine__destroy(e);
	return err;
}

int ap_engine__load(struct ap_engine *e)
{
	int err;
	long learned;

	if (!e)
		return -EINVAL;
	if (e->loaded)
		return 0;
	err = engine_bpf__load(e->skel);
	if (err) {
		ap_err("engine: the kernel refused the BPF programs: %s (run with -v for "
		       "the verifier log)", strerror(-err));
		return err;
	}
	err = ap_engine_maps__fill(e->skel, e->opts.blob, &e->order);
	if (err)
		return err;
	/* the engine's processes the session may not signal */
	if (e->opts.protect_pid > 0) {
		int n = ap_sysguard__fill_engine_pids(bpf_map__fd(e->skel->maps.ap_guard_pids),
						      e->opts.protect_pid);

		if (n < 0)
			ap_warn("engine: session guard: cannot list the engine's processes: %s",
				strerror(-n));
	}
	learned = ap_engine_maps__learn_names(e->skel, e->opts.blob, AP_LEARN_BUDGET);
	ap_debug("engine: names of %ld existing files under policy patterns learned",
		 learned);
	e->loaded = true;
	return 0;
}

int ap_engine__load_policy(struct ap_engine *e)
{
	return ap_engine__load(e);
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct ap_engine *e = ctx;
	struct ap_event_rec ev;

	if (ap_event__decode(e->dec, data, size, &ev)) {
		ap_warn("engine: malformed ring buffer record (%zu bytes) skipped", size);
		return 0;
	}
	e->handled++;
	if (e->opts.on_event)
		e->opts.on_event(e->opts.ctx, &ev);
	return 0;
}

int ap_engine__attach(struct ap_engine *e)
{
	int err;

	if (!e || !e->loaded)
		return -EINVAL;
	if (e->attached)
		return 0;
	err = engine_bpf__attach(e->skel);
	if (err) {
		ap_err("engine: attaching the BPF programs: %s", strerror(-err));
		return err;
	}
	attach_unix_hook(e->skel);
	attach_guard_deny(e->skel);
	e->rb = ring_buffer__new(bpf_map__fd(e->skel->maps.ap_events), on_record, e, NULL);
	if (!e->rb) {
		err = -errno;
		ap_err("engine: ring buffer: %s", strerror(-err));
		return err;
	}
	e->attached = true;
	return 0;
}

void ap_engine__destroy(struct ap_engine *e)
{
	if (!e)
		return;
	ring_buffer__free(e->rb);
	engine_bpf__destroy(e->skel);
	if (e->stats_fd >= 0)
		close(e->stats_fd);
	ap_clause_order__free(&e->order);
	free(e->dec);
	free(e);
}

unsigned ap_engine__degraded(const struct ap_engine *e)
{
	return e ? e->degraded : 0;
}

const char *ap_engine__mode(const struct ap_engine *e)
{
	return "tracepoint";
}

int ap_engine__add_session(struct ap_engine *e, pid_t pid, uint64_t seed,
			   uint32_t *session_id)
{
	struct ap_session *ss = NULL;
	struct ap_proc p = { 0 };
	struct timespec bt;
	uint32_t sid, tgid = (uint32_t)pid;
	int err = 0;

	if (!e || !e->loaded || pid <= 0)
		return -EINVAL;
	if (e->next_session + 1 >= AP_MAX_SESSIONS)
		return -ENOSPC;
	sid = ++e->next_session;
	ss = calloc(1, sizeof(*ss));
	if (!ss)
		return -ENOMEM;
	ss->live = 1;
	ss->seen_labels = seed;
	if (bpf_map_update_elem(bpf_map__fd(e->skel->maps.ap_sessions), &sid, ss,
				BPF_NOEXIST)) {
		err = -errno;
		ap_err("engine: session %u: %s", sid, strerror(-err));
		goto cleanup;
	}
	clock_gettime(CLOCK_BOOTTIME, &bt);
	p.labels = seed;
	p.session = sid;
	p.flags = AP_PROC_F_ROOT;
	p.start_ts = bt.tv_sec * 1000000000ULL + bt.tv_nsec;
	/* where the seed labels came from: the run itself */
	for (unsigned b = 0; b < 64; b++) {
		struct ap_prov_key k = { .id = tgid, .kind = AP_OBJ_PROC, .label = b };
		struct ap_prov pv = { 0 };

		if (!(seed >> b & 1))
			continue;
		pv.ts = p.start_ts;
		pv.pid = tgid;
		pv.op = AP_OP_EXEC;
		pv.label = b;
		pv.flags = AP_PROV_F_VALID;
		snprintf(pv.comm, sizeof(pv.comm), "actplane");
		pv.target_len = snprintf(pv.target, sizeof(pv.target), "run.seed");
		bpf_map_update_elem(bpf_map__fd(e->skel->maps.ap_prov), &k, &pv, BPF_ANY);
	}
	if (bpf_map_update_elem(bpf_map__fd(e->skel->maps.ap_procs), &tgid, &p, BPF_ANY)) {
		err = -errno;
		ap_err("engine: marking pid %d as session root: %s", pid, strerror(-err));
		bpf_map_delete_elem(bpf_map__fd(e->skel->maps.ap_sessions), &sid);
		goto cleanup;
	}
	if (session_id)
		*session_id = sid;
cleanup:
	free(ss);
	return err;
}

long ap_engine__session_live(struct ap_engine *e, uint32_t session_id)
{
	struct ap_session *ss;
	long live;

	if (!e || !e->loaded)
		return -EINVAL;
	ss = calloc(1, sizeof(*ss));
	if (!ss)
		return -ENOMEM;
	if (bpf_map_lookup_elem(bpf_map__fd(e->skel->maps.ap_sessions), &session_id, ss)) {
		free(ss);
		return -ENOENT;
	}
	live = ss->live > 0 ? (long)ss->live : 0;
	free(ss);
	return live;
}

int ap_engine__counters(struct ap_engine *e, struct ap_engine_counters *c)
{
	int ncpu = libbpf_num_possible_cpus(), fd;
	uint64_t *vals, sum[AP_CNT__COUNT] = { 0 };

	memset(c, 0, sizeof(*c));
	if (!e || !e->loaded)
		return -EINVAL;
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	fd = bpf_map__fd(e->skel->maps.ap_counters);
	for (uint32_t k = 0; k < AP_CNT__COUNT; k++) {
		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (int i = 0; i < ncpu; i++)
			sum[k] += vals[i];
	}
	free(vals);
#define X(en, f, s) c->f = sum[AP_CNT_##en];
	AP_COUNTERS(X)
#undef X
	/* LRU maps evict silently: every insert beyond their capacity pushed
	 * an older (unlabelled) entry out */
	{
		uint64_t cap = bpf_map__max_entries(e->skel->maps.ap_inode_pats) +
			       bpf_map__max_entries(e->skel->maps.ap_conns);

		if (c->lru_inserts > cap)
			c->evictions += c->lru_inserts - cap;
	}
	/* the kernel skips a tracing program when another one is running on
	 * the CPU (bpf_prog_active); each skip is an operation not seen */
	{
		struct bpf_program *prog;

		c->prog_misses = 0;
		bpf_object__for_each_program(prog, e->skel->obj) {
			struct bpf_prog_info info;
			__u32 len = sizeof(info);
			int pfd = bpf_program__fd(prog);

			memset(&info, 0, sizeof(info));
			if (pfd >= 0 && !bpf_obj_get_info_by_fd(pfd, &info, &len))
				c->prog_misses += info.recursion_misses;
		}
	}
	return 0;
}

/* the counters that mean something was lost: a `loss` event when they rise */
static void report_loss(struct ap_engine *e)
{
	struct ap_engine_counters now;
	struct ap_event_rec ev;
	bool any = false;

	if (ap_engine__counters(e, &now))
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = AP_EVENT_LOSS;
	ev.target = "";
	ev.exe = "";
#define LOSS(f)                                                 \
	if (now.f > e->reported.f) {                            \
		ev.loss.f = now.f - e->reported.f;              \
		any = true;                                     \
	}
	LOSS(ringbuf_drops) LOSS(map_full) LOSS(evictions) LOSS(read_fails)
	LOSS(unresolved) LOSS(argv_truncated) LOSS(prog_misses)
#undef LOSS
	if (!any)
		return;
	ev.ts_ns = (uint64_t)time(NULL) * 1000000000ULL;
	e->reported = now;
	if (e->opts.on_event)
		e->opts.on_event(e->opts.ctx, &ev);
}

int ap_engine__add_session_cgroup(struct ap_engine *e, uint32_t sid,
				  uint64_t cgid)
{
	int err;

	if (!e || !e->loaded || !sid || !cgid)
		return -EINVAL;
	if (bpf_map_update_elem(bpf_map__fd(e->skel->maps.ap_sess_cgroups), &cgid,
				&sid, BPF_ANY)) {
		err = -errno;
		ap_err("engine: session %u: cgroup %llu: %s", sid,
		       (unsigned long long)cgid, strerror(-err));
		return err;
	}
	/* from now on processes without an entry look their cgroup up */
	e->skel->bss->ap_ncgroups++;
	return 0;
}

int ap_engine__session_state(struct ap_engine *e, uint32_t session_id,
			     struct ap_session_state *st)
{
	struct ap_session *ss;
	int err = 0;

	if (!e || !e->loaded || !st)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	ss = calloc(1, sizeof(*ss));
	if (!ss)
		return -ENOMEM;
	if (bpf_map_lookup_elem(bpf_map__fd(e->skel->maps.ap_sessions), &session_id, ss)) {
		err = -ENOENT;
		goto cleanup;
	}
	st->overflowed = ss->flags & AP_SESSION_F_OVERFLOWED;
	st->overflow = ss->overflow;
	st->seen_labels = ss->seen_labels;
	st->live = ss->live > 0 ? (long)ss->live : 0;
cleanup:
	free(ss);
	return err;
}

const char *ap_engine__overflow_str(uint32_t bits, bool what, char *buf,
				    size_t size)
{
	size_t n = 0;

	if (!size)
		return buf;
	buf[0] = 0;
#define X(en, b, nm, w)                                                          \
	if ((bits & (b)) && n < size) {                                           \
		int k = what ? snprintf(buf + n, size - n, "%s%s (%s)", n ? ", " : "", \
					nm, w)                                     \
			     : snprintf(buf + n, size - n, "%s%s", n ? "," : "", nm); \
		n += k > 0 ? (size_t)k : 0;                                       \
	}
	AP_OVERFLOWS(X)
#undef X
	return buf;
}

/* Every label seen in an overflowed session, into every process entry of
 * it: the kernel already evaluates them with it (ap_eff_labels), this
 * makes the flows out of them (writes by a process with no label of its
 * own) carry it too. Races with the kernel only lose updates that make the
 * entry stricter (lineage, gates, declassified). */
static void spread_seen(struct ap_engine *e, uint32_t sid, uint64_t seen)
{
	int fd = bpf_map__fd(e->skel->maps.ap_procs);
	uint32_t key, next;
	struct ap_proc p;
	bool first = true;

	while (!bpf_map_get_next_key(fd, first ? NULL : &key, &next)) {
		first = false;
		key = next;
		if (bpf_map_lookup_elem(fd, &key, &p) || p.session != sid ||
		    (p.labels & seen) == seen)
			continue;
		p.labels |= seen;
		bpf_map_update_elem(fd, &key, &p, BPF_EXIST);
	}
}

/* Sessions that became overflowed: one LOSS each, read from the session
 * map (not the ring buffer, which may be what overflowed). Only looked at
 * when the kernel counted a full map, or a session already overflowed. */
static void check_overflows(struct ap_engine *e)
{
	struct ap_engine_counters now;
	struct ap_session *ss;
	int fd;

	if (!e->loaded)
		return;
	/* the one counter, not ap_engine__counters (a system call per
	 * program): this runs at every poll */
	memset(&now, 0, sizeof(now));
	{
		int ncpu = libbpf_num_possible_cpus();
		uint32_t k = AP_CNT_MAP_FULL;
		uint64_t *vals = ncpu > 0 ? calloc(ncpu, sizeof(*vals)) : NULL;

		if (!vals)
			return;
		if (!bpf_map_lookup_elem(bpf_map__fd(e->skel->maps.ap_counters), &k, vals))
			for (int i = 0; i < ncpu; i++)
				now.map_full += vals[i];
		free(vals);
	}
	if (now.map_full == e->map_full_seen && !e->any_overflowed)
		return;
	e->map_full_seen = now.map_full;
	ss = calloc(1, sizeof(*ss));
	if (!ss)
		return;
	fd = bpf_map__fd(e->skel->maps.ap_sessions);
	for (uint32_t sid = 1; sid <= e->next_session && sid < AP_MAX_SESSIONS; sid++) {
		if (bpf_map_lookup_elem(fd, &sid, ss) ||
		    !(ss->flags & AP_SESSION_F_OVERFLOWED))
			continue;
		e->any_overflowed = true;
		if (ss->seen_labels != e->ovf_spread[sid]) {
			spread_seen(e, sid, ss->seen_labels);
			e->ovf_spread[sid] = ss->seen_labels;
		}
		if (!e->ovf_reported[sid]) {
			struct ap_event_rec ev;
			char what[512];

			e->ovf_reported[sid] = 1;
			ap_warn("engine: session %u overflowed: could not record %s", sid,
				ap_engine__overflow_str(ss->overflow, true, what, sizeof(what)));
			memset(&ev, 0, sizeof(ev));
			ev.kind = AP_EVENT_LOSS;
			ev.ts_ns = (uint64_t)time(NULL) * 1000000000ULL;
			ev.session = sid;
			ev.overflow = ss->overflow ? ss->overflow : AP_OVF_FILES;
			ev.labels = ss->seen_labels;
			ev.loss.map_full = now.map_full;
			ev.target = "";
			ev.exe = "";
			if (e->opts.on_event)
				e->opts.on_event(e->opts.ctx, &ev);
		}
	}
	free(ss);
}

int ap_engine__poll(struct ap_engine *e, int timeout_ms)
{
	int n;

	if (!e || !e->rb)
		return -EINVAL;
	e->handled = 0;
	n = ring_buffer__poll(e->rb, timeout_ms);
	check_overflows(e);
	report_loss(e);
	if (n < 0)
		return n;
	return e->handled;
}

int ap_engine__map_fd(const struct ap_engine *e, const char *name)
{
	struct bpf_map *m;
	int fd;

	if (!e || !e->loaded)
		return -EINVAL;
	m = bpf_object__find_map_by_name(e->skel->obj, name);
	fd = m ? bpf_map__fd(m) : -ENOENT;
	return fd < 0 ? -ENOENT : fd;
}

int ap_engine__fd(const struct ap_engine *e)
{
	return e && e->rb ? ring_buffer__epoll_fd(e->rb) : -EINVAL;
}

int ap_engine__enable_stats(struct ap_engine *e)
{
	int fd;

	if (!e)
		return -EINVAL;
	if (e->stats_fd >= 0)
		return 0;
	fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (fd < 0) {
		ap_warn("engine: BPF_ENABLE_STATS: %s", strerror(-fd));
		return fd;
	}
	e->stats_fd = fd;
	return 0;
}

int ap_engine__prog_stats(struct ap_engine *e, struct ap_prog_stat *st, size_t n)
{
	struct bpf_program *prog;
	size_t i = 0;

	if (!e || !e->skel)
		return -EINVAL;
	bpf_object__for_each_program(prog, e->skel->obj) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		if (i < n) {
			memset(&st[i], 0, sizeof(st[i]));
			st[i].name = bpf_program__name(prog);
			memset(&info, 0, sizeof(info));
			if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len)) {
				st[i].loaded = true;
				st[i].run_cnt = info.run_cnt;
				st[i].run_time_ns = info.run_time_ns;
				st[i].xlated_insns = info.xlated_prog_len / 8;
				st[i].verified_insns = info.verified_insns;
				st[i].recursion_misses = info.recursion_misses;
			}
		}
		i++;
	}
	return (int)i;
}
