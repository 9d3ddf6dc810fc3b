#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Case 6: a read-only sub-agent that runs git is killed before git runs a
# single instruction: git never wrote anything.
E2E_MODES=${E2E_MODES:-tracepoint auto}
. "$(dirname "$0")/lib.sh"
e2e_setup
make_repo
make_script ro-agent '"$@"; echo "sub-agent: status $?"'
policy <<'EOF'
version: 1
policy: |
  source READONLY = exec "ro-agent"
  rule read-only-agents:
    kill exec "git" if READONLY
    because "this sub-agent is read-only"
EOF

t_begin readonly-subagent.killed
ap_run -- "$T/bin/ro-agent" git init -q "$T/newrepo"
expect_stream
expect_rc 0
expect_out "sub-agent: status 137"
expect_ev 1 "e['type']=='violation' and e['rule']=='read-only-agents' and e['op']=='exec' and e['target'].endswith('/git') and e['action']=='killed' and 'READONLY' in e['labels']"
expect_missing "$T/newrepo"
t_end

t_begin readonly-subagent.commit-killed
echo change >> repo/src/a.c
before=$(commits)
ap_run -- "$T/bin/ro-agent" git -C repo commit -qam sneaky
expect_stream
expect_out "sub-agent: status 137"
expect_ev 1 "e['type']=='violation' and e['rule']=='read-only-agents'"
[ "$(commits)" -eq "$before" ] || fail "git committed"
[ -e repo/.git/index.lock ] && fail "git left an index.lock: it ran"
t_end

t_begin readonly-subagent.main-agent
ap_run -- git init -q "$T/newrepo2"
expect_stream
expect_rc 0
expect_exists "$T/newrepo2/.git"
expect_no_violation
t_end
