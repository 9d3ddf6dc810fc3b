// SPDX-License-Identifier: MIT
/*
 * actplane run: enforce a policy on a command and everything it starts.
 *
 * Order matters: privileges and the policy are checked before anything is
 * started; CMD is forked stopped *before* the engine is loaded (so it never
 * inherits an engine descriptor) and is marked as the session root before it
 * execs (so the seed labels reach it and only it: this process is never
 * part of the session). run is a child subreaper, so daemons of the session
 * stay its descendants and are ended with it.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/feedback.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/run_int.h"
#include "cli/session_state.h"
#include "common/log.h"
#include "engine/engine.h"
#include "engine/event_json.h"
#include "engine/privs.h"
#include "engine/session.h"
#include "enforce/landlock.h"
#include "enforce/seccomp.h"
#include "enforce/supervisor.h"
#include "enforce/sysguard.h"
#include "enforce/watchdog.h"
#include "policy/blob.h"
#include "policy/lower.h"
#include "policy/policy.h"

#define RUN_GRACE_MS 5000   /* SIGTERM, then SIGKILL after this */
#define RUN_POLL_MS 100
#define RUN_COUNTER_MS 1000

struct run_opts {
	struct ap_load_opts load;
	const char *events;
	const char *user;
	const char *mode;
	const char *fallback;
	bool audit;
	bool keep_alive;
	char **cmd;
};

static volatile sig_atomic_t pending_sig;

static void on_signal(int sig)
{
	pending_sig = sig;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: actplane run [--policy FILE | --rule TEXT] [--domain D]\n"
		"                    [--mode auto|lsm|supervised|tracepoint] [--events FILE|-] [--audit]\n"
		"                    [--fallback kill|notify] [--keep-alive] [--user U]\n"
		"                    -- CMD [ARG...]\n"
		"\n"
		"Enforce the policy on CMD and everything it starts. Needs root (or\n"
		"CAP_BPF and CAP_SYS_ADMIN); CMD runs as the user who ran sudo\n"
		"(SUDO_UID/SUDO_GID) or as --user NAME|UID. Run as root without sudo\n"
		"and without --user, CMD stays root.\n"
		"\n"
		"  --events FILE   also write this run's events as NDJSON to FILE (- = stderr);\n"
		"                  every event is appended to <project>/.actplane/events.jsonl\n"
		"  --audit         enforce nothing, report what would have happened\n"
		"  --fallback E    run a policy with block/ask rules this kernel cannot\n"
		"                  honour: kill the process (the kill lands when the system\n"
		"                  call returns) or notify (report only)\n"
		"  --keep-alive    when CMD exits, let its processes run on (still under\n"
		"                  the policy) and return when the last one exits\n"
		"  --mode M        force a mode (auto chooses); exit 3 when this kernel or\n"
		"                  this build lacks it\n"
		"\n"
		"Exits with CMD's status (128+N when signal N ended it); 1 invalid policy,\n"
		"2 usage, 3 the kernel or privileges cannot support the request.\n");
}

