// SPDX-License-Identifier: MIT
#include "mcp.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "agent/feedback.h"
#include "agent/hook.h"
#include "agent/sbuf.h"
#include "cli/cli_common.h"
#include "common/log.h"
#include "policy/summary.h"

static const char *const versions[] = {
	AP_MCP_LATEST, "2025-06-18", "2025-03-26", "2024-11-05",
};

enum { RES_POLICY, RES_FEEDBACK, RES_STATUS, RES__COUNT };

static const struct {
	const char *uri, *name, *title, *desc, *mime;
} resources[RES__COUNT] = {
	{ "actplane:///policy", "policy", "actplane policy",
	  "The policy in force for this project, compiled: labels, rules, effects and how this kernel enforces each (the object `actplane check --json` prints).",
	  "application/json" },
	{ "actplane:///feedback", "feedback", "actplane feedback",
	  "Recent feedback entries: what actplane stopped, which rule, why, and what to do instead.",
	  "text/plain" },
	{ "actplane:///status", "status", "actplane status",
	  "The enforcement mode this kernel gives `actplane run`, the policy file, counts of sessions and violations from .actplane/events.jsonl, and the auto-attach result.",
	  "application/json" },
};

struct file_sig {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	bool exists;
};

struct ap_mcp {
	char cwd[PATH_MAX];
	char self[PATH_MAX];
	char root[PATH_MAX];      /* project root, "" when no policy was found */
	char policy[PATH_MAX];
	char feedback[PATH_MAX + 64];
	char events[PATH_MAX + 64];
	bool subscribed[RES__COUNT];
	struct file_sig sig[RES__COUNT][2];
	bool initialized;
	char *attach_status;
	bool attach_ok;
};

/* ---- helpers ---- */

static void locate(struct ap_mcp *m)
{
	if (ap_hook__find_policy(m->cwd, m->root, sizeof(m->root), m->policy,
				 sizeof(m->policy))) {
		m->root[0] = m->policy[0] = '\0';
		snprintf(m->events, sizeof(m->events), "%s/.actplane/events.jsonl", m->cwd);
	} else {
		snprintf(m->events, sizeof(m->events), "%s/.actplane/events.jsonl", m->root);
	}
	if (ap_hook__find_feedback(m->cwd, m->feedback, sizeof(m->feedback)))
		snprintf(m->feedback, sizeof(m->feedback), "%s/%s", m->cwd,
			 AP_FEEDBACK_DEFAULT_PATH);
	const char *env = getenv("ACTPLANE_FEEDBACK_FILE");
	if (env && *env == '/')
		snprintf(m->feedback, sizeof(m->feedback), "%s", env);
}

static char *slurp_tail(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	off_t off = 0;
	char *buf;
	ssize_t n;
	size_t got = 0, want;

	*len = 0;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return NULL;
	}
	if ((size_t)st.st_size > max)
		off = st.st_size - (off_t)max;
	want = (size_t)(st.st_size - off);
	buf = malloc(want + 1);
	while (buf && got < want && (n = pread(fd, buf + got, want - got, off + (off_t)got)) > 0)
		got += (size_t)n;
	close(fd);
	if (!buf)
		return NULL;
	buf[got] = '\0';
	*len = got;
	/* started mid-line: skip to the next line */
	if (off > 0) {
		char *nl = memchr(buf, '\n', got);
		if (nl) {
			size_t skip = (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, got - skip + 1);
			*len = got - skip;
		}
	}
	return buf;
}

static struct json_object *text_content(const char *text)
{
	struct json_object *arr = json_object_new_array(), *c = json_object_new_object();

	json_object_object_add(c, "type", json_object_new_string("text"));
	json_object_object_add(c, "text", json_object_new_string(text ? text : ""));
	json_object_array_add(arr, c);
	return arr;
}

/* ---- resources ---- */

/* This server runs inside the agent's session, where a policy may forbid
 * the network: host names in endpoint patterns are not looked up (no DNS
 * traffic that a rule could stop or kill us for). */
static int no_resolve(const char *host, struct ap_endpoint *out, unsigned max,
		      void *ctx)
{
	(void)host;
	(void)out;
	(void)max;
	(void)ctx;
	return 0;
}

#define NO_RESOLVE_NOTE \
	"note: host names in endpoint patterns are not resolved here (this server runs " \
	"inside the agent's session); `actplane check` resolves them.\n"

