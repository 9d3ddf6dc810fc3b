/* SPDX-License-Identifier: MIT */
/*
 * The one ABI shared by the kernel programs (bpf/) and user space (src/).
 *
 * Everything here has a fixed width, explicit padding and a checked size, so
 * the compiled policy blob (`actplane compile`), the BPF maps and the ring
 * buffer records mean the same bytes on both sides. Change a layout only
 * together with AP_ABI_VERSION.
 *
 * Included from BPF C (after vmlinux.h, which provides __u8..__u64) and from
 * user space (after <linux/types.h>).
 */
#ifndef ACTPLANE_ABI_H
#define ACTPLANE_ABI_H

#define AP_ABI_VERSION 1
#define AP_BLOB_MAGIC 0x4c4f5041u /* "APOL" little endian */

/* ---- limits (docs/rule-language.md lists them; the compiler enforces) ---- */
#define AP_MAX_LABELS      64    /* labels are bits of a __u64 */
#define AP_MAX_RULES       256
#define AP_MAX_CLAUSES     1024  /* kernel clauses after DNF expansion */
#define AP_MAX_PATTERNS    1024  /* path/program/arg/unix globs */
#define AP_MAX_ARGS        8     /* argument patterns per clause/source/gate */
#define AP_MAX_UNLESS      8     /* unless-conditions per clause */
#define AP_MAX_CONDS       1024
#define AP_MAX_GATES       64    /* `after exec` gates */
#define AP_MAX_SINCE       64    /* distinct `since` events */
#define AP_MAX_LINEAGE     64    /* distinct `lineage-includes` programs */
#define AP_MAX_SOURCES     256
#define AP_MAX_KEEPS       128   /* declassify/endorse */
#define AP_MAX_ENDPOINTS   256
#define AP_MAX_DFA_STATES  65534 /* state ids fit a __u16; 0 is the dead state */
#define AP_MAX_ACCEPT_SETS 8192
#define AP_PATH_MAX        4096  /* PATH_MAX, including the NUL */
#define AP_ARGV_MAX        32    /* argv elements the kernel inspects */

#define AP_PATTERN_WORDS (AP_MAX_PATTERNS / 64)
#define AP_NONE 0xffffu          /* "no pattern / any" in __u16 index fields */

/*
 * Strings fed to the automaton. Paths start with '/', so the other kinds are
 * given a one-byte prefix that no path has: one DFA serves all of them and a
 * path can never match an argument pattern.
 */
#define AP_DFA_PREFIX_ARG  '\x01' /* an argv element: "\x01" ARG */
#define AP_DFA_PREFIX_UNIX '\x02' /* a Unix socket: "\x02" PATH or "\x02@" NAME */
#define AP_DFA_DEAD  0
#define AP_DFA_START 1

/* ---- enumerations, X-macros keep enum, name and JSON key in sync ---- */
#define AP_EFFECTS(X) \
	X(NOTIFY, "notify") \
	X(ASK,    "ask")    \
	X(BLOCK,  "block")  \
	X(KILL,   "kill")
/* Ordered weakest first: the strongest matching effect is the numeric max. */
enum ap_effect {
#define X(e, s) AP_EFFECT_##e,
	AP_EFFECTS(X)
#undef X
	AP_EFFECT__COUNT
};

/* Policy operations first (these are the OP keywords of the DSL); the
 * event-only ops follow. */
#define AP_OPS(X) \
	X(EXEC,      "exec")      \
	X(OPEN,      "open")      \
	X(READ,      "read")      \
	X(WRITE,     "write")     \
	X(UNLINK,    "unlink")    \
	X(RENAME,    "rename")    \
	X(CONNECT,   "connect")   \
	X(RECV,      "recv")      \
	X(SEND,      "send")      \
	X(PTRACE,    "ptrace")    \
	X(NAMESPACE, "namespace") \
	X(CGROUP,    "cgroup")    \
	X(SIGNAL,    "signal")
enum ap_op {
#define X(e, s) AP_OP_##e,
	AP_OPS(X)
#undef X
	AP_OP__COUNT
};
#define AP_OP__POLICY_COUNT (AP_OP_RECV + 1)

