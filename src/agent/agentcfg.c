// SPDX-License-Identifier: MIT
#include "agentcfg.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "agent/sbuf.h"
#include "common/log.h"

/* ---- files ---- */

static char *read_file(const char *path, size_t *len, int *err)
{
	FILE *f = fopen(path, "re");
	struct ap_sbuf b = { 0 };
	char chunk[8192];
	size_t n;

	*err = 0;
	if (!f) {
		*err = -errno;
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		ap_sbuf__put_n(&b, chunk, n);
	if (ferror(f))
		*err = -EIO;
	fclose(f);
	if (b.oom)
		*err = -ENOMEM;
	if (*err) {
		ap_sbuf__free(&b);
		return NULL;
	}
	if (!b.s)
		ap_sbuf__puts(&b, "");
	*len = b.len;
	return b.s;
}

static int mkdirs_for(const char *file)
{
	char p[PATH_MAX];

	if (snprintf(p, sizeof(p), "%s", file) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return 0;
}

/* tmp + rename in the same directory; the old file's mode is kept */
static int write_atomic(const char *path, const char *data, size_t len)
{
	char tmp[PATH_MAX + 32];
	struct stat st;
	mode_t mode = 0644;
	int fd, err = 0;
	size_t off = 0;

	if (stat(path, &st) == 0)
		mode = st.st_mode & 07777;
	err = mkdirs_for(path);
	if (err)
		return err;
	if (snprintf(tmp, sizeof(tmp), "%s.actplane-%d.tmp", path, (int)getpid()) >=
	    (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		off += (size_t)n;
	}
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

/* ---- JSON configs ---- */

static int load_json(const char *path, struct json_object **out)
{
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	size_t len;
	int err;
	char *text = read_file(path, &len, &err);

	*out = NULL;
	if (!text) {
		if (err != -ENOENT)
			return err;
		*out = json_object_new_object();
		return 0;
	}
	if (strspn(text, " \t\r\n") == len) {
		free(text);
		*out = json_object_new_object();
		return 0;
	}
	tok = json_tokener_new();
	*out = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	json_tokener_free(tok);
	free(text);
	if (jerr != json_tokener_success || !*out ||
	    !json_object_is_type(*out, json_type_object)) {
		ap_err("'%s': not a JSON object (%s); left untouched, fix it and run again",
		       path, jerr == json_tokener_continue ? "it ends too early" :
			     jerr == json_tokener_success ? "the top level is not an object" :
			     json_tokener_error_desc(jerr));
		json_object_put(*out);
		*out = NULL;
		return -EINVAL;
	}
	return 0;
}

static int save_json(const char *path, struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						     JSON_C_TO_STRING_SPACED |
						     JSON_C_TO_STRING_NOSLASHESCAPE);
	struct ap_sbuf b = { 0 };
	int err;

	ap_sbuf__puts(&b, s);
	ap_sbuf__putc(&b, '\n');
	err = b.oom ? -ENOMEM : write_atomic(path, b.s, b.len);
	ap_sbuf__free(&b);
	return err;
}

/* obj[key] as an object/array, created when missing; NULL when it exists
 * with another type (we do not overwrite the user's data) */
static struct json_object *child(struct json_object *obj, const char *key,
				 enum json_type type)
{
	struct json_object *v;

	if (json_object_object_get_ex(obj, key, &v))
		return json_object_is_type(v, type) ? v : NULL;
	v = type == json_type_array ? json_object_new_array() : json_object_new_object();
	json_object_object_add(obj, key, v);
	return v;
}

static bool is_our_command(const char *cmd, const char *sub)
{
	size_t n = strlen(cmd), s = strlen(sub);

	return strstr(cmd, "actplane") && n > s && !strcmp(cmd + n - s, sub) &&
	       cmd[n - s - 1] == ' ';
}

/* In an event's list of matcher groups, find a handler running our hook;
 * update its command when it differs (the binary moved). Returns the group
 * index, or -1. *changed set when updated. */
static int find_hook(struct json_object *groups, const char *command,
		     bool *changed)
{
	size_t n = json_object_array_length(groups);

	for (size_t g = 0; g < n; g++) {
		struct json_object *grp = json_object_array_get_idx(groups, g), *hs, *c;
		if (!json_object_is_type(grp, json_type_object) ||
		    !json_object_object_get_ex(grp, "hooks", &hs) ||
		    !json_object_is_type(hs, json_type_array))
			continue;
		for (size_t h = 0; h < json_object_array_length(hs); h++) {
			struct json_object *hd = json_object_array_get_idx(hs, h);
			const char *cmd;
			if (!json_object_is_type(hd, json_type_object) ||
			    !json_object_object_get_ex(hd, "command", &c) ||
			    !json_object_is_type(c, json_type_string))
				continue;
			cmd = json_object_get_string(c);
			if (!is_our_command(cmd, "feedback-hook"))
				continue;
			if (command && strcmp(cmd, command)) {
				json_object_object_add(hd, "command",
						       json_object_new_string(command));
				*changed = true;
			}
			return (int)g;
		}
	}
	return -1;
}

static int add_hook(struct json_object *root, const char *event,
		    const char *matcher, const char *command, int timeout,
		    bool *changed, int *group)
{
	struct json_object *hooks = child(root, "hooks", json_type_object);
	struct json_object *groups, *grp, *hs, *hd;
	int g;

	if (!hooks || !(groups = child(hooks, event, json_type_array)))
		return -EINVAL;
	g = find_hook(groups, command, changed);
	if (g < 0) {
		grp = json_object_new_object();
		if (matcher)
			json_object_object_add(grp, "matcher", json_object_new_string(matcher));
		hs = json_object_new_array();
		hd = json_object_new_object();
		json_object_object_add(hd, "type", json_object_new_string("command"));
		json_object_object_add(hd, "command", json_object_new_string(command));
		if (timeout)
			json_object_object_add(hd, "timeout", json_object_new_int(timeout));
		json_object_array_add(hs, hd);
		json_object_object_add(grp, "hooks", hs);
		/* appended last: earlier groups keep their positional trust keys */
		json_object_array_add(groups, grp);
		g = (int)json_object_array_length(groups) - 1;
		*changed = true;
	}
	if (group)
		*group = g;
	return 0;
}

int ap_agentcfg__merge_claude(const char *file, const char *command)
{
	struct json_object *root;
	bool changed = false;
	int err = load_json(file, &root);

	if (err)
		return err;
	err = add_hook(root, "PostToolUse", "*", command, AP_AGENTCFG_TIMEOUT_S,
		       &changed, NULL);
	if (!err)
		err = add_hook(root, "PostToolUseFailure", "*", command,
			       AP_AGENTCFG_TIMEOUT_S, &changed, NULL);
	if (err == -EINVAL)
		ap_err("'%s': \"hooks\" is not laid out as Claude Code expects; left untouched", file);
	if (!err && changed)
		err = save_json(file, root);
	json_object_put(root);
	return err ? err : changed;
}

int ap_agentcfg__merge_codex_hooks(const char *file, const char *command,
				   int *group)
{
	struct json_object *root;
	bool changed = false;
	int err = load_json(file, &root);

	if (err)
		return err;
	/* no matcher: every tool (a write by apply_patch can be stopped too) */
	err = add_hook(root, "PostToolUse", NULL, command, AP_AGENTCFG_TIMEOUT_S,
		       &changed, group);
	if (err == -EINVAL)
		ap_err("'%s': \"hooks\" is not laid out as Codex expects; left untouched", file);
	if (!err && changed)
		err = save_json(file, root);
	json_object_put(root);
	return err ? err : changed;
}

int ap_agentcfg__merge_mcp(const char *file, const char *bin)
{
	struct json_object *root, *servers, *srv, *v, *args;
	bool changed = false;
	int err = load_json(file, &root);

	if (err)
		return err;
	servers = child(root, "mcpServers", json_type_object);
	if (!servers) {
		ap_err("'%s': \"mcpServers\" is not an object; left untouched", file);
		json_object_put(root);
		return -EINVAL;
	}
	if (!json_object_object_get_ex(servers, "actplane", &srv) ||
	    !json_object_is_type(srv, json_type_object)) {
		srv = json_object_new_object();
		json_object_object_add(servers, "actplane", srv);
		changed = true;
	}
	if (!json_object_object_get_ex(srv, "command", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), bin)) {
		json_object_object_add(srv, "command", json_object_new_string(bin));
		changed = true;
	}
	if (!json_object_object_get_ex(srv, "args", &v) ||
	    !json_object_is_type(v, json_type_array) || json_object_array_length(v) < 1 ||
	    strcmp(json_object_get_string(json_object_array_get_idx(v, 0)), "mcp")) {
		args = json_object_new_array();
		json_object_array_add(args, json_object_new_string("mcp"));
		json_object_object_add(srv, "args", args);
		changed = true;
	}
	if (changed)
		err = save_json(file, root);
	json_object_put(root);
	return err ? err : changed;
}

bool ap_agentcfg__has_claude(const char *file)
{
	struct json_object *root, *hooks, *groups;
	bool ok = true, changed = false;
	const char *const ev[] = { "PostToolUse", "PostToolUseFailure" };

	if (load_json(file, &root))
		return false;
	for (int i = 0; i < 2; i++)
		ok = ok && json_object_object_get_ex(root, "hooks", &hooks) &&
		     json_object_object_get_ex(hooks, ev[i], &groups) &&
		     json_object_is_type(groups, json_type_array) &&
		     find_hook(groups, NULL, &changed) >= 0;
	json_object_put(root);
	return ok;
}

bool ap_agentcfg__has_codex_hook(const char *file, int *group, char **command)
{
	struct json_object *root, *hooks, *groups, *hs, *c;
	bool changed = false;
	int g = -1;

	if (command)
		*command = NULL;
	if (load_json(file, &root))
		return false;
	if (json_object_object_get_ex(root, "hooks", &hooks) &&
	    json_object_object_get_ex(hooks, "PostToolUse", &groups) &&
	    json_object_is_type(groups, json_type_array))
		g = find_hook(groups, NULL, &changed);
	if (g >= 0 && command &&
	    json_object_object_get_ex(json_object_array_get_idx(groups, (size_t)g), "hooks", &hs)) {
		for (size_t h = 0; h < json_object_array_length(hs); h++)
			if (json_object_object_get_ex(json_object_array_get_idx(hs, h), "command", &c) &&
			    is_our_command(json_object_get_string(c), "feedback-hook"))
				*command = strdup(json_object_get_string(c));
	}
	if (group)
		*group = g;
	json_object_put(root);
	return g >= 0;
}

bool ap_agentcfg__has_mcp(const char *file)
{
	struct json_object *root, *servers, *srv, *v;
	bool ok;

	if (load_json(file, &root))
		return false;
	ok = json_object_object_get_ex(root, "mcpServers", &servers) &&
	     json_object_object_get_ex(servers, "actplane", &srv) &&
	     json_object_object_get_ex(srv, "command", &v) &&
	     json_object_is_type(v, json_type_string);
	json_object_put(root);
	return ok;
}

/* ---- Codex's hook identity ---- */

/* serde_json's escaping: ", \, and control characters; '/' and non-ASCII
 * stay as they are */
static void put_json_str(struct ap_sbuf *b, const char *s)
{
	ap_sbuf__putc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '"':  ap_sbuf__puts(b, "\\\""); break;
		case '\\': ap_sbuf__puts(b, "\\\\"); break;
		case '\n': ap_sbuf__puts(b, "\\n"); break;
		case '\r': ap_sbuf__puts(b, "\\r"); break;
		case '\t': ap_sbuf__puts(b, "\\t"); break;
		case '\b': ap_sbuf__puts(b, "\\b"); break;
		case '\f': ap_sbuf__puts(b, "\\f"); break;
		default:
			if (c < 0x20)
				ap_sbuf__printf(b, "\\u%04x", c);
			else
				ap_sbuf__putc(b, (char)c);
		}
	}
	ap_sbuf__putc(b, '"');
}

