#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `connect` rules on Unix sockets (policy-language.md section 3): a path and
# an abstract name, a symlink and a relative name to the protected socket, the
# /var/run spelling of /run, a label-conditioned rule, and the negative twin.
#
# What each mode can do: supervised mode denies before the call (EPERM) in
# every case. Tracepoint mode denies through the cgroup connect_unix hook on
# kernels >= 6.7, which sees the address as given (made absolute); a symlink
# there, and every Unix rule on older kernels, is enforced by SIGKILL of the
# process (with --fallback kill) right after the connect: the listener may
# see the connection, never data from it.
E2E_MODES=${E2E_MODES:-tracepoint auto}
. "$(dirname "$0")/lib.sh"
e2e_setup

# the connect_unix hook: kernel 6.7 or later
kv=$(uname -r)
kmaj=${kv%%.*}
kmin=${kv#*.}
kmin=${kmin%%[!0-9]*}
HOOK=0
if [ "$kmaj" -gt 6 ] || { [ "$kmaj" -eq 6 ] && [ "$kmin" -ge 7 ]; }; then
	HOOK=1
fi
[ -n "${AP_ENGINE_SKIP:-}" ] && case $AP_ENGINE_SKIP in *ap_cg_connect_unix*) HOOK=0 ;; esac
RUNOPTS=()
[ "$E2E_MODE" = tracepoint ] && RUNOPTS=(--fallback kill)

echo 'hunter2' > secret.txt
echo 'public' > public.txt
mkdir -p sub
# the client: [read FILE first] then connect to ADDR ("@NAME": abstract),
# send a line, print the outcome
cat > cli.py <<'EOF'
import errno, socket, sys
addr = sys.argv[1]
if len(sys.argv) > 2:
    open(sys.argv[2]).read()