#define AP_ACTIONS(X) \
	X(REPORTED, "reported") \
	X(BLOCKED,  "blocked")  \
	X(KILLED,   "killed")   \
	X(HELD,     "held")     \
	X(DENIED,   "denied")   \
	X(AUDITED,  "audited")
enum ap_action {
#define X(e, s) AP_ACTION_##e,
	AP_ACTIONS(X)
#undef X
	AP_ACTION__COUNT
};

enum ap_pattern_kind {
	AP_PAT_PATH = 0,    /* absolute path glob */
	AP_PAT_PROGRAM = 1, /* program glob, lowered to a path glob */
	AP_PAT_ARG = 2,     /* argv element glob, prefixed AP_DFA_PREFIX_ARG */
	AP_PAT_UNIX = 3,    /* unix socket path/abstract name, prefixed */
};

enum ap_target_kind {
	AP_TGT_ANY = 0,      /* "*" with no kind restriction */
	AP_TGT_PATTERN = 1,  /* target is a DFA pattern id */
	AP_TGT_ENDPOINT = 2, /* target is a range of ap_endpoint entries */
};

enum ap_cond_kind {
	AP_COND_TARGET = 1,  /* arg = pattern id (or endpoint set), negate allowed */
	AP_COND_LINEAGE = 2, /* arg = lineage bit */
	AP_COND_AFTER = 3,   /* arg = gate id */
};

enum ap_source_kind {
	AP_SRC_FILE = 1,
	AP_SRC_ENDPOINT = 2,
	AP_SRC_EXEC = 3,
};

enum ap_keep_kind {
	AP_KEEP_DECLASSIFY = 1,
	AP_KEEP_ENDORSE = 2,
};

/* ---- compiled policy tables (blob sections and BPF map values) ---- */

/* One kernel clause: one DNF term of one DSL clause. A clause matches when
 * op matches, the target matches, every arg pattern matches some argv[1..]
 * element, (labels & require) == require, (labels & forbid) == 0 and no
 * unless-condition holds. */
struct ap_clause {
	__u64 require;
	__u64 forbid;
	__u16 rule;          /* index into the rule table */
	__u8  op;            /* enum ap_op */
	__u8  effect;        /* enum ap_effect */
	__u8  target_kind;   /* enum ap_target_kind */
	__u8  nargs;
	__u8  nunless;
	__u8  flags;         /* AP_CLAUSE_F_* */
	__u16 target;        /* pattern id, or first endpoint index */
	__u16 target_count;  /* endpoints: how many entries from `target` */
	__u16 args[AP_MAX_ARGS];    /* arg pattern ids */
	__u16 unless[AP_MAX_UNLESS]; /* cond ids */
	__u32 pad;
};
#define AP_CLAUSE_F_SESSION_GUARD 0x01

struct ap_cond {
	__u8  kind;      /* enum ap_cond_kind */
	__u8  negate;    /* target not "P" */
	__u8  target_kind; /* for AP_COND_TARGET: AP_TGT_PATTERN or AP_TGT_ENDPOINT */
	__u8  pad;
	__u16 arg;       /* pattern id / lineage bit / gate id / first endpoint */
	__u16 count;     /* endpoints: entries from arg */
};

/* `after exec "G" [ARGS] [passed] [since E (or E)*]` */
struct ap_gate {
	__u64 since_mask; /* bits into the since table */
	__u16 program;   /* pattern id */
	__u8  nargs;
	__u8  passed;
	__u16 args[AP_MAX_ARGS];
	__u32 pad;
};

/* A `since` event: an op on a pattern. */
struct ap_since {
	__u8  op;        /* AP_OP_WRITE/READ/UNLINK/EXEC */
	__u8  pad;
	__u16 pattern;
};

/* `lineage-includes exec "G"`: the process or an ancestor exec'd G. */
struct ap_lineage {
	__u16 program;   /* pattern id */
	__u16 pad;
};

struct ap_source {
	__u8  kind;      /* enum ap_source_kind */
	__u8  label;     /* bit number */
	__u8  nargs;
	__u8  pad;
	__u16 pattern;   /* pattern id, or first endpoint index */
	__u16 count;     /* endpoints: entries from pattern */
	__u16 args[AP_MAX_ARGS];
};

struct ap_keep {
	__u8  kind;      /* enum ap_keep_kind */
	__u8  label;
	__u16 program;   /* pattern id */
};