/* 0, 1 after --help, -EINVAL on a usage error (message printed) */
static int parse_args(int argc, char **argv, struct run_opts *o)
{
	static const struct {
		const char *name;
		size_t off;
	} valued[] = {
		{ "--events", offsetof(struct run_opts, events) },
		{ "--fallback", offsetof(struct run_opts, fallback) },
		{ "--user", offsetof(struct run_opts, user) },
		{ "--mode", offsetof(struct run_opts, mode) },
	};
	const char *val;
	int i = 1, r;

	memset(o, 0, sizeof(*o));
	while (i < argc) {
		const char *a = argv[i];
		size_t k;

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-')
			break; /* CMD: its own options are its own */
		r = ap_cli__policy_opt(&o->load, argc, argv, &i);
		if (r < 0)
			return -EINVAL;
		if (r)
			continue;
		for (k = 0, r = 0; k < sizeof(valued) / sizeof(valued[0]); k++) {
			r = ap_cli__opt_value(valued[k].name, argc, argv, &i, &val);
			if (r > 0)
				*(const char **)((char *)o + valued[k].off) = val;
			if (r)
				break;
		}
		if (r < 0)
			return -EINVAL;
		if (r)
			continue;
		if (!strcmp(a, "--audit")) {
			o->audit = true;
		} else if (!strcmp(a, "--keep-alive")) {
			o->keep_alive = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 1;
		} else {
			fprintf(stderr, "actplane run: unknown option '%s'\n", a);
			usage(stderr);
			return -EINVAL;
		}
		i++;
	}
	if (o->fallback && strcmp(o->fallback, "kill") && strcmp(o->fallback, "notify")) {
		fprintf(stderr, "actplane run: --fallback must be 'kill' or 'notify', not '%s'\n",
			o->fallback);
		return -EINVAL;
	}
	if (o->mode && strcmp(o->mode, "auto") && ap_mode__parse(o->mode, &(enum ap_mode){ 0 })) {
		fprintf(stderr, "actplane run: --mode must be auto, lsm, supervised or tracepoint\n");
		return -EINVAL;
	}
	if (i >= argc) {
		fprintf(stderr, "actplane run: no command given (actplane run [OPTIONS] -- CMD [ARG...])\n");
		usage(stderr);
		return -EINVAL;
	}
	o->cmd = argv + i;
	return 0;
}

/* ---- session id ---- */

static void session_id(char *buf, size_t size)
{
	uint8_t r[8] = { 0 };

	if (getrandom(r, sizeof(r), 0) != sizeof(r)) {
		uint64_t t = ap_ev__now_ns() ^ ((uint64_t)getpid() << 32);

		memcpy(r, &t, sizeof(r));
	}
	snprintf(buf, size, "%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2],
		 r[3], r[4], r[5], r[6], r[7]);
}

/* ---- policy ---- */

struct loaded {
	struct ap_cli_loaded cl;
	void *blob;
	size_t blob_size;
	struct ap_blob_view bv;
};

static void loaded_free(struct loaded *l)
{
	free(l->blob);
	ap_cli__loaded_free(&l->cl);
}

/* 0, or an exit status */
static int load_policy(const struct run_opts *o, const struct ap_kernel_caps *caps,
		       struct loaded *l)
{
	const char *why = NULL;
	int err;

	err = ap_cli__load(&o->load, caps, &l->cl);
	ap_cli__print_diags(&l->cl);
	if (err) {
		if (!l->cl.diags.nerrors)
			ap_err("cannot load the policy: %s", strerror(-err));
		return AP_EXIT_INVALID;
	}
	err = ap_compiled__to_blob(l->cl.c, &l->blob, &l->blob_size);
	if (!err)
		err = ap_blob__view(l->blob, l->blob_size, &l->bv, &why);
	if (err) {
		ap_err("cannot build the compiled policy: %s", why ? why : strerror(-err));
		return AP_EXIT_INVALID;
	}
	return 0;
}

/* A policy the kernel cannot honour is never silently weakened. */
static int check_degraded(const struct run_opts *o, const struct ap_blob_view *bv,
			  const char *mode)
{
	unsigned n = 0;

	for (unsigned r = 0; r < bv->hdr->nrules; r++) {
		const struct ap_rule_meta *m = &bv->rule_meta[r];

		if (!m->degraded)
			continue;
		if (!o->fallback && !o->audit)
			ap_err("rule '%s' (line %u) uses '%s', which %s mode cannot enforce on this kernel",
			       ap_blob__str(bv, m->name), m->line,
			       ap_ev__effect_name(m->effect), mode);
		n++;
	}
	if (!n || o->fallback || o->audit)
		return 0;
	fprintf(stderr,
		"actplane: refusing to run: %u rule%s would be silently weakened.\n"
		"  --fallback kill    kill the process that attempts the operation (in %s\n"
		"                     mode the kill lands when the system call returns, so the\n"
		"                     operation itself may already have happened)\n"
		"  --fallback notify  only report the operation\n",
		n, n == 1 ? "" : "s", mode);
	return AP_EXIT_KERNEL;
}

