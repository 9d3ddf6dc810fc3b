#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The engine dying kills the session, in every mode (issue 11): `kill -9`
# of `actplane run` ends every process of the session, a double-forked
# daemon (setsid) included, within a second of run's death (the watchdog
# reacts to the EOF of a pipe only run holds, then cgroup.kill). Killing the
# watchdog instead makes run end the session itself (fail closed). Neither
# leaves the session's cgroup or status file behind.
E2E_MODES=${E2E_MODES-"tracepoint auto"}
. "$(dirname "$0")/lib.sh"
e2e_setup

keep_policy

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)

# start_session TAG: run in the background with CMD + a child + a daemon;
# sets RUN, CMDP, CHILD, DAEMON, SID
start_session() {
	rm -f "$T"/*.pid
	"$AP_BIN" run --mode "$E2E_MODE" --events "$T/ev-$1.jsonl" -- bash -c '
echo $$ > cmd.pid
sleep 60 & echo $! > child.pid
( setsid bash -c "echo \$\$ > daemon.pid; exec sleep 61" & )
wait' > "$T/out" 2> "$T/err" < /dev/null &
	RUN=$!
	_e2e_pids+=($RUN)
	for i in $(seq 1 200); do
		[ -s cmd.pid ] && [ -s child.pid ] && [ -s daemon.pid ] && break
		sleep 0.05
	done
	CMDP=$(cat cmd.pid 2>/dev/null); CHILD=$(cat child.pid 2>/dev/null)
	DAEMON=$(cat daemon.pid 2>/dev/null)
	SID=$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("type") == "start": print(e["session"])' "$T/ev-$1.jsonl" 2>/dev/null | head -1)
}

# gone_within MS: every process of the session dies within MS ms of now;
# sets ELAPSED (ms until the last was gone, or "never")
gone_within() {
	local t0
	t0=$(now_ms)
	ELAPSED=never
	# a generous polling bound (10 s); the assertion is on ELAPSED
	for i in $(seq 1 2000); do
		if ! alive "$CMDP" && ! alive "$CHILD" && ! alive "$DAEMON"; then
			ELAPSED=$(( $(now_ms) - t0 ))
			break
		fi
		sleep 0.005
	done
	if [ "$ELAPSED" = never ] || [ "$ELAPSED" -gt "$1" ]; then
		alive "$CMDP" && fail "the command survived (${ELAPSED} ms)"
		alive "$CHILD" && fail "the command's child survived (${ELAPSED} ms)"
		alive "$DAEMON" && fail "the double-forked daemon survived (${ELAPSED} ms)"
		[ "$ELAPSED" = never ] || fail "the session took ${ELAPSED} ms to die, more than $1 ms"
	fi
	for p in "$CMDP" "$CHILD" "$DAEMON"; do alive "$p" && kill -9 "$p"; done
}

leftovers() {
	sleep 0.5
	[ -n "$SID" ] || { fail "no start event"; return; }
	[ -n "$cg2" ] && [ -e "$cg2/actplane-$SID" ] && fail "the session cgroup actplane-$SID was left behind"
	[ -e "/run/actplane/sessions/$SID.json" ] && fail "the status file of session $SID was left behind"
}

t_begin engine-kill.run
start_session run
alive "$CMDP" && alive "$CHILD" && alive "$DAEMON" || fail "the session did not start ($(tail -2 "$T/err"))"
grep -q "actplane-$SID" "/proc/$DAEMON/cgroup" 2>/dev/null || fail "the daemon is not in the session cgroup"
kill -9 "$RUN"
wait "$RUN" 2>/dev/null
# measured from run's observed death: the contract's second
gone_within 1000
leftovers
t_end

t_begin engine-kill.watchdog
start_session wd
wd=
for p in /proc/[0-9]*; do
	[ "$(cat "$p/comm" 2>/dev/null)" = actplane-wd ] || continue
	tr '\0' ' ' < "$p/cmdline" 2>/dev/null | grep -qF "$T/ev-wd.jsonl" && wd=${p#/proc/}
done
if [ -z "$wd" ]; then
	fail "no watchdog process (comm actplane-wd) for this session"
else
	alive "$DAEMON" || fail "the daemon is not running"
	kill -9 "$wd"
	# run polls every 100 ms and fails closed: well within a second
	gone_within 1000
	# (alive: a run that exited but is not reaped yet is a zombie, not running)
	for i in $(seq 1 100); do alive "$RUN" || break; sleep 0.05; done
	alive "$RUN" && fail "run kept running without its watchdog ($(grep State: /proc/$RUN/status 2>/dev/null))"
	grep -q "watchdog is gone" "$T/err" || fail "run did not say why it ended the session"
	wait "$RUN" 2>/dev/null
	leftovers
fi
t_end
