// SPDX-License-Identifier: MIT
/* The approvals control socket: path, listen, and the client's request /
 * reply round trip (one line out, reply lines to the callback). Needs
 * root for /run/actplane; skipped otherwise. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "enforce/approvals.h"

static char session[64];

static void *server(void *arg)
{
	int ls = *(int *)arg, c;
	struct pollfd pf = { .fd = ls, .events = POLLIN };
	char line[128] = { 0 };
	ssize_t n;

	if (poll(&pf, 1, 30000) != 1)
		return NULL;
	c = accept(ls, NULL, NULL);
	if (c < 0)
		return NULL;
	n = read(c, line, sizeof(line) - 1);
	if (n > 0 && !strcmp(line, "approve unit-1\n"))
		n = write(c, "ok\n", 3);
	else
		n = write(c, "error: bad request\n", 19);
	close(c);
	return NULL;
}

struct got {
	int n;
	char last[128];
};

static int on_reply(void *ctx, const char *sock, const char *reply)
{
	struct got *g = ctx;

	if (!strstr(sock, session))
		return 0; /* another live session's answer ("unknown") */
	g->n++;
	snprintf(g->last, sizeof(g->last), "%s", reply);
	return 0;
}

static void test_roundtrip(void **state)
{
	struct got g = { 0 };
	char path[128];
	pthread_t th;
	struct stat st;
	int ls = -1;

	if (geteuid() != 0)
		skip();
	snprintf(session, sizeof(session), "unit-%d", (int)getpid());
	assert_int_equal(ap_approvals__sock_path(session, path, sizeof(path)), 0);
	assert_non_null(strstr(path, AP_CTL_DIR "/unit-"));
	assert_int_equal(ap_approvals__listen(session, &ls), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(pthread_create(&th, NULL, server, &ls), 0);
	assert_true(ap_approvals__request("approve unit-1", on_reply, &g) >= 1);
	pthread_join(th, NULL);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.last, "ok");
	close(ls);
	unlink(path);
}

static void test_name_too_long(void **state)
{
	char big[200], path[256];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(ap_approvals__sock_path(big, path, sizeof(path)), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_name_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
