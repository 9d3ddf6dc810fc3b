#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Case 4: deleting outside the workspace matches; inside it does not.
# In tracepoint mode a kill lands when the system call returns: the unlink
# itself has happened, the process does not get to run another instruction.
E2E_MODES=${E2E_MODES:-tracepoint auto}
. "$(dirname "$0")/lib.sh"
e2e_setup
O=$(mktemp -d /tmp/ap-e2e-out.XXXXXX)
trap 'e2e_cleanup; rm -rf "$O"' EXIT
mkdir -p ws
echo x > ws/inside.txt
echo x > "$O/outside.txt"
policy <<EOF
version: 1
policy: |
  rule stay-in-workspace:
    kill unlink file "/**" unless target "$T/ws/**"
    because "the agent deletes only inside its workspace"
EOF

t_begin delete-outside.outside
ap_run -- bash -c 'rm -f '"$O/outside.txt"'; echo after'
expect_stream
expect_rc 0
expect_ev 1 "e['type']=='violation' and e['rule']=='stay-in-workspace' and e['op']=='unlink' and e['target']=='$O/outside.txt' and e['comm']=='rm' and e['action']=='killed'"
expect_out after
t_end

echo x > "$O/outside2.txt"
t_begin delete-outside.outside-killed
ap_run -- rm -f "$O/outside2.txt"
expect_stream
expect_rc 137
expect_ev 1 "e['type']=='violation' and e['op']=='unlink' and e['target']=='$O/outside2.txt'"
t_end

t_begin delete-outside.inside
ap_run -- bash -c 'rm -f ws/inside.txt && echo removed'
expect_stream
expect_rc 0
expect_out removed
expect_missing "$T/ws/inside.txt"
expect_no_violation
t_end
