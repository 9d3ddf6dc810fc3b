// SPDX-License-Identifier: MIT
#include "sysguard.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "common/log.h"
#include "common/procfs.h"
#include "enforce/resolve.h"
#include "policy/blob.h"

#ifndef PTRACE_SEIZE
#define PTRACE_SEIZE 0x4206
#endif
#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWUSER)

unsigned ap_sysguard__rule_index(const struct ap_blob_view *bv)
{
	/* the compiler puts it last; search from the end */
	for (unsigned r = bv->hdr->nrules; r-- > 0;)
		if (!strcmp(ap_blob__str(bv, bv->rule_meta[r].name), "session-guard"))
			return r;
	return AP_RULE_GUARD_NONE;
}

uint32_t ap_sysguard__items(const struct ap_blob_view *bv)
{
	if (bv->hdr->flags & AP_BLOB_F_GUARD_NOTIFY)
		return 0;
	return (AP_GUARD_PTRACE | AP_GUARD_NAMESPACES | AP_GUARD_SIGNAL) &
	       ~bv->hdr->guard_allow;
}

int ap_sysguard__init(struct ap_sysguard *g, const struct ap_blob_view *bv,
		      int procs_fd, uint32_t session, const char *session_name)
{
	struct stat st;

	memset(g, 0, sizeof(*g));
	g->items = ap_sysguard__items(bv);
	g->notify = bv->hdr->flags & AP_BLOB_F_GUARD_NOTIFY;
	g->rule = ap_sysguard__rule_index(bv);
	g->engine_pid = getpid();
	g->engine_pgid = getpgid(0);
	g->procs_fd = procs_fd;
	g->session = session;
	snprintf(g->cgroup_name, sizeof(g->cgroup_name), "/actplane-%s",
		 session_name ? session_name : "");
	if (!stat("/proc/self/exe", &st)) {
		g->exe_dev = st.st_dev;
		g->exe_ino = st.st_ino;
	}
	return 0;
}

int ap_sysguard__filter(void *scmp_ctx, uint32_t items)
{
	scmp_filter_ctx ctx = scmp_ctx;
	int err = 0;

#define ADD(name, n, ...) \
	if (!err) err = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(name), n, ##__VA_ARGS__)
	if (items & AP_GUARD_PTRACE) {
		ADD(ptrace, 1, SCMP_A0(SCMP_CMP_EQ, PTRACE_ATTACH));
		ADD(ptrace, 1, SCMP_A0(SCMP_CMP_EQ, PTRACE_SEIZE));
		ADD(process_vm_writev, 0);
		/* /proc/PID/mem for writing: the write-open rules (seccomp.c) */
	}
	if (items & AP_GUARD_NAMESPACES) {
		ADD(chroot, 0);
		ADD(pivot_root, 0);
		ADD(setns, 0);
		ADD(unshare, 1, SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWNS, CLONE_NEWNS));
		ADD(unshare, 1, SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
		ADD(clone, 1, SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWNS, CLONE_NEWNS));
		ADD(clone, 1, SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
		/* clone3's flags are behind a pointer: make libc fall back to
		 * clone, whose flags the filter sees */
		if (!err)
			err = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	}
	if (items & AP_GUARD_SIGNAL) {
		/* every signal system call: the watchdog's pid and other
		 * engines are known only at decision time */
		ADD(kill, 0);
		ADD(tkill, 0);
		ADD(tgkill, 0);
		ADD(rt_sigqueueinfo, 0);
		ADD(rt_tgsigqueueinfo, 0);
		ADD(pidfd_open, 0);
		ADD(pidfd_send_signal, 0);
	}
#undef ADD
	return err;
}

/* ---- is the target inside the session ---- */

static bool in_our_cgroup(const struct ap_sysguard *g, pid_t pid)
{
	char buf[4096];

	if (ap_procfs__read(pid, "cgroup", buf, sizeof(buf)))
		return false;
	/* the cgroup line ends with the session cgroup's name (or one below) */
	for (char *p = strstr(buf, g->cgroup_name); p; p = strstr(p + 1, g->cgroup_name)) {
		char c = p[strlen(g->cgroup_name)];

		if (c == '\n' || c == '/' || c == 0)
			return true;
	}
	return false;
}

/* tid -> its thread group; the pid itself when /proc does not say */
static pid_t tgid_of(pid_t tid)
{
	pid_t tg, pp;
	uid_t u;

	return ap_proc__status(tid, &tg, &pp, &u) ? tid : tg;
}

/* the caller's thread group, looked up the first time it is needed */
static pid_t caller(pid_t tid, pid_t *tgid)
{
	if (*tgid <= 0)
		*tgid = tgid_of(tid);
	return *tgid;
}

