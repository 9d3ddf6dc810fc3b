#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The session ends with CMD (cli-and-events.md, `run`): what is left gets
# SIGTERM, then SIGKILL after 5 s; a double-forked daemon is still in the
# session. With --keep-alive the session runs on, still under the policy,
# and run returns when the last process exits.
E2E_MODES=${E2E_MODES-"tracepoint auto"}
. "$(dirname "$0")/lib.sh"
e2e_setup

policy <<EOF
version: 1
policy: |
  rule keep:
    block unlink file "$T/keep/**"
    because "kept"
EOF
mkdir -p keep
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
fb=()
[ "$E2E_MODE" = tracepoint ] && fb=(--fallback kill)

t_begin lifetime.sigterm-ignored
rm -f daemon.pid
t0=$(now_ms)
ap_run "${fb[@]}" -- bash -c '
( setsid bash -c "trap \"\" TERM; echo \$\$ > daemon.pid; while :; do sleep 0.2; done" </dev/null >/dev/null 2>&1 & )
for i in $(seq 1 100); do [ -s daemon.pid ] && break; sleep 0.05; done
exit 3'
took=$(( $(now_ms) - t0 ))
expect_rc 3
expect_stream
d=$(cat daemon.pid 2>/dev/null)
[ -n "$d" ] || fail "the daemon did not start"
alive "$d" && { fail "the daemon that ignores SIGTERM outlived run"; kill -9 "$d"; }
# SIGKILL only after the 5 s grace; generous upper bound
[ "$took" -ge 4500 ] || fail "run returned after ${took} ms: the daemon was killed before the 5 s grace"
[ "$took" -le 30000 ] || fail "run returned after ${took} ms"
t_end

t_begin lifetime.sigterm-handled
rm -f daemon.pid got-term
ap_run "${fb[@]}" -- bash -c '
( setsid bash -c "trap \"echo term > got-term; exit 0\" TERM; echo \$\$ > daemon.pid; while :; do sleep 0.1; done" </dev/null >/dev/null 2>&1 & )
for i in $(seq 1 100); do [ -s daemon.pid ] && break; sleep 0.05; done
exit 0'
expect_rc 0
expect_stream
d=$(cat daemon.pid 2>/dev/null)
[ -n "$d" ] || fail "the daemon did not start"
alive "$d" && { fail "the daemon outlived run"; kill -9 "$d"; }
[ "$(cat got-term 2>/dev/null)" = term ] || fail "the daemon did not get SIGTERM"
t_end

t_begin lifetime.keep-alive
rm -f daemon.pid before after
echo k > keep/k.txt
ap_run "${fb[@]}" --keep-alive -- bash -c '
( setsid bash -c "echo \$\$ > daemon.pid; sleep 1.5; echo x > before; rm -f keep/k.txt; echo x > after" </dev/null >/dev/null 2>&1 & )
for i in $(seq 1 100); do [ -s daemon.pid ] && break; sleep 0.05; done
exit 0'
expect_rc 0
expect_stream
d=$(cat daemon.pid 2>/dev/null)
[ -n "$d" ] || fail "the daemon did not start"
alive "$d" && { fail "run returned while the daemon still ran"; kill -9 "$d"; }
[ -e before ] || fail "the daemon did not run on after CMD exited (run waited for nothing)"
# the daemon, after CMD's exit, is still under the policy
# (rm, the daemon's child: its parent is the daemon)
if [ "$E2E_MODE" = tracepoint ]; then
	expect_ev 1 "e['type']=='violation' and e['op']=='unlink' and e['rule']=='keep' and e['ppid']==$d and e['action']=='killed'" "the daemon's unlink, killed"
else
	expect_ev 1 "e['type']=='violation' and e['op']=='unlink' and e['rule']=='keep' and e['ppid']==$d and e['action']=='blocked'" "the daemon's unlink, blocked"
	expect_exists keep/k.txt
fi
expect_exists after
t_end

t_begin lifetime.keep-alive-signal
# run's SIGTERM reaches the session once CMD is gone
rm -f daemon.pid
"$AP_BIN" run --mode "$E2E_MODE" "${fb[@]}" --keep-alive -- bash -c '
( setsid bash -c "echo \$\$ > daemon.pid; exec sleep 60" </dev/null >/dev/null 2>&1 & )' > "$T/out" 2> "$T/err" < /dev/null &
RUN=$!
_e2e_pids+=($RUN)
for i in $(seq 1 200); do [ -s daemon.pid ] && break; sleep 0.05; done
d=$(cat daemon.pid 2>/dev/null)
sleep 0.5
kill -0 "$RUN" 2>/dev/null || fail "run did not keep the session alive"
kill -TERM "$RUN"
for i in $(seq 1 200); do kill -0 "$RUN" 2>/dev/null || break; sleep 0.05; done
kill -0 "$RUN" 2>/dev/null && fail "run did not end after SIGTERM"
alive "$d" && { fail "the daemon outlived run"; kill -9 "$d"; }
t_end
