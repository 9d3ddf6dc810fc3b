// SPDX-License-Identifier: MIT
/* actplane init: write a commented starter actplane.yaml in the current
 * directory. The starter must always pass `actplane check` (golden test
 * tests/golden/valid/init-starter.yaml is a copy of it). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agentcfg.h"
#include "cli_common.h"
#include "commands.h"

static const char starter[] =
	"# actplane.yaml: what an AI coding agent may do in this project.\n"
	"#\n"
	"# `actplane check` validates this file and says how each rule is enforced on\n"
	"# this machine; `sudo -E actplane run -- claude` runs the agent under it. The\n"
	"# language is described in `man actplane` and docs/rule-language.md.\n"
	"version: 1\n"
	"\n"
	"policy: |\n"
	"  # --- Labels -------------------------------------------------------------\n"
	"  # A source gives a label. `exec` sources label a process when it runs the\n"
	"  # program; every process it starts, however many hops down (bash, python,\n"
	"  # make...), inherits the label. A pattern without '/' matches the program's\n"
	"  # base name wherever it lives.\n"
	"  source AGENT = exec \"claude\"\n"
	"  source AGENT = exec \"codex\"\n"
	"  source AGENT = exec \"gemini\"\n"
	"\n"
	"  # The agent runs its commands through a shell. Labelling the shells lets\n"
	"  # a rule tell the commands the agent starts from the agent's own process,\n"
	"  # which has to keep talking to its model API.\n"
	"  source TOOL = exec \"bash\"\n"
	"  source TOOL = exec \"sh\"\n"
	"  source TOOL = exec \"zsh\"\n"
	"\n"
	"  # `file` sources label data: a process that reads a matching file gains\n"
	"  # SECRET, and whatever it writes afterwards carries SECRET too. Patterns\n"
	"  # starting with `**` match anywhere; others are relative to this file.\n"
	"  source SECRET = file \"**/.env*\"\n"
	"  source SECRET = file \"**/*credential*\"\n"
	"  source SECRET = file \"**/.ssh/**\"\n"
	"\n"
	"  # --- Rules --------------------------------------------------------------\n"
	"  # EFFECT OP \"PATTERN\" [\"ARG\"...] [if LABELS] [unless CONDITION]\n"
	"  # Effects: notify (report, let it happen), block (fail with EPERM), ask\n"
	"  # (hold for a person's approval), kill (SIGKILL). `block` and `ask` stop\n"
	"  # an operation before it happens (BPF-LSM, or actplane's seccomp\n"
	"  # supervisor for commands started by `actplane run`); `actplane check`\n"
	"  # tells you how this kernel enforces each rule. The `because` text is\n"
	"  # what the agent is told.\n"
	"\n"
	"  rule no-push:\n"
	"    # Arguments match anywhere in argv, in any order: this also catches\n"
	"    # `git -C repo push origin main`.\n"
	"    kill exec \"git\" \"push\" if AGENT\n"
	"    because \"Pushing is done by people, not by the agent. Commit locally and say what should be pushed.\"\n"
	"\n"
	"  rule no-new-branches:\n"
	"    kill exec \"git\" \"checkout\" \"-b\" if AGENT\n"
	"    kill exec \"git\" \"switch\" \"-c\" if AGENT\n"
	"    kill exec \"git\" \"switch\" \"--create\" if AGENT\n"
	"    kill exec \"git\" \"branch\" if AGENT\n"
	"    kill exec \"git\" \"worktree\" if AGENT\n"
	"    because \"Work on the current branch; branches and worktrees are managed by the user. (List branches with `git for-each-ref refs/heads`.)\"\n"
	"\n"
	"  rule test-before-commit:\n"
	"    # A gate: the commit is allowed only if `make test` ran in this session\n"
	"    # and exited 0, and nothing under src/ or tests/ was written since.\n"
	"    # Change \"make\" \"test\" to your project's test command.\n"
	"    kill exec \"git\" \"commit\" if AGENT unless after exec \"make\" \"test\" passed since write \"src/**\" or write \"tests/**\"\n"
	"    because \"Files changed since the last passing `make test`. Run `make test`, then commit.\"\n"
	"\n"
	"  rule secrets-stay-here:\n"
	"    # SECRET follows the data: a script that read .env and wrote a temp file\n"
	"    # taints the file, and whoever reads that file carries SECRET too.\n"
	"    # `unless target \"localhost\"` keeps local services (a dev database) usable.\n"
	"    # Not covered: what the agent itself sends to its model API (a tool that\n"
	"    # reads a file inside the agent's own process); keep secrets out of the\n"
	"    # agent's reach for that.\n"
	"    kill connect endpoint \"*\" if SECRET and TOOL unless target \"localhost\"\n"
	"    because \"This command has read a secret (.env, credentials, SSH keys), directly or through a file derived from one, so it may not use the network. Do the network part in a separate command that never touches secrets.\"\n"
	"\n"
	"  rule no-container-engine:\n"
	"    # Container engines run outside the session: a container started\n"
	"    # through their socket would escape every rule here, so no process of\n"
	"    # the session may connect to them. /var/run and /run are one directory\n"
	"    # (either spelling covers both), and a symbolic link or a relative name\n"
	"    # reaches the same rule. Add the sockets of other daemons that act for\n"
	"    # their callers (systemd, a VM manager) the same way.\n"
	"    block connect endpoint \"unix:/var/run/docker.sock\"\n"
	"    block connect endpoint \"unix:/run/user/*/docker.sock\"\n"
	"    block connect endpoint \"unix:/run/podman/podman.sock\"\n"
	"    block connect endpoint \"unix:/run/user/*/podman/podman.sock\"\n"
	"    block connect endpoint \"unix:/run/containerd/containerd.sock\"\n"
	"    because \"The container engine runs outside this session: containers started through it would not be bound by this policy. Ask the user to run container commands.\"\n"
	"\n"
	"run:\n"
	"  # labels the command started by `actplane run` carries from the start\n"
	"  seed: [AGENT]\n"
	"\n"
	"feedback:\n"
	"  # where the agent's hook reads why something was stopped\n"
	"  path: .actplane/last-violation.txt\n";

