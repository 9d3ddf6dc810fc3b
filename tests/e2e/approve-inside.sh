#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Approvals come from outside (issue 11): a script inside the session that
# runs `actplane approve` (or `deny`) on its own held `ask` is refused
# (exit 1, "inside session"), the operation stays held, and the attempt is a
# `decision` event with "decision":"refused"; the same approve from outside
# lets it through once. Held operations exist only where the mode can hold
# (supervised); tracepoint mode cannot honour `ask` and refuses to run it
# without --fallback.
. "$(dirname "$0")/lib.sh"
e2e_setup

policy <<EOF
version: 1
policy: |
  rule confirm-delete:
    ask unlink file "$T/data/**"
    because "deleting data needs a person's yes"
EOF
mkdir -p data

t_begin approve-inside.tracepoint-refuses-ask
E2E_MODE=tracepoint ap_run -- true
expect_rc 3
grep -q -- '--fallback' "$T/err" || fail "the refusal does not mention --fallback"
t_end

# a caller that restricts the modes (the VM stage: E2E_MODES=tracepoint)
# does not want the supervised cases
case " ${E2E_MODES-auto} " in
*" auto "*|*" supervised "*) ;;
*) echo "skip e2e.approve-inside: supervised mode not among E2E_MODES=$E2E_MODES"; exit 0 ;;
esac
if ! timeout 60 "$AP_BIN" run --mode supervised --rule 'rule p: block exec "no-such-e2e"' -- true \
	> "$T/probe.out" 2> "$T/probe.err"; then
	echo "skip e2e.approve-inside: no supervised mode here"
	exit 0
fi

t_begin approve-inside.refused-then-outside
echo a > data/a.txt
rm -f inside-*
ACTPLANE_ASK_TIMEOUT=60 AP_BIN=$AP_BIN timeout -k 5 "$E2E_TIMEOUT" "$AP_BIN" run --mode supervised \
	--events "$T/ev.jsonl" -- bash -c '
rm data/a.txt & RM=$!
for i in $(seq 1 100); do
	id=$("$AP_BIN" pending --json 2>/dev/null | /usr/bin/python3 -c "
import json, sys
for l in sys.stdin:
    o = json.loads(l)
    if o[\"target\"].endswith(\"/data/a.txt\"): print(o[\"approval\"]); break")
	[ -n "$id" ] && break
	sleep 0.1
done
echo "$id" > inside-id
"$AP_BIN" approve "$id" > inside-approve.out 2> inside-approve.err; echo $? > inside-approve.rc
"$AP_BIN" deny "$id" > inside-deny.out 2> inside-deny.err; echo $? > inside-deny.rc
echo done > inside-done
wait $RM; echo rm=$?' > "$T/out" 2> "$T/err" < /dev/null &
BG=$!
for i in $(seq 1 300); do [ -s inside-done ] && break; sleep 0.1; done
id=$(cat inside-id 2>/dev/null)
[ -n "$id" ] || fail "the script inside saw no pending approval"
[ "$(cat inside-approve.rc 2>/dev/null)" = 1 ] || fail "approve from inside exited $(cat inside-approve.rc 2>/dev/null), expected 1"
[ "$(cat inside-deny.rc 2>/dev/null)" = 1 ] || fail "deny from inside exited $(cat inside-deny.rc 2>/dev/null), expected 1"
grep -q "inside session" inside-approve.err || fail "no clear refusal: $(head -c 200 inside-approve.err)"
# still held: the file is there and the approval still pending
expect_exists "$T/data/a.txt"
"$AP_BIN" pending --json | grep -q "\"$id\"" || fail "the operation is no longer pending after the refusal"
# from outside: through, once
"$AP_BIN" approve "$id" > /dev/null || fail "approve from outside exited $?"
"$AP_BIN" approve "$id" > /dev/null 2>&1 && fail "a second approve of $id succeeded"
wait "$BG"
RC=$?
STREAM_ERR=$(stream_check "$T/ev.jsonl" "$RC")
expect_rc 0
expect_stream
expect_out rm=0
expect_missing "$T/data/a.txt"
expect_ev 1 "e['type']=='violation' and e['effect']=='ask' and e['action']=='held' and e['approval']=='$id'"
expect_ev 2 "e['type']=='decision' and e['approval']=='$id' and e['decision']=='refused' and 'inside session' in e['by']" "refused decisions"
expect_ev 1 "e['type']=='decision' and e['approval']=='$id' and e['decision']=='approved'"
expect_ev 0 "e['type']=='decision' and e['approval']=='$id' and e['decision']=='denied'"
t_end

t_begin approve-inside.send-and-exit
# the caller sends its approve straight to the control socket and exits at
# once, before the session can look at it: refused all the same (a caller
# that is gone cannot be shown to be outside)
echo b > data/b.txt
rm -f inside-*
cat > "$T/hit.py" <<'PY'
import json, os, socket, sys, time
sid = [l.split("actplane-")[1].split("/")[0].strip() for l in open("/proc/self/cgroup") if "actplane-" in l][0]
path = "/run/actplane/%s.sock" % sid
aid = None
for _ in range(100):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(b"pending\n")
    s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        d = s.recv(4096)
        if not d: break
        data += d
    s.close()
    for l in data.decode().splitlines():
        o = json.loads(l)
        if o["target"].endswith("/data/b.txt"): aid = o["approval"]
    if aid: break
    time.sleep(0.1)
open("inside-id", "w").write(aid or "")
for _ in range(5):
    if os.fork() == 0:
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        s.sendall(("approve %s\n" % aid).encode())
        os._exit(0)
    os.wait()
open("inside-done", "w").write("done")
PY
ACTPLANE_ASK_TIMEOUT=60 timeout -k 5 "$E2E_TIMEOUT" "$AP_BIN" run --mode supervised \
	--events "$T/ev.jsonl" -- bash -c '
rm data/b.txt & RM=$!
/usr/bin/python3 hit.py
wait $RM; echo rm=$?' > "$T/out" 2> "$T/err" < /dev/null &
BG=$!
for i in $(seq 1 300); do [ -s inside-done ] && break; sleep 0.1; done
id=$(cat inside-id 2>/dev/null)
[ -n "$id" ] || fail "the script inside saw no pending approval"
sleep 0.5
expect_exists "$T/data/b.txt"
"$AP_BIN" pending --json | grep -q "\"$id\"" || fail "the operation is no longer pending"
"$AP_BIN" deny "$id" > /dev/null || fail "deny from outside exited $?"
wait "$BG"
RC=$?
STREAM_ERR=$(stream_check "$T/ev.jsonl" "$RC")
expect_rc 0
expect_stream
expect_out rm=1
expect_exists "$T/data/b.txt"
expect_ev 5 "e['type']=='decision' and e['approval']=='$id' and e['decision']=='refused'" "refused decisions"
expect_ev 0 "e['type']=='decision' and e['approval']=='$id' and e['decision']=='approved'"
expect_ev 1 "e['type']=='decision' and e['approval']=='$id' and e['decision']=='denied'"
t_end
