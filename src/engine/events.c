// SPDX-License-Identifier: MIT
/*
 * Ring buffer records (bpf/abi.h struct ap_rec) to struct ap_event_rec:
 * string reassembly (target, second path, exe, argv), sockaddr formatting,
 * rule bitmap to list, provenance, kernel boot time to wall-clock time.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h>

#include "engine_int.h"
#include "event_json.h"

void ap_sockaddr__format(const void *sa, size_t len, char *buf, size_t size)
{
	const unsigned char *p = sa;
	unsigned short fam;
	char a[INET6_ADDRSTRLEN];

	if (len < 2) {
		snprintf(buf, size, "?");
		return;
	}
	memcpy(&fam, p, 2);
	if (fam == 2 && len >= 8) { /* AF_INET */
		unsigned short port;

		memcpy(&port, p + 2, 2);
		inet_ntop(2, p + 4, a, sizeof(a));
		snprintf(buf, size, "%s:%u", a, ntohs(port));
	} else if (fam == 10 && len >= 24) { /* AF_INET6 */
		unsigned short port;

		memcpy(&port, p + 2, 2);
		inet_ntop(10, p + 8, a, sizeof(a));
		snprintf(buf, size, "[%s]:%u", a, ntohs(port));
	} else if (fam == 1) { /* AF_UNIX */
		size_t n = len - 2;

		if (n == 0) {
			snprintf(buf, size, "unix:");
		} else if (p[2] == 0) { /* abstract: bytes after the NUL */
			snprintf(buf, size, "unix:@%.*s", (int)(n - 1), (const char *)p + 3);
		} else {
			snprintf(buf, size, "unix:%.*s", (int)strnlen((const char *)p + 2, n),
				 (const char *)p + 2);
		}
	} else {
		snprintf(buf, size, "family-%u", fam);
	}
}

