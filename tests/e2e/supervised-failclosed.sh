#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Supervised mode fails closed: when the supervisor (the run process) dies,
# every process of the session dies with it, daemons included (the session
# cgroup is killed by the watchdog), and none runs on unsupervised.
. "$(dirname "$0")/lib.sh"
e2e_setup

if ! timeout 60 "$AP_BIN" run --mode supervised --rule 'rule p: block exec "no-such-e2e"' -- true \
	> "$T/probe.out" 2> "$T/probe.err"; then
	echo "skip e2e.supervised.failclosed: no supervised mode here"
	exit 0
fi
policy <<EOF
version: 1
policy: |
  rule keep:
    block unlink file "$T/keep/**"
    because "kept"
EOF
mkdir -p keep
echo k > keep/k.txt

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

t_begin supervised.failclosed.kill-supervisor
"$AP_BIN" run -- bash -c '
echo $$ > cmd.pid
( setsid bash -c "echo \$\$ > daemon.pid; exec sleep 60" & )
sleep 60' > "$T/out" 2> "$T/err" < /dev/null &
RUN=$!
for i in $(seq 1 150); do
	[ -s cmd.pid ] && [ -s daemon.pid ] && break
	sleep 0.1
done
cmd=$(cat cmd.pid 2>/dev/null); daemon=$(cat daemon.pid 2>/dev/null)
alive "$cmd" || fail "the command is not running"
alive "$daemon" || fail "the daemon is not running"
kill -9 "$RUN"
wait "$RUN" 2>/dev/null
for i in $(seq 1 50); do
	alive "$cmd" || alive "$daemon" || break
	sleep 0.1
done
alive "$cmd" && { fail "the command survived its supervisor"; kill -9 "$cmd"; }
alive "$daemon" && { fail "the daemon survived the supervisor"; kill -9 "$daemon"; }
t_end

t_begin supervised.failclosed.cgroup-removed
sleep 0.5
sid=$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("type") == "start": print(e["session"])' "$T/.actplane/events.jsonl" 2>/dev/null | tail -1)
cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
if [ -z "$sid" ]; then
	fail "no start event of the killed run in the audit trail"
elif [ -n "$cg2" ] && [ -e "$cg2/actplane-$sid" ]; then
	fail "the session cgroup $cg2/actplane-$sid was left behind"
fi
t_end
