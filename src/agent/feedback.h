/* SPDX-License-Identifier: MIT */
/*
 * Corrective feedback for the agent: what `run`/`watch` write to the
 * feedback file (.actplane/last-violation.txt or `feedback.path`) on every
 * rule match, and what `actplane feedback-hook` hands to the agent.
 *
 * An entry is built from the clause that matched (its op and effect, not the
 * rule's first clause) and reads, at most six lines plus one JSON line:
 *
 *   [actplane] killed: exec `git push origin HEAD` (/usr/bin/git) by git (pid 42)
 *   rule no-push: kill exec "git" "push" if AGENT
 *   because: pushing is done by the release job
 *   why: the process carries AGENT (exec /usr/bin/claude, pid 7)
 *   retry: retrying it unchanged will be stopped again
 *   next: do not do this from the agent's session; take another path or ask the user
 *   {"actplane":1,"id":"...","rule":"no-push",...,"count":1         }
 *
 * The first line always starts with "[actplane] "; JSON lines always start
 * with "{\"actplane\":". Control characters in names taken from the system
 * (a file name may hold a newline) are escaped, so an entry can never forge
 * another entry's lines.
 *
 * The file: writers open it per entry (O_NOFOLLOW, a regular file with one
 * link only: a symlink or hard link planted by the agent never redirects a
 * root writer), take flock(LOCK_EX), seek to the end and append one entry
 * with one write(2) (not O_APPEND, which would turn the in-place count
 * update into an append). Repeats of the same match (rule, op, target, program,
 * action) within the fold window, while the entry is still the file's last,
 * update the fixed-width "count" of that entry in place instead of adding a
 * new one. Past max_bytes the file is renamed to FILE.1 (one generation
 * kept) before the append. A file the writer creates is chown'ed to the
 * agent's user. Readers (the hook) take LOCK_SH.
 */
#ifndef AP_AGENT_FEEDBACK_H
#define AP_AGENT_FEEDBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>

#include "../../bpf/abi.h"

struct ap_policy;
struct ap_program;
struct ap_rule_ast;
struct ap_compiled;
struct ap_event_rec;

#define AP_FEEDBACK_DEFAULT_PATH ".actplane/last-violation.txt"
#define AP_FEEDBACK_MAX_LINES 6
#define AP_FEEDBACK_DEFAULT_MAX_BYTES (256 * 1024)
#define AP_FEEDBACK_DEFAULT_FOLD_MS 2000
/* the JSON line's count is padded to this width so it can grow in place */
#define AP_FEEDBACK_COUNT_WIDTH 10
/* how long a writer waits for the file's lock before appending without it */
#define AP_FEEDBACK_LOCK_WAIT_MS 100
#define AP_FEEDBACK_JSON_PREFIX "{\"actplane\":"
#define AP_FEEDBACK_TEXT_PREFIX "[actplane] "

/* One match as the feedback module needs it. Every pointer is borrowed for
 * the call only; NULL/0 fields are simply left out of the entry. */
struct ap_fb_match {
	uint64_t ts_ns;               /* CLOCK_REALTIME ns; 0 = now */
	enum ap_effect effect;        /* the matched clause's effect */
	enum ap_action action;        /* what happened */
	const char *rule;             /* deciding rule's name */
	const char *because;          /* NULL: taken from rule_ast, else none */
	/* the deciding rule as parsed; NULL for the built-in session guard or
	 * when the policy text is not at hand */
	const struct ap_rule_ast *rule_ast;
	int clause;                   /* index of the matched clause; -1 = find
				       * it from op and effect */
	const struct ap_program *prog;/* for declassify hints; may be NULL */
	const char *declass_label;    /* or the hint given directly: a label of */
	const char *declass_prog;     /* the match and the program removing it */
	enum ap_op op;
	const char *target;
	const char *target2;          /* rename/link: the other name */
	const char *const *argv;      /* exec: argument list */
	unsigned argc;
	int pid;
	const char *comm;
	const char *exe;
	const char *const *labels;    /* labels that mattered for the match */
	unsigned nlabels;
	const char *prov;             /* "exec /usr/bin/claude, pid 7": where the
				       * first of them was acquired; may be NULL */
	const char *approval;         /* ask: id for `actplane approve` */
	bool degraded;                /* effect carried out as a fallback */
};

