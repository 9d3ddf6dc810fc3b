# SPDX-License-Identifier: MIT
# Helpers for the live end-to-end tests (sourced by tests/e2e/*.sh).
#
# Each case runs real programs under `actplane run` in a fresh project
# directory and asserts both the events and the outcome (exit status, files,
# output). Protocol: one line per case, `ok e2e.NAME` or
# `not ok e2e.NAME: why`.
#
#   e2e_setup                 temp project in $T (cwd), removed on exit
#   policy <<EOF ... EOF      writes $T/actplane.yaml
#   ap_run [RUN OPTS] -- CMD  runs CMD under actplane; sets RC, $T/out, $T/err,
#                             events in $T/ev.jsonl, and checks the stream's
#                             contract (v, type, ts, seq, start first, exit last)
#   t_begin NAME / t_end      one reported case; expect_* record failures
#   evq 'PYEXPR'              how many events e satisfy PYEXPR
#   listen                    a TCP listener on 127.0.0.1; port in $PORT

set -u
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
AP_ROOT=$(cd "$E2E_DIR/../.." && pwd)
AP_BIN=${AP_BIN:-$AP_ROOT/${OUTPUT:-build}/actplane}
E2E_TIMEOUT=${E2E_TIMEOUT:-60}
# The mode ap_run asks for (--mode): `auto` lets `run` choose. The issue-3
# cases set E2E_MODES="tracepoint auto" before sourcing this file: the
# script then runs once per mode (the kernel engine alone, and whatever
# `run` picks by default on this kernel, e.g. supervised), the cases of the
# tracepoint run under their own names and the others suffixed `.MODE`.
# With E2E_MODE set by the caller only that mode runs, unsuffixed.
if [ -n "${E2E_MODES:-}" ] && [ -z "${E2E_MODE:-}" ]; then
	_e2e_rc=0
	for _e2e_m in $E2E_MODES; do
		_e2e_sfx=.$_e2e_m
		[ "$_e2e_m" = tracepoint ] && _e2e_sfx=
		E2E_MODE=$_e2e_m E2E_SUFFIX=$_e2e_sfx E2E_MODES= bash "$0" "$@" || _e2e_rc=$?
	done
	exit "$_e2e_rc"
fi
E2E_MODE=${E2E_MODE:-auto}
E2E_SUFFIX=${E2E_SUFFIX:-}

# The command runs as root in these tests (no sudo in the picture), so the
# files the test prepares are its own; `run-basics` tests --user.
unset SUDO_UID SUDO_GID SUDO_USER SUDO_COMMAND
export GIT_AUTHOR_NAME=e2e GIT_AUTHOR_EMAIL=e2e@example.invalid
export GIT_COMMITTER_NAME=e2e GIT_COMMITTER_EMAIL=e2e@example.invalid
export GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
export LC_ALL=C

# keep_policy: a policy that only notifies (an unlink under $T/keep), for
# cases about the session itself rather than about a rule; makes keep/
keep_policy() {
	policy <<EOF
version: 1
policy: |
  rule keep:
    notify unlink file "$T/keep/**"
    because "kept"
EOF
	mkdir -p "$T/keep"
}

T=
_e2e_pids=()
e2e_cleanup() {
	local p
	for p in "${_e2e_pids[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	cd /
	[ -n "$T" ] && rm -rf "$T"
}

e2e_setup() {
	T=$(mktemp -d /tmp/ap-e2e.XXXXXX)
	chmod 755 "$T"
	trap e2e_cleanup EXIT
	cd "$T" || exit 1
	export HOME=$T/home
	mkdir -p "$HOME"
}

policy() {
	cat > "$T/actplane.yaml"
}

# ap_run [OPTS] -- CMD...: runs from the current directory.
ap_run() {
	rm -f "$T/ev.jsonl"
	timeout -k 5 "$E2E_TIMEOUT" "$AP_BIN" run --mode "$E2E_MODE" --events "$T/ev.jsonl" "$@" \
		> "$T/out" 2> "$T/err" < /dev/null
	RC=$?
	STREAM_ERR=$(stream_check "$T/ev.jsonl" "$RC")
}

