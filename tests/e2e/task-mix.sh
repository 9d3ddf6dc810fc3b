#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Case 9: task A's data and task B's data in one process, then a commit:
# match. Either alone: none.
E2E_MODES=${E2E_MODES:-tracepoint auto}
. "$(dirname "$0")/lib.sh"
e2e_setup
make_repo
mkdir -p task-a task-b
echo 'alpha' > task-a/data.txt
echo 'beta' > task-b/data.txt
policy <<'EOF'
version: 1
policy: |
  source TASK_A = file "task-a/**"
  source TASK_B = file "task-b/**"
  rule keep-tasks-apart:
    kill exec "git" "commit" if TASK_A and TASK_B
    because "one commit must not mix two customers' data"
EOF

t_begin task-mix.both
echo one >> repo/src/a.c
before=$(commits)
ap_run -- bash -c 'read -r a < task-a/data.txt; read -r b < task-b/data.txt; cd repo && git commit -qam "$a $b"; echo "commit: $?"'
expect_stream
expect_out "commit: 137"
expect_ev 1 "e['type']=='violation' and e['rule']=='keep-tasks-apart' and 'TASK_A' in e['labels'] and 'TASK_B' in e['labels'] and 'commit' in e['argv']"
expect_ev 1 "e['type']=='violation' and {p['label'] for p in e['provenance']} >= {'TASK_A','TASK_B'}" "provenance for both labels"
[ "$(commits)" -eq "$before" ] || fail "the mixed commit happened"
t_end

t_begin task-mix.one-task
before=$(commits)
ap_run -- bash -c 'read -r a < task-a/data.txt; cd repo && git commit -qam "$a" && echo committed'
expect_stream
expect_rc 0
expect_out committed
expect_no_violation
[ "$(commits)" -eq $((before + 1)) ] || fail "the commit did not happen"
t_end
