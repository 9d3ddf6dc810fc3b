/* SPDX-License-Identifier: MIT */
/* Writing files that readers may open at any moment. */
#ifndef AP_COMMON_FILE_H
#define AP_COMMON_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* buf to path through a temporary file in the same directory and rename:
 * a reader sees the old content or the new, never a torn one; the file
 * gets `mode` whatever the umask. No fsync (callers write derived state
 * that is rebuilt anyway). 0 or -errno; the temporary never stays. */
int ap_file__write_atomic(const char *path, const void *buf, size_t size, mode_t mode);

#endif