if addr.startswith('@'):
    addr = '\0' + addr[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(addr)
except OSError as e:
    print('error', errno.errorcode.get(e.errno, e.errno))
    sys.exit(0)
s.sendall(b'hello\n')
print('connected')
EOF

# ulisten NAME ADDR: a Unix listener; each connection appends
# "conn:<bytes received>" to $T/recv.NAME
ulisten() {
	rm -f "$T/ready.$1"
	/usr/bin/python3 - "$2" "$T/recv.$1" "$T/ready.$1" <<'PY' &
import os, socket, sys
addr, out, ready = sys.argv[1:4]
if addr.startswith('@'):
    addr = '\0' + addr[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(addr)
s.listen(16)
open(ready, 'w').write('1')
s.settimeout(300)
while True:
    try:
        c, _ = s.accept()
    except OSError:
        break
    c.settimeout(3)
    data = b''
    try:
        while True:
            d = c.recv(4096)
            if not d:
                break
            data += d
    except OSError:
        pass
    with open(out, 'a') as f:
        f.write('conn:%r\n' % data)
    c.close()
PY
	_e2e_pids+=($!)
	local i
	for i in $(seq 1 200); do
		[ -e "$T/ready.$1" ] && break
		sleep 0.02
	done
}
received() { cat "$T/recv.$1" 2>/dev/null; }
# nothing sent through a connection to listener NAME (a kill may leave an
# empty connection behind; a deny leaves none)
expect_no_data() {
	local r
	r=$(received "$1")
	if [ "${2:-}" = none ]; then
		[ -z "$r" ] || fail "listener $1 saw a connection: $r"
	else
		! grep -q hello <<< "$r" || fail "listener $1 received data: $r"
	fi
}

ABS="@ap-e2e-$$-$RANDOM"
RUNDIR=/run/ap-e2e-unix-$$-$RANDOM
mkdir -p "$RUNDIR"
trap 'rm -rf "$RUNDIR"; e2e_cleanup' EXIT
ulisten docker "$T/docker.sock"
ulisten other "$T/other.sock"
ulisten abs "$ABS"
ulisten run "$RUNDIR/engine.sock"
ulisten kill "$T/kill.sock"
ln -s "$T/docker.sock" "$T/sub/alias.sock"

policy <<EOF
version: 1
policy: |
  source SECRET = file "secret.txt"
  rule no-engine:
    block connect endpoint "unix:$T/docker.sock"
    block connect endpoint "unix:$ABS"
    block connect endpoint "unix:/var${RUNDIR}/*.sock"
    because "the container engine is outside the session"
  rule never:
    kill connect endpoint "unix:$T/kill.sock"
  rule no-leak:
    block connect endpoint "unix:$T/other.sock" if SECRET
    because "no secrets to the other daemon"
EOF

# expect_denied LISTENER TARGET [when-killed]: the connect was stopped and
# the event says so. "kill" as the 3rd argument: this mode can only kill.
expect_denied() {
	local how=${3:-deny}
	expect_stream
	if [ "$how" = kill ]; then
		expect_rc 137
		expect_no_out connected
		expect_no_data "$1"
		expect_ev 1 "e['type']=='violation' and e['op']=='connect' and e['target']=='unix:$2' and e['action']=='killed' and e['effect']=='block'"
	else
		expect_rc 0
		expect_out 'error EPERM'
		expect_no_data "$1" none
		expect_ev 1 "e['type']=='violation' and e['op']=='connect' and e['target']=='unix:$2' and e['action']=='blocked' and e['effect']=='block'"
	fi
}
# what this mode does with a Unix rule the kernel hook may not see
mode_how() {
	if [ "$E2E_MODE" = tracepoint ] && { [ "$HOOK" = 0 ] || [ "${1:-}" = link ]; }; then
		echo kill
	else
		echo deny
	fi
}
reset() { rm -f "$T"/recv.*; }

t_begin unix-connect.path
reset
ap_run "${RUNOPTS[@]}" -- /usr/bin/python3 cli.py "$T/docker.sock"
expect_denied docker "$T/docker.sock" "$(mode_how)"
expect_ev 1 "e['type']=='violation' and e['rule']=='no-engine' and e['reason']=='the container engine is outside the session' and e['comm'].startswith('python3')"
t_end

t_begin unix-connect.abstract
reset
ap_run "${RUNOPTS[@]}" -- /usr/bin/python3 cli.py "$ABS"
expect_denied abs "$ABS" "$(mode_how)"
expect_ev 1 "e['type']=='violation' and e['rule']=='no-engine'"
t_end

t_begin unix-connect.relative
reset
(cd sub && ap_run "${RUNOPTS[@]}" -- /usr/bin/python3 ../cli.py ../docker.sock)
expect_denied docker "$T/docker.sock" "$(mode_how)"
t_end

t_begin unix-connect.symlink
reset
ap_run "${RUNOPTS[@]}" -- /usr/bin/python3 cli.py "$T/sub/alias.sock"
expect_denied docker "$T/docker.sock" "$(mode_how link)"
expect_ev 1 "e['type']=='violation' and e['rule']=='no-engine'"
t_end

# the rule says /var/run/..., the socket is reached as /run/...
t_begin unix-connect.var-run
reset
if [ "$(readlink -f /var/run)" != /run ]; then
	echo "skip e2e.unix-connect.var-run$E2E_SUFFIX: /var/run is not a link to /run here"
else
	ap_run "${RUNOPTS[@]}" -- /usr/bin/python3 cli.py "$RUNDIR/engine.sock"
	expect_denied run "$RUNDIR/engine.sock" "$(mode_how)"
	t_end
fi

# kill: denied where the mode can deny, and the process killed
t_begin unix-connect.kill
reset
ap_run "${RUNOPTS[@]}" -- /usr/bin/python3 cli.py "$T/kill.sock"
expect_stream
expect_rc 137
expect_no_out connected
expect_no_out error
if [ "$(mode_how)" = kill ]; then
	expect_no_data kill
else
	expect_no_data kill none
fi
expect_ev 1 "e['type']=='violation' and e['rule']=='never' and e['op']=='connect' and e['target']=='unix:$T/kill.sock' and e['effect']=='kill' and e['action']=='killed'"
t_end

t_begin unix-connect.not-covered
reset
ap_run "${RUNOPTS[@]}" -- /usr/bin/python3 cli.py "$T/other.sock"
expect_stream
expect_rc 0
expect_out connected
expect_no_violation
sleep 0.3
grep -q hello "$T/recv.other" 2>/dev/null || fail "the listener got nothing: $(received other)"
t_end

t_begin unix-connect.after-secret
reset
ap_run "${RUNOPTS[@]}" -- /usr/bin/python3 cli.py "$T/other.sock" secret.txt
how=$(mode_how)
expect_stream
if [ "$how" = kill ]; then
	expect_rc 137
	expect_no_out connected
	expect_no_data other
else
	expect_rc 0
	expect_out 'error EPERM'
	expect_no_data other none
fi
expect_ev 1 "e['type']=='violation' and e['rule']=='no-leak' and e['op']=='connect' and e['target']=='unix:$T/other.sock' and 'SECRET' in e['labels']"
expect_ev 1 "e['type']=='violation' and any(p['label']=='SECRET' and p['target']=='$T/secret.txt' for p in e['provenance'])" "provenance naming secret.txt"
t_end

t_begin unix-connect.public-read
reset
ap_run "${RUNOPTS[@]}" -- /usr/bin/python3 cli.py "$T/other.sock" public.txt
expect_stream
expect_rc 0
expect_out connected
expect_no_violation
t_end
