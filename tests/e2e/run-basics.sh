#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `actplane run` itself: exit statuses, privileges, the user the command
# runs as, the start event, the audit trail, --fallback and --audit.
E2E_MODES=${E2E_MODES:-tracepoint auto}
. "$(dirname "$0")/lib.sh"
e2e_setup
echo 'FORBIDDEN-CONTENT' > forbidden.txt
policy <<'EOF'
version: 1
policy: |
  source AGENT = exec "no-such-agent-binary"
  rule off-limits:
    kill open file "forbidden.txt" if AGENT
    because "not for agents"
  rule own-trail:
    notify open file "**/.actplane/**" if AGENT
    because "a seeded process touched the audit trail"
run:
  seed: [AGENT]
EOF
sha=$(sha256sum actplane.yaml | cut -d' ' -f1)

t_begin run-basics.exit-code
ap_run -- bash -c 'exit 7'
expect_stream
expect_rc 7
expect_ev 1 "e['type']=='exit' and e['status']==7 and e['violations']==0"
t_end

t_begin run-basics.signal-status
ap_run -- bash -c 'kill -TERM $$'
expect_stream
expect_rc 143
expect_ev 1 "e['type']=='exit' and e['status']==143 and e.get('signal')==15"
t_end

ap_run -- bash -c 'echo "pid $$"; exec cat forbidden.txt'
pid=$(sed -n 's/^pid //p' "$T/out")
t_begin run-basics.start-event
expect_stream
modecond="e['mode'] in ('tracepoint','supervised','lsm')"
[ "$E2E_MODE" = auto ] || modecond="e['mode']=='$E2E_MODE'"
expect_ev 1 "e['type']=='start' and $modecond and e['policy']=='$T/actplane.yaml' and e['policy_sha256']=='$sha' and e['rules']==['off-limits','own-trail'] and e['pid']==${pid:-0} and len(e['session'])>0 and e['seed']==['AGENT']"
t_end

t_begin run-basics.violation-identity
expect_stream
expect_rc 137
expect_ev 1 "e['type']=='violation' and e['pid']==${pid:-0} and e['tid']==${pid:-0} and e['comm']=='cat' and e['exe']=='$(readlink -f "$(command -v cat)")' and e['uid']==0 and e['labels']==['AGENT'] and e['target']=='$T/forbidden.txt'"
expect_ev 1 "e['type']=='exit' and e['status']==137 and e.get('signal')==9 and e['violations']==1"
t_end

t_begin run-basics.seed-only-the-command
# run writes .actplane/events.jsonl after seeding; it is not in the session
rm -rf .actplane
ap_run -- true
expect_stream
expect_rc 0
expect_no_violation
expect_exists "$T/.actplane/events.jsonl"
t_end

t_begin run-basics.audit-trail
ap_run -- cat forbidden.txt
n=$(evq "e['type']=='start'" "$T/.actplane/events.jsonl")
s=$(evq "e['type']=='violation' and e['rule']=='off-limits'" "$T/.actplane/events.jsonl")
[ "$n" -eq 2 ] || fail "$n start events in .actplane/events.jsonl, expected 2"
[ "$s" -eq 1 ] || fail "$s violations in .actplane/events.jsonl, expected 1"
sessions=$(python3 -c 'import json,sys; print(len({json.loads(l)["session"] for l in open(sys.argv[1]) if l.strip()}))' "$T/.actplane/events.jsonl")
[ "$sessions" -eq 2 ] || fail "$sessions distinct session ids for two runs"
t_end

t_begin run-basics.user
rm -rf .actplane
ap_run --user nobody -- bash -c 'id -u; id -g; id -G; echo "home=$HOME"'
expect_stream
expect_rc 0
[ "$(sed -n 1p "$T/out")" = 65534 ] || fail "uid $(sed -n 1p "$T/out"), expected 65534"
[ "$(sed -n 2p "$T/out")" = 65534 ] || fail "gid $(sed -n 2p "$T/out"), expected 65534"
[ "$(sed -n 3p "$T/out")" = "$(id -G nobody)" ] || fail "groups '$(sed -n 3p "$T/out")', expected '$(id -G nobody)'"
expect_out "home=/nonexistent"
[ "$(stat -c %u .actplane/events.jsonl 2>/dev/null)" = 65534 ] || fail ".actplane/events.jsonl not owned by the user"
t_end

t_begin run-basics.sudo-user
ap_run_sudo() {
	rm -f "$T/ev.jsonl"
	SUDO_UID=65534 SUDO_GID=65534 timeout -k 5 "$E2E_TIMEOUT" "$AP_BIN" run --mode "$E2E_MODE" --events "$T/ev.jsonl" "$@" > "$T/out" 2> "$T/err" < /dev/null
	RC=$?
	STREAM_ERR=$(stream_check "$T/ev.jsonl" "$RC")
}
ap_run_sudo -- id -u
expect_stream
expect_rc 0
[ "$(cat "$T/out")" = 65534 ] || fail "uid $(cat "$T/out") under SUDO_UID=65534"
t_end

