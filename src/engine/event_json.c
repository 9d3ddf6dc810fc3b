// SPDX-License-Identifier: MIT
#include "event_json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/log.h"

#define AP_EVW_MAX_SINKS 4

struct ap_evw_sink {
	int fd;
	bool own;
};

struct ap_evw {
	char *session;
	char *mode;
	uint64_t seq;
	uint64_t events;
	uint64_t violations;
	struct ap_evw_sink sinks[AP_EVW_MAX_SINKS];
	unsigned nsinks;
	FILE *human;
};

static const char *const op_names[] = {
#define X(e, s) [AP_OP_##e] = s,
	AP_OPS(X)
#undef X
};
static const char *const effect_names[] = {
#define X(e, s) [AP_EFFECT_##e] = s,
	AP_EFFECTS(X)
#undef X
};
static const char *const action_names[] = {
#define X(e, s) [AP_ACTION_##e] = s,
	AP_ACTIONS(X)
#undef X
};

const char *ap_ev__op_name(unsigned op)
{
	return op < AP_OP__COUNT ? op_names[op] : "?";
}

const char *ap_ev__effect_name(unsigned effect)
{
	return effect < AP_EFFECT__COUNT ? effect_names[effect] : "?";
}

const char *ap_ev__action_name(unsigned action)
{
	return action < AP_ACTION__COUNT ? action_names[action] : "?";
}

uint64_t ap_ev__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The offset between two clocks, read as close together as we can; good to
 * a microsecond, which is the resolution the stream prints. */
static uint64_t to_real(clockid_t clk, uint64_t t)
{
	uint64_t real = clock_ns(CLOCK_REALTIME);
	uint64_t other = clock_ns(clk);

	if (!t)
		return real;
	return real - other + t;
}

uint64_t ap_ev__mono_to_real(uint64_t mono_ns)
{
	return to_real(CLOCK_MONOTONIC, mono_ns);
}

uint64_t ap_ev__boot_to_real(uint64_t boot_ns)
{
	return to_real(CLOCK_BOOTTIME, boot_ns);
}

