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