/* Render one entry (text lines + JSON line, each '\n'-terminated) into a
 * malloc'd string. count is written into the JSON line. Returns 0 or
 * -ENOMEM. Pure: used by the writer and by golden tests. */
int ap_feedback__format(const struct ap_fb_match *m, unsigned count,
			char **out);

/* The clause of rule that most likely matched an event of (op, effect):
 * same op and effect, else same op, else same effect, else clause 0;
 * -1 when the rule has no clause. `send` events match `connect` clauses. */
int ap_feedback__find_clause(const struct ap_rule_ast *rule, enum ap_op op,
			     enum ap_effect effect);

struct ap_feedback;

struct ap_feedback_opts {
	const char *path;       /* absolute, or relative to root */
	const char *root;       /* project root; NULL = cwd */
	uid_t uid;              /* owner of a file/directory created; -1 = keep */
	gid_t gid;
	size_t max_bytes;       /* rotate past this; 0 = default */
	unsigned fold_ms;       /* 0 = default; use 1 to effectively disable */
};

/* Resolve the feedback file of a loaded policy: feedback.path (relative to
 * the project root) or the default. Writes into buf. 0 or -ENAMETOOLONG. */
int ap_feedback__path_for(const char *root, const char *feedback_path,
			  char *buf, size_t size);

int ap_feedback__new(const struct ap_feedback_opts *opts,
		     struct ap_feedback **out);
void ap_feedback__free(struct ap_feedback *fb);
const char *ap_feedback__file(const struct ap_feedback *fb);

/* Append (or fold) one entry. 0 or -errno (logged); a failure here must not
 * stop enforcement, so callers only log it. */
int ap_feedback__record(struct ap_feedback *fb, const struct ap_fb_match *m);

/* What `run`/`watch` call from their engine event callback: converts a
 * decoded engine record (kind AP_EVENT_VIOLATION; other kinds are ignored,
 * returning 0) using the compiled policy for rule and label names (the
 * policy's AST through c->rule_info[].ast), then records it. approval may
 * be NULL. */
int ap_feedback__record_event(struct ap_feedback *fb,
			      const struct ap_compiled *c,
			      const struct ap_event_rec *ev,
			      const char *approval);

/* For `run`/`watch`: the writer for a loaded policy, its file being the
 * policy's feedback.path (relative to root) or the default, owned by
 * uid/gid when created (pass -1 to keep the caller's). Also exports the
 * path as $ACTPLANE_FEEDBACK_FILE, so a command started afterwards (the
 * agent, and the hooks it runs) finds it whatever its cwd. NULL on failure
 * (logged): feedback is lost, enforcement goes on. */
struct ap_feedback *ap_feedback__open_for(const struct ap_compiled *c,
					  const char *root,
					  const char *feedback_path,
					  uid_t uid, gid_t gid);

/* Entries as read back from a feedback file (the hook, the MCP server). */
struct ap_fb_entry {
	const char *text;       /* text lines, '\n'-terminated, no JSON line */
	size_t text_len;
	const char *json;       /* the JSON line without '\n'; NULL if missing */
	size_t json_len;
	unsigned count;         /* from the JSON line; 1 when absent */
	uint64_t ts_unix;       /* from the JSON line; 0 when absent */
	size_t off, end;        /* byte range in the buffer */
	size_t count_off;       /* offset of the count digits; 0 = none */
};

/* Split buf[0..len) into complete entries (an entry is complete once its
 * JSON line ends with '\n'; trailing partial data is left for later).
 * Calls fn for each; stops when fn returns non-zero. Returns the offset
 * just past the last complete entry. */
size_t ap_feedback__parse(const char *buf, size_t len,
			  int (*fn)(const struct ap_fb_entry *e, void *ctx),
			  void *ctx);

#endif /* AP_AGENT_FEEDBACK_H */