/* ---- the session ---- */

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct sigaction ign = { .sa_handler = SIG_IGN };

	/* the terminal sends ^C/^\ to CMD too (same process group): CMD
	 * decides, run follows; TERM/HUP sent to run alone are passed on */
	sigaction(SIGINT, &ign, NULL);
	sigaction(SIGQUIT, &ign, NULL);
	sigaction(SIGPIPE, &ign, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* Reap; returns true once CMD has exited (status in *wstatus). */
static void reap(pid_t cmd, bool *cmd_done, int *wstatus, bool *no_children)
{
	int st;
	pid_t p;

	while ((p = waitpid(-1, &st, WNOHANG)) != 0) {
		if (p < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECHILD)
				*no_children = true;
			return;
		}
		if (p == cmd) {
			*cmd_done = true;
			*wstatus = st;
		}
	}
}

/* What the poll loop keeps up to date besides the events. */
struct run_live {
	struct ap_engine *e;
	const struct run_opts *o;
	struct run_ctx *rc;
	struct ap_watchdog *wd;
	struct ap_state st;        /* the status file (cli/session_state.h) */
	bool st_written, st_warned;
	uint64_t next_state_ms;
};

/* The session's processes are the members of its cgroup (daemons that
 * left run's tree included); its descendants where there is none. */
static int signal_session(struct run_live *lv, int sig)
{
	int n = ap_watchdog__signal(lv->wd, sig);

	return n >= 0 ? n : ap_session__signal_all(sig);
}

static void refresh_state(struct run_live *lv, bool cmd_done)
{
	struct ap_session_state ss;
	int n, err;

	lv->st.updated_ns = ap_ev__now_ns();
	lv->st.cmd_exited = cmd_done;
	n = ap_watchdog__count(lv->wd);
	lv->st.processes = n >= 0 ? n : -1;
	ap_engine__counters(lv->e, &lv->st.counters);
	/* the flag stays set once the kernel set it, even after the entry
	 * itself is gone */
	if (!ap_engine__session_state(lv->e, lv->rc->sid, &ss) && ss.overflowed)
		lv->st.overflowed = true;
	pthread_mutex_lock(&ap_run_ev_lock);
	lv->st.events = ap_evw__events(lv->rc->w);
	lv->st.violations = ap_evw__violations(lv->rc->w);
	pthread_mutex_unlock(&ap_run_ev_lock);
	err = ap_state__write(AP_STATE_DIR, &lv->st);
	if (!err) {
		lv->st_written = true;
	} else if (!lv->st_warned) {
		lv->st_warned = true;
		ap_warn("cannot write the session's status file in %s: %s ('actplane status' "
			"will not list it)", AP_STATE_DIR, strerror(-err));
	}
}

/* Poll the engine until CMD and (unless keep-alive, which waits for them)
 * every process of the session is gone. */
static void supervise(struct run_live *lv, pid_t cmd, int *wstatus)
{
	const struct run_opts *o = lv->o;
	bool cmd_done = false, no_children = false, termed = false, killed = false;
	bool lost = false;
	uint64_t deadline = 0;

	for (;;) {
		int r = ap_engine__poll(lv->e, RUN_POLL_MS);

		if (r < 0 && r != -EINTR)
			ap_warn("reading the engine's events: %s", strerror(-r));
		/* without the watchdog a run that dies next would leave the
		 * session unwatched: fail closed now */
		if (!lost && ap_watchdog__lost(lv->wd)) {
			ap_err("the session's watchdog is gone: ending the session");
			lost = true;
		}
		if (lost) {
			signal_session(lv, SIGKILL);
			ap_session__signal_all(SIGKILL);
		}
		if (pending_sig) {
			int sig = pending_sig;

			pending_sig = 0;
			/* to CMD; once it is gone (--keep-alive), to what is left */
			if (!cmd_done)
				kill(cmd, sig);
			else
				signal_session(lv, sig);
		}
		reap(cmd, &cmd_done, wstatus, &no_children);
		if (mono_ms() >= lv->next_state_ms) {
			refresh_state(lv, cmd_done);
			lv->next_state_ms = mono_ms() + RUN_COUNTER_MS;
		}
		/* the cgroup too: a member that is not our descendant (none
		 * should be) still belongs to the session */
		if (no_children && ap_watchdog__count(lv->wd) <= 0)
			break;
		if (!cmd_done || o->keep_alive)
			continue;
		/* CMD is gone: the session ends with it */
		if (!termed) {
			if (signal_session(lv, SIGTERM) > 0)
				ap_info("the command exited; ending the processes it left running");
			termed = true;
			deadline = mono_ms() + RUN_GRACE_MS;
		} else if (!killed && mono_ms() >= deadline) {
			signal_session(lv, SIGKILL);
			ap_session__signal_all(SIGKILL);
			killed = true;
		} else if (killed) {
			signal_session(lv, SIGKILL);
			ap_session__signal_all(SIGKILL);
		}
	}
}