static int load_lowered(const struct ap_load_opts *lo,
			const struct ap_kernel_caps *caps,
			struct ap_cli_loaded *l)
{
	struct ap_lower_opts lw = { .resolve = no_resolve };

	memset(l, 0, sizeof(*l));
	l->lower_err = 1;
	l->load_err = ap_policy_load(lo, &l->diags, &l->pol);
	if (l->load_err)
		return l->load_err;
	lw.degraded_effects = ap_kernel_caps__degraded_effects(caps);
	l->lower_err = ap_lower(l->pol, &lw, &l->diags, &l->c);
	return l->lower_err;
}

static char *policy_summary(struct ap_mcp *m, bool *ok)
{
	struct ap_load_opts lo = { .cwd = m->cwd };
	struct ap_kernel_caps caps;
	struct ap_cli_loaded l;
	struct ap_summary s = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	ap_kernel_caps__probe(&caps);
	err = load_lowered(&lo, &caps, &l);
	*ok = !err;
	s.pol = l.pol;
	s.c = l.c;
	s.caps = &caps;
	s.diags = &l.diags;
	s.valid = !err;
	f = open_memstream(&buf, &len);
	if (f) {
		if (err == -ENOENT && !l.pol)
			fprintf(f, "{\"valid\":false,\"error\":\"no actplane.yaml or .actplane/policy.yaml found from %s upwards\"}", m->cwd);
		else
			ap_summary__json(&s, f);
		fclose(f);
	}
	ap_cli__loaded_free(&l);
	return buf;
}

struct fb_tail {
	const char *buf;
	size_t offs[32], ends[32];
	unsigned n;
};

static int keep_entry(const struct ap_fb_entry *e, void *ctx)
{
	struct fb_tail *t = ctx;
	t->offs[t->n % 32] = e->off;
	t->ends[t->n % 32] = e->end;
	t->n++;
	return 0;
}

/* the last `count` entries, oldest first; with_json keeps the JSON lines */
static char *feedback_tail(struct ap_mcp *m, unsigned count)
{
	struct fb_tail t = { 0 };
	struct ap_sbuf out = { 0 };
	size_t len;
	char *buf = slurp_tail(m->feedback, 64 * 1024, &len);
	unsigned first;

	if (!buf) {
		ap_sbuf__printf(&out, "No actplane feedback yet (%s does not exist).\n", m->feedback);
		return out.s;
	}
	t.buf = buf;
	ap_feedback__parse(buf, len, keep_entry, &t);
	if (!t.n)
		ap_sbuf__printf(&out, "No actplane feedback yet in %s.\n", m->feedback);
	first = t.n > count ? t.n - count : 0;
	if (t.n > 32 && first < t.n - 32)
		first = t.n - 32;
	for (unsigned i = first; i < t.n; i++) {
		if (i > first)
			ap_sbuf__putc(&out, '\n');
		ap_sbuf__put_n(&out, buf + t.offs[i % 32], t.ends[i % 32] - t.offs[i % 32]);
	}
	free(buf);
	return out.s;
}

