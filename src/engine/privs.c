// SPDX-License-Identifier: MIT
#include "privs.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "common/log.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static int read_caps(__u64 *eff)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	*eff = (__u64)data[1].effective << 32 | data[0].effective;
	return 0;
}

static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

int ap_privs__check(char *why, size_t size)
{
	bool has_cap_bpf = last_cap() >= CAP_BPF;
	__u64 eff = 0;
	int err = read_caps(&eff);

	if (err) {
		snprintf(why, size, "cannot read this process's capabilities: %s",
			 strerror(-err));
		return -EPERM;
	}
	if (!(eff & (1ull << CAP_SYS_ADMIN)) ||
	    (has_cap_bpf && !(eff & (1ull << CAP_BPF)))) {
		snprintf(why, size,
			 "the kernel engine needs root (or the capabilities %s); run it with sudo: "
			 "the supervised command still runs as you",
			 has_cap_bpf ? "CAP_BPF and CAP_SYS_ADMIN" : "CAP_SYS_ADMIN");
		return -EPERM;
	}
	return 0;
}

static void fill_from_pw(struct ap_user *u, const struct passwd *pw)
{
	snprintf(u->name, sizeof(u->name), "%s", pw->pw_name);
	snprintf(u->home, sizeof(u->home), "%s", pw->pw_dir ? pw->pw_dir : "");
}

static int parse_id(const char *s, unsigned long *out)
{
	char *end;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || *end || *out >= (unsigned long)(uid_t)-1)
		return -EINVAL;
	return 0;
}

int ap_user__resolve(const char *spec, struct ap_user *u)
{
	const struct passwd *pw = NULL;
	unsigned long id;

	memset(u, 0, sizeof(*u));
	if (spec) {
		u->why = "--user";
		if (!parse_id(spec, &id)) {
			u->uid = (uid_t)id;
			pw = getpwuid(u->uid);
			/* a bare uid without an entry runs with gid = uid */
			u->gid = pw ? pw->pw_gid : (gid_t)id;
		} else {
			pw = getpwnam(spec);
			if (!pw) {
				ap_err("--user '%s': no such user", spec);
				return -ENOENT;
			}
			u->uid = pw->pw_uid;
			u->gid = pw->pw_gid;
		}
	} else if (getenv("SUDO_UID") && geteuid() == 0) {
		u->why = "sudo";
		if (parse_id(getenv("SUDO_UID"), &id)) {
			ap_err("SUDO_UID='%s' is not a user id", getenv("SUDO_UID"));
			return -EINVAL;
		}
		u->uid = (uid_t)id;
		pw = getpwuid(u->uid);
		if (!parse_id(getenv("SUDO_GID"), &id))
			u->gid = (gid_t)id;
		else
			u->gid = pw ? pw->pw_gid : (gid_t)u->uid;
	} else {
		u->why = "caller";
		u->uid = geteuid();
		u->gid = getegid();
		pw = getpwuid(u->uid);
	}
	if (pw)
		fill_from_pw(u, pw);
	u->change = u->uid != geteuid() || u->gid != getegid() ||
		    u->uid != getuid() || u->gid != getgid();
	return 0;
}

int ap_user__become(const struct ap_user *u)
{
	if (!u->change)
		return 0;
	/* groups first: after setuid we could no longer change them */
	if (u->name[0]) {
		if (initgroups(u->name, u->gid))
			return -errno;
	} else if (setgroups(1, &u->gid)) {
		return -errno;
	}
	if (setresgid(u->gid, u->gid, u->gid))
		return -errno;
	if (setresuid(u->uid, u->uid, u->uid))
		return -errno;
	/* paranoia: a dropped process must not get root back */
	if (u->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		return -EPERM;
	if (u->home[0])
		setenv("HOME", u->home, 1);
	if (u->name[0]) {
		setenv("USER", u->name, 1);
		setenv("LOGNAME", u->name, 1);
	}
	return 0;
}

int ap_user__chown(const struct ap_user *u, const char *path)
{
	if (!u->change)
		return 0;
	if (lchown(path, u->uid, u->gid))
		return -errno;
	return 0;
}
