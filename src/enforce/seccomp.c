// SPDX-License-Identifier: MIT
#include "seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "enforce/landlock.h"
#include "enforce/sysguard.h"
#include "policy/blob.h"

int ap_seccomp__plan(const struct ap_blob_view *bv, struct ap_sc_plan *p)
{
	memset(p, 0, sizeof(*p));
	if (!bv || !bv->hdr)
		return -EINVAL;
	for (unsigned i = 0; i < bv->hdr->nclauses; i++) {
		const struct ap_clause *c = &bv->clauses[i];

		if (c->effect < AP_EFFECT_ASK)
			continue; /* notify: the engine reports, nothing to hold */
		switch (c->op) {
		case AP_OP_EXEC:
			p->exec = true;
			break;
		case AP_OP_OPEN:
		case AP_OP_READ:
			p->open_all = true;
			break;
		case AP_OP_WRITE:
			p->open_write = true;
			/* a hard link writes its new name */
			p->rename = true;
			break;
		case AP_OP_UNLINK:
			p->unlink = true;
			break;
		case AP_OP_RENAME:
			p->rename = true;
			break;
		case AP_OP_CONNECT:
			p->connect = true;
			break;
		default:
			break; /* recv and event-only ops: the engine's */
		}
	}
	/* session-guard: /proc/PID/mem is opened for writing with open* */
	p->guard = ap_sysguard__items(bv);
	if (p->guard & AP_GUARD_PTRACE)
		p->open_write = true;
	p->any = p->exec || p->open_all || p->open_write || p->unlink ||
		 p->rename || p->connect || p->guard;
	return 0;
}

void ap_seccomp__describe(const struct ap_sc_plan *p, char *buf, unsigned size)
{
	snprintf(buf, size, "%s%s%s%s%s%s%s%s%s",
		 p->exec ? "execve execveat " : "",
		 p->open_all ? "open openat openat2 creat truncate " :
		 p->open_write ? "open(write) openat(write) openat2 creat truncate symlink " : "",
		 p->unlink ? "unlink unlinkat rmdir " : "",
		 p->rename ? "rename renameat renameat2 link linkat " : "",
		 p->connect ? "connect sendto(addr) sendmsg " : "",
		 p->guard & AP_GUARD_PTRACE ? "ptrace(attach) process_vm_writev " : "",
		 p->guard & AP_GUARD_NAMESPACES ?
			 "chroot pivot_root setns unshare(ns) clone(ns) clone3(ENOSYS) " : "",
		 p->guard & AP_GUARD_SIGNAL ?
			 "kill tkill tgkill rt_sigqueueinfo rt_tgsigqueueinfo pidfd_open "
			 "pidfd_send_signal " : "",
		 p->any ? "" : "(none)");
}

/* rules for `nr` sent when (arg & flag) == flag for one of flags */
static int add_flag_rules(scmp_filter_ctx ctx, int nr, unsigned arg)
{
	static const unsigned flags[] = { O_WRONLY, O_RDWR, O_CREAT, O_TRUNC };
	int err;

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		err = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 1,
				       SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, flags[i], flags[i]));
		if (err)
			return err;
	}
	return 0;
}

int ap_seccomp__install(const struct ap_sc_plan *p, int *listener)
{
	scmp_filter_ctx ctx;
	bool file_ops = p->open_all || p->open_write || p->unlink || p->rename;
	int err = 0, fd;

	*listener = -1;
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return -ENOMEM;
	/* root without no_new_privs keeps set-uid programs working; anyone
	 * else needs it to load a filter */
	err = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, geteuid() != 0);
#define ADD(name) \
	if (!err) err = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(name), 0)
	if (p->exec) {
		ADD(execve);
		ADD(execveat);
	}
	if (p->open_all) {
		ADD(open);
		ADD(openat);
		ADD(openat2);
		ADD(creat);
		ADD(truncate);
		ADD(symlink);
		ADD(symlinkat);
	} else if (p->open_write) {
		if (!err)
			err = add_flag_rules(ctx, SCMP_SYS(open), 1);
		if (!err)
			err = add_flag_rules(ctx, SCMP_SYS(openat), 2);
		ADD(openat2); /* flags behind a pointer: always */
		ADD(creat);
		ADD(truncate);
		ADD(symlink);
		ADD(symlinkat);
	}
	if (p->unlink) {
		ADD(unlink);
		ADD(unlinkat);
		ADD(rmdir);
	}
	if (p->rename) {
		ADD(rename);
		ADD(renameat);
		ADD(renameat2);
		ADD(link);
		ADD(linkat);
	}
	if (p->connect) {
		ADD(connect);
		ADD(sendmsg);
		ADD(sendmmsg);
		if (!err)
			err = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(sendto), 1,
					       SCMP_A4(SCMP_CMP_NE, 0));
	}
