// SPDX-License-Identifier: MIT
/*
 * Endpoint patterns (policy-language.md section 3) to struct ap_endpoint
 * ranges. Unix socket patterns are DFA patterns and handled by lower.c;
 * their other spellings (symbolic links in the literal directory part, like
 * Debian's /var/run -> /run) come from ap_endpoint__unix_aliases here.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "lower.h"

static int parse_port(const char *s, uint16_t *port, const char **why)
{
	unsigned long v;
	char *end;

	if (!*s || !isdigit((unsigned char)*s)) {
		*why = "port must be a number from 1 to 65535";
		return -EINVAL;
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v > 65535) {
		*why = "port must be a number from 1 to 65535";
		return -EINVAL;
	}
	*port = (uint16_t)v;
	return 0;
}

static int mask_addr(struct ap_endpoint *e, const char **why)
{
	unsigned bytes = e->family == AF_INET ? 4 : 16;
	bool changed = false;

	for (unsigned i = 0; i < bytes; i++) {
		unsigned keep = e->prefix >= (i + 1) * 8 ? 8 :
				e->prefix <= i * 8 ? 0 : e->prefix - i * 8;
		__u8 m = keep ? (__u8)(0xff << (8 - keep)) : 0;

		if (e->addr[i] & ~m)
			changed = true;
		e->addr[i] &= m;
	}
	if (changed) {
		*why = "address has bits set past the prefix length";
		return -EINVAL;
	}
	return 0;
}

/* "A.B.C.D", "A.B.C.D/N", "ADDR6", "ADDR6/N" */
static int parse_addr(const char *s, bool v6_only, struct ap_endpoint *e,
		      const char **why)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned max;

	if (n == 0 || n >= sizeof(buf)) {
		*why = "not an IP address";
		return -EINVAL;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(e, 0, sizeof(*e));
	if (!v6_only && inet_pton(AF_INET, buf, e->addr) == 1) {
		e->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, e->addr) == 1) {
		e->family = AF_INET6;
		max = 128;
	} else {
		*why = "not an IP address";
		return -EINVAL;
	}
	e->prefix = (__u8)max;
	if (slash) {
		unsigned long v;
		char *end;

		if (!isdigit((unsigned char)slash[1])) {
			*why = "prefix length must be a number";
			return -EINVAL;
		}
		v = strtoul(slash + 1, &end, 10);
		if (*end || v > max) {
			*why = e->family == AF_INET ?
				"IPv4 prefix length must be 0 to 32" :
				"IPv6 prefix length must be 0 to 128";
			return -EINVAL;
		}
		e->prefix = (__u8)v;
		return mask_addr(e, why);
	}
	return 0;
}

/* "127." "10.0.*" "192.168.1.*": the reference tool's prefix spelling */
static int parse_dotted_prefix(const char *s, struct ap_endpoint *e)
{
	unsigned parts = 0;
	const char *p = s;

	memset(e, 0, sizeof(*e));
	e->family = AF_INET;
	for (;;) {
		unsigned v = 0, digits = 0;

		if (*p == '*' && p[1] == '\0')
			break;
		if (*p == '\0')
			break;
		while (isdigit((unsigned char)*p)) {
			v = v * 10 + (unsigned)(*p++ - '0');
			if (++digits > 3 || v > 255)
				return -EINVAL;
		}
		if (!digits || *p != '.' || parts == 3)
			return -EINVAL;
		e->addr[parts++] = (__u8)v;
		p++;
	}
	if (!parts)
		return -EINVAL;
	e->prefix = (__u8)(parts * 8);
	return 0;
}

static bool is_host_name(const char *s)
{
	bool alpha = false;

	if (!*s || *s == '.' || *s == '-' || strlen(s) > 253)
		return false;
	for (; *s; s++) {
		if (isalpha((unsigned char)*s))
			alpha = true;
		else if (!isdigit((unsigned char)*s) && *s != '.' && *s != '-')
			return false;
	}
	return alpha;
}