static void drain(struct ap_engine *e)
{
	/* the records of a finished session are already in the ring buffer;
	 * bounded so a storm from another session cannot keep us here */
	for (int i = 0; i < 1000; i++)
		if (ap_engine__poll(e, 0) <= 0)
			break;
}

static bool has_effect(const struct ap_blob_view *bv, enum ap_effect eff)
{
	for (unsigned i = 0; i < bv->hdr->nclauses; i++)
		if (bv->clauses[i].effect == eff)
			return true;
	return false;
}

static unsigned ask_timeout(void)
{
	const char *t = getenv("ACTPLANE_ASK_TIMEOUT");
	long v = t ? strtol(t, NULL, 10) : 0;

	return v > 0 && v < 86400 ? (unsigned)v : 0;
}

static int run_session(const struct run_opts *o, struct loaded *l,
		       const struct ap_user *u, bool supervised)
{
	const char *mode = "tracepoint";
	struct ap_watchdog wd = AP_WATCHDOG_INIT;
	struct run_live lv = { .o = o };
	struct ap_sc_plan plan = { 0 };
	struct ap_ll_plan *ll = NULL;
	int sv[2] = { -1, -1 };
	struct ap_engine_opts eo = {
		.blob = &l->bv,
		.flags = o->audit ? AP_ENGINE_F_AUDIT : 0,
		.fallback = o->fallback && !strcmp(o->fallback, "notify") ?
				    AP_EFFECT_NOTIFY : AP_EFFECT_KILL,
		.protect_pid = getpid(),
		.on_event = ap_run__on_event,
	};
	struct run_ctx rc = { .bv = &l->bv };
	const char *rules[AP_MAX_RULES], *seed[AP_MAX_LABELS];
	unsigned nrules = 0;
	struct ap_engine_counters cnt = { 0 };
	struct ap_child child = { .release_fd = -1, .status_fd = -1 };
	struct ap_engine *e = NULL;
	char sid_str[32], root[PATH_MAX], policy_path[PATH_MAX], state_path[PATH_MAX];
	const char *policy;
	uint64_t t0 = ap_ev__now_ns();
	int err, ret = AP_EXIT_KERNEL, wstatus = 0, sig = 0, fd;
	unsigned nseed = 0;

	eo.ctx = &rc;
	session_id(sid_str, sizeof(sid_str));
	/* Fail closed in every mode: the session lives in its own cgroup, which
	 * a watchdog kills when run dies. Started before anything of the session
	 * exists and before run becomes a subreaper (the watchdog must not be
	 * ours); without it a killed run would leave the session unwatched, so
	 * no cgroup v2 means no run. */
	snprintf(state_path, sizeof(state_path), "%s/%s.json", AP_STATE_DIR, sid_str);
	err = ap_watchdog__start(sid_str, state_path, &wd);
	if (err) {
		ap_err("refusing to run: no session cgroup (cgroup v2: %s): if actplane died, "
		       "the processes of the session would run on unwatched",
		       strerror(-err));
		return AP_EXIT_KERNEL;
	}
	if (supervised) {
		/* the engine re-checks at its own hooks what the supervisor let
		 * through: a block match there is a bypass, killed in the
		 * kernel; with ask rules an approved operation would match
		 * too, so the kill is decided in user space (on_event) */
		eo.fallback = has_effect(&l->bv, AP_EFFECT_ASK) ? AP_EFFECT_NOTIFY :
								   AP_EFFECT_KILL;
		ap_seccomp__plan(&l->bv, &plan);
		ll = calloc(1, sizeof(*ll));
		if (ll && !ap_landlock__plan(&l->bv, ll))
			ap_landlock__arm(ll);
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
			ap_err("supervised mode: socketpair: %s", strerror(errno));
			free(ll);
			ap_watchdog__stop(&wd);
			return AP_EXIT_KERNEL;
		}
		ap_seccomp__arm(&plan, sv[1]);
	}
	policy = l->cl.pol->path ? l->cl.pol->path : "";
	snprintf(root, sizeof(root), "%s",
		 l->bv.hdr->root ? ap_blob__str(&l->bv, l->bv.hdr->root) : "");
	if (!root[0] && !getcwd(root, sizeof(root)))
		snprintf(root, sizeof(root), ".");

	/* before the spawn: it exports $ACTPLANE_FEEDBACK_FILE to the command */
	rc.c = l->cl.c;
	rc.fb = ap_feedback__open_for(l->cl.c, root, l->cl.pol->feedback_path,
				      u->change ? u->uid : (uid_t)-1,
				      u->change ? u->gid : (gid_t)-1);

	err = ap_session__become_reaper();
	if (err)
		ap_warn("cannot become a subreaper (%s): daemons of the session may escape its end",
			strerror(-err));
	/* forked before the engine exists: CMD inherits none of its fds */
	err = ap_child__spawn(o->cmd, u, &child);
	if (supervised) {
		ap_seccomp__disarm();
		close(sv[1]);
		sv[1] = -1;
	}
	if (err) {
		ret = AP_EXIT_KERNEL;
		goto cleanup;
	}
	/* before it execs: everything it starts is born in the cgroup */
	err = ap_watchdog__add(&wd, child.pid);
	if (err) {
		ap_err("cannot move pid %d into the session cgroup %s: %s", (int)child.pid,
		       wd.cg, strerror(-err));
		ret = AP_EXIT_KERNEL;
		goto cleanup;
	}

	err = ap_engine__open(&eo, &e);
	if (!err)
		err = ap_engine__load(e);
	if (!err)
		err = ap_engine__attach(e);
	if (err) {
		ap_err("the kernel engine could not start (%s); see 'actplane doctor'",
		       strerror(-err));
		goto cleanup;
	}
	mode = supervised ? "supervised" : ap_engine__mode(e);
	if (ap_engine__add_session(e, child.pid, l->bv.hdr->seed_labels, &rc.sid)) {
		ap_err("cannot put pid %d under the policy", (int)child.pid);
		goto cleanup;
	}
	/* a fork the engine cannot record is still the session's: found by
	 * the session's cgroup, as an overflowed member */
	if (wd.cg_id && ap_engine__add_session_cgroup(e, rc.sid, wd.cg_id)) {
		ap_err("cannot map the session cgroup to the engine's session");
		goto cleanup;
	}

	rc.w = ap_evw__new(sid_str, mode);
	if (!rc.w) {
		ap_err("out of memory");
		goto cleanup;
	}
	if (!o->events || strcmp(o->events, "-"))
		ap_evw__set_human(rc.w, stderr);
	if (o->events) {
		fd = !strcmp(o->events, "-") ? STDERR_FILENO :
					       ap_run__open_user_file(o->events, O_TRUNC, u);
		if (fd < 0) {
			ap_err("--events %s: %s", o->events, strerror(-fd));
			ret = AP_EXIT_USAGE;
			goto cleanup;
		}
		ap_evw__add_sink(rc.w, fd, fd != STDERR_FILENO);
	}
	fd = ap_run__open_audit_trail(root, u);
	if (fd >= 0)
		ap_evw__add_sink(rc.w, fd, true);

	/* the policy's own rules: the built-in session-guard (always last) is
	 * in every session and in `check`'s guard section, not in this list */
	for (unsigned r = 0; r < l->bv.hdr->nrules; r++)
		if (strcmp(ap_run__rule_name(&l->bv, r), AP_GUARD_RULE_NAME))
			rules[nrules++] = ap_run__rule_name(&l->bv, r);
	for (unsigned b = 0; b < l->bv.hdr->nlabels && b < AP_MAX_LABELS; b++)
		if (l->bv.hdr->seed_labels & (1ull << b))
			seed[nseed++] = ap_run__label_name(&l->bv, b);
	/* the policy as an absolute path: the trail outlives the cwd */
	if (l->cl.pol->path && l->cl.pol->path[0] != '/' && l->cl.pol->path[0] != '<' &&
	    realpath(l->cl.pol->path, policy_path))
		policy = policy_path;
	ap_run__note_write(&rc, ap_evw__start(rc.w, &(struct ap_ev_start){
		.ts_ns = t0,
		.policy = policy,
		.policy_sha256 = l->bv.hdr->policy_sha256,
		.rules = rules,
		.nrules = nrules,
		.pid = child.pid,
		.seed = seed,
		.nseed = nseed,
		.domain = l->cl.pol->domain,
		.audit = o->audit,
		.fallback = o->fallback,
	}));

	if (supervised) {
		struct ap_sup_opts so = {
			.bv = &l->bv,
			.plan = plan,
			.sock = sv[0],
			.procs_fd = ap_engine__map_fd(e, "ap_procs"),
			.sessions_fd = ap_engine__map_fd(e, "ap_sessions"),
			.files_fd = ap_engine__map_fd(e, "ap_files"),
			.inode_pats_fd = ap_engine__map_fd(e, "ap_inode_pats"),
			.prov_fd = ap_engine__map_fd(e, "ap_prov"),
			.session = rc.sid,
			.session_name = sid_str,
			.root_pid = child.pid,
			.owner_uid = u->uid,
			.ask_timeout_s = ask_timeout(),
			.emit = ap_run__sup_emit,
			.decision = ap_run__sup_decision,
			.ctx = &rc,
		};

		err = ap_supervisor__start(&so, &rc.sup);
		if (err) {
			ap_err("supervised mode: the supervisor could not start: %s",
			       strerror(-err));
			goto cleanup;
		}
	}
	install_signals();
	lv.e = e;
	lv.rc = &rc;
	lv.wd = &wd;
	snprintf(lv.st.session, sizeof(lv.st.session), "%s", sid_str);
	snprintf(lv.st.mode, sizeof(lv.st.mode), "%s", mode);
	snprintf(lv.st.policy, sizeof(lv.st.policy), "%s", policy);
	for (int i = 0; i < 32; i++)
		snprintf(lv.st.policy_sha256 + 2 * i, 3, "%02x", l->bv.hdr->policy_sha256[i]);
	snprintf(lv.st.cgroup, sizeof(lv.st.cgroup), "%s", wd.cg);
	lv.st.run_pid = (int)getpid();
	lv.st.cmd_pid = (int)child.pid;
	lv.st.keep_alive = o->keep_alive;
	lv.st.audit = o->audit;
	lv.st.started_ns = t0;
	err = ap_child__release(&child);
	if (err)
		ap_err("%s: %s", o->cmd[0],
		       err == -ENOENT ? "command not found" : strerror(-err));
	supervise(&lv, child.pid, &wstatus);
	child.pid = 0;
	drain(e);
	if (rc.sup) {
		uint64_t n, mean;

		ap_supervisor__stats(rc.sup, &n, &mean);
		ap_debug("supervisor: %llu notifications, %llu ns mean round trip",
			 (unsigned long long)n, (unsigned long long)mean);
		if (getenv("ACTPLANE_SUP_STATS")) {
			char by[1024];

			ap_supervisor__stats_by_call(rc.sup, by, sizeof(by));
			fprintf(stderr, "actplane: supervisor: %llu notifications, %.1f us mean (%s)\n",
				(unsigned long long)n, mean / 1000.0, by);
		}
		ap_supervisor__stop(rc.sup);
		rc.sup = NULL;
	}

	/* counters the engine has not turned into LOSS records yet */
	if (!ap_engine__counters(e, &cnt))
		ap_run__flush_losses(&rc, &cnt);
	ret = ap_session__exit_code(wstatus, &sig);
	ap_run__note_write(&rc, ap_evw__exit(rc.w, &(struct ap_ev_exit){
		.status = ret,
		.signal = sig,
		.drops = ap_run__counter(&rc.lost, AP_CNT_RINGBUF_DROPS),
		.evictions = ap_run__counter(&rc.lost, AP_CNT_EVICTIONS),
		.failures = ap_run__counter(&rc.lost, AP_CNT_MAP_FULL) +
			    ap_run__counter(&rc.lost, AP_CNT_READ_FAILS),
		.duration_ms = (ap_ev__now_ns() - t0) / 1000000,
	}));