static void usage(FILE *out)
{
	fputs("usage: actplane init [--force] [--with-claude] [--with-codex] [--with-mcp]\n"
	      "\n"
	      "Write a commented starter actplane.yaml in the current directory: the\n"
	      "agent may not push or create branches, must pass its tests since its\n"
	      "last edit before committing, commands that read secrets may not use\n"
	      "the network, and the container engine's socket is closed. Refuses to\n"
	      "replace an existing actplane.yaml unless --force is given.\n", out);
	fputs(AP_AGENTCFG_USAGE, out);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int ap_cmd_init(int argc, char **argv)
{
	const char *path = "actplane.yaml";
	char tmp[] = "actplane.yaml.tmp.XXXXXX";
	bool force = false;
	unsigned agents = 0;
	int fd, err;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return AP_EXIT_OK;
		} else if (!strcmp(argv[i], "--force")) {
			force = true;
		} else if (ap_agentcfg__flag(argv[i], &agents)) {
			/* --with-claude / --with-codex / --with-mcp: src/agent/agentcfg.h */
		} else {
			fprintf(stderr, "actplane init: unknown argument '%s'\n", argv[i]);
			usage(stderr);
			return AP_EXIT_USAGE;
		}
	}
	if (!force) {
		/* O_EXCL: never replace a policy someone wrote */
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 && errno == EEXIST && agents) {
			printf("keeping the existing %s\n", path);
			return ap_agentcfg__apply_cwd(agents) ? AP_EXIT_INVALID : AP_EXIT_OK;
		}
		if (fd < 0 && errno == EEXIST) {
			fprintf(stderr, "actplane init: %s already exists; not replacing it "
				"(use --force to overwrite)\n", path);
			return AP_EXIT_INVALID;
		}
	} else {
		fd = mkstemp(tmp);
		if (fd >= 0)
			fchmod(fd, 0644);
	}
	if (fd < 0) {
		fprintf(stderr, "actplane init: cannot create %s: %s\n", path,
			strerror(errno));
		return AP_EXIT_INVALID;
	}
	err = write_all(fd, starter, sizeof(starter) - 1);
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && force && rename(tmp, path))
		err = -errno;
	if (err) {
		fprintf(stderr, "actplane init: cannot write %s: %s\n", path,
			strerror(-err));
		unlink(force ? tmp : path);
		return AP_EXIT_INVALID;
	}
	printf("wrote %s; edit it, then run `actplane check`\n", path);
	if (agents && ap_agentcfg__apply_cwd(agents))
		return AP_EXIT_INVALID;
	return AP_EXIT_OK;
}
