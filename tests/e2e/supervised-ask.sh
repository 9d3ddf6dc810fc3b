#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Supervised mode, `ask`: the operation is held until a person decides
# from outside the session (actplane approve / deny) or the time runs out;
# a process of the session cannot decide; every decision is an event.
. "$(dirname "$0")/lib.sh"
e2e_setup

if ! timeout 60 "$AP_BIN" run --mode supervised --rule 'rule p: block exec "no-such-e2e"' -- true \
	> "$T/probe.out" 2> "$T/probe.err"; then
	echo "skip e2e.supervised.ask: no supervised mode here"
	exit 0
fi
policy <<EOF
version: 1
policy: |
  rule confirm-delete:
    ask unlink file "$T/data/**"
    because "deleting data needs a person's yes"
EOF
mkdir -p data

# start run in the background; wait until something is pending for it
bg_run() { # timeout-seconds CMD...
	local to=$1
	shift
	rm -f "$T/ev.jsonl"
	ACTPLANE_ASK_TIMEOUT=$to timeout -k 5 "$E2E_TIMEOUT" "$AP_BIN" run --events "$T/ev.jsonl" -- "$@" \
		> "$T/out" 2> "$T/err" < /dev/null &
	BG=$!
}
pending_id() { # waits up to 20 s for a pending approval on target $1
	local i id
	for i in $(seq 1 100); do
		id=$("$AP_BIN" pending --json 2>/dev/null | python3 -c '
import json, sys
for l in sys.stdin:
    o = json.loads(l)
    if o["target"] == sys.argv[1]:
        print(o["approval"]); break' "$1")
		[ -n "$id" ] && { echo "$id"; return 0; }
		sleep 0.2
	done
	return 1
}
bg_wait() { wait "$BG"; RC=$?; STREAM_ERR=$(stream_check "$T/ev.jsonl" "$RC"); }

t_begin supervised.ask.approve
echo a > data/a.txt
bg_run 60 bash -c 'rm data/a.txt; echo rm=$?'
id=$(pending_id "$T/data/a.txt") || fail "nothing pending"
[ -e data/a.txt ] || fail "deleted before the approval"
p=$("$AP_BIN" pending --json | grep -c "\"$id\"")
[ "$p" = 1 ] || fail "pending --json does not list $id"
"$AP_BIN" pending --json | python3 -c '
import json, sys
for l in sys.stdin:
    o = json.loads(l)
    missing = [k for k in ("approval", "session", "op", "target", "argv", "pid", "since") if k not in o]
    if missing: print("missing", missing); sys.exit(1)' || fail "pending --json lacks fields"
"$AP_BIN" approve "$id" > /dev/null || fail "approve exited $?"
bg_wait
expect_stream
expect_rc 0
expect_out rm=0
expect_missing "$T/data/a.txt"
expect_ev 1 "e['type']=='violation' and e['effect']=='ask' and e['action']=='held' and e['approval']=='$id' and e['op']=='unlink'"
expect_ev 1 "e['type']=='decision' and e['approval']=='$id' and e['decision']=='approved' and e['by']=='$(id -un)'"
t_end

t_begin supervised.ask.deny
echo b > data/b.txt
bg_run 60 bash -c 'rm data/b.txt; echo rm=$?'
id=$(pending_id "$T/data/b.txt") || fail "nothing pending"
"$AP_BIN" deny "$id" > /dev/null || fail "deny exited $?"
bg_wait
expect_stream
expect_rc 0
expect_out rm=1
grep -q "Operation not permitted" "$T/out" "$T/err" || fail "no EPERM"
expect_exists "$T/data/b.txt"
expect_ev 1 "e['type']=='decision' and e['approval']=='$id' and e['decision']=='denied'"
t_end

t_begin supervised.ask.timeout
echo c > data/c.txt
ACTPLANE_ASK_TIMEOUT=2 ap_run -- bash -c 'rm data/c.txt; echo rm=$?'
expect_stream
expect_rc 0
expect_out rm=1
expect_exists "$T/data/c.txt"
expect_ev 1 "e['type']=='violation' and e['action']=='held'"
expect_ev 1 "e['type']=='decision' and e['decision']=='expired'"
t_end

# the agent cannot approve itself: a process of the session is refused
t_begin supervised.ask.self-approve-refused
echo d > data/d.txt
ACTPLANE_ASK_TIMEOUT=8 ap_run -- bash -c '
rm data/d.txt &
for i in $(seq 1 40); do
	id=$("'"$AP_BIN"'" pending --json | python3 -c "import json,sys; [print(json.loads(l)[\"approval\"]) for l in sys.stdin]" | head -1)
	[ -n "$id" ] && break
	sleep 0.1
done
"'"$AP_BIN"'" approve "$id"; echo approve=$?
wait'
expect_stream
expect_out approve=1
grep -q "refused" "$T/err" "$T/out" || fail "no refusal message"
expect_exists "$T/data/d.txt"
expect_ev 0 "e['type']=='decision' and e['decision']=='approved'"
expect_ev 1 "e['type']=='decision' and e['decision']=='expired'"
t_end

t_begin supervised.ask.unknown-id
"$AP_BIN" approve no-such-approval > "$T/out" 2> "$T/err"
RC=$?
expect_rc 1
t_end