int ap_agentcfg__codex_hash(const char *command, unsigned timeout,
			    const char *matcher, char out[80])
{
	struct ap_sbuf b = { 0 };
	unsigned char md[32];
	unsigned int mdlen = 0;
	int err = 0;

	/* compact, keys sorted at every level */
	ap_sbuf__puts(&b, "{\"event_name\":\"post_tool_use\",\"hooks\":[{\"async\":false,\"command\":");
	put_json_str(&b, command);
	ap_sbuf__printf(&b, ",\"timeout\":%u,\"type\":\"command\"}]", timeout ? timeout : 600);
	if (matcher) {
		ap_sbuf__puts(&b, ",\"matcher\":");
		put_json_str(&b, matcher);
	}
	ap_sbuf__putc(&b, '}');
	if (b.oom || !EVP_Digest(b.s, b.len, md, &mdlen, EVP_sha256(), NULL)) {
		err = -ENOMEM;
	} else {
		char *p = out + sprintf(out, "sha256:");
		for (unsigned i = 0; i < mdlen; i++)
			p += sprintf(p, "%02x", md[i]);
	}
	ap_sbuf__free(&b);
	return err;
}

/* ---- TOML, line by line ---- */

#define TK_MAX 8

struct tkey {
	char *c[TK_MAX];
	int n;
};

