/* SPDX-License-Identifier: MIT */
/*
 * Engine internals shared by loader.c, maps.c, events.c and the unit tests:
 * record decoding and policy-table preparation, both pure user-space code.
 */
#ifndef AP_ENGINE_ENGINE_INT_H
#define AP_ENGINE_ENGINE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

struct ap_blob_view;

/* Buffers a decoded record points into; reused from record to record. */
struct ap_event_decoder {
	int64_t boot_to_real_ns;    /* CLOCK_REALTIME - CLOCK_BOOTTIME */
	char target[AP_PATH_MAX + 64];
	char target2[AP_PATH_MAX + 64];
	char exe[AP_PATH_MAX + 64];
	char argv_buf[AP_REC_ARGV_MAX + 1];
	const char *argv[AP_REC_ARGV_MAX / 2 + 1];
	unsigned rules[AP_MAX_RULES];
	struct ap_event_prov prov[AP_REC_PROV_MAX];
	char prov_target[AP_REC_PROV_MAX][AP_PROV_TARGET_MAX + 80];
	int (*read_exe)(int pid, char *buf, size_t size); /* NULL: /proc */
};

/* Decode one ring buffer record. 0, or -EINVAL for a malformed record
 * (short, inconsistent lengths, unknown type). */
int ap_event__decode(struct ap_event_decoder *d, const void *data, size_t size,
		     struct ap_event_rec *out);

/* Format a raw sockaddr as the contract's target: ADDR:PORT, [v6]:port,
 * unix:PATH, unix:@NAME. */
void ap_sockaddr__format(const void *sa, size_t len, char *buf, size_t size);

/* Clauses in the order the kernel keeps them: sorted by op (stable), with
 * each op's [first, count) range. */
struct ap_clause_order {
	uint32_t n;
	uint32_t *idx;               /* kernel slot -> blob clause index */
	uint16_t first[AP_OP__COUNT];
	uint16_t count[AP_OP__COUNT];
};
int ap_clause_order__build(const struct ap_blob_view *b, struct ap_clause_order *o);
void ap_clause_order__free(struct ap_clause_order *o);

/* Effects the blob uses that the tracepoint mode cannot honour, as a mask
 * of (1 << enum ap_effect). */
unsigned ap_engine__degraded_mask(const struct ap_blob_view *b);

struct engine_bpf;
/* fill every policy map of a loaded skeleton from the blob */
int ap_engine_maps__fill(struct engine_bpf *skel, const struct ap_blob_view *b,
			 const struct ap_clause_order *o);
/* learn the names of existing files under the patterns' literal
 * directories (hard links made before the session); returns inodes added */
long ap_engine_maps__learn_names(struct engine_bpf *skel,
				 const struct ap_blob_view *b, long budget);

#endif
