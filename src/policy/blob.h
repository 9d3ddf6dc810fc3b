/* SPDX-License-Identifier: MIT */
/*
 * The compiled policy blob (layout in bpf/abi.h): the one artifact between
 * the compiler and the kernel engine. `actplane compile` writes it; `run`
 * compiles in memory and hands the same bytes to the engine.
 *
 * A view points into a blob the caller keeps alive; it allocates nothing.
 */
#ifndef AP_POLICY_BLOB_H
#define AP_POLICY_BLOB_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "../../bpf/abi.h"

struct ap_blob_view {
	const struct ap_blob_header *hdr;
	const char *strings;
	size_t strings_size;
	const __u32 *labels;                 /* hdr->nlabels name offsets */
	const struct ap_rule *rules;         /* hdr->nrules */
	const struct ap_rule_meta *rule_meta; /* hdr->nrules */
	const struct ap_clause *clauses;     /* hdr->nclauses */
	const struct ap_cond *conds;
	const struct ap_gate *gates;
	const struct ap_since *since;
	const struct ap_lineage *lineage;
	const struct ap_source *sources;
	const struct ap_keep *keeps;
	const struct ap_endpoint *endpoints;
	const struct ap_pattern_meta *patterns;
	const __u8 *dfa_classes;             /* 256 */
	const __u16 *dfa_trans;              /* ndfa_states * ndfa_classes */
	const __u16 *dfa_accept;             /* ndfa_states */
	const struct ap_accept_set *accept_sets; /* naccept */
};

/* Check magic, version, every section's bounds and every index inside the
 * tables (a blob from disk is untrusted input). 0 or -EINVAL/-EPROTO
 * (-EPROTO: other ABI version); *why gets a static explanation. */
int ap_blob__view(const void *blob, size_t size, struct ap_blob_view *v,
		  const char **why);

/* string at offset, "" when out of range */
const char *ap_blob__str(const struct ap_blob_view *v, __u32 off);

#endif
