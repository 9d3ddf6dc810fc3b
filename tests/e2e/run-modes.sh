#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `run --mode auto|lsm|supervised|tracepoint` forces a mode; exit 3 (and
# CMD never runs) when this kernel or this build lacks it; the `start`
# event names the mode actually used.
. "$(dirname "$0")/lib.sh"
e2e_setup

keep_policy

# run_mode MODE [OPTS]: no --mode from lib.sh's ap_run
run_mode() {
	local m=$1
	shift
	rm -f "$T/ev.jsonl" ran
	timeout -k 5 "$E2E_TIMEOUT" "$AP_BIN" run --mode "$m" --events "$T/ev.jsonl" "$@" -- \
		bash -c 'echo yes > ran' > "$T/out" 2> "$T/err" < /dev/null
	RC=$?
}
start_mode() {
	python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("type") == "start": print(e["mode"])' "$T/ev.jsonl" 2>/dev/null | head -1
}

t_begin run-modes.tracepoint
run_mode tracepoint
expect_rc 0
[ "$(start_mode)" = tracepoint ] || fail "start says mode '$(start_mode)', expected tracepoint"
expect_exists ran
t_end

t_begin run-modes.supervised
run_mode supervised
if [ "$RC" -eq 3 ]; then
	# a kernel without seccomp user notification: refused, CMD never ran
	grep -qi "seccomp" "$T/err" || fail "exit 3 without saying why"
	expect_missing ran
else
	expect_rc 0
	[ "$(start_mode)" = supervised ] || fail "start says mode '$(start_mode)', expected supervised"
	expect_exists ran
fi
SUPERVISED_RC=$RC
t_end

t_begin run-modes.auto
run_mode auto
expect_rc 0
m=$(start_mode)
if [ "$SUPERVISED_RC" -eq 0 ]; then
	[ "$m" = supervised ] || fail "auto chose '$m' where supervised mode works"
else
	[ "$m" = tracepoint ] || fail "auto chose '$m'"
fi
t_end

t_begin run-modes.auto-audit
# --audit enforces nothing: the kernel engine alone
run_mode auto --audit
expect_rc 0
[ "$(start_mode)" = tracepoint ] || fail "audit ran in mode '$(start_mode)'"
t_end

t_begin run-modes.lsm
# no BPF-LSM engine in this build: refused before anything runs
run_mode lsm
expect_rc 3
grep -qi "lsm" "$T/err" || fail "exit 3 without naming the mode"
expect_missing ran
[ -s "$T/ev.jsonl" ] && fail "an event stream for a refused mode"
t_end

t_begin run-modes.supervised-audit
run_mode supervised --audit
expect_rc 2
expect_missing ran
t_end

t_begin run-modes.unknown
run_mode kprobe
expect_rc 2
expect_missing ran
t_end
