#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Case 7: a secret copied by process A into a file and read by an unrelated
# process B that then connects: the match is on B, and its provenance names
# A's read of the secret.
E2E_MODES=${E2E_MODES:-tracepoint auto}
. "$(dirname "$0")/lib.sh"
e2e_setup
echo 'hunter2' > secret.txt
echo 'public' > public.txt
mkdir -p scratch
policy <<'EOF'
version: 1
policy: |
  source SECRET = file "secret.txt"
  rule no-exfil:
    kill connect endpoint "*" if SECRET
    because "secrets stay on this machine"
EOF
listen
B='import socket, sys
data = open(sys.argv[1]).read()
s = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
s.sendall(data.encode())
print("sent")'

t_begin copy-flow.match-on-b
ap_run -- bash -c 'cp secret.txt scratch/copy.txt; python3 -c "$0" scratch/copy.txt '"$PORT"'; echo "b: $?"' "$B"
expect_stream
expect_no_out sent
expect_out "b: 137"
expect_ev 1 "e['type']=='violation' and e['rule']=='no-exfil' and e['op']=='connect' and e['comm'].startswith('python') and 'SECRET' in e['labels']"
expect_ev 1 "e['type']=='violation' and any(p['label']=='SECRET' and p['comm']=='cp' and p['op'] in ('read','open') and p['target']=='$T/secret.txt' for p in e['provenance'])" "provenance naming cp's read of secret.txt"
grep -q hunter2 "$T/received" 2>/dev/null && fail "the listener received the secret"
t_end

t_begin copy-flow.public
ap_run -- bash -c 'cp public.txt scratch/copy2.txt; python3 -c "$0" scratch/copy2.txt '"$PORT"'; echo "b: $?"' "$B"
expect_stream
expect_rc 0
expect_out sent
expect_out "b: 0"
expect_no_violation
t_end