static int ep_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct ap_endpoint));
}

/* How long a host name may take to resolve: `check` must not hang on a
 * machine without DNS. */
#define RESOLVE_TIMEOUT_S 2

/* getaddrinfo() with a timeout. On timeout the request may still be running
 * in glibc's resolver thread, so it (and the name it points to) is leaked
 * rather than freed under it. */
static int getaddrinfo_timed(const char *host, struct addrinfo **res)
{
	static const struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct timespec to = { RESOLVE_TIMEOUT_S, 0 };
	struct gaicb *req = calloc(1, sizeof(*req));
	char *name = strdup(host);
	int err;

	if (!req || !name) {
		free(req);
		free(name);
		return EAI_MEMORY;
	}
	req->ar_name = name;
	req->ar_request = &hints;
	err = getaddrinfo_a(GAI_NOWAIT, &req, 1, NULL);
	if (err) {
		free(req);
		free(name);
		return err;
	}
	while ((err = gai_suspend((const struct gaicb *const *)&req, 1, &to)) == EAI_INTR)
		;
	if (err == EAI_AGAIN && gai_cancel(req) != EAI_CANCELED)
		return EAI_AGAIN; /* still running: leak req and name */
	err = gai_error(req);
	*res = err ? NULL : req->ar_result;
	if (err && req->ar_result)
		freeaddrinfo(req->ar_result);
	free(req);
	free(name);
	return err;
}

