/* SPDX-License-Identifier: MIT */
/*
 * User-space evaluation of the compiled policy for one operation, for the
 * supervised mode: the seccomp supervisor asks "what would the kernel engine
 * decide for this operation, were it to take place now?" before letting the
 * system call run.
 *
 * It mirrors bpf/engine_eval.bpf.h and the op handlers (engine_file,
 * engine_proc, engine_net): clauses of the op in blob order, target
 * patterns through the blob's automaton (plus every name the engine learned
 * for the inode, so hard links match), argument patterns against argv[1..],
 * endpoint ranges, require/forbid on the process's labels *after the
 * operation's own flow* (an exec gains the executed file's labels, exec
 * sources and endorse, loses declassified labels; an open for reading gains
 * the file's labels and file sources; a connect gains the endpoint's source
 * labels), unless-conditions (target, lineage bits, `after` gates with
 * `since` staleness), strongest effect, first rule with it decides (the
 * built-in session-guard on a tie).
 *
 * State comes from the engine's BPF maps (one source of truth): ap_procs
 * (labels, lineage, session of the acting process), ap_sessions (gate and
 * since timestamps), ap_files (labels of the object), ap_inode_pats (names
 * learned per inode). With map fds of -1 the state is empty (unit tests).
 *
 * A process the engine does not know (fork racing the first syscall, a full
 * map) is evaluated as carrying every label seen in the session: fail
 * closed, like the engine's overflow rule; so is every process of a session
 * the engine marked overflowed (AP_SESSION_F_OVERFLOWED).
 *
 * The context borrows the blob view; it must outlive it.
 */
#ifndef AP_ENGINE_EVAL_H
#define AP_ENGINE_EVAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>

#include "../../bpf/abi.h"
#include "policy/dfa.h"

struct ap_blob_view;

struct ap_eval_ctx {
	const struct ap_blob_view *bv;
	struct ap_dfa dfa;        /* wraps the blob's tables, owns nothing */
	int procs_fd, sessions_fd, files_fd, inode_pats_fd; /* -1: none */
	uint32_t session;         /* the session the supervisor serves */
};

/* The engine's maps by name are ap_procs, ap_sessions, ap_files,
 * ap_inode_pats. 0 or -EINVAL (blob without a DFA). */
int ap_eval_ctx__init(struct ap_eval_ctx *c, const struct ap_blob_view *bv,
		      int procs_fd, int sessions_fd, int files_fd,
		      int inode_pats_fd, uint32_t session);

/* An endpoint as the engine sees it (host order port, network order addr) */
struct ap_eval_ep {
	uint16_t family;          /* 0 none, AF_INET, AF_INET6, AF_UNIX */
	uint16_t port;
	uint8_t addr[16];
	char unix_path[110];      /* AF_UNIX: path, or "@NAME" for abstract */
};

/* The patterns an operation's names, arguments and Unix address match
 * (ap_eval__may_match computes them; ap_eval__op reuses them). */
struct ap_eval_sets {
	struct ap_accept_set set, set2, argset, unixset;
};

/* One operation. */
struct ap_eval_in {
	enum ap_op op;            /* EXEC, OPEN (see rd/wr), UNLINK, RENAME,
				   * WRITE (truncate, symlink), CONNECT */
	bool rd, wr;              /* OPEN: evaluate open+read / write clauses */
	bool link;                /* RENAME with path2: a hard link (path2 is
				   * evaluated as a write of the new name) */
	pid_t tgid;
	const struct ap_proc *proc; /* the engine's entry of tgid, when the
				   * caller has it (NULL: looked up here) */
	const struct ap_eval_sets *sets; /* from ap_eval__may_match for this
				   * very operation (NULL: computed here) */
	const char *path;         /* absolute: the target (exec: the name given) */
	const char *alt[2];       /* exec: resolved exe, #! interpreter (NULL) */
	bool has_ino;
	uint64_t ino;
	uint32_t dev;             /* kernel s_dev encoding (MAJOR << 20 | MINOR) */
	const char *path2;        /* rename destination / link's new name */
	const char *const *argv;  /* exec */
	unsigned argc;
	struct ap_eval_ep ep;     /* connect */
};

struct ap_eval_out {
	unsigned nmatch;
	enum ap_effect effect;    /* strongest */
	enum ap_op op;            /* op of the deciding clause */
	unsigned rule;            /* deciding rule */
	uint64_t rules[AP_MAX_RULES / 64];
	uint64_t labels;          /* after the op's flow */
	uint64_t mattered;
	uint32_t session;
	bool known;               /* the engine knew the process */
};

/* 0 (out filled; out->nmatch 0: nothing matched) or -errno. */
int ap_eval__op(const struct ap_eval_ctx *c, const struct ap_eval_in *in,
		struct ap_eval_out *out);

/* false when no clause of the operation's ops can match it whatever the
 * labels, gates and lineage (no map but the inode's learned names read):
 * the supervisor then lets the call run without looking at the process.
 * A connect is not decided here (its endpoint ranges are). sets (may be
 * NULL) receives the patterns, for in->sets of the ap_eval__op after. */
bool ap_eval__may_match(const struct ap_eval_ctx *c, const struct ap_eval_in *in,
			struct ap_eval_sets *sets);

/* kernel s_dev from a stat st_dev */
uint32_t ap_eval__kdev(dev_t d);

/* Patterns a path matches (union of every DFA group), for tests. */
void ap_eval__match_path(const struct ap_eval_ctx *c, const char *path,
			 struct ap_accept_set *out);

#endif