void ap_ev__format_ts(uint64_t ts_ns, char *buf, size_t size)
{
	struct tm tm;
	time_t sec;
	size_t n;

	if (!ts_ns)
		ts_ns = ap_ev__now_ns();
	sec = (time_t)(ts_ns / 1000000000ull);
	gmtime_r(&sec, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%06uZ",
		 (unsigned)(ts_ns % 1000000000ull / 1000u));
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid:
 * overlongs, surrogates and code points above U+10FFFF are invalid too. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/* A JSON string; NULL becomes "" so a field is never missing by accident. */
static json_object *jstr(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t len = strlen((const char *)p), i, o, n;
	json_object *obj;
	char *clean;

	for (i = 0; i < len; i += n)
		if (!(n = utf8_len(p + i)))
			break;
	if (i >= len)
		return json_object_new_string((const char *)p);
	/* each invalid byte becomes the three bytes of U+FFFD */
	clean = malloc(len * 3 + 1);
	if (!clean)
		return json_object_new_string("");
	for (i = 0, o = 0; i < len; i += n) {
		n = utf8_len(p + i);
		if (n) {
			memcpy(clean + o, p + i, n);
			o += n;
		} else {
			memcpy(clean + o, "\xef\xbf\xbd", 3);
			o += 3;
			n = 1;
		}
	}
	clean[o] = 0;
	obj = json_object_new_string(clean);
	free(clean);
	return obj;
}

static json_object *jstrv(const char *const *v, unsigned n)
{
	json_object *a = json_object_new_array();

	for (unsigned i = 0; i < n; i++)
		json_object_array_add(a, jstr(v[i]));
	return a;
}

static void put(json_object *o, const char *k, json_object *v)
{
	json_object_object_add(o, k, v);
}

static json_object *header(const char *type, uint64_t ts_ns, uint64_t seq)
{
	json_object *o = json_object_new_object();
	char ts[40];

	ap_ev__format_ts(ts_ns, ts, sizeof(ts));
	put(o, "v", json_object_new_int(AP_EVENT_SCHEMA_VERSION));
	put(o, "type", json_object_new_string(type));
	put(o, "ts", json_object_new_string(ts));
	put(o, "seq", json_object_new_int64((int64_t)seq));
	return o;
}

struct ap_evw *ap_evw__new(const char *session, const char *mode)
{
	struct ap_evw *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->session = strdup(session ? session : "");
	w->mode = strdup(mode ? mode : "");
	if (!w->session || !w->mode) {
		ap_evw__free(w);
		return NULL;
	}
	return w;
}

void ap_evw__free(struct ap_evw *w)
{
	if (!w)
		return;
	for (unsigned i = 0; i < w->nsinks; i++)
		if (w->sinks[i].own)
			close(w->sinks[i].fd);
	free(w->session);
	free(w->mode);
	free(w);
}

int ap_evw__add_sink(struct ap_evw *w, int fd, bool own)
{
	if (w->nsinks >= AP_EVW_MAX_SINKS)
		return -ENOSPC;
	w->sinks[w->nsinks].fd = fd;
	w->sinks[w->nsinks].own = own;
	w->nsinks++;
	return 0;
}

void ap_evw__set_human(struct ap_evw *w, FILE *out)
{
	w->human = out;
}

uint64_t ap_evw__events(const struct ap_evw *w)
{
	return w->events;
}

uint64_t ap_evw__violations(const struct ap_evw *w)
{
	return w->violations;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Serialise, write one line per sink, count. Consumes o. */
static int emit(struct ap_evw *w, json_object *o)
{
	const char *s = json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(s);
	char *line = malloc(len + 2);
	int err = 0;

	if (!line) {
		json_object_put(o);
		return -ENOMEM;
	}
	memcpy(line, s, len);
	line[len] = '\n';
	for (unsigned i = 0; i < w->nsinks; i++) {
		int e = write_all(w->sinks[i].fd, line, len + 1);

		if (e && !err)
			err = e;
	}
	w->events++;
	free(line);
	json_object_put(o);
	return err;
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = 0;
}

int ap_evw__start(struct ap_evw *w, const struct ap_ev_start *e)
{
	json_object *o = header("start", e->ts_ns, ++w->seq);
	char sha[65];

	hex(e->policy_sha256, 32, sha);
	put(o, "mode", jstr(w->mode));
	put(o, "policy", jstr(e->policy));
	put(o, "policy_sha256", json_object_new_string(sha));
	put(o, "rules", jstrv(e->rules, e->nrules));
	put(o, "session", jstr(w->session));
	put(o, "pid", json_object_new_int(e->pid));
	put(o, "seed", jstrv(e->seed, e->nseed));
	if (e->domain)
		put(o, "domain", jstr(e->domain));
	put(o, "audit", json_object_new_boolean(e->audit));
	if (e->fallback)
		put(o, "fallback", jstr(e->fallback));
	if (w->human)
		fprintf(w->human,
			"actplane: session %s: %s mode%s, policy %s (%u rule%s), command pid %d\n",
			w->session, w->mode, e->audit ? " (audit: enforcing nothing)" : "",
			e->policy, e->nrules, e->nrules == 1 ? "" : "s", e->pid);
	return emit(w, o);
}

/* The session guard's `cgroup` item is a write of cgroup.procs or
 * cgroup.threads (a path clause); the contract names its op "cgroup". */
static enum ap_op shown_op(const struct ap_ev_violation *e)
{
	const char *b;

	if (!e->rule || strcmp(e->rule, "session-guard") || !e->target ||
	    (e->op != AP_OP_WRITE && e->op != AP_OP_OPEN))
		return e->op;
	b = strrchr(e->target, '/');
	b = b ? b + 1 : e->target;
	return !strcmp(b, "cgroup.procs") || !strcmp(b, "cgroup.threads") ?
	       AP_OP_CGROUP : e->op;
}

json_object *ap_evw__violation_json(struct ap_evw *w,
				    const struct ap_ev_violation *e,
				    uint64_t seq)
{
	json_object *o = header("violation", e->ts_ns, seq);
	json_object *prov = json_object_new_array();
	char ts[40];

	put(o, "effect", json_object_new_string(ap_ev__effect_name(e->effect)));
	put(o, "action", json_object_new_string(ap_ev__action_name(e->action)));
	put(o, "rule", jstr(e->rule));
	put(o, "rules", jstrv(e->rules, e->nrules));
	put(o, "reason", jstr(e->reason));
	put(o, "op", json_object_new_string(ap_ev__op_name(shown_op(e))));
	put(o, "target", jstr(e->target));
	if (e->target2)
		put(o, "target2", jstr(e->target2));
	if (e->argv) {
		put(o, "argv", jstrv(e->argv, e->argc));
		if (e->argv_truncated)
			put(o, "argv_truncated", json_object_new_boolean(1));
	}
	put(o, "pid", json_object_new_int(e->pid));
	put(o, "tid", json_object_new_int(e->tid));
	put(o, "ppid", json_object_new_int(e->ppid));
	put(o, "uid", json_object_new_int64(e->uid));
	put(o, "comm", jstr(e->comm));
	put(o, "exe", jstr(e->exe));
	put(o, "labels", jstrv(e->labels, e->nlabels));
	for (unsigned i = 0; i < e->nprov; i++) {
		const struct ap_ev_prov *p = &e->prov[i];
		json_object *po = json_object_new_object();

		ap_ev__format_ts(p->ts_ns, ts, sizeof(ts));
		put(po, "label", jstr(p->label));
		put(po, "op", json_object_new_string(ap_ev__op_name(p->op)));
		put(po, "target", jstr(p->target));
		put(po, "pid", json_object_new_int(p->pid));
		put(po, "comm", jstr(p->comm));
		put(po, "ts", json_object_new_string(ts));
		json_object_array_add(prov, po);
	}
	put(o, "provenance", prov);
	put(o, "session", jstr(w->session));
	put(o, "mode", jstr(w->mode));
	if (e->approval)
		put(o, "approval", jstr(e->approval));
	if (e->unresolved)
		put(o, "unresolved", json_object_new_boolean(1));
	return o;
}

/* One line a person reads on the terminal while the agent runs. Control
 * characters in names are shown as '?' so a file name cannot forge lines. */
static void human_str(FILE *out, const char *s)
{
	for (; s && *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

static void human_violation(FILE *out, const struct ap_ev_violation *e)
{
	fprintf(out, "actplane: %s (%s) rule '", ap_ev__action_name(e->action),
		ap_ev__effect_name(e->effect));
	human_str(out, e->rule);
	fprintf(out, "': %s ", ap_ev__op_name(shown_op(e)));
	human_str(out, e->target);
	if (e->argv && e->argc > 1) {
		fputs(" [", out);
		for (unsigned i = 1; i < e->argc && i < 8; i++) {
			if (i > 1)
				fputc(' ', out);
			human_str(out, e->argv[i]);
		}
		fputs(e->argc > 8 ? " ...]" : "]", out);
	}
	fprintf(out, " by pid %d (", e->pid);
	human_str(out, e->comm);
	fputc(')', out);
	if (e->nlabels) {
		fputs(" labels ", out);
		for (unsigned i = 0; i < e->nlabels; i++) {
			if (i)
				fputc(',', out);
			human_str(out, e->labels[i]);
		}
	}
	if (e->reason && *e->reason) {
		fputs(": ", out);
		human_str(out, e->reason);
	}
	fputc('\n', out);
	fflush(out);
}

int ap_evw__violation(struct ap_evw *w, const struct ap_ev_violation *e)
{
	json_object *o = ap_evw__violation_json(w, e, ++w->seq);

	w->violations++;
	if (w->human)
		human_violation(w->human, e);
	return emit(w, o);
}

int ap_evw__decision(struct ap_evw *w, const struct ap_ev_decision *e)
{
	json_object *o = header("decision", e->ts_ns, ++w->seq);

	put(o, "approval", jstr(e->approval));
	put(o, "decision", jstr(e->decision));
	put(o, "by", jstr(e->by));
	put(o, "session", jstr(w->session));
	if (w->human) {
		fprintf(w->human, "actplane: approval ");
		human_str(w->human, e->approval);
		fprintf(w->human, " %s by ", e->decision ? e->decision : "?");
		human_str(w->human, e->by);
		fputc('\n', w->human);
	}
	return emit(w, o);
}

int ap_evw__loss(struct ap_evw *w, const struct ap_ev_loss *e)
{
	json_object *o = header("loss", e->ts_ns, ++w->seq);

	put(o, "kind", jstr(e->kind));
	put(o, "count", json_object_new_int64((int64_t)e->count));
	put(o, "total", json_object_new_int64((int64_t)e->total));
	put(o, "what", jstr(e->what));
	put(o, "overflowed", json_object_new_boolean(e->overflowed));
	if (e->reason)
		put(o, "reason", jstr(e->reason));
	put(o, "session", jstr(w->session));
	if (w->human) {
		fprintf(w->human, "actplane: warning: lost %llu (%llu in total): ",
			(unsigned long long)e->count, (unsigned long long)e->total);
		human_str(w->human, e->what);
		if (e->overflowed)
			fputs(" (session overflowed: every process is now treated as carrying every label seen)",
			      w->human);
		fputc('\n', w->human);
	}
	return emit(w, o);
}

int ap_evw__exit(struct ap_evw *w, const struct ap_ev_exit *e)
{
	json_object *o = header("exit", e->ts_ns, ++w->seq);

	put(o, "status", json_object_new_int(e->status));
	if (e->signal)
		put(o, "signal", json_object_new_int(e->signal));
	/* counts the events before this one: the exit line is the last */
	put(o, "events", json_object_new_int64((int64_t)w->events));
	put(o, "violations", json_object_new_int64((int64_t)w->violations));
	put(o, "drops", json_object_new_int64((int64_t)e->drops));
	put(o, "evictions", json_object_new_int64((int64_t)e->evictions));
	if (e->failures)
		put(o, "failures", json_object_new_int64((int64_t)e->failures));
	put(o, "duration_ms", json_object_new_int64((int64_t)e->duration_ms));
	put(o, "session", jstr(w->session));
	if (w->human)
		fprintf(w->human,
			"actplane: session %s ended: status %d, %llu violation%s, %llu dropped, %llu evicted\n",
			w->session, e->status, (unsigned long long)w->violations,
			w->violations == 1 ? "" : "s", (unsigned long long)e->drops,
			(unsigned long long)e->evictions);
	return emit(w, o);
}