static void tkey_free(struct tkey *k)
{
	for (int i = 0; i < k->n; i++)
		free(k->c[i]);
	k->n = 0;
}

/* Parse a dotted TOML key at p (bare, "basic" or 'literal' parts). Returns
 * the position after it (spaces skipped) or NULL when it is not a key we
 * understand. */
static const char *parse_key(const char *p, struct tkey *k)
{
	k->n = 0;
	for (;;) {
		struct ap_sbuf part = { 0 };

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\') {
					p++;
					if (*p == '"' || *p == '\\')
						ap_sbuf__putc(&part, *p);
					else
						goto bad; /* \n, \uXXXX: not in our keys */
				} else {
					ap_sbuf__putc(&part, *p);
				}
			}
			if (*p++ != '"')
				goto bad;
		} else if (*p == '\'') {
			for (p++; *p && *p != '\''; p++)
				ap_sbuf__putc(&part, *p);
			if (*p++ != '\'')
				goto bad;
		} else {
			const char *s = p;
			while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			       (*p >= '0' && *p <= '9') || *p == '_' || *p == '-')
				p++;
			if (p == s)
				goto bad;
			ap_sbuf__put_n(&part, s, (size_t)(p - s));
		}
		if (k->n == TK_MAX || part.oom)
			goto bad;
		if (!part.s)
			ap_sbuf__puts(&part, "");
		k->c[k->n++] = part.s;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '.')
			return p;
		p++;
		continue;