# Contract checks on every stream: valid JSON lines, "v":1, known type,
# RFC 3339 UTC ts with microseconds, seq 1.. increasing by one, start first
# and exit last with the status run exited with, violations complete.
stream_check() {
	python3 - "$1" "$2" <<'PY'
import json, re, sys
path, rc = sys.argv[1], int(sys.argv[2])
ts_re = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$')
need = {
    'start': ['mode', 'policy', 'policy_sha256', 'rules', 'session', 'pid'],
    'violation': ['effect', 'action', 'rule', 'rules', 'reason', 'op', 'target',
                  'pid', 'tid', 'ppid', 'uid', 'comm', 'exe', 'labels',
                  'provenance', 'session', 'mode'],
    'exit': ['status', 'events', 'violations', 'drops', 'evictions'],
    'loss': [], 'decision': ['approval', 'decision', 'by'],
}
try:
    lines = [l for l in open(path, encoding='utf-8').read().split('\n') if l]
except OSError as e:
    print('no event stream: %s' % e); sys.exit(0)
evs = []
for i, l in enumerate(lines):
    try:
        evs.append(json.loads(l))
    except ValueError:
        print('line %d is not JSON' % (i + 1)); sys.exit(0)
if not evs:
    print('empty event stream'); sys.exit(0)
errs = []
for i, e in enumerate(evs):
    if e.get('v') != 1: errs.append('seq %s: v != 1' % e.get('seq'))
    if e.get('type') not in need: errs.append('unknown type %r' % e.get('type'))
    if not ts_re.match(str(e.get('ts'))): errs.append('bad ts %r' % e.get('ts'))
    if e.get('seq') != i + 1: errs.append('seq %r at line %d' % (e.get('seq'), i + 1))
    for k in need.get(e.get('type'), []):
        if k not in e: errs.append('%s without %s' % (e.get('type'), k))
    if e.get('type') == 'violation':
        if e['op'] == 'exec' and 'argv' not in e: errs.append('exec without argv')
        for p in e['provenance']:
            for k in ('label', 'op', 'target', 'pid', 'comm', 'ts'):
                if k not in p: errs.append('provenance without %s' % k)
if evs[0].get('type') != 'start': errs.append('first event is not start')
x = evs[-1]
if x.get('type') != 'exit': errs.append('last event is not exit')
elif x.get('status') != rc: errs.append('exit status %r but run exited %d' % (x.get('status'), rc))
else:
    nv = sum(1 for e in evs if e.get('type') == 'violation')
    if x.get('violations') != nv: errs.append('exit counts %r violations, stream has %d' % (x.get('violations'), nv))
    if x.get('events') != len(evs) - 1: errs.append('exit counts %r events, stream has %d before it' % (x.get('events'), len(evs) - 1))
    drops = sum(e.get('count', 0) for e in evs if e.get('type') == 'loss' and e.get('kind') == 'ringbuf_drops')
    if x.get('drops') != drops: errs.append('exit says %r drops, loss events say %d' % (x.get('drops'), drops))
sess = {e.get('session') for e in evs if 'session' in e}
if len(sess) != 1: errs.append('several session ids in one run: %r' % sess)
print('; '.join(errs[:3]))
PY
}

# evq EXPR [FILE]: count of events e for which the Python expression holds.
evq() {
	python3 - "$1" "${2:-$T/ev.jsonl}" <<'PY'
import json, sys
expr, path = sys.argv[1], sys.argv[2]
n = 0
try:
    for l in open(path, encoding='utf-8'):
        if l.strip():
            e = json.loads(l)
            try:
                if eval(expr, {}, {'e': e}): n += 1
            except (KeyError, TypeError, IndexError, AttributeError):
                pass
except OSError:
    pass
print(n)
PY
}

