#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Case 1: a secret read by a shell, then a connect from the same shell
# matches; after the declassifying program, nothing does.
E2E_MODES=${E2E_MODES:-tracepoint auto}
. "$(dirname "$0")/lib.sh"
e2e_setup
echo 'hunter2' > secret.txt
echo 'public' > public.txt
make_script redact 'exec 3<>/dev/tcp/127.0.0.1/$1 && echo clean >&3 && echo connected'
policy <<'EOF'
version: 1
policy: |
  source SECRET = file "secret.txt"
  declassify SECRET by exec "redact"
  rule no-exfil:
    kill connect endpoint "*" if SECRET
    because "secrets stay on this machine"
EOF
listen

t_begin secret-connect.match
ap_run -- bash -c 'read -r x < secret.txt; exec 3<>/dev/tcp/127.0.0.1/'"$PORT"' && echo "$x" >&3; echo connected'
expect_stream
expect_rc 137
expect_no_out connected
expect_ev 1 "e['type']=='violation' and e['rule']=='no-exfil' and e['op']=='connect' and e['target']=='127.0.0.1:$PORT' and e['effect']=='kill' and e['action']=='killed' and 'SECRET' in e['labels'] and e['comm']=='bash'"
expect_ev 1 "e['type']=='violation' and any(p['label']=='SECRET' and p['op'] in ('read','open') and p['target']=='$T/secret.txt' for p in e['provenance'])" "provenance naming the read of secret.txt"
expect_ev 1 "e['type']=='violation' and e['reason']=='secrets stay on this machine'"
t_end

t_begin secret-connect.declassified
ap_run -- bash -c 'read -r x < secret.txt; exec "$0" '"$PORT" "$T/bin/redact"
expect_stream
expect_rc 0
expect_out connected
expect_no_violation
t_end

t_begin secret-connect.no-secret
ap_run -- bash -c 'read -r x < public.txt; exec 3<>/dev/tcp/127.0.0.1/'"$PORT"' && echo "$x" >&3; echo connected'
expect_stream
expect_rc 0
expect_out connected
expect_no_violation
t_end