bad:
		ap_sbuf__free(&part);
		tkey_free(k);
		return NULL;
	}
}

static bool key_eq(const struct tkey *a, int off, const char *const *b, int n)
{
	if (a->n - off != n)
		return false;
	for (int i = 0; i < n; i++)
		if (strcmp(a->c[off + i], b[i]))
			return false;
	return true;
}

/* a is a prefix of b (or equal) */
static bool key_prefix(const char *const *a, int na, const char *const *b, int nb)
{
	if (na > nb)
		return false;
	for (int i = 0; i < na; i++)
		if (strcmp(a[i], b[i]))
			return false;
	return true;
}

static int count_sub(const char *s, const char *sub)
{
	int n = 0;
	for (const char *p = s; (p = strstr(p, sub)); p += strlen(sub))
		n++;
	return n;
}

static void put_toml_str(struct ap_sbuf *b, const char *s)
{
	ap_sbuf__putc(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			ap_sbuf__putc(b, '\\');
		ap_sbuf__putc(b, *s);
	}
	ap_sbuf__putc(b, '"');
}

struct toml_scan {
	const char *want[TK_MAX + 2]; /* table parts..., name, key */
	int nwant;
	long hdr_line, key_line;      /* -1 when absent */
	bool key_ok;                  /* the value already is ours */
	const char *why;
};

