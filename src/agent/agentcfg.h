/* SPDX-License-Identifier: MIT */
/*
 * Wiring actplane into the agents' configuration: `init --with-claude`,
 * `--with-codex`, `--with-mcp`, and what `doctor` checks.
 *
 * Every merge reads the existing file, keeps every key and entry it finds,
 * adds or updates only actplane's own entry (recognised by its command,
 * "... feedback-hook" / "... mcp"), and writes back atomically (tmp +
 * rename, mode kept) only when something changed: running it twice changes
 * nothing. A file that does not parse is never overwritten: the merge
 * fails with -EINVAL and says why.
 *
 *   Claude Code  <project>/.claude/settings.local.json
 *                hooks.PostToolUse and hooks.PostToolUseFailure (a failed or
 *                killed command fires only the latter), matcher "*"
 *   Codex        <project>/.codex/hooks.json: hooks.PostToolUse, no matcher
 *                (every tool), timeout AP_AGENTCFG_TIMEOUT_S; and in
 *                $CODEX_HOME/config.toml (default ~/.codex) the two gates
 *                Codex puts before a project hook runs: the project's
 *                trust_level = "trusted" and the hook's trusted_hash
 *                (see agent-notes.md). The TOML is merged line by line: only
 *                our two tables are added or their one key set; when the
 *                file holds those keys in a form this merge does not edit
 *                (inline tables, dotted keys), it is left untouched and the
 *                lines to add are printed instead.
 *   MCP          <project>/.mcp.json: mcpServers.actplane
 */
#ifndef AP_AGENT_AGENTCFG_H
#define AP_AGENT_AGENTCFG_H

#include <stdbool.h>
#include <stdio.h>

enum ap_agentcfg_flags {
	AP_AGENTCFG_CLAUDE = 0x1,
	AP_AGENTCFG_CODEX = 0x2,
	AP_AGENTCFG_MCP = 0x4,
};

#define AP_AGENTCFG_TIMEOUT_S 30

struct ap_agentcfg_opts {
	const char *project_dir;  /* absolute */
	const char *actplane_bin; /* NULL: this executable (/proc/self/exe) */
	const char *codex_home;   /* NULL: $CODEX_HOME, else ~/.codex */
	FILE *out;                /* what was done, for the user; NULL = stdout */
};

/* init's options: "--with-claude" etc. set their flag and return true. */
bool ap_agentcfg__flag(const char *arg, unsigned *flags);
#define AP_AGENTCFG_USAGE \
	"\n" \
	"  --with-claude  merge the feedback hook into .claude/settings.local.json\n" \
	"  --with-codex   merge it into .codex/hooks.json, and trust the project and\n" \
	"                 the hook in $CODEX_HOME/config.toml (Codex skips it otherwise)\n" \
	"  --with-mcp     add the actplane MCP server to .mcp.json\n" \
	"With these and an existing actplane.yaml, only the agents are wired.\n"

/* ap_agentcfg__apply() for the current directory */
int ap_agentcfg__apply_cwd(unsigned flags);

/* What `init` calls after writing the policy: flags from --with-*, the
 * project directory (where actplane.yaml is). Prints what it changed and
 * what the user still has to do. 0, or the first -errno. */
int ap_agentcfg__apply(unsigned flags, const char *project_dir);
int ap_agentcfg__apply_opts(unsigned flags, const struct ap_agentcfg_opts *o);

/* The commands written into the configs, shell-quoted when needed.
 * Caller frees. */
char *ap_agentcfg__hook_command(const char *bin);

/* Each returns 1 when the file was changed, 0 when it already had the
 * entry, or -errno. */
int ap_agentcfg__merge_claude(const char *file, const char *command);
/* *group gets the index of our matcher group in hooks.PostToolUse (part of
 * Codex's trust key). */
int ap_agentcfg__merge_codex_hooks(const char *file, const char *command,
				   int *group);
int ap_agentcfg__merge_mcp(const char *file, const char *bin);

/* "sha256:<hex>" of Codex's hook identity (matcher NULL = none). */
int ap_agentcfg__codex_hash(const char *command, unsigned timeout,
			    const char *matcher, char out[80]);

/* Merge `[<table>."<name>"]` / `key = "value"` into a TOML file, e.g.
 * ("projects", "/abs/p", "trust_level", "trusted"). 1 changed, 0 already
 * so, -EINVAL when the file holds the key in a form we do not edit (*why
 * says what; the file is untouched), other -errno. */
int ap_agentcfg__toml_set(const char *file, const char *table,
			  const char *name, const char *key,
			  const char *value, const char **why);

/* For doctor: is our hook in this Claude settings file / Codex hooks.json,
 * is our server in .mcp.json, is the Codex trust in place. */
bool ap_agentcfg__has_claude(const char *file);
bool ap_agentcfg__has_codex_hook(const char *file, int *group, char **command);
bool ap_agentcfg__has_mcp(const char *file);
/* 1 trusted, 0 not, -errno unreadable */
int ap_agentcfg__toml_has(const char *file, const char *table,
			  const char *name, const char *key, const char *value);

/* $CODEX_HOME or ~/.codex into buf */
void ap_agentcfg__codex_home(char *buf, size_t size);

#endif /* AP_AGENT_AGENTCFG_H */
