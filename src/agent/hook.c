// SPDX-License-Identifier: MIT
#include "hook.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <yaml.h>

#include "agent/feedback.h"
#include "agent/sbuf.h"

/* ---- finding the file ---- */

static bool is_file(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Walk from dir to / calling test(dir) until it returns true; dir is left
 * holding the directory that matched. */
static bool walk_up(char *dir, bool (*test)(const char *d, void *ctx), void *ctx)
{
	for (;;) {
		char *slash;

		if (test(dir, ctx))
			return true;
		slash = strrchr(dir, '/');
		if (!slash)
			return false;
		if (slash == dir) {
			if (dir[1] == '\0')
				return false;
			dir[1] = '\0';
		} else {
			*slash = '\0';
		}
	}
}

struct find_policy { char *policy; size_t size; };

static bool has_policy(const char *d, void *ctx)
{
	struct find_policy *fp = ctx;
	char p[PATH_MAX];
	const char *base = strcmp(d, "/") ? d : "";

	if (snprintf(p, sizeof(p), "%s/actplane.yaml", base) >= (int)sizeof(p))
		return false;
	if (!is_file(p)) {
		if (snprintf(p, sizeof(p), "%s/.actplane/policy.yaml", base) >= (int)sizeof(p) ||
		    !is_file(p))
			return false;
	}
	if (fp->policy)
		snprintf(fp->policy, fp->size, "%s", p);
	return true;
}

static bool has_state_dir(const char *d, void *ctx)
{
	char p[PATH_MAX];

	(void)ctx;
	if (snprintf(p, sizeof(p), "%s/.actplane", strcmp(d, "/") ? d : "") >= (int)sizeof(p))
		return false;
	return is_dir(p);
}

int ap_hook__find_policy(const char *dir, char *root, size_t root_size,
			 char *policy, size_t policy_size)
{
	char d[PATH_MAX];
	struct find_policy fp = { policy, policy_size };

	if (!dir || dir[0] != '/' || strlen(dir) >= sizeof(d))
		return -ENOENT;
	snprintf(d, sizeof(d), "%s", dir);
	if (!walk_up(d, has_policy, &fp))
		return -ENOENT;
	if (root && snprintf(root, root_size, "%s", d) >= (int)root_size)
		return -ENAMETOOLONG;
	return 0;
}

int ap_hook__policy_feedback_path(const char *policy_file, char **out)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	FILE *f = fopen(policy_file, "re");
	/* depth 1 = top mapping; we look for feedback: {path: X} */
	int depth = 0, state = 0, err = 0;
	bool key = true, done = false;

	*out = NULL;
	if (!f)
		return -errno;
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		return -ENOMEM;
	}
	yaml_parser_set_input_file(&parser, f);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			err = -EINVAL;
			break;
		}
		switch (ev.type) {
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			if (depth == 1 && !key && state != 1)
				state = 0;
			depth++;
			key = true;
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			depth--;
			if (depth == 1)
				state = 0;
			key = depth >= 1 ? false : true;
			/* the value (a mapping) of a key is done: next is a key */
			key = true;
			break;
		case YAML_SCALAR_EVENT: {
			const char *v = (const char *)ev.data.scalar.value;
			if (depth == 1 && key)
				state = !strcmp(v, "feedback") ? 1 : 0;
			else if (depth == 2 && state == 1 && key)
				state = !strcmp(v, "path") ? 2 : 1;
			else if (depth == 2 && state == 2 && !key) {
				*out = strdup(v);
				done = true;
			} else if (depth == 2 && state == 2)
				state = 1;
			key = !key;
			break;
		}
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	fclose(f);
	return err;
}