static void toml_scan(char **lines, long nlines, const char *value,
		      struct toml_scan *sc)
{
	struct tkey table = { 0 }, k = { 0 };
	const char *const *want = sc->want;
	int nt = sc->nwant - 1; /* the table we want: all but the key */
	bool in_basic = false, in_lit = false, in_ours = false;

	sc->hdr_line = sc->key_line = -1;
	for (long i = 0; i < nlines; i++) {
		const char *l = lines[i], *p;

		if (in_basic || in_lit) {
			if (count_sub(l, in_basic ? "\"\"\"" : "'''") % 2)
				in_basic = in_lit = false;
			continue;
		}
		for (p = l; *p == ' ' || *p == '\t'; p++)
			;
		if (*p == '#' || *p == '\n' || *p == '\0' || *p == '\r')
			continue;
		if (*p == '[') {
			bool arr = p[1] == '[';
			tkey_free(&table);
			in_ours = false;
			if (!parse_key(p + 1 + arr, &table)) {
				/* a header we cannot read could be ours */
				if (strstr(l, want[nt - 1])) {
					sc->why = "a table header naming it in a form this merge does not edit";
					return;
				}
				continue;
			}
			if (arr && key_prefix((const char *const *)table.c, table.n, want, nt)) {
				sc->why = "an array of tables on the same path";
				return;
			}
			if (!arr && key_eq(&table, 0, want, nt)) {
				sc->hdr_line = i;
				in_ours = true;
			}
			continue;
		}
		/* key = value */
		p = parse_key(p, &k);
		if (!p || *p != '=') {
			tkey_free(&k);
			continue; /* a continuation line of a multi-line array */
		}
		{
			const char *full[2 * TK_MAX];
			int nf = 0;
			for (int j = 0; j < table.n; j++)
				full[nf++] = table.c[j];
			for (int j = 0; j < k.n; j++)
				full[nf++] = k.c[j];
			const char *v = p + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			if (!strncmp(v, "\"\"\"", 3) && count_sub(v, "\"\"\"") % 2)
				in_basic = true;
			if (!strncmp(v, "'''", 3) && count_sub(v, "'''") % 2)
				in_lit = true;
			if (in_ours && k.n == 1 && !strcmp(k.c[0], want[nt])) {
				struct ap_sbuf q = { 0 };
				put_toml_str(&q, value);
				sc->key_line = i;
				sc->key_ok = q.s && !strncmp(v, q.s, q.len);
				ap_sbuf__free(&q);
				if (*v != '"' && *v != '\'') {
					sc->why = "the key with a value that is not a plain string";
					tkey_free(&k);
					goto out;
				}
			} else if (key_prefix(full, nf, want, sc->nwant) ||
				   key_prefix(want, nt, full, nf)) {
				/* an inline table or a dotted key on our path */
				sc->why = "the same table as an inline table or dotted keys";
				tkey_free(&k);
				goto out;
			}
		}
		tkey_free(&k);
	}
out:
	tkey_free(&table);
}

static int toml_load(const char *file, char **text, char ***lines, long *n)
{
	size_t len;
	int err;
	long cap = 64;

	*text = read_file(file, &len, &err);
	if (!*text && err != -ENOENT)
		return err;
	if (!*text)
		*text = strdup("");
	if (!*text)
		return -ENOMEM;
	*lines = malloc((size_t)cap * sizeof(char *));
	*n = 0;
	for (char *p = *text; *p;) {
		char *nl = strchr(p, '\n');
		if (*n == cap) {
			cap *= 2;
			*lines = realloc(*lines, (size_t)cap * sizeof(char *));
		}
		(*lines)[(*n)++] = p;
		if (!nl)
			break;
		p = nl + 1;
	}
	return 0;
}

