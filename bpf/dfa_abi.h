/* SPDX-License-Identifier: MIT */
/*
 * Layout of the pattern automaton in BPF maps, shared by bpf/dfa.bpf.h (the
 * walker) and src/policy/dfa.c (ap_dfa__size_maps / ap_dfa__fill_maps).
 * Included after abi.h's prerequisites (vmlinux.h or <linux/types.h>).
 *
 * Transitions are stored in 4 KiB chunks rather than one __u16 per array
 * element: an ARRAY map rounds every value up to 8 bytes, which would make
 * the table four times its size, and a chunk lookup costs the same.
 */
#ifndef ACTPLANE_DFA_ABI_H
#define ACTPLANE_DFA_ABI_H

#include "abi.h"

/* ap_dfa_classes[0]: how to read the tables. States 1..ngroups start the
 * independent automata whose accept sets are OR-ed (ngroups 1 normally;
 * 0 reads as 1). */
#define AP_DFA_MAX_GROUPS 8
struct ap_dfa_kconf {
	__u32 nclasses;
	__u32 nstates;
	__u8 classes[256];
	__u32 ngroups;
	__u32 pad;
};

/* ap_dfa_trans[k].next[j] is transition k * AP_DFA_TRANS_CHUNK + j, i.e.
 * trans[state * nclasses + class] of struct ap_dfa */
#define AP_DFA_TRANS_CHUNK 2048
struct ap_dfa_trans_chunk {
	__u16 next[AP_DFA_TRANS_CHUNK];
};

/* Bytes the walker reads from its input buffer at most: a prefix byte and a
 * path of AP_PATH_MAX bytes including its NUL. The buffer handed to the
 * walker must be at least this large. */
#define AP_DFA_INPUT_MAX (AP_PATH_MAX + 1)

_Static_assert(sizeof(struct ap_dfa_kconf) == 272, "ap_dfa_kconf layout");
_Static_assert(sizeof(struct ap_dfa_trans_chunk) == 4096, "trans chunk layout");

#endif
