// SPDX-License-Identifier: Dual BSD/GPL
/*
 * The kernel engine: one object (one skeleton, one set of maps) built from
 * one header per concern:
 *   engine_maps.bpf.h  maps, load-time constants, counters, scratch
 *   engine_dfa.bpf.h   the policy automaton
 *   engine_path.bpf.h  absolute paths (dentry walk, name normalisation)
 *   engine_flow.bpf.h  label flow, provenance, lineage/gates/since facts
 *   engine_eval.bpf.h  clause evaluation and ring buffer records
 *   engine_proc.bpf.h  fork / exec / exit
 *   engine_file.bpf.h  open, unlink, rename, link, symlink, truncate
 *   engine_net.bpf.h   connect, sendto, sendmsg
 *   engine_io.bpf.h    data through descriptors: read/write/send/recv
 *   engine_guard.bpf.h the session guard's system calls (ptrace, namespaces,
 *                      signals to the engine)
 *   engine_memflow.bpf.h  labels through memory: ptrace, process_vm_readv,
 *                      /proc/PID/mem, mmap
 * Programs are named after their hook. User space: src/engine/.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#ifndef ENOENT
#define ENOENT 2
#define EBADF 9
#define ENOMEM 12
#define EFAULT 14
#define E2BIG 7
#define ENAMETOOLONG 36
#define ELOOP 40
#endif

#include "abi.h"
#include "engine_proc.bpf.h"
#include "engine_file.bpf.h"
#include "engine_net.bpf.h"
#include "engine_io.bpf.h"
#include "engine_guard.bpf.h"
#include "engine_memflow.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