# ---- reporting ----
_t_name=
_t_fails=()
t_begin() {
	_t_name=$1$E2E_SUFFIX
	_t_fails=()
}
fail() { _t_fails+=("$*"); }
t_end() {
	if [ ${#_t_fails[@]} -eq 0 ]; then
		echo "ok e2e.$_t_name"
	else
		local why
		why=$(printf '%s; ' "${_t_fails[@]}")
		echo "not ok e2e.$_t_name: ${why%; }"
		if [ -n "${E2E_VERBOSE:-}" ]; then
			sed 's/^/    err: /' "$T/err" | tail -15
			sed 's/^/    ev: /' "$T/ev.jsonl" 2>/dev/null | tail -10
		fi
	fi
}

expect_rc() {
	[ "$RC" -eq "$1" ] || fail "exit status $RC, expected $1 ($(grep -m1 -i 'error' "$T/err" | cut -c1-160))"
}
expect_stream() {
	[ -z "$STREAM_ERR" ] || fail "event stream: $STREAM_ERR"
}
# expect_ev N 'PYEXPR' [what]: exactly N events satisfy it
expect_ev() {
	local n
	n=$(evq "$2")
	[ "$n" -eq "$1" ] || fail "${3:-events matching [$2]}: $n, expected $1"
}
# expect_ev_min N 'PYEXPR' [what]
expect_ev_min() {
	local n
	n=$(evq "$2")
	[ "$n" -ge "$1" ] || fail "${3:-events matching [$2]}: $n, expected at least $1"
}
expect_no_violation() {
	expect_ev 0 "e['type']=='violation'" "violations (negative twin)"
}
expect_out() {
	grep -qF -- "$1" "$T/out" || fail "output lacks '$1'"
}
expect_no_out() {
	! grep -qF -- "$1" "$T/out" || fail "output has '$1'"
}
expect_exists() { [ -e "$1" ] || fail "$1 does not exist"; }
expect_missing() { [ ! -e "$1" ] || fail "$1 exists"; }

# ---- a TCP listener on 127.0.0.1 that counts what it receives ----
# listen: sets PORT; every connection's bytes are appended to $T/received.
listen() {
	rm -f "$T/port"
	python3 - "$T/port" "$T/received" <<'PY' &
import socket, sys, os
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', 0))
s.listen(16)
tmp = sys.argv[1] + '.tmp'
open(tmp, 'w').write(str(s.getsockname()[1]))
os.rename(tmp, sys.argv[1])
s.settimeout(120)
while True:
    try:
        c, _ = s.accept()
    except OSError:
        break
    c.settimeout(10)
    data = b''
    try:
        while True:
            d = c.recv(4096)
            if not d: break
            data += d
    except OSError:
        pass
    with open(sys.argv[2], 'ab') as f:
        f.write(data)
    c.close()
PY
	_e2e_pids+=($!)
	# the listener announces its port by renaming a file into place
	local i
	for i in $(seq 1 200); do
		[ -s "$T/port" ] && break
		sleep 0.02
	done
	PORT=$(cat "$T/port")
}

# make_script NAME BODY: an executable bash script $T/bin/NAME
make_script() {
	mkdir -p "$T/bin"
	printf '#!/bin/bash\n%s\n' "$2" > "$T/bin/$1"
	chmod 755 "$T/bin/$1"
}

# a local git repository $T/repo with one commit, pushing to $T/remote.git
make_repo() {
	git init -q --bare "$T/remote.git"
	git init -q -b main "$T/repo"
	(
		cd "$T/repo" || exit 1
		mkdir -p src
		echo 'int main(void) { return 0; }' > src/a.c
		git add -A
		git commit -qm initial
		git remote add origin "file://$T/remote.git"
	)
}
commits() { git -C "${1:-$T/repo}" rev-list --count HEAD 2>/dev/null || echo 0; }