cleanup:
	if (child.pid > 0)
		ap_child__abort(&child);
	ap_child__close(&child);
	/* denies what is still held; then the cgroup goes */
	ap_supervisor__stop(rc.sup);
	rc.sup = NULL;
	ap_watchdog__stop(&wd);
	if (lv.st_written)
		ap_state__remove(AP_STATE_DIR, sid_str);
	for (int i = 0; i < 2; i++)
		if (sv[i] >= 0)
			close(sv[i]);
	free(ll);
	ap_engine__destroy(e);
	ap_evw__free(rc.w);
	ap_feedback__free(rc.fb);
	return ret;
}

int ap_cmd_run(int argc, char **argv)
{
	struct loaded l = { 0 };
	struct run_opts o;
	struct ap_kernel_caps caps;
	struct ap_user u;
	char why[256];
	bool supervised = false;
	int ret, err;

	err = parse_args(argc, argv, &o);
	if (err)
		return err > 0 ? AP_EXIT_OK : AP_EXIT_USAGE;
	if (o.mode && !strcmp(o.mode, "lsm")) {
		ap_err("--mode lsm: this build has no BPF-LSM engine (see 'actplane doctor')");
		return AP_EXIT_KERNEL;
	}
	if (ap_privs__check(why, sizeof(why))) {
		ap_err("%s", why);
		return AP_EXIT_KERNEL;
	}
	if (o.fallback && o.audit)
		ap_warn("--fallback has no effect with --audit: nothing is enforced");
	if (ap_cli__caps(&caps))
		return AP_EXIT_USAGE;
	/* modes: lsm (not in this build), else supervised (seccomp user
	 * notification) for run, else tracepoint; --audit enforces nothing,
	 * so it needs no supervisor */
	if (o.mode && !strcmp(o.mode, "supervised")) {
		/* the supervisor decides at the system call: it has no way to
		 * only report, and a forced mode is never silently replaced */
		if (o.audit) {
			ap_err("--mode supervised cannot --audit: auditing runs the kernel engine "
			       "alone (--mode tracepoint or auto)");
			return AP_EXIT_USAGE;
		}
		if (caps.seccomp_notify != AP_YES) {
			ap_err("--mode supervised: this kernel has no seccomp user notification");
			return AP_EXIT_KERNEL;
		}
		supervised = true;
	} else if (!o.mode || !strcmp(o.mode, "auto")) {
		supervised = caps.seccomp_notify == AP_YES && !o.audit;
	}
	caps.mode = supervised ? AP_MODE_SUPERVISED : AP_MODE_TRACEPOINT;
	ret = load_policy(&o, &caps, &l);
	if (ret)
		goto cleanup;
	ret = check_degraded(&o, &l.bv, supervised ? "supervised" : "tracepoint");
	if (ret)
		goto cleanup;
	if (ap_user__resolve(o.user, &u)) {
		ret = AP_EXIT_USAGE;
		goto cleanup;
	}
	if (!u.change && u.uid == 0)
		ap_debug("the command runs as root: no SUDO_UID and no --user");
	ret = run_session(&o, &l, &u, supervised);
cleanup:
	loaded_free(&l);
	return ret;
}