t_begin run-basics.not-root
cp "$AP_BIN" "$T/actplane-copy" && chmod 755 "$T/actplane-copy"
setpriv --reuid=65534 --regid=65534 --clear-groups "$T/actplane-copy" run -- true > "$T/out" 2> "$T/err"
RC=$?
expect_rc 3
grep -qi 'root\|CAP_BPF' "$T/err" || fail "no clear message: $(head -c 200 "$T/err")"
t_end

t_begin run-basics.command-not-found
ap_run -- /nonexistent/command-xyz
expect_stream
expect_rc 127
grep -q 'command-xyz' "$T/err" || fail "no message naming the command"
t_end

t_begin run-basics.usage
timeout 10 "$AP_BIN" run > "$T/out" 2> "$T/err"
RC=$?
expect_rc 2
timeout 10 "$AP_BIN" run --fallback maybe -- true > "$T/out" 2> "$T/err"
RC=$?
expect_rc 2
t_end

t_begin run-basics.invalid-policy
timeout 10 "$AP_BIN" run --rule 'rule r: kill exec "x" if NOPE' -- true > "$T/out" 2> "$T/err"
RC=$?
expect_rc 1
t_end

# block is not honoured in tracepoint mode: refused without --fallback
# (--mode tracepoint whatever E2E_MODE says: the last --mode wins)
mkdir -p "$T/fb"
cat > "$T/fb/actplane.yaml" <<'EOF'
version: 1
policy: |
  rule no-forbidden:
    block open file "forbidden.txt"
    because "blocked file"
  rule keep:
    block write file "keep.txt"
    because "kept as it is"
EOF
cp forbidden.txt "$T/fb/"
echo KEEP-CONTENT > "$T/fb/keep.txt"
cd "$T/fb" || exit 1

# where the mode can deny (supervised, lsm), block is honoured as is: the
# operation fails with EPERM and has no effect; nothing is killed
if [ "$E2E_MODE" != tracepoint ]; then
	t_begin run-basics.block-honoured
	ap_run -- bash -c 'cat forbidden.txt; echo "cat: $?"; echo overwritten > keep.txt; echo "write: $?"'
	expect_stream
	expect_rc 0
	expect_no_out FORBIDDEN-CONTENT
	expect_out "cat: 1"
	expect_out "write: 1"
	grep -q 'Operation not permitted' "$T/err" || fail "no EPERM reported by the command"
	[ "$(cat "$T/fb/keep.txt")" = KEEP-CONTENT ] || fail "keep.txt was changed"
	expect_ev 1 "e['type']=='violation' and e['rule']=='no-forbidden' and e['op'] in ('open','read') and e['target']=='$T/fb/forbidden.txt' and e['effect']=='block' and e['action']=='blocked' and e['comm']=='cat' and e['exe'].endswith('/cat')"
	expect_ev 1 "e['type']=='violation' and e['rule']=='keep' and e['op'] in ('open','write') and e['target']=='$T/fb/keep.txt' and e['effect']=='block' and e['action']=='blocked' and e['comm']=='bash'"
	expect_ev 0 "e['type']=='violation' and e['action']=='killed'" "kills"
	t_end
fi

t_begin run-basics.fallback-refused
ap_run --mode tracepoint -- bash -c 'touch ran-anyway'
expect_rc 3
grep -q 'no-forbidden' "$T/err" || fail "the refusal does not name the rule"
grep -q -- '--fallback' "$T/err" || fail "the refusal does not mention --fallback"
expect_missing "$T/fb/ran-anyway"
t_end

t_begin run-basics.fallback-kill
ap_run --mode tracepoint --fallback kill -- cat forbidden.txt
expect_stream
expect_rc 137
expect_no_out FORBIDDEN-CONTENT
expect_ev 1 "e['type']=='violation' and e['effect']=='block' and e['action']=='killed'"
t_end

t_begin run-basics.fallback-notify
ap_run --mode tracepoint --fallback notify -- cat forbidden.txt
expect_stream
expect_rc 0
expect_out FORBIDDEN-CONTENT
expect_ev 1 "e['type']=='violation' and e['effect']=='block' and e['action']=='reported'"
t_end
cd "$T" || exit 1

t_begin run-basics.audit
ap_run --audit -- cat forbidden.txt
expect_stream
expect_rc 0
expect_out FORBIDDEN-CONTENT
expect_ev 1 "e['type']=='violation' and e['effect']=='kill' and e['action']=='audited'"
t_end