static char *status_json(struct ap_mcp *m)
{
	struct json_object *o = json_object_new_object(), *v;
	struct ap_kernel_caps caps;
	size_t len;
	char *buf = slurp_tail(m->events, 1 << 20, &len), *line, *save = NULL;
	uint64_t starts = 0, violations = 0, losses = 0;
	const char *s;
	char *ret;
	struct json_object *last_start = NULL;

	ap_kernel_caps__probe(&caps);
	json_object_object_add(o, "mode", json_object_new_string(ap_mode__name(caps.mode)));
	json_object_object_add(o, "bpf_lsm", json_object_new_string(ap_tristate__name(caps.bpf_lsm)));
	json_object_object_add(o, "policy", m->policy[0] ? json_object_new_string(m->policy) : NULL);
	json_object_object_add(o, "project_root", m->root[0] ? json_object_new_string(m->root) : NULL);
	json_object_object_add(o, "feedback_file", json_object_new_string(m->feedback));
	json_object_object_add(o, "events_file", json_object_new_string(m->events));
	for (line = buf ? strtok_r(buf, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		struct json_object *ev = json_tokener_parse(line);
		if (!ev)
			continue;
		s = json_object_object_get_ex(ev, "type", &v) ? json_object_get_string(v) : "";
		if (!strcmp(s, "start")) {
			starts++;
			json_object_put(last_start);
			last_start = json_object_get(ev);
		} else if (!strcmp(s, "violation")) {
			violations++;
		} else if (!strcmp(s, "loss")) {
			losses++;
		}
		json_object_put(ev);
	}
	free(buf);
	json_object_object_add(o, "sessions_started", json_object_new_int64((int64_t)starts));
	json_object_object_add(o, "violations", json_object_new_int64((int64_t)violations));
	json_object_object_add(o, "losses", json_object_new_int64((int64_t)losses));
	if (last_start) {
		struct json_object *ls = json_object_new_object();
		const char *const keys[] = { "mode", "session", "policy", "ts", "pid" };
		for (unsigned i = 0; i < 5; i++)
			if (json_object_object_get_ex(last_start, keys[i], &v))
				json_object_object_add(ls, keys[i], json_object_get(v));
		json_object_object_add(o, "last_session", ls);
		json_object_put(last_start);
	}
	if (m->attach_status) {
		struct json_object *a = json_object_new_object();
		json_object_object_add(a, "attached", json_object_new_boolean(m->attach_ok));
		json_object_object_add(a, "detail", json_object_new_string(m->attach_status));
		json_object_object_add(o, "auto_attach_parent", a);
	}
	ret = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return ret;
}

static int res_index(const char *uri)
{
	for (int i = 0; i < RES__COUNT; i++)
		if (uri && !strcmp(uri, resources[i].uri))
			return i;
	return -1;
}

static char *read_resource(struct ap_mcp *m, int r)
{
	bool ok;

	switch (r) {
	case RES_POLICY:   return policy_summary(m, &ok);
	case RES_FEEDBACK: return feedback_tail(m, 10);
	case RES_STATUS:   return status_json(m);
	}
	return NULL;
}

static void sig_of(const char *path, struct file_sig *s)
{
	struct stat st;

	memset(s, 0, sizeof(*s));
	if (!path[0] || stat(path, &st))
		return;
	s->exists = true;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->size = st.st_size;
	s->mtime = st.st_mtim;
}

/* the files behind each resource */
static void res_files(struct ap_mcp *m, int r, const char *f[2])
{
	f[0] = f[1] = "";
	if (r == RES_POLICY)
		f[0] = m->policy;
	else if (r == RES_FEEDBACK)
		f[0] = m->feedback;
	else {
		f[0] = m->events;
		f[1] = m->policy;
	}
}

static void sig_take(struct ap_mcp *m, int r)
{
	const char *f[2];

	res_files(m, r, f);
	for (int i = 0; i < 2; i++)
		sig_of(f[i], &m->sig[r][i]);
}

int ap_mcp__changes(struct ap_mcp *m, char **out, int max)
{
	int n = 0;

	for (int r = 0; r < RES__COUNT && n < max; r++) {
		struct file_sig old[2];
		if (!m->subscribed[r])
			continue;
		memcpy(old, m->sig[r], sizeof(old));
		sig_take(m, r);
		if (!memcmp(old, m->sig[r], sizeof(old)))
			continue;
		if (asprintf(&out[n], "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/resources/updated\",\"params\":{\"uri\":\"%s\"}}",
			     resources[r].uri) >= 0)
			n++;
	}
	return n;
}

/* ---- tools ---- */

static struct json_object *schema(const char *props_json, const char *required)
{
	struct json_object *s = json_object_new_object();

	json_object_object_add(s, "type", json_object_new_string("object"));
	json_object_object_add(s, "properties", json_tokener_parse(props_json));
	if (required) {
		struct json_object *r = json_object_new_array();
		json_object_array_add(r, json_object_new_string(required));
		json_object_object_add(s, "required", r);
	}
	return s;
}

static struct json_object *tool(const char *name, const char *title,
				const char *desc, struct json_object *in)
{
	struct json_object *t = json_object_new_object(), *a = json_object_new_object();

	json_object_object_add(t, "name", json_object_new_string(name));
	json_object_object_add(t, "title", json_object_new_string(title));
	json_object_object_add(t, "description", json_object_new_string(desc));
	json_object_object_add(t, "inputSchema", in);
	json_object_object_add(a, "readOnlyHint", json_object_new_boolean(1));
	json_object_object_add(a, "destructiveHint", json_object_new_boolean(0));
	json_object_object_add(a, "idempotentHint", json_object_new_boolean(1));
	json_object_object_add(a, "openWorldHint", json_object_new_boolean(0));
	json_object_object_add(t, "annotations", a);
	return t;
}

static struct json_object *tools_list(void)
{
	struct json_object *r = json_object_new_object(), *arr = json_object_new_array();

	json_object_array_add(arr, tool("check_policy", "Check an actplane policy",
		"Validate actplane policy text without enforcing it: a whole actplane.yaml "
		"(starting with `version: 1`) or DSL text (`source L = ...` declarations and "
		"`rule NAME: ... because \"...\"`); the text is checked on its own, so it must "
		"declare the labels it uses (read actplane:///policy for the project's). "
		"Returns the compiler's diagnostics (FILE:LINE:COL: error: ...) or, when valid, "
		"a summary of the rules and how this kernel would enforce them. It never "
		"changes the policy in force.",
		schema("{\"policy\":{\"type\":\"string\",\"description\":\"policy text: YAML file or DSL rules\"},"
		       "\"domain\":{\"type\":\"string\",\"description\":\"form B: the domain to select\"}}",
		       "policy")));
	json_object_array_add(arr, tool("explain_last_violation", "Explain the last actplane violation",
		"What actplane stopped most recently in this project, the rule and its reason, "
		"whether retrying can work and what to do instead, plus how the process came to "
		"carry the labels that matched (provenance).",
		schema("{}", NULL)));
	json_object_array_add(arr, tool("pending_approvals", "List pending approvals",
		"Operations held or denied by `ask` rules and waiting for a person "
		"(`actplane pending --json`). Only a person outside the session can approve "
		"them with `actplane approve ID`; this tool cannot.",
		schema("{}", NULL)));
	json_object_object_add(r, "tools", arr);
	return r;
}

static char *run_check(struct ap_mcp *m, const char *text, const char *domain,
		       bool *is_error, struct json_object **structured)
{
	struct ap_load_opts lo = { .cwd = m->root[0] ? m->root : m->cwd, .domain = domain };
	struct ap_kernel_caps caps;
	struct ap_diags diags = { 0 };
	struct ap_policy *pol = NULL;
	struct ap_compiled *c = NULL;
	struct ap_lower_opts lw = { 0 };
	struct ap_sbuf out = { 0 };
	struct json_object *diag_arr = json_object_new_array();
	bool yaml = false;
	int err;

	for (const char *p = text; *p == ' ' || *p == '\n' || *p == '\t' || *p == '#' || *p == 'v' || *p == '-'; ) {
		if (!strncmp(p, "version:", 8) || !strncmp(p, "---", 3)) {
			yaml = true;
			break;
		}
		if (*p == '#') {
			p = strchr(p, '\n');
			if (!p)
				break;
			continue;
		}
		if (*p == 'v' || *p == '-')
			break;
		p++;
	}
	ap_kernel_caps__probe(&caps);
	if (yaml) {
		err = ap_policy_load_buffer("<check_policy>", text, strlen(text), &lo, &diags, &pol);
	} else {
		lo.rule_text = text;
		err = ap_policy_load(&lo, &diags, &pol);
	}
	if (!err && pol) {
		lw.degraded_effects = ap_kernel_caps__degraded_effects(&caps);
		lw.resolve = no_resolve;
		err = ap_lower(pol, &lw, &diags, &c);
	}
	for (unsigned i = 0; i < diags.n; i++) {
		char *h = ap_diag__headline(&diags.v[i], pol ? pol->srcs : NULL, pol ? pol->nsrcs : 0);
		if (!h)
			continue;
		ap_sbuf__printf(&out, "%s\n", h);
		json_object_array_add(diag_arr, json_object_new_string(h));
		free(h);
	}
	if (!err) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		struct ap_summary s = { .pol = pol, .c = c, .caps = &caps, .diags = &diags, .valid = true };
		if (f) {
			ap_summary__print(&s, f);
			fclose(f);
		}
		ap_sbuf__printf(&out, "%svalid (checked only; the policy in force is unchanged)\n%s",
				out.len ? "\n" : "", buf ? buf : "");
		free(buf);
	} else if (!diags.n) {
		ap_sbuf__printf(&out, "invalid: %s\n", strerror(-err));
	}
	if (strstr(text, "endpoint"))
		ap_sbuf__puts(&out, NO_RESOLVE_NOTE);
	*is_error = false; /* the check ran; an invalid policy is its answer */
	*structured = json_object_new_object();
	json_object_object_add(*structured, "valid", json_object_new_boolean(!err));
	json_object_object_add(*structured, "diagnostics", diag_arr);
	ap_compiled__free(c);
	ap_diags__free(&diags);
	ap_policy__free(pol);
	return out.s;
}

