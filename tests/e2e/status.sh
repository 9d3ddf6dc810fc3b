#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `actplane status [--json]` (no root needed): a running session is listed
# with its mode, policy, processes and counters (refreshed about every
# second by run); once the session ended it is gone; a state file whose run
# is dead is reported as stale, never as a live session.
E2E_MODES=${E2E_MODES-"tracepoint auto"}
. "$(dirname "$0")/lib.sh"
e2e_setup

keep_policy
echo k > keep/k.txt
# status needs no root: run it as nobody, from a copy nobody can reach
cp "$AP_BIN" "$T/actplane-nobody" && chmod 755 "$T/actplane-nobody"
as_nobody() {
	shift # "$AP_BIN"
	setpriv --reuid=65534 --regid=65534 --clear-groups -- "$T/actplane-nobody" "$@"
}
# jq-less field access: statusq SID 'PYEXPR on s' (s = the session object)
statusq() {
	/usr/bin/python3 - "$1" "$2" "$T/status.json" <<'PY'
import json, sys
sid, expr, path = sys.argv[1:4]
try:
    d = json.load(open(path))
except Exception as e:
    print('bad-json'); sys.exit(0)
for s in d.get('sessions', []):
    if s.get('session') == sid:
        print(eval(expr, {'s': s, 'd': d})); break
else:
    print('absent')
PY
}