static bool inside(const struct ap_sysguard *g, pid_t tgid)
{
	uint32_t k = (uint32_t)tgid;
	struct ap_proc p;

	if (g->procs_fd >= 0 && !bpf_map_lookup_elem(g->procs_fd, &k, &p))
		return p.session == g->session;
	return in_our_cgroup(g, tgid);
}

/* the run process, or another process of the actplane binary outside the
 * session (the watchdog, another session's engine) */
static bool is_engine(const struct ap_sysguard *g, pid_t tgid)
{
	char path[64];
	struct stat st;

	if (tgid == g->engine_pid)
		return true;
	if (tgid <= 0 || !g->exe_ino)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)tgid);
	if (stat(path, &st) || st.st_dev != g->exe_dev || st.st_ino != g->exe_ino)
		return false;
	return !inside(g, tgid);
}

static void describe(pid_t pid, char *target, size_t tsize)
{
	char path[64], exe[512];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		snprintf(target, tsize, "pid:%d (%s)", (int)pid, exe);
	} else {
		snprintf(target, tsize, "pid:%d", (int)pid);
	}
}

/* the pid a pidfd (or an fd of a /proc/PID directory) of process tgid
 * refers to; 0 unknown */
static pid_t pidfd_target(pid_t tgid, int fd)
{
	char path[64], line[128], link[128];
	pid_t pid = 0;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)tgid, fd);
	f = fopen(path, "re");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "Pid:", 4))
				pid = (pid_t)atoi(line + 4);
		fclose(f);
	}
	if (pid)
		return pid;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)tgid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 6 && !strncmp(link, "/proc/", 6)) {
		link[n] = 0;
		pid = (pid_t)atoi(link + 6);
	}
	return pid;
}

/* a signal aimed at pid (kill's meaning of pid) from tgid */
static bool signal_hits_engine(const struct ap_sysguard *g, pid_t tgid, pid_t pid,
			       char *target, size_t tsize)
{
	if (pid == -1) {
		snprintf(target, tsize, "pid:-1");
		return true;
	}
	if (pid == 0) {
		if (getpgid(tgid) != g->engine_pgid)
			return false;
		snprintf(target, tsize, "pgid:%d", (int)g->engine_pgid);
		return true;
	}
	if (pid < 0) {
		if (-pid != g->engine_pgid && !is_engine(g, -pid))
			return false;
		snprintf(target, tsize, "pgid:%d", (int)-pid);
		return true;
	}
	if (!is_engine(g, tgid_of(pid)))
		return false;
	describe(pid, target, tsize);
	return true;
}

int ap_sysguard__check(const struct ap_sysguard *g, pid_t tid, pid_t tgid, int nr,
		       const uint64_t a[6], enum ap_op *op, char *target, size_t tsize)
{
	if (g->items & AP_GUARD_PTRACE) {
		pid_t t = 0;

		if (nr == SYS_ptrace && (a[0] == PTRACE_ATTACH || a[0] == PTRACE_SEIZE))
			t = (pid_t)a[1];
		else if (nr == SYS_process_vm_writev)
			t = (pid_t)a[0];
		if (t) {
			if (inside(g, tgid_of(t)))
				return 0;
			*op = AP_OP_PTRACE;
			describe(t, target, tsize);
			return 1;
		}
	}
	if (g->items & AP_GUARD_NAMESPACES) {
		const char *name = NULL;

		if (nr == SYS_chroot)
			name = "chroot";
		else if (nr == SYS_pivot_root)
			name = "pivot_root";
		else if (nr == SYS_setns)
			name = "setns";
		else if (nr == SYS_unshare && (a[0] & NS_FLAGS))
			name = "unshare";
		else if (nr == SYS_clone && (a[0] & NS_FLAGS))
			name = "clone";
		if (name) {
			*op = AP_OP_NAMESPACE;
			if (nr == SYS_unshare || nr == SYS_clone)
				snprintf(target, tsize, "%s(%s%s%s)", name,
					 a[0] & CLONE_NEWNS ? "CLONE_NEWNS" : "",
					 (a[0] & NS_FLAGS) == NS_FLAGS ? "|" : "",
					 a[0] & CLONE_NEWUSER ? "CLONE_NEWUSER" : "");
			else
				snprintf(target, tsize, "%s", name);
			return 1;
		}
	}
	if (g->items & AP_GUARD_SIGNAL) {
		bool hit = false;

		/* signal 0 to one process delivers nothing: an existence
		 * check (`kill -0 $PPID`, `actplane status` from inside) */
		if (nr == SYS_kill)
			hit = !((pid_t)a[0] > 0 && (int)a[1] == 0) &&
			      signal_hits_engine(g, caller(tid, &tgid), (pid_t)a[0], target, tsize);
		else if (nr == SYS_tkill || nr == SYS_rt_sigqueueinfo)
			hit = (pid_t)a[0] > 0 && (int)a[1] != 0 &&
			      signal_hits_engine(g, caller(tid, &tgid), (pid_t)a[0], target, tsize);
		else if (nr == SYS_tgkill || nr == SYS_rt_tgsigqueueinfo)
			hit = (pid_t)a[0] > 0 && (int)a[2] != 0 &&
			      signal_hits_engine(g, caller(tid, &tgid), (pid_t)a[0], target, tsize);
		else if (nr == SYS_pidfd_open)
			hit = (pid_t)a[0] > 0 &&
			      signal_hits_engine(g, caller(tid, &tgid), (pid_t)a[0], target, tsize);
		else if (nr == SYS_pidfd_send_signal && (int)a[1] != 0) {
			pid_t t = pidfd_target(caller(tid, &tgid), (int)a[0]);

			hit = t > 0 && signal_hits_engine(g, caller(tid, &tgid), t, target, tsize);
		}
		if (hit) {
			*op = AP_OP_SIGNAL;
			return 1;
		}
	}
	return 0;
}