static char *explain_last(struct ap_mcp *m)
{
	struct ap_sbuf out = { 0 };
	char *fb = feedback_tail(m, 1), *buf, *last = NULL, *line, *save = NULL;
	size_t len;

	ap_sbuf__puts(&out, fb ? fb : "");
	free(fb);
	buf = slurp_tail(m->events, 1 << 20, &len);
	for (line = buf ? strtok_r(buf, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save))
		if (strstr(line, "\"type\":\"violation\""))
			last = line;
	if (last) {
		struct json_object *ev = json_tokener_parse(last), *prov, *v;
		if (ev && json_object_object_get_ex(ev, "provenance", &prov) &&
		    json_object_is_type(prov, json_type_array) && json_object_array_length(prov)) {
			ap_sbuf__puts(&out, "\nprovenance (where the labels that matched were acquired):\n");
			for (size_t i = 0; i < json_object_array_length(prov); i++) {
				struct json_object *p = json_object_array_get_idx(prov, i);
				const char *k[] = { "label", "op", "target", "comm", "pid", "ts" };
				ap_sbuf__puts(&out, " ");
				for (unsigned j = 0; j < 6; j++)
					if (json_object_object_get_ex(p, k[j], &v))
						ap_sbuf__printf(&out, " %s=%s", k[j], json_object_get_string(v));
				ap_sbuf__putc(&out, '\n');
			}
		}
		if (ev)
			ap_sbuf__printf(&out, "\nevent: %s\n", last);
		json_object_put(ev);
	}
	free(buf);
	return out.s;
}