t_begin status.running
"$AP_BIN" run --mode "$E2E_MODE" --events "$T/ev.jsonl" -- bash -c '
rm -f keep/k.txt
sleep 60 & sleep 60 & echo go > started; wait' > "$T/out" 2> "$T/err" < /dev/null &
RUN=$!
_e2e_pids+=($RUN)
for i in $(seq 1 200); do [ -s started ] && break; sleep 0.05; done
sid=$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("type") == "start": print(e["session"], e["mode"])' "$T/ev.jsonl" 2>/dev/null | head -1)
mode=${sid#* }; sid=${sid% *}
[ -n "$sid" ] || fail "no start event"
# run refreshes the file every second: wait for the violation to show
for i in $(seq 1 50); do
	as_nobody "$AP_BIN" status --json > "$T/status.json" 2> "$T/status.err"
	[ "$(statusq "$sid" "s['violations'] == 1 and s['processes'] == 3")" = True ] && break
	sleep 0.2
done
[ -s "$T/status.json" ] || fail "status --json as nobody printed nothing ($(head -c 200 "$T/status.err"))"
[ "$(statusq "$sid" "s['mode']")" = "$mode" ] || fail "status mode '$(statusq "$sid" "s['mode']")', start said '$mode'"
[ "$(statusq "$sid" "s['policy']")" = "$T/actplane.yaml" ] || fail "status policy $(statusq "$sid" "s['policy']")"
[ "$(statusq "$sid" "len(s['policy_sha256'])")" = 64 ] || fail "no policy_sha256"
[ "$(statusq "$sid" "s['run_pid']")" = "$RUN" ] || fail "run_pid $(statusq "$sid" "s['run_pid']"), expected $RUN"
[ "$(statusq "$sid" "s['violations']")" = 1 ] || fail "violations $(statusq "$sid" "s['violations']"), expected 1"
[ "$(statusq "$sid" "s['processes']")" = 3 ] || fail "processes $(statusq "$sid" "s['processes']"), expected 3 (bash and two sleeps)"
for k in events ringbuf_drops map_full evictions read_fails; do
	[ "$(statusq "$sid" "type(s['counters']['$k']).__name__")" = int ] || fail "counter $k missing"
done
[ "$(statusq "$sid" "s['overflowed']")" = False ] || fail "overflowed is not false"
# the summary the contract names: mode, policy, counters (events, drops,
# evictions) over the running sessions (others may run at the same time)
[ "$(statusq "$sid" "d['mode'] in ('tracepoint', 'supervised', 'lsm') and isinstance(d['policy'], str)")" = True ] || fail "no top-level mode/policy"
[ "$(statusq "$sid" "all(isinstance(d['counters'][k], int) for k in ('events', 'drops', 'evictions', 'violations')) and d['counters']['violations'] >= 1")" = True ] || fail "no top-level counters"
[ "$(statusq "$sid" "d['active'] >= 1")" = True ] || fail "active does not count the session"
[ "$(statusq "$sid" "s['stale']")" = None ] || fail "a live session reported stale"
as_nobody "$AP_BIN" status > "$T/status.txt" 2>&1 || fail "status (human) as nobody failed"
grep -q "session $sid" "$T/status.txt" || fail "human status does not list $sid"
grep -q "mode *$mode" "$T/status.txt" || fail "human status does not give the mode"
kill -TERM "$RUN"
wait "$RUN" 2>/dev/null
as_nobody "$AP_BIN" status --json > "$T/status.json"
[ "$(statusq "$sid" "1")" = absent ] || fail "the session is still listed after run ended"
t_end

t_begin status.stale
# a state file left by a run that died without its watchdog's cleanup
mkdir -p "$T/state"
python3 - "$T/state/deadbeef00000000.json" <<'PY'
import json, sys
json.dump({"v": 1, "session": "deadbeef00000000", "mode": "tracepoint",
           "policy": "/x/actplane.yaml", "run_pid": 2**22 + 12345, "cmd_pid": 1,
           "processes": 0, "counters": {}}, open(sys.argv[1], "w"))
PY
ACTPLANE_STATE_DIR=$T/state "$AP_BIN" status --json > "$T/status.json"
[ "$(statusq deadbeef00000000 "s['stale'] is not None")" = True ] || fail "a dead run's state is not reported stale"
[ "$(statusq deadbeef00000000 "d['active']")" = 0 ] || fail "a dead run counted as active"
ACTPLANE_STATE_DIR=$T/state "$AP_BIN" status > "$T/status.txt"
grep -q "STALE" "$T/status.txt" || fail "human status does not say stale"
t_end

t_begin status.overflowed
# a small file map (a documented test knob) fills at once: the session is
# overflowed, and status says so while it runs
cat > "$T/ovf.yaml" <<EOF
version: 1
policy: |
  source AGENT = exec "no-such-agent-binary"
  rule keep:
    notify unlink file "$T/keep/**"
    because "kept"
run:
  seed: [AGENT]
EOF
rm -f started
ACTPLANE_ENGINE_MAX_FILES=16 "$AP_BIN" run --mode "$E2E_MODE" --policy "$T/ovf.yaml" \
	--events "$T/ev.jsonl" -- bash -c '
mkdir -p flood && for i in $(seq 1 200); do : > flood/$i; done
echo go > started; sleep 60' > "$T/out" 2> "$T/err" < /dev/null &
RUN=$!
_e2e_pids+=($RUN)
for i in $(seq 1 300); do [ -s started ] && break; sleep 0.05; done
sid=$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("type") == "start": print(e["session"])' "$T/ev.jsonl" 2>/dev/null | head -1)
for i in $(seq 1 50); do
	as_nobody "$AP_BIN" status --json > "$T/status.json" 2> /dev/null
	[ "$(statusq "$sid" "s['overflowed']")" = True ] && break
	sleep 0.2
done
[ "$(statusq "$sid" "s['overflowed']")" = True ] || fail "status does not show the overflow ($(statusq "$sid" "s['overflowed']"))"
[ "$(statusq "$sid" "s['counters']['map_full'] > 0")" = True ] || fail "status shows no map_full"
as_nobody "$AP_BIN" status > "$T/status.txt" 2>&1
grep -q "session $sid.*OVERFLOWED" "$T/status.txt" || fail "human status does not say overflowed"
kill -TERM "$RUN"
wait "$RUN" 2>/dev/null
expect_ev_min 1 "e['type']=='loss' and e.get('overflowed')" "loss events saying overflowed"
t_end
