/* SPDX-License-Identifier: MIT */
/*
 * Small readers of /proc shared by the engine, the supervisor and run.
 * Functions return 0 or -errno.
 */
#ifndef AP_COMMON_PROCFS_H
#define AP_COMMON_PROCFS_H

#include <stddef.h>
#include <sys/types.h>

/* Where cgroup2 is mounted (/sys/fs/cgroup, or .../unified in the hybrid
 * layout), from /proc/self/mounts; -ENOENT when it is not. */
int ap_procfs__cgroup2_mount(char *out, size_t size);

/* /proc/PID/NAME (PID 0: self; a negative PID is -ESRCH) into buf, NUL-terminated, at most size - 1
 * bytes (the start of a longer file): the text of a status or cgroup file
 * is read in one go, which the kernel serves consistently. */
int ap_procfs__read(pid_t pid, const char *name, char *buf, size_t size);

#endif
