// SPDX-License-Identifier: MIT
/*
 * `actplane doctor [--json]`: what this machine and project give actplane,
 * and for each problem the command that fixes it. Checks are read-only
 * (it never mounts, edits or loads anything).
 *
 * Status of a check: ok, warn (works, but less than it could), fail
 * (something the user asked for will not work: exit 1), info.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "agent/agentcfg.h"
#include "agent/hook.h"
#include "cli/cli_common.h"
#include "commands.h"
#include "policy/kernel_caps.h"

enum st { ST_OK, ST_INFO, ST_WARN, ST_FAIL };
static const char *const st_name[] = { "ok", "info", "warn", "fail" };

struct check {
	const char *name;
	enum st st;
	char *detail;
	char *fix;       /* the command or step that fixes it; NULL = none */
};

struct report {
	struct check v[48];
	unsigned n;
};

static void add(struct report *r, const char *name, enum st st, const char *fix,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void add(struct report *r, const char *name, enum st st, const char *fix,
		const char *fmt, ...)
{
	struct check *c;
	va_list ap;

	if (r->n == sizeof(r->v) / sizeof(r->v[0]))
		return;
	c = &r->v[r->n++];
	c->name = name;
	c->st = st;
	c->fix = fix ? strdup(fix) : NULL;
	va_start(ap, fmt);
	if (vasprintf(&c->detail, fmt, ap) < 0)
		c->detail = NULL;
	va_end(ap);
}

static bool exists(const char *p)
{
	return access(p, F_OK) == 0;
}

static bool mounted(const char *fstype)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[1024];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		/* ... - FSTYPE SOURCE OPTS */
		char *sep = strstr(line, " - ");
		if (sep && !strncmp(sep + 3, fstype, strlen(fstype)) &&
		    sep[3 + strlen(fstype)] == ' ')
			found = true;
	}
	fclose(f);
	return found;
}