int ap_hook__find_feedback(const char *cwd, char *buf, size_t size)
{
	char root[PATH_MAX], policy[PATH_MAX], d[PATH_MAX];
	char *fp = NULL;
	int err;

	if (ap_hook__find_policy(cwd, root, sizeof(root), policy, sizeof(policy)) == 0) {
		ap_hook__policy_feedback_path(policy, &fp);
		err = ap_feedback__path_for(root, fp, buf, size);
		free(fp);
		return err;
	}
	if (!cwd || cwd[0] != '/' || strlen(cwd) >= sizeof(d))
		return -ENOENT;
	snprintf(d, sizeof(d), "%s", cwd);
	if (!walk_up(d, has_state_dir, NULL))
		return -ENOENT;
	return ap_feedback__path_for(strcmp(d, "/") ? d : "", NULL, buf, size);
}

/* ---- the state ---- */

struct hook_state {
	unsigned long long dev, ino, off;
	unsigned long long head;  /* hash of the file's first entry: an inode
				   * number reused after rotation is a new file */
	unsigned long long last_entry_off, last_count_off;
	unsigned last_count;
	bool valid;
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

static int state_dir(const struct ap_hook_opts *o, char *buf, size_t size)
{
	const char *e;

	if (o && o->state_dir)
		e = o->state_dir, snprintf(buf, size, "%s", e);
	else if ((e = getenv("ACTPLANE_STATE_DIR")) && *e)
		snprintf(buf, size, "%s", e);
	else if ((e = getenv("XDG_STATE_HOME")) && *e == '/')
		snprintf(buf, size, "%s/actplane", e);
	else if ((e = getenv("HOME")) && *e == '/')
		snprintf(buf, size, "%s/.local/state/actplane", e);
	else
		snprintf(buf, size, "/tmp/actplane-%u", (unsigned)getuid());
	return 0;
}

static int mkdir_p(const char *dir)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s", dir);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static void state_read(const char *file, const char *fbpath, struct hook_state *st)
{
	char buf[PATH_MAX + 256], path[PATH_MAX];
	FILE *f = fopen(file, "re");

	memset(st, 0, sizeof(*st));
	if (!f)
		return;
	if (fgets(buf, sizeof(buf), f) &&
	    sscanf(buf, "v2 %llu %llu %llu %llu %llu %u %llx", &st->dev, &st->ino,
		   &st->off, &st->last_entry_off, &st->last_count_off,
		   &st->last_count, &st->head) == 7 &&
	    fgets(path, sizeof(path), f)) {
		path[strcspn(path, "\n")] = '\0';
		/* two paths with one hash: not ours */
		st->valid = !strcmp(path, fbpath);
	}
	fclose(f);
	if (!st->valid)
		memset(st, 0, sizeof(*st));
}

static int state_write(const char *file, const char *fbpath,
		       const struct hook_state *st)
{
	char tmp[PATH_MAX + 16];
	FILE *f;
	int err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.%d.tmp", file, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "v2 %llu %llu %llu %llu %llu %u %llx\n%s\n", st->dev, st->ino,
		st->off, st->last_entry_off, st->last_count_off, st->last_count,
		st->head, fbpath);
	if (fflush(f) || ferror(f))
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, file))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

/* ---- reading new entries ---- */

static int first_end(const struct ap_fb_entry *e, void *ctx)
{
	*(size_t *)ctx = e->end;
	return 1;
}

/* FNV-1a of the file's first complete entry (its JSON line has the
 * entry's id, a nanosecond time): 0 when there is none yet */
static unsigned long long head_hash(int fd)
{
	char buf[4096];
	ssize_t n = pread(fd, buf, sizeof(buf), 0);
	size_t end = 0;
	unsigned long long h = 0xcbf29ce484222325ull;

	if (n <= 0)
		return 0;
	ap_feedback__parse(buf, (size_t)n, first_end, &end);
	if (!end)
		end = (size_t)n; /* a first entry longer than the buffer */
	for (size_t i = 0; i < end; i++)
		h = (h ^ (unsigned char)buf[i]) * 0x100000001b3ull;
	return h;
}

