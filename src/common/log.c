// SPDX-License-Identifier: MIT
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

int ap_verbose;

static void vlog(enum ap_log_level lvl, const char *fmt, va_list ap)
{
	static const char *const pfx[] = {
		[AP_LOG_ERROR] = "error: ", [AP_LOG_WARN] = "warning: ",
		[AP_LOG_INFO] = "", [AP_LOG_DEBUG] = "debug: ",
	};

	if (lvl == AP_LOG_DEBUG && ap_verbose < 1)
		return;
	fprintf(stderr, "actplane: %s", pfx[lvl]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void ap_log(enum ap_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(lvl, fmt, ap);
	va_end(ap);
}

#include <bpf/libbpf.h>
#include <stdlib.h>
#include <string.h>

/* libbpf's warnings (a verifier log on a failed load among them) are
 * warnings; its info is debug; its debug only with -vv. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	char small[1024], *buf = small, *big = NULL;
	va_list ap2;
	size_t n;
	int len;

	if (level == LIBBPF_DEBUG && ap_verbose < 2)
		return 0;
	if (level == LIBBPF_INFO && ap_verbose < 1)
		return 0;
	/* a verifier log arrives as one message of up to megabytes: a fixed
	 * buffer would cut off exactly the line that says why */
	va_copy(ap2, ap);
	len = vsnprintf(small, sizeof(small), fmt, ap);
	if (len >= (int)sizeof(small) && vasprintf(&big, fmt, ap2) >= 0)
		buf = big;
	va_end(ap2);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	ap_log(level == LIBBPF_WARN ? AP_LOG_WARN : AP_LOG_DEBUG, "libbpf: %s", buf);
	free(big);
	return 0;
}

void ap_log_libbpf_install(void)
{
	libbpf_set_print(libbpf_print);
}
