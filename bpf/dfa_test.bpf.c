// SPDX-License-Identifier: Dual BSD/GPL
/*
 * Test harness for the kernel DFA walker (tests/unit/test_dfa_bpf.c): user
 * space writes a string into ap_dfa_test_input and runs the program with
 * BPF_PROG_RUN; the return value is the accept-set id.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "abi.h"
#include "dfa.bpf.h"

char ap_dfa_test_input[AP_DFA_INPUT_MAX];
__u32 ap_dfa_test_state;

SEC("syscall")
int ap_dfa_test_run(void *ctx)
{
	__u32 st = ap_dfa_feed(AP_DFA_START, ap_dfa_test_input, 0);

	ap_dfa_test_state = st;
	return ap_dfa_accept_id(st);
}

struct ap_accept_set ap_dfa_test_set;

/* the union over every group of automata, into ap_dfa_test_set */
SEC("syscall")
int ap_dfa_test_run_set(void *ctx)
{
	return ap_dfa_walk_set(ap_dfa_test_input, &ap_dfa_test_set);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
