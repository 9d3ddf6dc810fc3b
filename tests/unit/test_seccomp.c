// SPDX-License-Identifier: MIT
/* The filter, live: a child installs it and hands the listener over a
 * socketpair; only the planned system calls reach the listener (a
 * read-only open does not when only write rules need the supervisor), and
 * the answer is what the child sees. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <seccomp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "enforce/seccomp.h"

static void test_notify_roundtrip(void **state)
{
	struct ap_sc_plan p = { .open_write = true, .unlink = true, .any = true };
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	int sv[2], lfd = -1, st, res[3];
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd, r[3];

		close(sv[0]);
		if (ap_seccomp__install(&p, &fd))
			_exit(10);
		if (ap_seccomp__send_fd(sv[1], fd))
			_exit(11);
		close(fd);
		/* read-only open: not sent */
		fd = open("/dev/null", O_RDONLY);
		r[0] = fd >= 0 ? 0 : errno;
		if (fd >= 0)
			close(fd);
		/* write open: sent, the parent lets it continue */
		fd = open("/dev/null", O_WRONLY);
		r[1] = fd >= 0 ? 0 : errno;
		if (fd >= 0)
			close(fd);
		/* unlink: sent, the parent answers EPERM */
		r[2] = unlink("/nonexistent/ap-test") ? errno : 0;
		if (write(sv[1], r, sizeof(r)) != sizeof(r))
			_exit(12);
		_exit(0);
	}
	close(sv[1]);
	assert_int_equal(ap_seccomp__recv_fd(sv[0], 5000, &lfd), 0);
	assert_int_equal(seccomp_notify_alloc(&req, &resp), 0);

	memset(req, 0, sizeof(*req));
	assert_int_equal(seccomp_notify_receive(lfd, req), 0);
	assert_int_equal(req->data.nr, SCMP_SYS(openat));
	assert_int_equal(req->data.args[2] & O_ACCMODE, O_WRONLY);
	memset(resp, 0, sizeof(*resp));
	resp->id = req->id;
	resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	assert_int_equal(seccomp_notify_respond(lfd, resp), 0);

	memset(req, 0, sizeof(*req));
	assert_int_equal(seccomp_notify_receive(lfd, req), 0);
	assert_int_equal(req->data.nr, SCMP_SYS(unlink));
	memset(resp, 0, sizeof(*resp));
	resp->id = req->id;
	resp->error = -EPERM;
	assert_int_equal(seccomp_notify_respond(lfd, resp), 0);

	assert_int_equal(read(sv[0], res, sizeof(res)), sizeof(res));
	assert_int_equal(res[0], 0);
	assert_int_equal(res[1], 0);
	assert_int_equal(res[2], EPERM);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	seccomp_notify_free(req, resp);
	close(lfd);
	close(sv[0]);
}

/* a dead supervisor: the filtered call fails (ENOSYS), it never runs */
static void test_listener_closed(void **state)
{
	struct ap_sc_plan p = { .unlink = true, .any = true };
	int sv[2], lfd = -1, st;
	pid_t pid;
	char path[] = "/tmp/ap-test-unlink-XXXXXX";
	int tfd = mkstemp(path);

	assert_true(tfd >= 0);
	close(tfd);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd, e;
		char b;

		close(sv[0]);
		if (ap_seccomp__install(&p, &fd) || ap_seccomp__send_fd(sv[1], fd))
			_exit(10);
		close(fd);
		if (read(sv[1], &b, 1) != 1) /* wait until the parent closed it */
			_exit(11);
		e = unlink(path) ? errno : 0;
		_exit(e == ENOSYS ? 0 : 12);
	}
	close(sv[1]);
	assert_int_equal(ap_seccomp__recv_fd(sv[0], 5000, &lfd), 0);
	close(lfd);
	assert_int_equal(write(sv[0], "x", 1), 1);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(access(path, F_OK), 0);
	unlink(path);
	close(sv[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notify_roundtrip),
		cmocka_unit_test(test_listener_closed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