int ap_agentcfg__toml_has(const char *file, const char *table,
			  const char *name, const char *key, const char *value)
{
	struct toml_scan sc = { 0 };
	char *text, **lines, tbl[256], *save = NULL;
	long n;
	int err = toml_load(file, &text, &lines, &n);

	if (err)
		return err;
	/* lines point into text; split copies so the scan sees one line each */
	for (long i = 0; i < n; i++) {
		char *nl = strchr(lines[i], '\n');
		if (nl)
			*nl = '\0';
	}
	snprintf(tbl, sizeof(tbl), "%s", table);
	for (char *t = strtok_r(tbl, ".", &save); t; t = strtok_r(NULL, ".", &save))
		sc.want[sc.nwant++] = t;
	sc.want[sc.nwant++] = name;
	sc.want[sc.nwant++] = key;
	toml_scan(lines, n, value, &sc);
	free(lines);
	free(text);
	return sc.key_line >= 0 && sc.key_ok;
}

int ap_agentcfg__toml_set(const char *file, const char *table,
			  const char *name, const char *key,
			  const char *value, const char **why)
{
	struct toml_scan sc = { 0 };
	struct ap_sbuf out = { 0 }, kv = { 0 };
	char *text, **lines, tbl[256], *save = NULL;
	long n;
	int err;

	*why = NULL;
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20) {
			*why = "a name with control characters";
			return -EINVAL;
		}
	err = toml_load(file, &text, &lines, &n);
	if (err)
		return err;
	/* the scan wants each line NUL-terminated: work on a copy per line */
	char **copy = calloc((size_t)n + 1, sizeof(char *));
	for (long i = 0; i < n; i++) {
		size_t l = strcspn(lines[i], "\n");
		copy[i] = strndup(lines[i], l);
	}
	snprintf(tbl, sizeof(tbl), "%s", table);
	for (char *t = strtok_r(tbl, ".", &save); t; t = strtok_r(NULL, ".", &save))
		sc.want[sc.nwant++] = t;
	sc.want[sc.nwant++] = name;
	sc.want[sc.nwant++] = key;
	toml_scan(copy, n, value, &sc);
	if (sc.why) {
		*why = sc.why;
		err = -EINVAL;
		goto cleanup;
	}
	if (sc.key_line >= 0 && sc.key_ok) {
		err = 0;
		goto cleanup;
	}
	ap_sbuf__printf(&kv, "%s = ", key);
	put_toml_str(&kv, value);
	ap_sbuf__putc(&kv, '\n');
	for (long i = 0; i < n; i++) {
		if (i == sc.key_line) {
			ap_sbuf__put_n(&out, kv.s, kv.len);
			continue;
		}
		ap_sbuf__puts(&out, copy[i]);
		ap_sbuf__putc(&out, '\n');
		if (i == sc.hdr_line && sc.key_line < 0)
			ap_sbuf__put_n(&out, kv.s, kv.len);
	}
	if (sc.hdr_line < 0) {
		if (out.len)
			ap_sbuf__putc(&out, '\n');
		ap_sbuf__putc(&out, '[');
		for (int i = 0; i < sc.nwant - 2; i++)
			ap_sbuf__printf(&out, "%s.", sc.want[i]);
		put_toml_str(&out, name);
		ap_sbuf__puts(&out, "]\n");
		ap_sbuf__put_n(&out, kv.s, kv.len);
	}
	err = out.oom || kv.oom ? -ENOMEM : write_atomic(file, out.s ? out.s : "", out.len);
	if (!err)
		err = 1;
cleanup:
	for (long i = 0; i < n; i++)
		free(copy[i]);
	free(copy);
	ap_sbuf__free(&out);
	ap_sbuf__free(&kv);
	free(lines);
	free(text);
	return err;
}

/* ---- init ---- */

