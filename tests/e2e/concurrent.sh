#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two `run`s at the same time do not see each other's sessions.
E2E_MODES=${E2E_MODES:-tracepoint auto}
. "$(dirname "$0")/lib.sh"
e2e_setup
echo 'FORBIDDEN-CONTENT' > forbidden.txt
mkfifo hold release
policy <<'EOF'
version: 1
policy: |
  rule off-limits:
    notify open file "forbidden.txt"
    because "watched file"
EOF

t_begin concurrent.isolated-sessions
# B: up and attached (it has written to `hold`), then waits on `release`
timeout -k 5 "$E2E_TIMEOUT" "$AP_BIN" run --mode "$E2E_MODE" --events "$T/evB.jsonl" -- \
	bash -c 'echo up > hold; read -r x < release; cat forbidden.txt > /dev/null; echo b-done' \
	> "$T/outB" 2> "$T/errB" < /dev/null &
bpid=$!
_e2e_pids+=($bpid)
read -r _ < hold
# A runs (and matches) while B is alive
ap_run -- cat forbidden.txt
echo go > release
wait "$bpid"
brc=$?
expect_stream
expect_rc 0
expect_ev 1 "e['type']=='violation' and e['comm']=='cat'"
[ "$brc" -eq 0 ] || fail "B exited $brc"
nb=$(evq "e['type']=='violation'" "$T/evB.jsonl")
[ "$nb" -eq 1 ] || fail "B saw $nb violations, expected only its own 1"
sa=$(evq "e['type']=='start'" "$T/ev.jsonl")
sess_a=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["session"])' "$T/ev.jsonl")
sess_b=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["session"])' "$T/evB.jsonl")
[ "$sess_a" != "$sess_b" ] || fail "both runs have session $sess_a"
vb=$(evq "e['type']=='violation' and e['session']=='$sess_a'" "$T/evB.jsonl")
[ "$vb" -eq 0 ] || fail "B's stream has A's session"
grep -q b-done "$T/outB" || fail "B did not finish"
t_end