/* One endpoint pattern. A policy string like "10.0.*" or a host name may
 * lower to several entries; clauses refer to a [first, first+count) range. */
struct ap_endpoint {
	__u8  family;    /* 0 any, 2 AF_INET, 10 AF_INET6, 1 AF_UNIX */
	__u8  prefix;    /* CIDR prefix length in bits (0 = any address) */
	__u16 port;      /* host order; 0 = any port */
	__u16 unix_pattern; /* AF_UNIX: DFA pattern id */
	__u16 pad;
	__u8  addr[16];  /* network order; IPv4 in the first 4 bytes */
};

/* Per-rule data the kernel needs; names and texts stay in user space. */
struct ap_rule {
	__u8  effect;    /* strongest effect among the rule's clauses */
	__u8  pad[7];
};

/* ---- the DFA ----
 * classes[byte] gives the byte's class; trans[state * nclasses + class] the
 * next state (__u16); accept[state] an accept-set id (0 = none);
 * accept_sets[id] the bitmap of patterns matched when the input ends in that
 * state. State 0 is dead (absorbing, accepts nothing), state 1 the start. */
struct ap_accept_set {
	__u64 bits[AP_PATTERN_WORDS];
};

/* ---- the compiled blob ----
 * header, then sections in the order of enum ap_section, each 8-aligned.
 * Multi-byte values are little endian (the host order of every target). */
enum ap_section {
	AP_SEC_STRINGS = 0,  /* NUL-terminated strings; offset 0 is "" */
	AP_SEC_LABELS,       /* __u32 name offsets, one per label */
	AP_SEC_RULES,        /* struct ap_rule */
	AP_SEC_RULE_META,    /* struct ap_rule_meta */
	AP_SEC_CLAUSES,      /* struct ap_clause */
	AP_SEC_CONDS,        /* struct ap_cond */
	AP_SEC_GATES,        /* struct ap_gate */
	AP_SEC_SINCE,        /* struct ap_since */
	AP_SEC_LINEAGE,      /* struct ap_lineage */
	AP_SEC_SOURCES,      /* struct ap_source */
	AP_SEC_KEEPS,        /* struct ap_keep */
	AP_SEC_ENDPOINTS,    /* struct ap_endpoint */
	AP_SEC_PATTERNS,     /* struct ap_pattern_meta */
	AP_SEC_DFA_CLASSES,  /* __u8[256] */
	AP_SEC_DFA_TRANS,    /* __u16[nstates * nclasses] */
	AP_SEC_DFA_ACCEPT,   /* __u16[nstates] */
	AP_SEC_ACCEPT_SETS,  /* struct ap_accept_set[naccept] (id 0 is empty) */
	AP_SEC__COUNT
};

struct ap_section_desc {
	__u32 offset;    /* from the start of the blob */
	__u32 size;      /* bytes */
};

struct ap_rule_meta {
	__u32 name;      /* string offsets */
	__u32 because;
	__u32 line;      /* where the rule is declared (1-based) */
	__u8  effect;
	__u8  degraded;  /* set when the effect cannot be honoured on the
			  * kernel the blob was compiled for */
	__u16 nclauses;  /* DSL clauses (before DNF) */
};

struct ap_pattern_meta {
	__u32 text;      /* string offset: the pattern as written */
	__u32 lowered;   /* string offset: the absolute glob fed to the DFA */
	__u8  kind;      /* enum ap_pattern_kind */
	__u8  pad[7];
};

struct ap_blob_header {
	__u32 magic;     /* AP_BLOB_MAGIC */
	__u16 abi_version;
	__u16 header_size;
	__u32 total_size;
	__u32 flags;
	__u8  policy_sha256[32]; /* of the policy source text(s) */
	__u64 seed_labels;       /* run.seed */
	__u64 declared_labels;   /* every label the policy names */
	__u32 nlabels, nrules, nclauses, nconds;
	__u32 ngates, nsince, nlineage, nsources;
	__u32 nkeeps, nendpoints, npatterns, ndfa_states;
	__u32 ndfa_classes, naccept, guard_allow, root;  /* root: string offset of the project root */
	struct ap_section_desc sec[AP_SEC__COUNT];
};