/* docs/agent-snippet.md holds the same text */
#define AP_AGENT_SNIPPET \
	"## actplane\n" \
	"\n" \
	"This project runs under actplane, which enforces an information-flow policy\n" \
	"(`actplane.yaml`) on everything you start. When an operation breaks a rule it\n" \
	"is reported, blocked, or the process is killed, and a message starting with\n" \
	"`[actplane]` reaches you after the tool call. It says what was stopped, the\n" \
	"rule and its reason (`because:`), whether retrying unchanged can work\n" \
	"(`retry:`) and what to do instead (`next:`).\n" \
	"\n" \
	"- Do not retry a stopped operation unchanged, and do not look for another\n" \
	"  spelling of it (aliases, wrappers, copies of the program): the rule is on\n" \
	"  what the operation does, and trying to get around it is a policy violation.\n" \
	"- Follow `next:`: run the step it names (e.g. the tests) and then retry, take\n" \
	"  the other path it names, or ask the user.\n" \
	"- An `ask` rule needs a person: tell the user the `actplane approve ID`\n" \
	"  command from the message; you cannot approve it yourself.\n" \
	"- The `actplane` MCP server (if configured) lets you read the policy and the\n" \
	"  last violation, and check a rule you propose with `check_policy`; nothing\n" \
	"  in it can loosen the policy.\n"

void ap_agentcfg__codex_home(char *buf, size_t size)
{
	const char *e = getenv("CODEX_HOME"), *home = getenv("HOME");

	if (e && *e)
		snprintf(buf, size, "%s", e);
	else
		snprintf(buf, size, "%s/.codex", home && *home ? home : "/root");
}

char *ap_agentcfg__hook_command(const char *bin)
{
	struct ap_sbuf b = { 0 };
	bool plain = strspn(bin, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "0123456789-_./+@") == strlen(bin);

	if (plain) {
		ap_sbuf__puts(&b, bin);
	} else {
		ap_sbuf__putc(&b, '\'');
		for (const char *p = bin; *p; p++) {
			if (*p == '\'')
				ap_sbuf__puts(&b, "'\\''");
			else
				ap_sbuf__putc(&b, *p);
		}
		ap_sbuf__putc(&b, '\'');
	}
	ap_sbuf__puts(&b, " feedback-hook");
	return b.oom ? (ap_sbuf__free(&b), NULL) : b.s;
}

static const char *changed_word(int r)
{
	return r > 0 ? "updated" : "already set up";
}

static int apply_codex(const struct ap_agentcfg_opts *o, const char *cmd, FILE *out)
{
	char file[PATH_MAX], real[PATH_MAX], home[PATH_MAX], toml[PATH_MAX + 16];
	char key[PATH_MAX + 64], hash[80];
	const char *why = NULL;
	int group = -1, r, r2 = 0, r3 = 0;

	snprintf(file, sizeof(file), "%s/.codex/hooks.json", o->project_dir);
	r = ap_agentcfg__merge_codex_hooks(file, cmd, &group);
	if (r < 0)
		return r;
	fprintf(out, "codex: %s %s (PostToolUse -> %s)\n", changed_word(r), file, cmd);

	/* the trust key names the canonical path of the declaring file */
	if (!realpath(file, real))
		snprintf(real, sizeof(real), "%s", file);
	snprintf(key, sizeof(key), "%s:post_tool_use:%d:0", real, group);
	ap_agentcfg__codex_hash(cmd, AP_AGENTCFG_TIMEOUT_S, NULL, hash);
	if (o->codex_home)
		snprintf(home, sizeof(home), "%s", o->codex_home);
	else
		ap_agentcfg__codex_home(home, sizeof(home));
	snprintf(toml, sizeof(toml), "%s/config.toml", home);
	if (!realpath(o->project_dir, real))
		snprintf(real, sizeof(real), "%s", o->project_dir);

	r2 = ap_agentcfg__toml_set(toml, "projects", real, "trust_level", "trusted", &why);
	if (r2 >= 0)
		r3 = ap_agentcfg__toml_set(toml, "hooks.state", key, "trusted_hash", hash, &why);
	if (r2 < 0 || r3 < 0) {
		fprintf(out,
			"codex: could not edit %s (%s): %s.\n"
			"  Codex runs a project hook only when the project is trusted and the\n"
			"  hook's hash is recorded. Add these lines to it yourself:\n"
			"    [projects.\"%s\"]\n    trust_level = \"trusted\"\n"
			"    [hooks.state.\"%s\"]\n    trusted_hash = \"%s\"\n",
			toml, why ? why : "error", why ? "left untouched" : strerror(-(r2 < 0 ? r2 : r3)),
			real, key, hash);
		return r2 < 0 ? r2 : r3;
	}
	fprintf(out,
		"codex: %s %s: trusted this project (Codex reads .codex/ of trusted\n"
		"  projects only) and recorded the hook's hash %s\n"
		"  note: changing the hook's command, matcher or timeout, or moving the\n"
		"  actplane binary, makes Codex skip it until `actplane init --with-codex`\n"
		"  runs again; a codex started with another CODEX_HOME needs the same.\n",
		r2 > 0 || r3 > 0 ? "updated" : "already set up in", toml, hash);
	return 0;
}

