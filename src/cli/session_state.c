// SPDX-License-Identifier: MIT
#include "session_state.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/file.h"
#include "engine/event_json.h"

static const char *const counter_keys[] = {
#define X(e, f, s) [AP_CNT_##e] = s,
	AP_COUNTERS(X)
#undef X
};

static void put(struct json_object *o, const char *k, struct json_object *v)
{
	json_object_object_add(o, k, v);
}

struct json_object *ap_state__to_json(const struct ap_state *s)
{
	struct json_object *o = json_object_new_object(), *c;
	const uint64_t *cnt = (const uint64_t *)&s->counters;
	char ts[48];

	if (!o)
		return NULL;
	put(o, "v", json_object_new_int(1));
	put(o, "session", json_object_new_string(s->session));
	put(o, "mode", json_object_new_string(s->mode));
	put(o, "policy", json_object_new_string(s->policy));
	put(o, "policy_sha256", json_object_new_string(s->policy_sha256));
	put(o, "run_pid", json_object_new_int(s->run_pid));
	put(o, "cmd_pid", json_object_new_int(s->cmd_pid));
	put(o, "cmd_exited", json_object_new_boolean(s->cmd_exited));
	ap_ev__format_ts(s->started_ns, ts, sizeof(ts));
	put(o, "started", json_object_new_string(ts));
	put(o, "started_ns", json_object_new_int64((int64_t)s->started_ns));
	ap_ev__format_ts(s->updated_ns, ts, sizeof(ts));
	put(o, "updated", json_object_new_string(ts));
	put(o, "updated_ns", json_object_new_int64((int64_t)s->updated_ns));
	put(o, "processes", json_object_new_int64(s->processes));
	put(o, "keep_alive", json_object_new_boolean(s->keep_alive));
	put(o, "audit", json_object_new_boolean(s->audit));
	put(o, "overflowed", json_object_new_boolean(s->overflowed));
	put(o, "cgroup", json_object_new_string(s->cgroup));
	put(o, "events", json_object_new_int64((int64_t)s->events));
	put(o, "violations", json_object_new_int64((int64_t)s->violations));
	c = json_object_new_object();
	for (int i = 0; i < AP_CNT__COUNT; i++)
		put(c, counter_keys[i], json_object_new_int64((int64_t)cnt[i]));
	put(o, "counters", c);
	return o;
}

static const char *get_str(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool get_int(struct json_object *o, const char *k, int64_t *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

static bool get_bool(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_get_boolean(v);
}

static void copy_str(char *dst, size_t size, struct json_object *o, const char *k)
{
	const char *v = get_str(o, k);

	snprintf(dst, size, "%s", v ? v : "");
}

int ap_state__from_json(struct json_object *o, struct ap_state *s)
{
	struct json_object *c;
	uint64_t *cnt = (uint64_t *)&s->counters;
	int64_t v;

	memset(s, 0, sizeof(*s));
	if (!o || !json_object_is_type(o, json_type_object))
		return -EINVAL;
	if (!get_int(o, "v", &v) || v != 1 || !get_str(o, "session") ||
	    !get_int(o, "run_pid", &v))
		return -EINVAL;
	s->run_pid = (int)v;
	copy_str(s->session, sizeof(s->session), o, "session");
	copy_str(s->mode, sizeof(s->mode), o, "mode");
	copy_str(s->policy, sizeof(s->policy), o, "policy");
	copy_str(s->policy_sha256, sizeof(s->policy_sha256), o, "policy_sha256");
	copy_str(s->cgroup, sizeof(s->cgroup), o, "cgroup");
	s->cmd_pid = get_int(o, "cmd_pid", &v) ? (int)v : 0;
	s->processes = get_int(o, "processes", &v) ? (long)v : -1;
	s->started_ns = get_int(o, "started_ns", &v) ? (uint64_t)v : 0;
	s->updated_ns = get_int(o, "updated_ns", &v) ? (uint64_t)v : 0;
	s->events = get_int(o, "events", &v) ? (uint64_t)v : 0;
	s->violations = get_int(o, "violations", &v) ? (uint64_t)v : 0;
	s->cmd_exited = get_bool(o, "cmd_exited");
	s->keep_alive = get_bool(o, "keep_alive");
	s->audit = get_bool(o, "audit");
	s->overflowed = get_bool(o, "overflowed");
	if (json_object_object_get_ex(o, "counters", &c) &&
	    json_object_is_type(c, json_type_object))
		for (int i = 0; i < AP_CNT__COUNT; i++)
			if (get_int(c, counter_keys[i], &v))
				cnt[i] = (uint64_t)v;
	return 0;
}

static bool safe_name(const char *session)
{
	return session[0] && strlen(session) < 40 && !strpbrk(session, "/.\n");
}

int ap_state__write(const char *dir, const struct ap_state *s)
{
	char path[PATH_MAX], *line = NULL;
	struct json_object *o = NULL;
	const char *text;
	int err;

	if (!safe_name(s->session))
		return -EINVAL;
	if (!mkdir(dir, 0755)) {
		chmod(dir, 0755); /* whatever run's umask: status needs no root */
	} else if (errno != EEXIST) {
		/* the parent (/run/actplane) may not exist yet */
		char parent[PATH_MAX], *slash;

		snprintf(parent, sizeof(parent), "%s", dir);
		slash = strrchr(parent, '/');
		if (slash && slash != parent) {
			*slash = 0;
			if (!mkdir(parent, 0755))
				chmod(parent, 0755);
		}
		if (mkdir(dir, 0755) && errno != EEXIST)
			return -errno;
		chmod(dir, 0755);
	}
	snprintf(path, sizeof(path), "%s/%s.json", dir, s->session);
	o = ap_state__to_json(s);
	if (!o)
		return -ENOMEM;
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	/* 0644 whatever the umask: status reads it without root */
	if (asprintf(&line, "%s\n", text) < 0)
		err = -ENOMEM;
	else
		err = ap_file__write_atomic(path, line, strlen(line), 0644);
	free(line);
	json_object_put(o);
	return err;
}

int ap_state__remove(const char *dir, const char *session)
{
	char path[PATH_MAX];

	if (!safe_name(session))
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%s.json", dir, session);
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return 0;
}

const char *ap_state__stale(const struct ap_state *s, uint64_t now_ns, bool run_alive,
			    char *buf, size_t size)
{
	if (!run_alive) {
		snprintf(buf, size, "run pid %d is gone", s->run_pid);
		return buf;
	}
	if (s->updated_ns && now_ns > s->updated_ns &&
	    now_ns - s->updated_ns > (uint64_t)AP_STATE_STALE_S * 1000000000ull) {
		snprintf(buf, size, "not updated for %llu s",
			 (unsigned long long)((now_ns - s->updated_ns) / 1000000000ull));
		return buf;
	}
	return NULL;
}