/* Run `actplane ARGS...` (this executable) capturing stdout+stderr. */
static int run_self(struct ap_mcp *m, const char *const *args, bool use_sudo,
		    char **output)
{
	int pfd[2], status = 0;
	struct ap_sbuf out = { 0 };
	char buf[4096];
	ssize_t n;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (pid == 0) {
		const char *argv[16];
		int a = 0, nul = open("/dev/null", O_RDONLY);
		dup2(nul, 0);
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		if (use_sudo) {
			argv[a++] = "sudo";
			argv[a++] = "-n";
		}
		argv[a++] = m->self;
		for (int i = 0; args[i] && a < 15; i++)
			argv[a++] = args[i];
		argv[a] = NULL;
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			ap_sbuf__put_n(&out, buf, (size_t)n);
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (out.s) /* the last newline would split the report */
		while (out.len && (out.s[out.len - 1] == '\n' || out.s[out.len - 1] == ' '))
			out.s[--out.len] = '\0';
	*output = out.s ? out.s : strdup("");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static char *pending(struct ap_mcp *m, bool *is_error)
{
	const char *const args[] = { "pending", "--json", NULL };
	char *out = NULL, *ret = NULL;
	int rc = run_self(m, args, false, &out);

	if (rc == 0) {
		*is_error = false;
		if (out && !*out) { /* pending --json prints nothing when nothing waits */
			free(out);
			out = strdup("No operation is waiting for approval.");
		}
		return out;
	}
	*is_error = true;
	if (asprintf(&ret, "cannot list approvals: `actplane pending --json` exited %d%s%s",
		     rc, out && *out ? ": " : "", out ? out : "") < 0)
		ret = NULL;
	free(out);
	return ret;
}

int ap_mcp__attach_parent(struct ap_mcp *m)
{
	char pid[32], *out = NULL;
	const char *const args[] = { "attach", "--pid", pid, NULL };
	bool root = geteuid() == 0;
	int rc;

	snprintf(pid, sizeof(pid), "%d", (int)getppid());
	/* root asks the daemon directly; otherwise only passwordless sudo
	 * (-n) is tried: an MCP server has no terminal to ask for a password */
	rc = run_self(m, args, !root, &out);
	free(m->attach_status);
	m->attach_status = NULL;
	m->attach_ok = rc == 0;
	if (rc == 0) {
		if (asprintf(&m->attach_status, "attached pid %s (the agent) to the watch daemon", pid) < 0)
			m->attach_status = NULL;
	} else {
		const char *hint = !root && out && strstr(out, "password")
			? " (passwordless sudo is not set up for actplane)"
			: out && strstr(out, "unknown command")
			? " (this actplane has no `attach`/`watch` yet)"
			: "";
		if (asprintf(&m->attach_status,
			     "could not attach pid %s: `%sactplane attach --pid %s` exited %d%s: %s"
			     " -- the agent is NOT under the policy; start it with `actplane run -- AGENT` instead",
			     pid, root ? "" : "sudo -n ", pid, rc, hint, out ? out : "") < 0)
			m->attach_status = NULL;
	}
	if (m->attach_status && rc)
		ap_warn("mcp: %s", m->attach_status);
	else if (m->attach_status)
		ap_info("mcp: %s", m->attach_status);
	free(out);
	return rc ? -EPERM : 0;
}

static struct json_object *tools_call(struct ap_mcp *m, struct json_object *params,
				      int *code, const char **emsg)
{
	struct json_object *v, *args = NULL, *r, *structured = NULL;
	const char *name = NULL;
	bool is_error = false;
	char *text = NULL;

	if (json_object_object_get_ex(params, "name", &v))
		name = json_object_get_string(v);
	json_object_object_get_ex(params, "arguments", &args);
	if (!name) {
		*code = -32602;
		*emsg = "tools/call: missing name";
		return NULL;
	}
	if (!strcmp(name, "check_policy")) {
		const char *policy = NULL, *domain = NULL;
		if (args && json_object_object_get_ex(args, "policy", &v) &&
		    json_object_is_type(v, json_type_string))
			policy = json_object_get_string(v);
		if (args && json_object_object_get_ex(args, "domain", &v) &&
		    json_object_is_type(v, json_type_string))
			domain = json_object_get_string(v);
		if (!policy) {
			*code = -32602;
			*emsg = "check_policy: argument 'policy' (string) is required";
			return NULL;
		}
		text = run_check(m, policy, domain, &is_error, &structured);
	} else if (!strcmp(name, "explain_last_violation")) {
		text = explain_last(m);
	} else if (!strcmp(name, "pending_approvals")) {
		text = pending(m, &is_error);
	} else {
		*code = -32602;
		*emsg = "unknown tool";
		return NULL;
	}
	r = json_object_new_object();
	json_object_object_add(r, "content", text_content(text));
	if (structured)
		json_object_object_add(r, "structuredContent", structured);
	json_object_object_add(r, "isError", json_object_new_boolean(is_error));
	free(text);
	return r;
}

/* ---- JSON-RPC ---- */

static struct json_object *capabilities(void)
{
	struct json_object *c = json_object_new_object(), *res = json_object_new_object(),
			   *tl = json_object_new_object();

	json_object_object_add(res, "subscribe", json_object_new_boolean(1));
	json_object_object_add(res, "listChanged", json_object_new_boolean(0));
	json_object_object_add(tl, "listChanged", json_object_new_boolean(0));
	json_object_object_add(c, "resources", res);
	json_object_object_add(c, "tools", tl);
	return c;
}

static struct json_object *server_info(void)
{
	struct json_object *i = json_object_new_object();

	json_object_object_add(i, "name", json_object_new_string("actplane"));
	json_object_object_add(i, "title", json_object_new_string("actplane policy enforcement"));
	json_object_object_add(i, "version", json_object_new_string(AP_VERSION));
	return i;
}

static const char instructions[] =
	"actplane enforces an information-flow policy on this project's agent session. "
	"Read actplane:///feedback or call explain_last_violation when a command was stopped; "
	"validate a rule you want to propose with check_policy. Nothing here can weaken the "
	"policy or approve an operation: approvals come from a person outside the session.";

static struct json_object *initialize(struct ap_mcp *m, struct json_object *params)
{
	struct json_object *r = json_object_new_object(), *v;
	const char *want = NULL, *ver = AP_MCP_LATEST;

	if (params && json_object_object_get_ex(params, "protocolVersion", &v))
		want = json_object_get_string(v);
	for (unsigned i = 0; want && i < sizeof(versions) / sizeof(versions[0]); i++)
		if (!strcmp(want, versions[i]))
			ver = versions[i];
	json_object_object_add(r, "protocolVersion", json_object_new_string(ver));
	json_object_object_add(r, "capabilities", capabilities());
	json_object_object_add(r, "serverInfo", server_info());
	json_object_object_add(r, "instructions", json_object_new_string(instructions));
	m->initialized = true;
	return r;
}

static struct json_object *discover(void)
{
	struct json_object *r = json_object_new_object(), *vs = json_object_new_array();

	json_object_array_add(vs, json_object_new_string(AP_MCP_STATELESS));
	for (unsigned i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		json_object_array_add(vs, json_object_new_string(versions[i]));
	json_object_object_add(r, "supportedVersions", vs);
	json_object_object_add(r, "capabilities", capabilities());
	json_object_object_add(r, "serverInfo", server_info());
	json_object_object_add(r, "instructions", json_object_new_string(instructions));
	return r;
}

static struct json_object *error_obj(struct json_object *id, int code, const char *msg)
{
	struct json_object *o = json_object_new_object(), *e = json_object_new_object();

	json_object_object_add(o, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(o, "id", id ? json_object_get(id) : NULL);
	json_object_object_add(e, "code", json_object_new_int(code));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_object_add(o, "error", e);
	return o;
}

static struct json_object *handle_one(struct ap_mcp *m, struct json_object *req)
{
	struct json_object *v, *id = NULL, *params = NULL, *result = NULL, *o, *meta;
	const char *method, *emsg = "internal error";
	bool stateless = false;
	int code = 0, r;

	if (!json_object_is_type(req, json_type_object))
		return error_obj(NULL, -32600, "invalid request: not an object");
	bool has_id = json_object_object_get_ex(req, "id", &id);
	if (!json_object_object_get_ex(req, "method", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		/* a response to a request of ours (we send none), or junk */
		return has_id && (json_object_object_get_ex(req, "result", NULL) ||
				  json_object_object_get_ex(req, "error", NULL))
			? NULL : error_obj(id, -32600, "invalid request: no method");
	}
	method = json_object_get_string(v);
	json_object_object_get_ex(req, "params", &params);
	if (params && json_object_object_get_ex(params, "_meta", &meta) &&
	    json_object_object_get_ex(meta, "io.modelcontextprotocol/protocolVersion", &v))
		stateless = !strcmp(json_object_get_string(v), AP_MCP_STATELESS);

	if (!has_id)
		return NULL; /* notifications: initialized, cancelled, ... */

	if (!strcmp(method, "initialize")) {
		result = initialize(m, params);
	} else if (!strcmp(method, "server/discover")) {
		result = discover();
	} else if (!strcmp(method, "ping")) {
		result = json_object_new_object();
	} else if (!strcmp(method, "resources/list")) {
		struct json_object *arr = json_object_new_array();
		for (int i = 0; i < RES__COUNT; i++) {
			o = json_object_new_object();
			json_object_object_add(o, "uri", json_object_new_string(resources[i].uri));
			json_object_object_add(o, "name", json_object_new_string(resources[i].name));
			json_object_object_add(o, "title", json_object_new_string(resources[i].title));
			json_object_object_add(o, "description", json_object_new_string(resources[i].desc));
			json_object_object_add(o, "mimeType", json_object_new_string(resources[i].mime));
			json_object_array_add(arr, o);
		}
		result = json_object_new_object();
		json_object_object_add(result, "resources", arr);
	} else if (!strcmp(method, "resources/templates/list")) {
		result = json_object_new_object();
		json_object_object_add(result, "resourceTemplates", json_object_new_array());
	} else if (!strcmp(method, "resources/read") || !strcmp(method, "resources/subscribe") ||
		   !strcmp(method, "resources/unsubscribe")) {
		const char *uri = params && json_object_object_get_ex(params, "uri", &v)
			? json_object_get_string(v) : NULL;
		r = res_index(uri);
		if (r < 0) {
			code = -32002;
			emsg = "resource not found";
		} else if (!strcmp(method, "resources/read")) {
			char *text = read_resource(m, r);
			struct json_object *arr = json_object_new_array();
			o = json_object_new_object();
			json_object_object_add(o, "uri", json_object_new_string(resources[r].uri));
			json_object_object_add(o, "mimeType", json_object_new_string(resources[r].mime));
			json_object_object_add(o, "text", json_object_new_string(text ? text : ""));
			json_object_array_add(arr, o);
			free(text);
			result = json_object_new_object();
			json_object_object_add(result, "contents", arr);
		} else {
			m->subscribed[r] = !strcmp(method, "resources/subscribe");
			sig_take(m, r);
			result = json_object_new_object();
		}
	} else if (!strcmp(method, "tools/list")) {
		result = tools_list();
	} else if (!strcmp(method, "tools/call")) {
		result = tools_call(m, params, &code, &emsg);
	} else {
		code = -32601;
		emsg = "method not found";
	}
	if (!result)
		return error_obj(id, code ? code : -32603, emsg);
	if (stateless)
		json_object_object_add(result, "resultType", json_object_new_string("complete"));
	o = json_object_new_object();
	json_object_object_add(o, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(o, "id", json_object_get(id));
	json_object_object_add(o, "result", result);
	return o;
}

int ap_mcp__handle(struct ap_mcp *m, const char *msg, size_t len, char **reply)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *req, *resp = NULL;

	*reply = NULL;
	if (!tok)
		return -ENOMEM;
	req = json_tokener_parse_ex(tok, msg, (int)len);
	if (!req || json_tokener_get_error(tok) != json_tokener_success) {
		json_tokener_free(tok);
		json_object_put(req);
		/* blank lines between messages are not an error */
		if (strspn(msg, " \t\r\n") >= len)
			return 0;
		resp = error_obj(NULL, -32700, "parse error");
	} else if (json_object_is_type(req, json_type_array)) {
		json_tokener_free(tok);
		size_t n = json_object_array_length(req);
		if (!n) {
			resp = error_obj(NULL, -32600, "invalid request: empty batch");
		} else {
			resp = json_object_new_array();
			for (size_t i = 0; i < n; i++) {
				struct json_object *one = handle_one(m, json_object_array_get_idx(req, i));
				if (one)
					json_object_array_add(resp, one);
			}
			if (!json_object_array_length(resp)) {
				json_object_put(resp);
				resp = NULL;
			}
		}
	} else {
		json_tokener_free(tok);
		resp = handle_one(m, req);
	}
	json_object_put(req);
	if (resp) {
		*reply = strdup(json_object_to_json_string_ext(resp, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(resp);
		if (!*reply)
			return -ENOMEM;
	}
	return 0;
}

int ap_mcp__new(const struct ap_mcp_opts *opts, struct ap_mcp **out)
{
	struct ap_mcp *m = calloc(1, sizeof(*m));
	ssize_t n;

	if (!m)
		return -ENOMEM;
	if (opts && opts->cwd)
		snprintf(m->cwd, sizeof(m->cwd), "%s", opts->cwd);
	else if (!getcwd(m->cwd, sizeof(m->cwd)))
		snprintf(m->cwd, sizeof(m->cwd), "/");
	if (opts && opts->self_exe) {
		snprintf(m->self, sizeof(m->self), "%s", opts->self_exe);
	} else {
		n = readlink("/proc/self/exe", m->self, sizeof(m->self) - 1);
		m->self[n > 0 ? n : 0] = '\0';
	}
	locate(m);
	*out = m;
	return 0;
}

void ap_mcp__free(struct ap_mcp *m)
{
	if (!m)
		return;
	free(m->attach_status);
	free(m);
}

static int write_line(int fd, const char *s)
{
	struct ap_sbuf b = { 0 };
	size_t off = 0;
	int err = 0;

	ap_sbuf__puts(&b, s);
	ap_sbuf__putc(&b, '\n');
	while (!b.oom && off < b.len) {
		ssize_t n = write(fd, b.s + off, b.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		off += (size_t)n;
	}
	ap_sbuf__free(&b);
	return err;
}

int ap_mcp__serve(struct ap_mcp *m, int in_fd, int out_fd)
{
	struct ap_sbuf in = { 0 };
	char buf[65536];
	int err = 0;

	for (;;) {
		struct pollfd p = { .fd = in_fd, .events = POLLIN };
		char *notes[RES__COUNT];
		int pr = poll(&p, 1, 1000), nn;
		ssize_t n;

		nn = ap_mcp__changes(m, notes, RES__COUNT);
		for (int i = 0; i < nn; i++) {
			if (!err)
				err = write_line(out_fd, notes[i]);
			free(notes[i]);
		}
		if (err)
			break;
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			continue;
		n = read(in_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* EOF: the client went away */
		ap_sbuf__put_n(&in, buf, (size_t)n);
		for (;;) {
			char *nl = in.s ? memchr(in.s, '\n', in.len) : NULL, *reply = NULL;
			size_t l;

			if (!nl)
				break;
			l = (size_t)(nl - in.s);
			ap_mcp__handle(m, in.s, l, &reply);
			if (reply) {
				err = write_line(out_fd, reply);
				free(reply);
			}
			memmove(in.s, nl + 1, in.len - l - 1);
			in.len -= l + 1;
			in.s[in.len] = '\0';
			if (err)
				break;
		}
		if (err || in.len > (16u << 20))
			break;
	}
	ap_sbuf__free(&in);
	return err;
}