/* session-guard items a policy may lower (guard: {allow: [...]}) */
#define AP_GUARD_ITEMS(X) \
	X(PTRACE,     "ptrace",     0x01) \
	X(NAMESPACES, "namespaces", 0x02) \
	X(CGROUP,     "cgroup",     0x04) \
	X(SIGNAL,     "signal",     0x08) \
	X(FILES,      "files",      0x10)
enum ap_guard_item {
#define X(e, s, v) AP_GUARD_##e = v,
	AP_GUARD_ITEMS(X)
#undef X
};
#define AP_GUARD_ALL 0x1f
#define AP_BLOB_F_GUARD_NOTIFY 0x01 /* guard: notify */
/* the rule index guard events carry when the blob has no rule named
 * "session-guard" (older compilers); user space names it all the same */
#define AP_RULE_GUARD_NONE (AP_MAX_RULES - 1)
/* flags bits 8..15: independent automata in the DFA tables (states 1..n
 * start them, accept sets OR-ed; bpf/dfa_abi.h); 0 reads as 1 */
#define AP_BLOB_F_DFA_GROUPS_SHIFT 8
#define AP_BLOB_F_DFA_GROUPS_MASK  0xff00u
#define AP_BLOB_DFA_GROUPS(flags) \
	((((flags) & AP_BLOB_F_DFA_GROUPS_MASK) >> AP_BLOB_F_DFA_GROUPS_SHIFT) ? \
	 (((flags) & AP_BLOB_F_DFA_GROUPS_MASK) >> AP_BLOB_F_DFA_GROUPS_SHIFT) : 1)

_Static_assert(sizeof(struct ap_clause) == 64, "ap_clause layout");
_Static_assert(sizeof(struct ap_cond) == 8, "ap_cond layout");
_Static_assert(sizeof(struct ap_gate) == 32, "ap_gate layout");
_Static_assert(sizeof(struct ap_since) == 4, "ap_since layout");
_Static_assert(sizeof(struct ap_lineage) == 4, "ap_lineage layout");
_Static_assert(sizeof(struct ap_source) == 24, "ap_source layout");
_Static_assert(sizeof(struct ap_keep) == 4, "ap_keep layout");
_Static_assert(sizeof(struct ap_endpoint) == 24, "ap_endpoint layout");
_Static_assert(sizeof(struct ap_rule) == 8, "ap_rule layout");
_Static_assert(sizeof(struct ap_rule_meta) == 16, "ap_rule_meta layout");
_Static_assert(sizeof(struct ap_pattern_meta) == 16, "ap_pattern_meta layout");
_Static_assert(sizeof(struct ap_accept_set) == 128, "ap_accept_set layout");
_Static_assert(sizeof(struct ap_blob_header) == 128 + 8 * AP_SEC__COUNT,
	       "ap_blob_header layout");

/* ==== engine maps and ring buffer records ====
 * Owned by the kernel engine (bpf/engine*.bpf.*, src/engine/loader.c,
 * events.c). Keys and values of the engine's state maps, the per-CPU
 * counters and the records on the ring buffer. Additive changes only.
 */
#define AP_TASK_COMM_LEN   16
#define AP_PROV_TARGET_MAX 256  /* provenance target: informational, may be cut
				 * (AP_PROV_F_TRUNCATED); matching never is */
#define AP_REC_PROV_MAX    8    /* provenance entries carried in one record */
#define AP_REC_ARGV_MAX    4096 /* raw argv bytes (NUL separated) in a record */
#define AP_REC_DATA_MAX    (3 * AP_PATH_MAX) /* target + argv + exe */

/* per-CPU counters (ap_counters, PERCPU_ARRAY indexed by enum ap_counter):
 * X(ENUM, field, "json key") */