static char *read_from(int fd, off_t off, size_t *len)
{
	struct stat st;
	char *buf;
	size_t want, got = 0;

	*len = 0;
	if (fstat(fd, &st) || st.st_size <= off)
		return NULL;
	want = (size_t)(st.st_size - off);
	if (want > 8u << 20) { /* more than the file may hold: read the tail */
		off = st.st_size - (8 << 20);
		want = 8u << 20;
	}
	buf = malloc(want + 1);
	if (!buf)
		return NULL;
	while (got < want) {
		ssize_t n = pread(fd, buf + got, want - got, off + (off_t)got);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			break;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	*len = got;
	return buf;
}

struct collect {
	struct ap_sbuf *parts;   /* one rendered entry each */
	unsigned n, cap;
	uint64_t min_ts;         /* first call: skip older entries */
	off_t base;              /* file offset of the buffer */
	struct hook_state *st;   /* last entry seen, when tracking */
};

static void add_part(struct collect *c, const char *text, size_t len,
		     unsigned count)
{
	struct ap_sbuf *p;

	if (c->n == c->cap) {
		unsigned cap = c->cap ? c->cap * 2 : 8;
		struct ap_sbuf *v = realloc(c->parts, cap * sizeof(*v));
		if (!v)
			return;
		c->parts = v;
		c->cap = cap;
	}
	p = &c->parts[c->n++];
	memset(p, 0, sizeof(*p));
	ap_sbuf__put_n(p, text, len);
	if (count > 1)
		ap_sbuf__printf(p, "repeated: %u times in a short while\n", count);
}

static int on_entry(const struct ap_fb_entry *e, void *ctx)
{
	struct collect *c = ctx;

	if (c->st) {
		c->st->last_entry_off = (unsigned long long)(c->base + (off_t)e->off);
		c->st->last_count_off = e->count_off ?
			(unsigned long long)(c->base + (off_t)e->count_off) : 0;
		c->st->last_count = e->count;
	}
	if (c->min_ts && e->ts_unix && e->ts_unix < c->min_ts)
		return 0;
	add_part(c, e->text, e->text_len, e->count);
	return 0;
}

/* A repeat folded into the entry we showed last: show it again. */
static void check_refold(int fd, struct hook_state *st, struct collect *c)
{
	char digits[AP_FEEDBACK_COUNT_WIDTH + 1];
	unsigned long v = 0;
	size_t len;
	char *buf;

	if (!st->last_count_off || st->last_entry_off >= st->off)
		return;
	if (pread(fd, digits, AP_FEEDBACK_COUNT_WIDTH, (off_t)st->last_count_off) !=
	    AP_FEEDBACK_COUNT_WIDTH)
		return;
	digits[AP_FEEDBACK_COUNT_WIDTH] = '\0';
	for (char *p = digits; *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (unsigned long)(*p - '0');
	if (v <= st->last_count)
		return;
	buf = read_from(fd, (off_t)st->last_entry_off, &len);
	if (!buf)
		return;
	if (len > st->off - st->last_entry_off)
		len = st->off - st->last_entry_off;
	c->base = (off_t)st->last_entry_off;
	ap_feedback__parse(buf, len, on_entry, c); /* one entry */
	free(buf);
	st->last_count = (unsigned)v; /* shown with this count now */
}

static char *render(struct collect *c)
{
	struct ap_sbuf text = { 0 };
	size_t total = 0;
	unsigned first = c->n;

	/* newest entries win when they do not all fit */
	while (first > 0 && total + c->parts[first - 1].len + 1 <= AP_HOOK_MAX_CONTEXT) {
		total += c->parts[first - 1].len + 1;
		first--;
	}
	if (first == c->n && c->n) { /* even the newest is too long: cut it */
		first = c->n - 1;
		c->parts[first].len = AP_HOOK_MAX_CONTEXT - 64;
	}
	for (unsigned i = first; i < c->n; i++) {
		if (i > first)
			ap_sbuf__putc(&text, '\n');
		ap_sbuf__put_n(&text, c->parts[i].s ? c->parts[i].s : "", c->parts[i].len);
	}
	if (first > 0)
		ap_sbuf__printf(&text, "(%u earlier actplane messages left out)\n", first);
	return text.s;
}

static int lock_bounded(int fd, int op, unsigned ms)
{
	for (unsigned i = 0;; i++) {
		if (!flock(fd, op | LOCK_NB))
			return 0;
		if (errno != EWOULDBLOCK || i >= ms)
			return -errno;
		usleep(1000);
	}
}

static int handle_file(const char *fbpath, const struct ap_hook_opts *o,
		       struct collect *c)
{
	char sdir[PATH_MAX], sfile[PATH_MAX + 64], lfile[PATH_MAX + 64];
	char rot[PATH_MAX + 8];
	struct hook_state st, nst;
	struct stat fst, rst;
	int fd = -1, lfd = -1, err = 0;
	uint64_t now = o && o->now_unix ? o->now_unix : (uint64_t)time(NULL);
	size_t len, done;
	char *buf;

	fd = open(fbpath, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &fst) || !S_ISREG(fst.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	state_dir(o, sdir, sizeof(sdir));
	err = mkdir_p(sdir);
	if (err && !(o && o->state_dir)) {
		/* a read-only home: a private directory in /tmp, ours only
		 * (another user could have made it first, or put a link there) */
		struct stat dst;

		snprintf(sdir, sizeof(sdir), "/tmp/actplane-%u", (unsigned)getuid());
		if (mkdir(sdir, 0700) && errno != EEXIST)
			err = -errno;
		else if (lstat(sdir, &dst) || !S_ISDIR(dst.st_mode) || dst.st_uid != getuid() ||
			 (dst.st_mode & 077))
			err = -EPERM;
		else
			err = 0;
	}
	if (err)
		goto cleanup;
	snprintf(sfile, sizeof(sfile), "%s/hook-%016llx.state", sdir,
		 (unsigned long long)fnv1a(fbpath));
	snprintf(lfile, sizeof(lfile), "%s/hook-%016llx.lock", sdir,
		 (unsigned long long)fnv1a(fbpath));
	lfd = open(lfile, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lfd < 0) {
		err = -errno;
		goto cleanup;
	}
	/* another hook of this user is at it: say nothing rather than
	 * something twice (it prints what is new) */
	err = lock_bounded(lfd, LOCK_EX, AP_HOOK_LOCK_WAIT_MS);
	if (err)
		goto cleanup;
	state_read(sfile, fbpath, &st);
	/* writers append under LOCK_EX; only complete entries are taken
	 * anyway, so a lock held too long is read past */
	lock_bounded(fd, LOCK_SH, AP_HOOK_LOCK_WAIT_MS);

	nst = st;
	if (!st.valid) {
		c->min_ts = now > AP_HOOK_FIRST_WINDOW_S ? now - AP_HOOK_FIRST_WINDOW_S : 1;
		nst.off = 0;
	} else if (st.dev != (unsigned long long)fst.st_dev ||
		   st.ino != (unsigned long long)fst.st_ino) {
		/* rotated: finish the old generation first */
		snprintf(rot, sizeof(rot), "%s.1", fbpath);
		int rfd = open(rot, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (rfd >= 0 && fstat(rfd, &rst) == 0 &&
		    (unsigned long long)rst.st_ino == st.ino &&
		    (unsigned long long)rst.st_dev == st.dev) {
			buf = read_from(rfd, (off_t)st.off, &len);
			if (buf) {
				c->base = (off_t)st.off;
				ap_feedback__parse(buf, len, on_entry, c);
				free(buf);
			}
		}
		if (rfd >= 0)
			close(rfd);
		nst.off = 0;
	} else if ((unsigned long long)fst.st_size < st.off ||
		   (st.off && head_hash(fd) != st.head)) {
		nst.off = 0; /* truncated by hand, or a new file on a reused inode */
		nst.last_count_off = 0;
	} else {
		check_refold(fd, &nst, c);
	}
	nst.dev = (unsigned long long)fst.st_dev;
	nst.ino = (unsigned long long)fst.st_ino;
	nst.valid = true;
	c->st = &nst;
	buf = read_from(fd, (off_t)nst.off, &len);
	if (buf) {
		c->base = (off_t)nst.off;
		done = ap_feedback__parse(buf, len, on_entry, c);
		nst.off += done;
		free(buf);
	}
	nst.head = head_hash(fd);
	flock(fd, LOCK_UN);
	if (!st.valid || nst.head != st.head || nst.dev != st.dev || nst.ino != st.ino || nst.off != st.off ||
	    nst.last_entry_off != st.last_entry_off ||
	    nst.last_count_off != st.last_count_off || nst.last_count != st.last_count)
		err = state_write(sfile, fbpath, &nst);
cleanup:
	if (lfd >= 0)
		close(lfd);
	close(fd);
	return err;
}

/* the tool's report reads like a process actplane killed or refused */
static bool looks_stopped(const char *in, size_t len)
{
	static const char *const marks[] = {
		"Exit code 137", "exited with code 137", "Killed", "Operation not permitted",
	};

	for (unsigned i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (memmem(in, len, marks[i], strlen(marks[i])))
			return true;
	return false;
}

int ap_hook__handle(const char *input, size_t len,
		    const struct ap_hook_opts *opts, char **out)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *in = NULL, *v, *res, *hso;
	const char *event = "PostToolUse", *cwd = NULL, *env;
	char fbpath[PATH_MAX], here[PATH_MAX];
	struct collect c = { 0 };
	char *text = NULL;
	int err = 0;

	*out = NULL;
	if (!tok)
		return -ENOMEM;
	in = json_tokener_parse_ex(tok, input, (int)len);
	json_tokener_free(tok);
	if (in && json_object_is_type(in, json_type_object)) {
		if (json_object_object_get_ex(in, "hook_event_name", &v) &&
		    json_object_is_type(v, json_type_string) && json_object_get_string_len(v))
			event = json_object_get_string(v);
		if (json_object_object_get_ex(in, "cwd", &v) &&
		    json_object_is_type(v, json_type_string))
			cwd = json_object_get_string(v);
	}
	if (!cwd || cwd[0] != '/')
		cwd = getcwd(here, sizeof(here));

	if (opts && opts->feedback_file)
		snprintf(fbpath, sizeof(fbpath), "%s", opts->feedback_file);
	else if ((env = getenv("ACTPLANE_FEEDBACK_FILE")) && *env == '/')
		snprintf(fbpath, sizeof(fbpath), "%s", env);
	else if (!cwd || ap_hook__find_feedback(cwd, fbpath, sizeof(fbpath)))
		goto cleanup; /* no actplane project here */

	err = handle_file(fbpath, opts, &c);
	/* Under `run` (it exported the file) a tool that died the way
	 * actplane stops things may be reported to us before run's event
	 * loop wrote the entry: give it a moment. Other calls never wait. */
	for (int i = 0; !c.n && !err && i < AP_HOOK_LATE_WAIT_MS / 10 &&
			  (env = getenv("ACTPLANE_FEEDBACK_FILE")) && !strcmp(env, fbpath) &&
			  looks_stopped(input, len); i++) {
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
		err = handle_file(fbpath, opts, &c);
	}
	if (!c.n)
		goto cleanup;
	text = render(&c);
	if (!text) {
		err = -ENOMEM;
		goto cleanup;
	}
	res = json_object_new_object();
	hso = json_object_new_object();
	json_object_object_add(hso, "hookEventName", json_object_new_string(event));
	json_object_object_add(hso, "additionalContext", json_object_new_string(text));
	json_object_object_add(res, "hookSpecificOutput", hso);
	if (asprintf(out, "%s\n", json_object_to_json_string_ext(res,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)) < 0) {
		*out = NULL;
		err = -ENOMEM;
	}
	json_object_put(res);
cleanup:
	for (unsigned i = 0; i < c.n; i++)
		ap_sbuf__free(&c.parts[i]);
	free(c.parts);
	free(text);
	json_object_put(in);
	return err;
}