static int resolve_default(const char *host, struct ap_endpoint *out,
			   unsigned max, void *ctx)
{
	struct addrinfo *res = NULL, *ai;
	unsigned n = 0;
	int err;

	err = getaddrinfo_timed(host, &res);
	if (err)
		return err == EAI_MEMORY ? -ENOMEM : -ENOENT;
	for (ai = res; ai; ai = ai->ai_next) {
		struct ap_endpoint e = { 0 };

		if (ai->ai_family == AF_INET) {
			e.family = AF_INET;
			e.prefix = 32;
			memcpy(e.addr, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
		} else if (ai->ai_family == AF_INET6) {
			e.family = AF_INET6;
			e.prefix = 128;
			memcpy(e.addr, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
		} else {
			continue;
		}
		if (n == max) {
			freeaddrinfo(res);
			return -ENOSPC;
		}
		out[n++] = e;
	}
	freeaddrinfo(res);
	return (int)n;
}

int ap_endpoint__parse(const char *text, struct ap_endpoint *out,
		       unsigned max, ap_resolve_fn resolve, void *ctx,
		       bool *is_host, uint16_t *port_out, const char **why)
{
	char host[300];
	uint16_t port = 0;
	const char *colon;
	struct ap_endpoint e;
	int n, err;

	*is_host = false;
	*why = NULL;
	if (port_out)
		*port_out = 0;
	if (max < 2)
		return -ENOSPC;
	if (!*text) {
		*why = "empty endpoint";
		return -EINVAL;
	}
	if (strlen(text) >= sizeof(host)) {
		*why = "endpoint too long";
		return -EINVAL;
	}
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close) {
			*why = "missing ']' after an IPv6 address";
			return -EINVAL;
		}
		memcpy(host, text + 1, (size_t)(close - text - 1));
		host[close - text - 1] = '\0';
		if (close[1] == ':') {
			err = parse_port(close + 2, &port, why);
			if (err)
				return err;
		} else if (close[1]) {
			*why = "expected ':PORT' after ']'";
			return -EINVAL;
		}
		err = parse_addr(host, true, &e, why);
		if (err)
			return err;
		e.port = port;
		out[0] = e;
		return 1;
	}

	/* more than one ':' and no brackets: a bare IPv6 address, no port */
	colon = strrchr(text, ':');
	if (colon && strchr(text, ':') != colon) {
		err = parse_addr(text, true, &e, why);
		if (err) {
			*why = "not an IPv6 address (write [ADDR]:PORT for a port)";
			return err;
		}
		out[0] = e;
		return 1;
	}
	if (colon) {
		memcpy(host, text, (size_t)(colon - text));
		host[colon - text] = '\0';
		err = parse_port(colon + 1, &port, why);
		if (err)
			return err;
	} else {
		strcpy(host, text);
	}
	if (port_out)
		*port_out = port;

	if (!strcmp(host, "*")) {
		memset(&out[0], 0, sizeof(out[0]));
		out[0].port = port;
		return 1;
	}
	if (!strcmp(host, "localhost")) {
		memset(out, 0, 2 * sizeof(*out));
		out[0].family = AF_INET;
		out[0].prefix = 8;
		out[0].addr[0] = 127;
		out[0].port = port;
		out[1].family = AF_INET6;
		out[1].prefix = 128;
		out[1].addr[15] = 1;
		out[1].port = port;
		return 2;
	}
	if (!host[0]) {
		*why = "missing address before ':PORT' (use \"*:PORT\" for any address)";
		return -EINVAL;
	}
	{
		size_t hl = strlen(host);

		if (host[hl - 1] == '.' || (hl >= 2 && !strcmp(host + hl - 2, ".*"))) {
			if (parse_dotted_prefix(host, &e)) {
				*why = "not a dotted IPv4 prefix (like \"10.0.\" or \"10.0.*\")";
				return -EINVAL;
			}
			e.port = port;
			out[0] = e;
			return 1;
		}
	}
	if (strspn(host, "0123456789./") == strlen(host)) {
		err = parse_addr(host, false, &e, why);
		if (err)
			return err;
		if (e.family != AF_INET) {
			*why = "not an IPv4 address";
			return -EINVAL;
		}
		e.port = port;
		out[0] = e;
		return 1;
	}
	if (!is_host_name(host)) {
		*why = "not an endpoint: expected \"*\", an address, a CIDR, a host name, "
		       "\"unix:PATH\" or \"unix:@NAME\", optionally with :PORT";
		return -EINVAL;
	}
	*is_host = true;
	n = (resolve ? resolve : resolve_default)(host, out, max, ctx);
	if (n == -ENOSPC)
		return n;
	if (n <= 0) {
		*why = "host name does not resolve";
		return 0;
	}
	for (int i = 0; i < n; i++)
		out[i].port = port;
	qsort(out, (size_t)n, sizeof(*out), ep_cmp);
	{
		int w = 1;

		for (int i = 1; i < n; i++)
			if (ep_cmp(&out[i], &out[w - 1]))
				out[w++] = out[i];
		n = w;
	}
	return n;
}

void ap_endpoint__format(const struct ap_endpoint *e, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN] = "*";
	char pfx[8] = "";

	if (e->family == AF_UNIX) {
		snprintf(buf, size, "unix");
		return;
	}
	if (e->family == AF_INET)
		inet_ntop(AF_INET, e->addr, a, sizeof(a));
	else if (e->family == AF_INET6)
		inet_ntop(AF_INET6, e->addr, a, sizeof(a));
	if (e->family && e->prefix != (e->family == AF_INET ? 32 : 128))
		snprintf(pfx, sizeof(pfx), "/%u", e->prefix);
	if (e->family == AF_INET6 && e->port)
		snprintf(buf, size, "[%s%s]:%u", a, pfx, e->port);
	else if (e->port)
		snprintf(buf, size, "%s%s:%u", a, pfx, e->port);
	else
		snprintf(buf, size, "%s%s", a, pfx);
}

/* ---- Unix socket path spellings ---- */

static bool glob_meta(char c)
{
	return c == '*' || c == '?' || c == '[' || c == '\\';
}

