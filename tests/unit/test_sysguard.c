// SPDX-License-Identifier: MIT
/* The supervised mode's session-guard decisions (enforce/sysguard.h)
 * without a supervisor: which held system calls are violations, and what
 * their target reads. No engine map (procs_fd -1): a process is inside
 * only through the session's cgroup, which no process here is in. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "enforce/sysguard.h"

static void guard_init(struct ap_sysguard *g, uint32_t items)
{
	memset(g, 0, sizeof(*g));
	g->items = items;
	g->rule = AP_RULE_GUARD_NONE;
	g->engine_pid = getpid();
	g->engine_pgid = getpgid(0);
	g->procs_fd = -1;
	snprintf(g->cgroup_name, sizeof(g->cgroup_name), "/actplane-no-such-session");
}

static int check(const struct ap_sysguard *g, int nr, uint64_t a0, uint64_t a1,
		 enum ap_op *op, char *t, size_t ts)
{
	uint64_t a[6] = { a0, a1, 0, 0, 0, 0 };

	return ap_sysguard__check(g, getpid(), getpid(), nr, a, op, t, ts);
}

static void test_namespaces(void **state)
{
	struct ap_sysguard g;
	enum ap_op op = AP_OP_EXEC;
	char t[256];

	(void)state;
	guard_init(&g, AP_GUARD_NAMESPACES);
	assert_int_equal(check(&g, SYS_unshare, CLONE_NEWUSER | CLONE_NEWNS, 0, &op, t, sizeof(t)), 1);
	assert_int_equal(op, AP_OP_NAMESPACE);
	assert_string_equal(t, "unshare(CLONE_NEWNS|CLONE_NEWUSER)");
	assert_int_equal(check(&g, SYS_unshare, CLONE_NEWNET, 0, &op, t, sizeof(t)), 0);
	assert_int_equal(check(&g, SYS_clone, CLONE_NEWNS | SIGCHLD, 0, &op, t, sizeof(t)), 1);
	assert_string_equal(t, "clone(CLONE_NEWNS)");
	assert_int_equal(check(&g, SYS_clone, SIGCHLD, 0, &op, t, sizeof(t)), 0);
	assert_int_equal(check(&g, SYS_chroot, 0, 0, &op, t, sizeof(t)), 1);
	assert_string_equal(t, "chroot");
	assert_int_equal(check(&g, SYS_setns, 3, 0, &op, t, sizeof(t)), 1);
	assert_string_equal(t, "setns");
	/* the item allowed: nothing is a violation */
	guard_init(&g, AP_GUARD_PTRACE | AP_GUARD_SIGNAL);
	assert_int_equal(check(&g, SYS_chroot, 0, 0, &op, t, sizeof(t)), 0);
}

static void test_ptrace(void **state)
{
	struct ap_sysguard g;
	enum ap_op op = AP_OP_EXEC;
	char t[256], exp[64];
	pid_t child = fork();

	(void)state;
	assert_true(child >= 0);
	if (child == 0) {
		pause();
		_exit(0);
	}
	guard_init(&g, AP_GUARD_PTRACE);
	assert_int_equal(check(&g, SYS_ptrace, 16 /* ATTACH */, (uint64_t)child, &op, t, sizeof(t)), 1);
	assert_int_equal(op, AP_OP_PTRACE);
	snprintf(exp, sizeof(exp), "pid:%d (", (int)child);
	assert_memory_equal(t, exp, strlen(exp));
	assert_int_equal(check(&g, SYS_ptrace, 0x4206 /* SEIZE */, (uint64_t)child, &op, t, sizeof(t)), 1);
	/* PEEKDATA is not attaching (the kernel allows it only to a tracer) */
	assert_int_equal(check(&g, SYS_ptrace, 2, (uint64_t)child, &op, t, sizeof(t)), 0);
	assert_int_equal(check(&g, SYS_process_vm_writev, (uint64_t)child, 0, &op, t, sizeof(t)), 1);
	assert_int_equal(check(&g, SYS_process_vm_readv, (uint64_t)child, 0, &op, t, sizeof(t)), 0);

	snprintf(exp, sizeof(exp), "/proc/%d/mem", (int)child);
	assert_int_equal(ap_sysguard__check_mem(&g, exp, t, sizeof(t)), 1);
	snprintf(exp, sizeof(exp), "/proc/%d/task/%d/mem", (int)child, (int)child);
	assert_int_equal(ap_sysguard__check_mem(&g, exp, t, sizeof(t)), 1);
	snprintf(exp, sizeof(exp), "/proc/%d/memx", (int)child);
	assert_int_equal(ap_sysguard__check_mem(&g, exp, t, sizeof(t)), 0);
	snprintf(exp, sizeof(exp), "/proc/%d/environ", (int)child);
	assert_int_equal(ap_sysguard__check_mem(&g, exp, t, sizeof(t)), 0);
	assert_int_equal(ap_sysguard__check_mem(&g, "/tmp/mem", t, sizeof(t)), 0);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

static void test_signals(void **state)
{
	struct ap_sysguard g;
	enum ap_op op = AP_OP_EXEC;
	char t[256], exp[64];
	int p[2];
	char b;
	pid_t other;

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	other = fork();
	assert_true(other >= 0);
	if (other == 0) {
		/* another program: not the engine */
		close(p[0]);
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	/* EOF once the exec closed the write end */
	assert_int_equal(read(p[0], &b, 1), 0);
	close(p[0]);
	guard_init(&g, AP_GUARD_SIGNAL);
	assert_int_equal(check(&g, SYS_kill, (uint64_t)getpid(), SIGKILL, &op, t, sizeof(t)), 1);
	assert_int_equal(op, AP_OP_SIGNAL);
	snprintf(exp, sizeof(exp), "pid:%d", (int)getpid());
	assert_memory_equal(t, exp, strlen(exp));
	assert_int_equal(check(&g, SYS_kill, (uint64_t)(int64_t)-1, 0, &op, t, sizeof(t)), 1);
	assert_string_equal(t, "pid:-1");
	assert_int_equal(check(&g, SYS_kill, (uint64_t)(int64_t)-getpgid(0), SIGTERM, &op, t, sizeof(t)), 1);
	snprintf(exp, sizeof(exp), "pgid:%d", (int)getpgid(0));
	assert_string_equal(t, exp);
	/* tgkill(tgid, tid, sig) */
	{
		uint64_t a[6] = { (uint64_t)getpid(), (uint64_t)getpid(), SIGTERM, 0, 0, 0 };

		assert_int_equal(ap_sysguard__check(&g, getpid(), getpid(), SYS_tgkill, a, &op,
						    t, sizeof(t)), 1);
		a[2] = 0; /* signal 0 to one process: an existence check */
		assert_int_equal(ap_sysguard__check(&g, getpid(), getpid(), SYS_tgkill, a, &op,
						    t, sizeof(t)), 0);
	}
	assert_int_equal(check(&g, SYS_kill, (uint64_t)getpid(), 0, &op, t, sizeof(t)), 0);
	assert_int_equal(check(&g, SYS_pidfd_open, (uint64_t)getpid(), 0, &op, t, sizeof(t)), 1);
	/* a process of another program is not the engine */
	assert_int_equal(check(&g, SYS_kill, (uint64_t)other, SIGTERM, &op, t, sizeof(t)), 0);
	kill(other, SIGKILL);
	waitpid(other, NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_namespaces),
		cmocka_unit_test(test_ptrace),
		cmocka_unit_test(test_signals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