#undef ADD
	if (!err && p->guard)
		err = ap_sysguard__filter(ctx, p->guard);
	if (!err && file_ops)
		err = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(io_uring_setup), 0);
	if (!err)
		err = seccomp_load(ctx);
	if (err)
		goto cleanup;
	fd = seccomp_notify_fd(ctx);
	if (fd < 0) {
		err = fd;
		goto cleanup;
	}
	*listener = fd;
cleanup:
	seccomp_release(ctx);
	return err;
}

int ap_seccomp__send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char b = 'L';
	struct iovec iov = { .iov_base = &b, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	ssize_t n;

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : -errno;
}

int ap_seccomp__recv_fd(int sock, int timeout_ms, int *fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	char b;
	struct iovec iov = { .iov_base = &b, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct pollfd pf = { .fd = sock, .events = POLLIN };
	struct cmsghdr *cm;
	ssize_t n;
	int r;

	*fd = -1;
	do
		r = poll(&pf, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return -ETIMEDOUT;
	if (r < 0)
		return -errno;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EPIPE;
	cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return -EPROTO;
	memcpy(fd, CMSG_DATA(cm), sizeof(int));
	return 0;
}

/* The listener handed over by number: the command's process cannot send it
 * with SCM_RIGHTS when its own filter sends sendmsg to the supervisor (a
 * connect rule): the sendmsg would wait for an answer from a supervisor
 * that has no listener yet. write() and read() are never filtered. */
struct handoff_msg {
	char tag;                 /* 'N': by number */
	int fd;
} __attribute__((packed));

static int child_handoff_by_number(int sock, int fd)
{
	struct handoff_msg m = { .tag = 'N', .fd = fd };
	char ack = 0;
	ssize_t n;

	do
		n = write(sock, &m, sizeof(m));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(m))
		return n < 0 ? -errno : -EIO;
	/* the fd must stay open until the supervisor has its copy */
	do
		n = read(sock, &ack, 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == 1 && ack == 'A' ? 0 : -EPROTO;
}

int ap_seccomp__recv_listener(int sock, pid_t pid, int *fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct handoff_msg m = { 0 };
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	ssize_t n;
	size_t got = 0;
	int pidfd = -1, err = 0;
	char ack = 'A';

	*fd = -1;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EPIPE;
	cm = CMSG_FIRSTHDR(&mh);
	if (m.tag == 'L') {
		if (!cm || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int)))
			return -EPROTO;
		memcpy(fd, CMSG_DATA(cm), sizeof(int));
		return 0;
	}
	if (m.tag != 'N' || cm)
		return -EPROTO;
	/* the rest of the message (a stream may split it) */
	for (got = (size_t)n; got < sizeof(m); got += (size_t)n) {
		do
			n = read(sock, (char *)&m + got, sizeof(m) - got);
		while (n < 0 && errno == EINTR);
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		err = -errno;
		goto cleanup;
	}
	*fd = (int)syscall(SYS_pidfd_getfd, pidfd, m.fd, 0);
	if (*fd < 0) {
		err = -errno;
		goto cleanup;
	}
cleanup:
	if (pidfd >= 0)
		close(pidfd);
	if (err)
		ack = 'F'; /* the command must not exec unsupervised */
	n = write(sock, &ack, 1);
	(void)n;
	return err;
}

/* ---- what the child does before exec (state copied by fork) ---- */
static struct {
	bool armed;
	struct ap_sc_plan plan;
	int sock;
} armed_state = { .sock = -1 };

int ap_seccomp__arm(const struct ap_sc_plan *p, int sock)
{
	armed_state.plan = *p;
	armed_state.sock = sock;
	armed_state.armed = true;
	return 0;
}

void ap_seccomp__disarm(void)
{
	armed_state.armed = false;
	armed_state.sock = -1;
}

int ap_enforce__child_pre_exec(void)
{
	int fd = -1, err;

	if (!armed_state.armed)
		return 0;
	/* Landlock first: its rules then hold even if the supervisor dies */
	err = ap_landlock__child_apply();
	if (err)
		return err;
	if (!armed_state.plan.any) {
		close(armed_state.sock);
		return 0;
	}
	err = ap_seccomp__install(&armed_state.plan, &fd);
	if (err)
		return err;
	/* sendmsg of our own is held by the filter when it sends sendmsg */
	if (armed_state.plan.connect)
		err = child_handoff_by_number(armed_state.sock, fd);
	else
		err = ap_seccomp__send_fd(armed_state.sock, fd);
	close(fd);
	close(armed_state.sock);
	return err;
}