/* append src to out[*n..], escaping glob metacharacters of a resolved name */
static bool put_escaped(char *out, size_t size, size_t *n, const char *src)
{
	for (; *src; src++) {
		if (glob_meta(*src)) {
			if (*n + 1 >= size)
				return false;
			out[(*n)++] = '\\';
		}
		if (*n + 1 >= size)
			return false;
		out[(*n)++] = *src;
	}
	out[*n] = '\0';
	return true;
}

/* resolved + escaped, then the rest of the glob as written */
static bool join_spelling(char *out, size_t size, const char *resolved, const char *rest)
{
	size_t n = 0;

	out[0] = '\0';
	if (!put_escaped(out, size, &n, resolved))
		return false;
	if (n + strlen(rest) + 1 > size)
		return false;
	strcpy(out + n, rest);
	return true;
}

static int add_spelling(char (*out)[AP_PATH_MAX], int n, int max, const char *glob,
			const char *s)
{
	if (!strcmp(s, glob))
		return n;
	for (int i = 0; i < n; i++)
		if (!strcmp(out[i], s))
			return n;
	if (n < max)
		snprintf(out[n++], AP_PATH_MAX, "%s", s);
	return n;
}

/* Directories that are one directory by another name on every current
 * distribution (/var/run and /var/lock are links into /run): a rule on
 * either spelling gets the other, whatever this machine has, so that a
 * compiled policy does not depend on where it was compiled. */
static const char *const same_dir[][2] = {
	{ "/var/run", "/run" },
	{ "/var/lock", "/run/lock" },
};

/* s with a same_dir prefix swapped for its twin, into out; false if none */
static bool twin_spelling(const char *s, unsigned pair, char *out, size_t size)
{
	for (int side = 0; side < 2; side++) {
		const char *from = same_dir[pair][side], *to = same_dir[pair][!side];
		size_t fl = strlen(from);

		if (!strncmp(s, from, fl) && s[fl] == '/')
			return snprintf(out, size, "%s%s", to, s + fl) < (int)size;
	}
	return false;
}

int ap_endpoint__unix_aliases(const char *glob, char (*out)[AP_PATH_MAX], int max)
{
	char lit[AP_PATH_MAX], real[PATH_MAX], alt[AP_PATH_MAX], canon[AP_PATH_MAX];
	size_t ll = 0, gl;
	const char *rest;
	int n = 0;

	if (!glob || glob[0] != '/' || max <= 0)
		return 0;
	gl = strlen(glob);
	if (gl >= sizeof(lit))
		return -ENAMETOOLONG;
	while (glob[ll] && !glob_meta(glob[ll]))
		ll++;
	snprintf(canon, sizeof(canon), "%s", glob);
	if (ll == gl && realpath(glob, real)) {
		/* a literal path that exists: the socket may itself be a link */
		if (join_spelling(alt, sizeof(alt), real, ""))
			snprintf(canon, sizeof(canon), "%s", alt);
	} else {
		/* the literal directory part: up to the last '/' before a
		 * wildcard (or the last component of a literal path) */
		memcpy(lit, glob, ll);
		lit[ll] = '\0';
		while (ll > 0 && lit[ll - 1] != '/')
			lit[--ll] = '\0';
		if (ll > 1)
			lit[--ll] = '\0'; /* drop the '/' but keep "/" */
		rest = glob + ll;
		if (ll > 1 && realpath(lit, real) && strcmp(real, lit) &&
		    join_spelling(alt, sizeof(alt), real, rest))
			snprintf(canon, sizeof(canon), "%s", alt);
	}
	n = add_spelling(out, n, max, glob, canon);
	/* the twins of both spellings */
	for (unsigned i = 0; i < sizeof(same_dir) / sizeof(same_dir[0]); i++) {
		if (twin_spelling(glob, i, alt, sizeof(alt)))
			n = add_spelling(out, n, max, glob, alt);
		if (twin_spelling(canon, i, alt, sizeof(alt)))
			n = add_spelling(out, n, max, glob, alt);
	}
	return n;
}
