/* SPDX-License-Identifier: MIT */
/*
 * `actplane feedback-hook`: the agents' PostToolUse / PostToolUseFailure
 * hook. It reads the hook's JSON (Claude Code and Codex share the shape:
 * hook_event_name, cwd, tool_name, ...), finds the project's feedback file
 * and answers with the entries written since its previous call:
 *
 *   {"hookSpecificOutput":{"hookEventName":"<the firing event>",
 *                          "additionalContext":"[actplane] ..."}}
 *
 * hookEventName echoes the event from stdin: both agents drop the output
 * silently when it differs. Nothing new: no output at all.
 *
 * Which file: $ACTPLANE_FEEDBACK_FILE when set (run exports it to the
 * command), else the policy found from the hook's cwd upwards (actplane.yaml,
 * then .actplane/policy.yaml) and its feedback.path, else the default
 * .actplane/last-violation.txt of the nearest directory holding .actplane/.
 *
 * Where it remembers what it printed: not in .actplane/ (the session guard
 * forbids the agent's processes, hooks included, to write there) but in the
 * user's state directory, $ACTPLANE_STATE_DIR, else
 * $XDG_STATE_HOME/actplane, else ~/.local/state/actplane, and when that
 * cannot be created /tmp/actplane-UID (mode 0700, owned by us, else unused): one small file per feedback file, keyed by its path and
 * replaced atomically (tmp + rename) under a lock file, so concurrent hooks
 * (parallel tool calls) never print an entry twice. It holds the file's
 * device and inode, the offset read up to, and the last entry's count: a
 * rotation (FILE -> FILE.1) is followed into FILE.1 first, and an entry
 * whose count grew (a repeat folded into it) is shown again with the count.
 * With no state yet, only entries of the last AP_HOOK_FIRST_WINDOW_S
 * seconds are shown, not the project's whole history.
 */
#ifndef AP_AGENT_HOOK_H
#define AP_AGENT_HOOK_H

#include <stddef.h>
#include <stdint.h>

#define AP_HOOK_FIRST_WINDOW_S 600
/* both agents cut additionalContext at ~10 KB; keep well below */
#define AP_HOOK_MAX_CONTEXT 6000
#define AP_HOOK_MAX_INPUT (4u << 20)
/* Under `run` ($ACTPLANE_FEEDBACK_FILE names the file), when the tool looks
 * killed or refused ("Exit code 137", "Killed", "Operation not permitted")
 * and nothing new is there yet, wait up to this long for run's event loop
 * to write the entry; every other call returns at once. */
#define AP_HOOK_LATE_WAIT_MS 300
/* bounded waits for the state's and the feedback file's locks */
#define AP_HOOK_LOCK_WAIT_MS 200

struct ap_hook_opts {
	const char *state_dir;     /* NULL: the default described above */
	const char *feedback_file; /* NULL: $ACTPLANE_FEEDBACK_FILE, discovery */
	uint64_t now_unix;         /* 0: time(NULL) */
};

/* Handle one hook call: input is the hook JSON (need not be terminated).
 * *out gets the malloc'd JSON line to print (with '\n'), or NULL when there
 * is nothing to say. Returns 0 or -errno; the command exits 0 either way. */
int ap_hook__handle(const char *input, size_t len,
		    const struct ap_hook_opts *opts, char **out);

/* The feedback file for a directory: the discovery described above.
 * 0, -ENOENT when nothing was found, -ENAMETOOLONG. */
int ap_hook__find_feedback(const char *cwd, char *buf, size_t size);

/* The project root and policy file found from dir upwards (actplane.yaml,
 * then .actplane/policy.yaml). policy may be NULL. 0 or -ENOENT. */
int ap_hook__find_policy(const char *dir, char *root, size_t root_size,
			 char *policy, size_t policy_size);

/* feedback.path of a policy file, read with libyaml without compiling the
 * policy (the hook must stay fast). *out malloc'd, NULL when absent. */
int ap_hook__policy_feedback_path(const char *policy_file, char **out);

#endif /* AP_AGENT_HOOK_H */
