/* SPDX-License-Identifier: MIT */
/*
 * The one logger. Messages go to stderr as "actplane: LEVEL: text" (errors
 * and warnings) or "actplane: text" (info); debug lines only with -v.
 * libbpf's own messages are routed here by ap_log_libbpf_install().
 */
#ifndef AP_COMMON_LOG_H
#define AP_COMMON_LOG_H

enum ap_log_level { AP_LOG_ERROR, AP_LOG_WARN, AP_LOG_INFO, AP_LOG_DEBUG };

extern int ap_verbose; /* 0 quiet-ish, 1 -v, 2 -vv (libbpf debug) */

void ap_log(enum ap_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define ap_err(...)   ap_log(AP_LOG_ERROR, __VA_ARGS__)
#define ap_warn(...)  ap_log(AP_LOG_WARN, __VA_ARGS__)
#define ap_info(...)  ap_log(AP_LOG_INFO, __VA_ARGS__)
#define ap_debug(...) ap_log(AP_LOG_DEBUG, __VA_ARGS__)

/* route libbpf_set_print() through ap_log; no-op when built without libbpf */
void ap_log_libbpf_install(void);

#endif
