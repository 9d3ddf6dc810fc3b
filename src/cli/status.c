// SPDX-License-Identifier: MIT
/*
 * actplane status [--json]: the sessions running on this machine, from the
 * state files each `run` keeps in AP_STATE_DIR (cli/session_state.h): mode,
 * policy, processes, counters, overflow. Needs no root: the files are
 * world-readable. A file left by a run that was killed is reported as
 * stale, never as a live session.
 */
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/session_state.h"
#include "engine/event_json.h"

#define STATUS_MAX 256

struct status_entry {
	struct ap_state st;
	char stale[96];  /* why, "" when live */
};

static bool pid_alive(int pid)
{
	/* EPERM: it exists, it is simply not ours */
	return pid > 0 && (!kill(pid, 0) || errno == EPERM);
}

/* Read every state file; returns how many entries (<= max) or -errno. */
static int load_all(const char *dir, struct status_entry *out, int max, bool *dir_missing)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	uint64_t now = ap_ev__now_ns();
	int n = 0;

	*dir_missing = false;
	if (!d) {
		if (errno == ENOENT) {
			*dir_missing = true;
			return 0;
		}
		return -errno;
	}
	while ((de = readdir(d)) && n < max) {
		char path[1024];
		size_t len = strlen(de->d_name);
		struct json_object *o;
		const char *why;

		if (len < 6 || strcmp(de->d_name + len - 5, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		o = json_object_from_file(path);
		if (!o)
			continue; /* removed meanwhile, or not ours */
		if (!ap_state__from_json(o, &out[n].st)) {
			why = ap_state__stale(&out[n].st, now, pid_alive(out[n].st.run_pid),
					      out[n].stale, sizeof(out[n].stale));
			if (!why)
				out[n].stale[0] = 0;
			n++;
		}
		json_object_put(o);
	}
	closedir(d);
	return n;
}

static int by_start(const void *a, const void *b)
{
	const struct status_entry *x = a, *y = b;

	return x->st.started_ns < y->st.started_ns ? -1 : x->st.started_ns > y->st.started_ns;
}

/* The contract's summary (mode, policy, counters) over the live sessions:
 * mode and policy of the newest, counters summed, overflowed if any is. */
static void add_summary(struct json_object *o, const struct status_entry *es, int n)
{
	struct json_object *c = json_object_new_object();
	const struct ap_state *newest = NULL;
	uint64_t events = 0, violations = 0, drops = 0, evictions = 0, map_full = 0,
		 read_fails = 0;
	bool overflowed = false;

	for (int i = 0; i < n; i++) {
		const struct ap_state *s = &es[i].st;

		if (es[i].stale[0])
			continue;
		newest = s; /* sorted by start */
		events += s->events;
		violations += s->violations;
		drops += s->counters.ringbuf_drops;
		evictions += s->counters.evictions;
		map_full += s->counters.map_full;
		read_fails += s->counters.read_fails;
		overflowed |= s->overflowed;
	}
	json_object_object_add(o, "mode", newest ? json_object_new_string(newest->mode) : NULL);
	json_object_object_add(o, "policy", newest ? json_object_new_string(newest->policy) : NULL);
	json_object_object_add(c, "events", json_object_new_int64((int64_t)events));
	json_object_object_add(c, "violations", json_object_new_int64((int64_t)violations));
	json_object_object_add(c, "drops", json_object_new_int64((int64_t)drops));
	json_object_object_add(c, "evictions", json_object_new_int64((int64_t)evictions));
	json_object_object_add(c, "map_full", json_object_new_int64((int64_t)map_full));
	json_object_object_add(c, "read_fails", json_object_new_int64((int64_t)read_fails));
	json_object_object_add(o, "counters", c);
	json_object_object_add(o, "overflowed", json_object_new_boolean(overflowed));
}

static void print_json(const struct status_entry *es, int n, unsigned live)
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();

	json_object_object_add(o, "v", json_object_new_int(1));
	json_object_object_add(o, "daemon", json_object_new_boolean(false));
	json_object_object_add(o, "active", json_object_new_int((int)live));
	add_summary(o, es, n);
	for (int i = 0; i < n; i++) {
		struct json_object *s = ap_state__to_json(&es[i].st);

		if (!s)
			continue;
		json_object_object_add(s, "stale", es[i].stale[0] ?
				       json_object_new_string(es[i].stale) : NULL);
		json_object_array_add(arr, s);
	}
	json_object_object_add(o, "sessions", arr);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

static void print_human(const struct status_entry *es, int n, unsigned live)
{
	char ts[48];

	if (!n) {
		printf("no actplane session is running\n");
		return;
	}
	printf("%u session%s running%s\n", live, live == 1 ? "" : "s",
	       (unsigned)n > live ? " (and stale state of sessions that ended abnormally)" : "");
	for (int i = 0; i < n; i++) {
		const struct ap_state *s = &es[i].st;

		ap_ev__format_ts(s->started_ns, ts, sizeof(ts));
		printf("\nsession %s%s%s%s\n", s->session, es[i].stale[0] ? "  STALE: " : "",
		       es[i].stale, s->overflowed ? "  OVERFLOWED (fails closed)" : "");
		printf("  mode       %s%s%s\n", s->mode, s->audit ? " (audit)" : "",
		       s->keep_alive ? " (keep-alive)" : "");
		printf("  policy     %s\n", s->policy[0] ? s->policy : "(inline)");
		printf("  sha256     %s\n", s->policy_sha256);
		printf("  started    %s\n", ts);
		printf("  run pid    %d\n", s->run_pid);
		printf("  command    pid %d%s\n", s->cmd_pid, s->cmd_exited ? " (exited)" : "");
		if (s->processes >= 0)
			printf("  processes  %ld\n", s->processes);
		printf("  events     %llu written, %llu violations\n",
		       (unsigned long long)s->events, (unsigned long long)s->violations);
		printf("  engine     %llu records, %llu ringbuf drops, %llu map full, "
		       "%llu evictions, %llu read fails, %llu unresolved\n",
		       (unsigned long long)s->counters.events,
		       (unsigned long long)s->counters.ringbuf_drops,
		       (unsigned long long)s->counters.map_full,
		       (unsigned long long)s->counters.evictions,
		       (unsigned long long)s->counters.read_fails,
		       (unsigned long long)s->counters.unresolved);
	}
}

int ap_cmd_status(int argc, char **argv)
{
	struct status_entry *es;
	bool json = false, missing;
	const char *dir = getenv("ACTPLANE_STATE_DIR");
	unsigned live = 0;
	int n;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: actplane status [--json]\n"
			       "The actplane sessions running on this machine: mode, policy,\n"
			       "processes, event and loss counters, overflow. Needs no root.\n");
			return AP_EXIT_OK;
		} else {
			fprintf(stderr, "actplane status: unknown option '%s'\n", argv[i]);
			return AP_EXIT_USAGE;
		}
	}
	if (!dir || !*dir)
		dir = AP_STATE_DIR;
	es = calloc(STATUS_MAX, sizeof(*es));
	if (!es) {
		fprintf(stderr, "actplane status: out of memory\n");
		return AP_EXIT_INVALID;
	}
	n = load_all(dir, es, STATUS_MAX, &missing);
	if (n < 0) {
		fprintf(stderr, "actplane status: %s: %s\n", dir, strerror(-n));
		free(es);
		return AP_EXIT_INVALID;
	}
	qsort(es, (size_t)n, sizeof(*es), by_start);
	for (int i = 0; i < n; i++)
		live += !es[i].stale[0];
	if (json)
		print_json(es, n, live);
	else
		print_human(es, n, live);
	free(es);
	return AP_EXIT_OK;
}