int ap_sysguard__check_mem(const struct ap_sysguard *g, const char *path,
			   char *target, size_t tsize)
{
	int pid = 0, tid = 0, n = 0;

	if (!(g->items & AP_GUARD_PTRACE) || strncmp(path, "/proc/", 6))
		return 0;
	if (sscanf(path, "/proc/%d/task/%d/mem%n", &pid, &tid, &n) == 2 && !path[n]) {
		pid = tgid_of(tid);
	} else {
		n = 0;
		if (sscanf(path, "/proc/%d/mem%n", &pid, &n) != 1 || !n || path[n])
			return 0;
	}
	if (pid <= 0 || inside(g, pid))
		return 0;
	describe(pid, target, tsize);
	snprintf(target + strlen(target), tsize - strlen(target), " %s", path);
	return 1;
}

const char *ap_sysguard__reason(enum ap_op op)
{
	switch (op) {
	case AP_OP_PTRACE:
		return "a process of the session may not trace, or write the "
		       "memory of, a process outside the session";
	case AP_OP_NAMESPACE:
		return "a process of the session may not change its root or "
		       "enter or create a mount or user namespace";
	case AP_OP_SIGNAL:
		return "a process of the session may not signal the actplane "
		       "engine";
	default:
		return "a process of the session may not leave its boundary";
	}
}

static int gpid_add(int map_fd, pid_t pid, uint32_t bits)
{
	uint32_t k = (uint32_t)pid, v = 0;

	/* process group 0: processes started by the kernel's init task
	 * without a group of their own (a minimal VM's init script) */
	if (pid < 0 || (pid == 0 && bits != AP_GPID_GROUP))
		return 0;
	if (bpf_map_lookup_elem(map_fd, &k, &v))
		v = 0;
	if ((v & bits) == bits)
		return 0;
	v |= bits;
	return bpf_map_update_elem(map_fd, &k, &v, BPF_ANY) ? -errno : 1;
}

int ap_sysguard__fill_engine_pids(int map_fd, pid_t self)
{
	struct stat me, st;
	struct dirent *de;
	char path[64];
	int n = 0, r;
	DIR *d;

	if (stat("/proc/self/exe", &me))
		return -errno;
	n += gpid_add(map_fd, self, AP_GPID_PROC) > 0;
	n += gpid_add(map_fd, getpgid(self), AP_GPID_GROUP) > 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)self);
	d = opendir(path);
	while (d && (de = readdir(d)))
		if (atoi(de->d_name) > 0)
			n += gpid_add(map_fd, atoi(de->d_name), AP_GPID_PROC) > 0;
	if (d)
		closedir(d);
	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		pid_t pid = atoi(de->d_name), tg, pp;
		uid_t u;

		if (pid <= 0 || pid == self)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
		if (stat(path, &st) || st.st_dev != me.st_dev || st.st_ino != me.st_ino)
			continue;
		/* our own children are the command, not yet exec'd */
		if (ap_proc__status(pid, &tg, &pp, &u) || pp == self)
			continue;
		r = gpid_add(map_fd, pid, AP_GPID_PROC);
		if (r < 0)
			break;
		n += r;
		n += gpid_add(map_fd, getpgid(pid), AP_GPID_GROUP) > 0;
	}
	closedir(d);
	return n;
}