static int sudo_n(void)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		freopen("/dev/null", "r", stdin);
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		execlp("sudo", "sudo", "-n", "true", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

static void kernel_checks(struct report *r, struct ap_kernel_caps *caps)
{
	char lsm[512] = "", fix[1024];
	FILE *f;

	if (exists("/sys/kernel/btf/vmlinux"))
		add(r, "btf", ST_OK, NULL, "kernel BTF at /sys/kernel/btf/vmlinux");
	else
		add(r, "btf", ST_FAIL, "use a kernel built with CONFIG_DEBUG_INFO_BTF=y (every major distribution kernel since 2021 is)",
		    "no /sys/kernel/btf/vmlinux: the engine cannot load");

	f = fopen("/sys/kernel/security/lsm", "re");
	if (f) {
		if (!fgets(lsm, sizeof(lsm), f))
			lsm[0] = '\0';
		lsm[strcspn(lsm, "\n")] = '\0';
		fclose(f);
	}
	if (caps->bpf_lsm == AP_YES) {
		add(r, "bpf-lsm", ST_OK, NULL, "active (lsm=%s): block and ask are denied before they take effect", lsm);
	} else {
		const char *cur = lsm[0] ? lsm : "landlock,lockdown,yama,integrity,apparmor";

		if (strstr(lsm, "bpf"))
			snprintf(fix, sizeof(fix),
				 "the kernel lists bpf but it is not active: check that it was built "
				 "with CONFIG_BPF_LSM=y and that lsm= in /proc/cmdline includes bpf");
		else
			snprintf(fix, sizeof(fix),
				 "add bpf to the kernel's LSM list and reboot: append lsm=%s,bpf to "
				 "GRUB_CMDLINE_LINUX in /etc/default/grub, then `sudo update-grub` "
				 "(Debian/Ubuntu), or `sudo grubby --update-kernel=ALL --args=lsm=%s,bpf` "
				 "(Fedora/RHEL); the kernel needs CONFIG_BPF_LSM=y", cur, cur);
		add(r, "bpf-lsm", ST_WARN, fix, "%s", caps->lsm_why ? caps->lsm_why :
		    "not active: block and ask rules degrade");
	}

	if (mounted("tracefs"))
		add(r, "tracefs", ST_OK, NULL, "mounted");
	else
		add(r, "tracefs", ST_WARN, "sudo mount -t tracefs nodev /sys/kernel/tracing",
		    "not mounted (run mounts it when it can)");
	if (mounted("securityfs"))
		add(r, "securityfs", ST_OK, NULL, "mounted");
	else
		add(r, "securityfs", ST_WARN, "sudo mount -t securityfs securityfs /sys/kernel/security",
		    "not mounted: BPF-LSM cannot be detected");
	if (mounted("cgroup2"))
		add(r, "cgroup2", ST_OK, NULL, "mounted");
	else
		add(r, "cgroup2", ST_WARN, "sudo mount -t cgroup2 none /sys/fs/cgroup",
		    "no cgroup v2 hierarchy: the session guard cannot pin the session's cgroup");

	if (caps->landlock_abi > 0)
		add(r, "landlock", ST_OK, NULL, "ABI version %d", caps->landlock_abi);
	else
		add(r, "landlock", ST_INFO, "boot with landlock in lsm= (CONFIG_SECURITY_LANDLOCK=y)",
		    caps->landlock_abi == 0 ? "not available" : "unknown");
	if (caps->seccomp_notify == AP_YES)
		add(r, "seccomp", ST_OK, NULL, "user notification available (supervised mode possible)");
	else
		add(r, "seccomp", ST_INFO, NULL, "user notification %s",
		    caps->seccomp_notify == AP_NO ? "not available" : "unknown");

	if (geteuid() == 0) {
		add(r, "privileges", ST_OK, NULL, "running as root: run, watch and attach can load the engine");
	} else {
		int s = sudo_n();
		if (s == 0)
			add(r, "privileges", ST_OK, NULL, "passwordless sudo: `sudo actplane run ...` works without a prompt");
		else
			add(r, "privileges", ST_WARN, "run it as `sudo actplane run -- CMD` (or configure passwordless sudo for actplane so `mcp --auto-attach-parent` can attach)",
			    "not root and no passwordless sudo: run, watch and attach need root");
	}
}

static void policy_checks(struct report *r, const struct ap_kernel_caps *caps,
			  const char *cwd, struct json_object *jmode)
{
	struct ap_load_opts lo = { .cwd = cwd };
	struct ap_cli_loaded l;
	int err = ap_cli__load(&lo, caps, &l);
	char degraded[1024] = "";
	size_t dl = 0;

	(void)jmode;
	if (err == -ENOENT) {
		add(r, "policy", ST_WARN, "actplane init", "no actplane.yaml or .actplane/policy.yaml from %s upwards", cwd);
		ap_cli__loaded_free(&l);
		return;
	}
	if (err) {
		char *h = NULL;
		for (unsigned i = 0; i < l.diags.n && !h; i++)
			if (l.diags.v[i].level == AP_DIAG_ERROR)
				h = ap_diag__headline(&l.diags.v[i], l.pol ? l.pol->srcs : NULL,
						      l.pol ? l.pol->nsrcs : 0);
		add(r, "policy", ST_FAIL, "actplane check (shows every error with its line)",
		    "%s does not compile: %s", l.pol && l.pol->path ? l.pol->path : "the policy",
		    h ? h : strerror(-err));
		free(h);
		ap_cli__loaded_free(&l);
		return;
	}
	add(r, "policy", ST_OK, NULL, "%s compiles: %u rules", l.pol->path, l.c->nrules);
	for (uint32_t i = 0; i < l.c->nrules; i++) {
		struct ap_enforcement en;
		ap_enforcement__describe(l.c->rule_info[i].effect, caps, AP_FALLBACK_NONE, &en);
		if (en.degraded && dl < sizeof(degraded) - 64)
			dl += (size_t)snprintf(degraded + dl, sizeof(degraded) - dl, "%s%s (%s)",
					       dl ? ", " : "", l.c->rule_info[i].name,
					       ap_effect__name(l.c->rule_info[i].effect));
	}
	if (dl)
		add(r, "mode", ST_FAIL,
		    "enable BPF-LSM (see bpf-lsm above), or run with --fallback kill|notify",
		    "`run` will use %s mode; these rules cannot be honoured as written and run refuses them without --fallback: %s",
		    ap_mode__name(caps->mode), degraded);
	else
		add(r, "mode", ST_OK, NULL, "`run` will use %s mode; every rule is enforced as written",
		    ap_mode__name(caps->mode));
	ap_cli__loaded_free(&l);
}

static bool hook_binary_ok(const char *command, char *bin, size_t size)
{
	const char *sp;

	if (snprintf(bin, size, "%s", command ? command : "") >= (int)size)
		return false;
	if (bin[0] == '\'') { /* quoted by agentcfg */
		char *end = strchr(bin + 1, '\'');
		if (end)
			*end = '\0';
		memmove(bin, bin + 1, strlen(bin));
	} else if ((sp = strrchr(bin, ' '))) {
		bin[sp - bin] = '\0';
	}
	return access(bin, X_OK) == 0;
}

static void agent_checks(struct report *r, const char *cwd)
{
	char root[PATH_MAX], file[PATH_MAX + 64], toml[PATH_MAX + 16], home[PATH_MAX];
	char real[PATH_MAX], key[PATH_MAX + 96], hash[80], bin[PATH_MAX + 64];
	char *cmd = NULL;
	int group = -1;

	if (ap_hook__find_policy(cwd, root, sizeof(root), NULL, 0))
		snprintf(root, sizeof(root), "%s", cwd);

	snprintf(file, sizeof(file), "%s/.claude/settings.local.json", root);
	if (ap_agentcfg__has_claude(file)) {
		add(r, "claude-hook", ST_OK, NULL, "%s runs `actplane feedback-hook` on PostToolUse and PostToolUseFailure", file);
	} else {
		snprintf(file, sizeof(file), "%s/.claude/settings.json", root);
		if (ap_agentcfg__has_claude(file))
			add(r, "claude-hook", ST_OK, NULL, "%s runs `actplane feedback-hook`", file);
		else
			add(r, "claude-hook", ST_WARN, "actplane init --with-claude",
			    "Claude Code is not wired: the agent will not be told why an operation was stopped");
	}

	snprintf(file, sizeof(file), "%s/.codex/hooks.json", root);
	if (!ap_agentcfg__has_codex_hook(file, &group, &cmd)) {
		add(r, "codex-hook", ST_WARN, "actplane init --with-codex",
		    "Codex is not wired: the agent will not be told why an operation was stopped");
	} else {
		ap_agentcfg__codex_home(home, sizeof(home));
		snprintf(toml, sizeof(toml), "%s/config.toml", home);
		if (!realpath(root, real))
			snprintf(real, sizeof(real), "%s", root);
		int trusted = ap_agentcfg__toml_has(toml, "projects", real, "trust_level", "trusted");
		char rf[PATH_MAX + 64];
		if (!realpath(file, rf))
			snprintf(rf, sizeof(rf), "%s", file);
		snprintf(key, sizeof(key), "%s:post_tool_use:%d:0", rf, group);
		ap_agentcfg__codex_hash(cmd, AP_AGENTCFG_TIMEOUT_S, NULL, hash);
		int hashed = ap_agentcfg__toml_has(toml, "hooks.state", key, "trusted_hash", hash);
		if (trusted != 1)
			add(r, "codex-hook", ST_FAIL, "actplane init --with-codex",
			    "%s has the hook, but the project is not trusted in %s: Codex ignores project config",
			    file, toml);
		else if (hashed != 1)
			add(r, "codex-hook", ST_FAIL, "actplane init --with-codex",
			    "%s has the hook, but %s has no matching trusted_hash for %s: Codex skips it silently",
			    file, toml, key);
		else
			add(r, "codex-hook", ST_OK, NULL, "%s, trusted in %s", file, toml);
	}
	if (cmd && !hook_binary_ok(cmd, bin, sizeof(bin)))
		add(r, "codex-hook-binary", ST_FAIL, "actplane init --with-codex (after moving actplane)",
		    "the hook runs %s, which is not an executable", bin);
	free(cmd);

	snprintf(file, sizeof(file), "%s/.mcp.json", root);
	if (ap_agentcfg__has_mcp(file))
		add(r, "mcp", ST_OK, NULL, "%s declares the actplane MCP server", file);
	else
		add(r, "mcp", ST_INFO, "actplane init --with-mcp", "no actplane MCP server in %s", file);
}

int ap_cmd_doctor(int argc, char **argv)
{
	struct report r = { 0 };
	struct ap_kernel_caps caps;
	bool json = false, bad = false;
	char cwd[PATH_MAX];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: actplane doctor [--json]\n"
			       "\n"
			       "Check kernel support (BTF, BPF-LSM, tracefs, securityfs, cgroup2,\n"
			       "Landlock, seccomp), privileges, the policy, and whether Claude Code,\n"
			       "Codex and MCP are wired; say which mode `run` will use and which rules\n"
			       "degrade, with the command that fixes each problem. Exits 1 when\n"
			       "something is wrong.\n");
			return AP_EXIT_OK;
		} else {
			fprintf(stderr, "actplane doctor: unknown argument '%s'\n", argv[i]);
			return AP_EXIT_USAGE;
		}
	}
	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), "/");
	if (ap_cli__caps(&caps))
		return AP_EXIT_USAGE;
	kernel_checks(&r, &caps);
	policy_checks(&r, &caps, cwd, NULL);
	agent_checks(&r, cwd);

	for (unsigned i = 0; i < r.n; i++)
		bad |= r.v[i].st == ST_FAIL;
	if (json) {
		struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
		json_object_object_add(o, "ok", json_object_new_boolean(!bad));
		json_object_object_add(o, "mode", json_object_new_string(ap_mode__name(caps.mode)));
		for (unsigned i = 0; i < r.n; i++) {
			struct json_object *c = json_object_new_object();
			json_object_object_add(c, "name", json_object_new_string(r.v[i].name));
			json_object_object_add(c, "status", json_object_new_string(st_name[r.v[i].st]));
			json_object_object_add(c, "detail", json_object_new_string(r.v[i].detail ? r.v[i].detail : ""));
			json_object_object_add(c, "fix", r.v[i].fix ? json_object_new_string(r.v[i].fix) : NULL);
			json_object_array_add(arr, c);
		}
		json_object_object_add(o, "checks", arr);
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							     JSON_C_TO_STRING_SPACED |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		for (unsigned i = 0; i < r.n; i++) {
			printf("%-4s  %-18s %s\n", st_name[r.v[i].st], r.v[i].name,
			       r.v[i].detail ? r.v[i].detail : "");
			if (r.v[i].fix && r.v[i].st >= ST_WARN)
				printf("      %-18s fix: %s\n", "", r.v[i].fix);
		}
		printf("\n%s\n", bad ? "problems found (fail lines above)" :
				       "no problems that stop actplane");
	}
	for (unsigned i = 0; i < r.n; i++) {
		free(r.v[i].detail);
		free(r.v[i].fix);
	}
	return bad ? AP_EXIT_INVALID : AP_EXIT_OK;
}