int ap_agentcfg__apply_opts(unsigned flags, const struct ap_agentcfg_opts *o)
{
	FILE *out = o->out ? o->out : stdout;
	char bin[PATH_MAX], file[PATH_MAX];
	char *cmd = NULL;
	int err = 0, r;
	ssize_t n;

	if (!flags)
		return 0;
	if (o->actplane_bin) {
		snprintf(bin, sizeof(bin), "%s", o->actplane_bin);
	} else {
		n = readlink("/proc/self/exe", bin, sizeof(bin) - 1);
		if (n < 0)
			return -errno;
		bin[n] = '\0';
	}
	cmd = ap_agentcfg__hook_command(bin);
	if (!cmd)
		return -ENOMEM;
	if (flags & AP_AGENTCFG_CLAUDE) {
		snprintf(file, sizeof(file), "%s/.claude/settings.local.json", o->project_dir);
		r = ap_agentcfg__merge_claude(file, cmd);
		if (r < 0)
			err = err ? err : r;
		else
			fprintf(out, "claude: %s %s (PostToolUse, PostToolUseFailure -> %s)\n",
				changed_word(r), file, cmd);
	}
	if (flags & AP_AGENTCFG_CODEX) {
		r = apply_codex(o, cmd, out);
		if (r < 0)
			err = err ? err : r;
	}
	if (flags & AP_AGENTCFG_MCP) {
		snprintf(file, sizeof(file), "%s/.mcp.json", o->project_dir);
		r = ap_agentcfg__merge_mcp(file, bin);
		if (r < 0)
			err = err ? err : r;
		else
			fprintf(out, "mcp: %s %s (server \"actplane\": %s mcp)\n",
				changed_word(r), file, bin);
		if (flags & AP_AGENTCFG_CODEX)
			fprintf(out, "mcp: for Codex, run: codex mcp add actplane -- %s mcp\n", bin);
	}
	fprintf(out, "\nTell the agent what actplane messages mean: paste this into %s\n"
		"(also in actplane's docs/agent-snippet.md):\n\n%s",
		(flags & AP_AGENTCFG_CODEX) && !(flags & AP_AGENTCFG_CLAUDE) ? "AGENTS.md" :
		(flags & AP_AGENTCFG_CODEX) ? "CLAUDE.md (Claude Code) and AGENTS.md (Codex)" :
		"CLAUDE.md", AP_AGENT_SNIPPET);
	free(cmd);
	return err;
}

int ap_agentcfg__apply(unsigned flags, const char *project_dir)
{
	struct ap_agentcfg_opts o = { .project_dir = project_dir };
	return ap_agentcfg__apply_opts(flags, &o);
}

bool ap_agentcfg__flag(const char *arg, unsigned *flags)
{
	if (!strcmp(arg, "--with-claude"))
		*flags |= AP_AGENTCFG_CLAUDE;
	else if (!strcmp(arg, "--with-codex"))
		*flags |= AP_AGENTCFG_CODEX;
	else if (!strcmp(arg, "--with-mcp"))
		*flags |= AP_AGENTCFG_MCP;
	else
		return false;
	return true;
}

int ap_agentcfg__apply_cwd(unsigned flags)
{
	char cwd[PATH_MAX];
	int err;

	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	err = ap_agentcfg__apply(flags, cwd);
	if (err)
		ap_err("init: wiring the agents failed: %s", strerror(-err));
	return err;
}