#define AP_COUNTERS(X) \
	X(EVENTS,        events,        "events")         /* records submitted */ \
	X(RINGBUF_DROPS, ringbuf_drops, "ringbuf_drops")  /* records lost: ring buffer full */ \
	X(MAP_FULL,      map_full,      "map_full")       /* state the kernel could not insert */ \
	X(EVICTIONS,     evictions,     "evictions")      /* unlabelled state pushed out (LRU) */ \
	X(READ_FAILS,    read_fails,    "read_fails")     /* user/kernel memory reads that failed */ \
	X(UNRESOLVED,    unresolved,    "unresolved")     /* paths the engine could not build */ \
	X(ARGV_TRUNC,    argv_truncated, "argv_truncated") /* exec with more argv than inspected */ \
	X(MATCHES,       matches,       "matches")        /* operations that matched a clause */ \
	X(LRU_INSERTS,   lru_inserts,   "lru_inserts")    /* entries added to the LRU maps (user \
							   * space derives evictions from it) */ \
	X(PROG_MISSES,   prog_misses,   "prog_misses")    /* runs the kernel skipped (another BPF \
							   * program active on the CPU); user space \
							   * fills it from bpf_prog_info */
enum ap_counter {
#define X(e, f, s) AP_CNT_##e,
	AP_COUNTERS(X)
#undef X
	AP_CNT__COUNT
};

/* load-time flags (rodata cfg_flags) */
#define AP_CFG_F_AUDIT         0x01 /* report, never kill */
#define AP_CFG_F_OBSERVE       0x02 /* AP_REC_OBSERVE for every operation */
#define AP_CFG_F_FALLBACK_KILL 0x04 /* block/ask clauses kill (--fallback kill) */

/* ap_procs: HASH, key __u32 tgid. Threads share their group's entry. */
struct ap_proc {
	__u64 labels;
	__u64 lineage;       /* bits of the lineage table this tree exec'd */
	__u64 pending_gates; /* `passed` gates exec'd here, credited at exit 0 */
	__u64 gate_ts;       /* when the pending gates were exec'd (ktime ns) */
	__u64 start_ts;      /* when the entry was made (ktime ns) */
	__u32 session;
	__u32 flags;         /* AP_PROC_F_* */
	__u64 declassified;  /* labels this process and what it starts do not
			      * gain: it (or an ancestor) exec'd their
			      * declassifier, whose output is not theirs */
};
#define AP_PROC_F_ROOT 0x01  /* session root, marked by user space */

/* ap_sessions: HASH, key __u32 session id (user space allocates, never 0) */
struct ap_session {
	__u64 gate_ts[AP_MAX_GATES];   /* latest qualifying run of each gate, 0 none */
	__u64 since_ts[AP_MAX_SINCE];  /* latest `since` event of each kind, 0 none */
	__s64 live;                    /* processes of the session alive */
	__u64 seen_labels;             /* every label seen in the session */
	__u32 flags;                   /* AP_SESSION_F_* */
	__u32 overflow;                /* AP_OVF_* bits: why it overflowed */
};
#define AP_SESSION_F_OVERFLOWED 0x01
#define AP_SESSION_F_SUPERVISED 0x02 /* a seccomp supervisor decides the guard */

/* Why a session overflowed (ap_session.overflow bits): the state that could
 * not be recorded. X(ENUM, bit, "name", "what could not be recorded") */
#define AP_OVERFLOWS(X) \
	X(PROCS,   0x01, "ap_procs",      "a process of the session (fork)") \
	X(FILES,   0x02, "ap_files",      "the labels of a file, pipe or socket") \
	X(PENDING, 0x04, "ap_pending",    "a connect in flight") \
	X(IO,      0x08, "ap_io_pending", "a read in flight") \
	X(FDS,     0x10, "fd_table",      "descriptors beyond the walk bound") \
	X(SHMAPS,  0x20, "ap_shmaps",     "a shared writable mapping") \
	X(MEM,     0x40, "ap_mem_pending", "a read of another process's memory") \
	X(CGROUP,  0x80, "ap_procs",      "a process found only by the session's cgroup")
enum ap_overflow {
#define X(e, b, n, w) AP_OVF_##e = b,
	AP_OVERFLOWS(X)
#undef X
};

/* ap_files: HASH, labelled files/pipes/sockets by (dev, ino).
 * ap_inode_pats: LRU_HASH, same key: the pattern bits of every name the
 * engine learned for the inode (struct ap_accept_set), so hard links match. */
struct ap_file_key {
	__u64 ino;
	__u32 dev;           /* the kernel's s_dev encoding */
	__u32 pad;
};
struct ap_file {
	__u64 labels;
	__u64 ts;
};

/* ap_prov: HASH, where an object first gained a label. Carried along when
 * labels flow, so the record always names the original acquisition. */