static void copy_str(char *dst, size_t dsize, const char *src, size_t n)
{
	if (n >= dsize)
		n = dsize - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

static int default_read_exe(int pid, char *buf, size_t size)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	n = readlink(link, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

static uint64_t to_real(const struct ap_event_decoder *d, uint64_t boot_ns)
{
	return boot_ns ? (uint64_t)((int64_t)boot_ns + d->boot_to_real_ns) : 0;
}

int ap_event__decode(struct ap_event_decoder *d, const void *data, size_t size,
		     struct ap_event_rec *out)
{
	const struct ap_rec *r = data;
	const char *p;
	size_t hdr = offsetof(struct ap_rec, data), total;
	unsigned n = 0;

	memset(out, 0, sizeof(*out));
	if (size < hdr)
		return -EINVAL;
	total = hdr + (size_t)r->target_len + r->argv_len + r->exe_len;
	if (total > size || r->size > size || r->nprov > AP_REC_PROV_MAX ||
	    r->target_len > AP_PATH_MAX || r->argv_len > AP_REC_ARGV_MAX ||
	    r->exe_len > AP_PATH_MAX)
		return -EINVAL;
	switch (r->type) {
	case AP_REC_VIOLATION: out->kind = AP_EVENT_VIOLATION; break;
	case AP_REC_OBSERVE: out->kind = AP_EVENT_OBSERVE; break;
	case AP_REC_UNRESOLVED: out->kind = AP_EVENT_UNRESOLVED; break;
	case AP_REC_SESSION_END: out->kind = AP_EVENT_SESSION_END; break;
	default: return -EINVAL;
	}
	if (r->op >= AP_OP__COUNT || r->effect >= AP_EFFECT__COUNT ||
	    r->action >= AP_ACTION__COUNT)
		return -EINVAL;
	out->ts_ns = to_real(d, r->ts);
	out->session = r->session;
	out->effect = r->effect;
	out->action = r->action;
	out->degraded = r->type == AP_REC_VIOLATION &&
			(r->effect == AP_EFFECT_BLOCK || r->effect == AP_EFFECT_ASK);
	out->rule = r->rule;
	out->op = r->op;
	out->pid = (int)r->pid;
	out->tid = (int)r->tid;
	out->ppid = (int)r->ppid;
	out->uid = r->uid;
	memcpy(out->comm, r->comm, sizeof(out->comm));
	out->comm[sizeof(out->comm) - 1] = 0;
	out->labels = r->labels;
	out->mattered = r->mattered;
	out->exit_status = r->exit_code;

	for (unsigned i = 0; i < AP_MAX_RULES; i++)
		if (r->rules[i / 64] >> (i % 64) & 1)
			d->rules[n++] = i;
	out->rules = d->rules;
	out->nrules = n;

	p = r->data;
	if (r->flags & AP_REC_F_SOCKADDR)
		ap_sockaddr__format(p, r->target_len, d->target, sizeof(d->target));
	else if (r->target_len)
		copy_str(d->target, sizeof(d->target), p, r->target_len);
	else
		strcpy(d->target, "?");
	out->target = d->target;
	p += r->target_len;

	if (r->argv_len) {
		size_t len = r->argv_len, start = 0;
		unsigned argc = 0;

		memcpy(d->argv_buf, p, len);
		d->argv_buf[len] = 0;
		/* elements are NUL separated; a cut last element still ends */
		while (start < len && argc < AP_REC_ARGV_MAX / 2) {
			d->argv[argc++] = d->argv_buf + start;
			start += strlen(d->argv_buf + start) + 1;
		}
		d->argv[argc] = NULL;
		out->argv = d->argv;
		out->argc = argc;
	}
	out->argv_truncated = r->flags & AP_REC_F_ARGV_TRUNCATED;
	p += r->argv_len;

	d->exe[0] = 0;
	d->target2[0] = 0;
	if (r->flags & AP_REC_F_TARGET2) {
		copy_str(d->target2, sizeof(d->target2), p, r->exe_len);
		out->target2 = d->target2;
	} else if (r->exe_len) {
		copy_str(d->exe, sizeof(d->exe), p, r->exe_len);
	}
	if (!d->exe[0] && out->kind != AP_EVENT_SESSION_END) {
		int (*rd)(int, char *, size_t) = d->read_exe ? d->read_exe
							      : default_read_exe;

		if (rd(out->pid, d->exe, sizeof(d->exe)))
			d->exe[0] = 0;
	}
	out->exe = d->exe;

	for (unsigned i = 0; i < r->nprov; i++) {
		const struct ap_prov *pv = &r->prov[i];
		struct ap_event_prov *ep = &d->prov[i];
		size_t tl = pv->target_len < AP_PROV_TARGET_MAX ? pv->target_len
							      : AP_PROV_TARGET_MAX;

		memset(ep, 0, sizeof(*ep));
		ep->label = pv->label;
		ep->op = pv->op < AP_OP__COUNT ? pv->op : AP_OP_READ;
		ep->pid = (int)pv->pid;
		memcpy(ep->comm, pv->comm, sizeof(ep->comm));
		ep->comm[sizeof(ep->comm) - 1] = 0;
		ep->ts_ns = to_real(d, pv->ts);
		ep->truncated = pv->flags & AP_PROV_F_TRUNCATED;
		if (pv->flags & AP_PROV_F_SOCKADDR)
			ap_sockaddr__format(pv->target, tl, d->prov_target[i],
					    sizeof(d->prov_target[i]));
		else if (!tl)
			strcpy(d->prov_target[i], "?");
		else if (ep->truncated)
			snprintf(d->prov_target[i], sizeof(d->prov_target[i]),
				 "...%.*s", (int)tl, pv->target);
		else
			copy_str(d->prov_target[i], sizeof(d->prov_target[i]),
				 pv->target, tl);
		ep->target = d->prov_target[i];
	}
	out->prov = d->prov;
	out->nprov = r->nprov;
	return 0;
}

void ap_event__overflow_loss(const struct ap_event_rec *ev, struct ap_ev_loss *l,
			     char *buf, size_t size)
{
	char maps[256];
	int n;

	memset(l, 0, sizeof(*l));
	ap_engine__overflow_str(ev->overflow, false, maps, sizeof(maps));
	n = snprintf(buf, size, "map full: %s", maps);
	l->ts_ns = ev->ts_ns;
	l->kind = "overflow";
	l->count = ev->loss.map_full;
	l->total = ev->loss.map_full;
	l->reason = buf;
	/* the explanation after the reason, in the same buffer */
	if (n > 0 && (size_t)n + 1 < size) {
		char what[384];

		ap_engine__overflow_str(ev->overflow, true, what, sizeof(what));
		snprintf(buf + n + 1, size - n - 1,
			 "session overflowed: could not record %s; every process of the "
			 "session now carries every label seen in it", what);
		l->what = buf + n + 1;
	} else {
		l->what = "session overflowed";
	}
	l->overflowed = true;
}