enum ap_obj_kind { AP_OBJ_PROC = 1, AP_OBJ_FILE = 2 };
struct ap_prov_key {
	__u64 id;            /* tgid, or inode number */
	__u32 dev;           /* files: device; 0 for processes */
	__u8  kind;          /* enum ap_obj_kind */
	__u8  label;
	__u16 pad;
};
struct ap_prov {
	__u64 ts;            /* ktime boot ns */
	__u32 pid;           /* tgid that acquired it */
	__u8  op;            /* enum ap_op */
	__u8  label;
	__u16 target_len;    /* bytes in target, without NUL */
	__u32 flags;         /* AP_PROV_F_* */
	__u32 pad;
	char  comm[AP_TASK_COMM_LEN];
	char  target[AP_PROV_TARGET_MAX];
};
#define AP_PROV_F_TRUNCATED 0x01 /* target was longer (the tail is kept) */
#define AP_PROV_F_VALID     0x02
#define AP_PROV_F_SOCKADDR  0x04 /* target holds a raw struct sockaddr */

/* Ring buffer records: a struct ap_rec, then `data`: target_len bytes of
 * target, argv_len bytes of argv (NUL separated), exe_len bytes of exe. */
enum ap_rec_type {
	AP_REC_VIOLATION = 1, /* a clause matched */
	AP_REC_OBSERVE = 2,   /* an operation seen (observe flag only) */
	AP_REC_UNRESOLVED = 3, /* an operation whose target could not be built */
	AP_REC_SESSION_END = 4, /* the last process of a session exited */
	AP_REC_GATE = 5,      /* a gate program exited (observe flag only) */
};
#define AP_REC_F_KILLED         0x01 /* SIGKILL was sent */
#define AP_REC_F_ARGV_TRUNCATED 0x02
#define AP_REC_F_TARGET_FD      0x04 /* target built from the opened file */
#define AP_REC_F_EXE_IS_TARGET  0x08 /* exec: exe equals the target */
#define AP_REC_F_WRITE          0x10 /* open for writing */
#define AP_REC_F_READ           0x20 /* open for reading */
#define AP_REC_F_TARGET2        0x40 /* rename/link: exe area holds the 2nd path */
#define AP_REC_F_SOCKADDR       0x80 /* target holds a raw struct sockaddr */

struct ap_rec {
	__u32 type;          /* enum ap_rec_type */
	__u32 size;          /* whole record, data included */
	__u64 ts;            /* ktime boot ns */
	__u32 pid, tid, ppid, uid;
	__u32 session;
	__u8  op;            /* enum ap_op */
	__u8  effect;        /* enum ap_effect, strongest that matched */
	__u8  action;        /* enum ap_action */
	__u8  flags;         /* AP_REC_F_* */
	__u64 labels;        /* the acting process's labels, after the op's flow */
	__u64 mattered;      /* labels the matching clauses required */
	__u64 rules[AP_MAX_RULES / 64]; /* every rule that matched */
	__u16 rule;          /* deciding rule (first with the strongest effect) */
	__u16 nprov;
	__u16 target_len;
	__u16 argv_len;
	__u16 exe_len;
	__u16 argc;
	__s32 exit_code;     /* SESSION_END / GATE: wait status of the exit */
	char  comm[AP_TASK_COMM_LEN];
	struct ap_prov prov[AP_REC_PROV_MAX];
	char  data[AP_REC_DATA_MAX];
};

_Static_assert(sizeof(struct ap_proc) == 56, "ap_proc layout");
_Static_assert(sizeof(struct ap_session) == 8 * (AP_MAX_GATES + AP_MAX_SINCE) + 24,
	       "ap_session layout");
_Static_assert(sizeof(struct ap_file_key) == 16, "ap_file_key layout");
_Static_assert(sizeof(struct ap_file) == 16, "ap_file layout");
_Static_assert(sizeof(struct ap_prov_key) == 16, "ap_prov_key layout");
_Static_assert(sizeof(struct ap_prov) == 296, "ap_prov layout");
_Static_assert(sizeof(struct ap_rec) == 120 + 296 * AP_REC_PROV_MAX + AP_REC_DATA_MAX,
	       "ap_rec layout");
/* ==== end of engine maps and ring buffer records ==== */

#endif /* ACTPLANE_ABI_H */
