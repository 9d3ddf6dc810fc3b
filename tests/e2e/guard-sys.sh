#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The system-call items of the built-in session-guard rule (policy-language
# section 7): ptrace / process_vm_writev / /proc/PID/mem of a process outside
# the session, chroot / setns / unshare of a mount or user namespace, and
# signals to the engine. Each attempt is made twice (the second one shows
# the guard still holds right after): it fails with EPERM where the mode can
# deny (supervised) or the process is killed (tracepoint, unless the kernel
# lets the engine deny: then it fails as well), the event names
# session-guard and the op, and the process outside is unchanged. Negative
# twins: ptrace inside the session, guard: notify, guard: {allow: [...]}.
E2E_MODES=${E2E_MODES:-tracepoint auto}
. "$(dirname "$0")/lib.sh"
e2e_setup
PY=/usr/bin/python3

# A policy with nothing to deny: the guard is all there is.
base_policy() {
	policy <<EOF
version: 1
$1
policy: |
  rule note-tmp:
    notify write file "$T/nothing-here/**"
    because "a placeholder rule"
EOF
}

# ---- a process outside the session, with memory to protect ----
# victim: starts a python outside the session holding the bytes ORIGINAL;
# VPID/VADDR; `victim_check` makes it report what its buffer holds now.
victim() {
	rm -f "$T/victim.addr" "$T/victim.go" "$T/victim.out"
	$PY - "$T/victim.addr" "$T/victim.go" "$T/victim.out" <<'PY' &
import ctypes, os, sys, time
buf = ctypes.create_string_buffer(b"ORIGINAL", 16)
tmp = sys.argv[1] + '.tmp'
open(tmp, 'w').write('%d %d' % (os.getpid(), ctypes.addressof(buf)))
os.rename(tmp, sys.argv[1])
for _ in range(2400):
    if os.path.exists(sys.argv[2]):
        break
    time.sleep(0.05)
open(sys.argv[3], 'w').write(buf.value.decode(errors='replace'))
PY
	_e2e_pids+=($!)
	local i
	for i in $(seq 1 200); do
		[ -s "$T/victim.addr" ] && break
		sleep 0.02
	done
	read -r VPID VADDR < "$T/victim.addr"
}
victim_check() { # expect the buffer unchanged and the process alive
	kill -0 "$VPID" 2>/dev/null || fail "the process outside ($VPID) is gone"
	# a PTRACE_ATTACH the kill fallback could not stop leaves its SIGSTOP
	# behind (docs/rule-language.md): alive, and resumed for the check
	if [ "${1:-}" != may-stop ]; then
		grep -q '^State:.*[RS]' "/proc/$VPID/status" 2>/dev/null ||
			fail "the process outside is $(grep State "/proc/$VPID/status" 2>/dev/null)"
	fi
	kill -CONT "$VPID" 2>/dev/null
	touch "$T/victim.go"
	local i
	for i in $(seq 1 200); do
		[ -s "$T/victim.out" ] && break
		sleep 0.02
	done
	[ "$(cat "$T/victim.out" 2>/dev/null)" = ORIGINAL ] ||
		fail "the memory outside changed: '$(cat "$T/victim.out" 2>/dev/null)'"
}

mkdir -p "$T/bin"
cat > "$T/bin/vmwrite" <<'PY'
#!/usr/bin/python3
# process_vm_writev(PID, ADDR): 0 written, 1 refused
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
class iovec(ctypes.Structure):
    _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]
data = ctypes.create_string_buffer(b"HACKED!!", 8)
l = iovec(ctypes.addressof(data), 8)
r = iovec(int(sys.argv[2]), 8)
n = libc.process_vm_writev(int(sys.argv[1]), ctypes.byref(l), 1, ctypes.byref(r), 1, 0)
print('vmwrite', n, os.strerror(ctypes.get_errno()) if n < 0 else '')
sys.exit(0 if n == 8 else 1)
PY
cat > "$T/bin/memwrite" <<'PY'
#!/usr/bin/python3
# write /proc/PID/mem at ADDR: 0 written, 1 refused
import os, sys
try:
    fd = os.open('/proc/%s/mem' % sys.argv[1], os.O_RDWR)
    os.lseek(fd, int(sys.argv[2]), 0)
    os.write(fd, b"HACKED!!")
except OSError as e:
    print('memwrite', e)
    sys.exit(1)
print('memwrite done')
PY
cat > "$T/bin/attach" <<'PY'
#!/usr/bin/python3
# PTRACE_ATTACH PID (then detach): 0 attached, 1 refused
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
pid = int(sys.argv[1])
if libc.ptrace(16, pid, None, None) != 0:
    print('attach', os.strerror(ctypes.get_errno()))
    sys.exit(1)
os.waitpid(pid, 0)
libc.ptrace(17, pid, None, None)
print('attach done')
PY
chmod 755 "$T/bin/vmwrite" "$T/bin/memwrite" "$T/bin/attach"

# what a refused attempt looks like in this run's mode: the exit status of
# the attempt ("denied" EPERM-style failure, or 137 when killed), and the
# event's effect/action
MODE_KIND=
guard_ev() { # OP: the expression for one guard violation of this op
	echo "e['type']=='violation' and e['rule']=='session-guard' and 'session-guard' in e['rules'] and e['op']=='$1' and ((e['effect']=='block' and e['action']=='blocked') or (e['effect']=='kill' and e['action']=='killed'))"
}
# twice: the attempt, then the same again right after; CMD prints a=RC b=RC
twice() {
	make_script attempt "$1"
	make_script twice "$T/bin/attempt; echo a=\$?; $T/bin/attempt; echo b=\$?"
}
# each of a= and b= is a refusal (nonzero, 137 when killed)
expect_refused_twice() {
	local a b
	a=$(sed -n 's/^a=//p' "$T/out")
	b=$(sed -n 's/^b=//p' "$T/out")
	[ -n "$a" ] && [ "$a" != 0 ] || fail "first attempt not refused (a=$a)"
	[ -n "$b" ] && [ "$b" != 0 ] || fail "second attempt not refused (b=$b)"
	if [ "$E2E_MODE" = tracepoint ]; then
		MODE_KIND=tracepoint
	else
		# supervised: the call fails, nothing is killed
		[ "$a" != 137 ] || fail "supervised: the first attempt was killed, not denied"
	fi
}

base_policy ""

t_begin guard.ptrace-seize
if ! command -v strace > /dev/null; then
	echo "skip e2e.guard.ptrace-seize$E2E_SUFFIX: no strace here"
else
victim
twice "exec strace -o /dev/null -p $VPID"
ap_run -- "$T/bin/twice"
expect_stream
expect_rc 0
expect_refused_twice
expect_ev 2 "$(guard_ev ptrace) and e['target'].startswith('pid:$VPID')"
victim_check
t_end
fi

t_begin guard.ptrace-attach
victim
twice "exec $T/bin/attach $VPID"
ap_run -- "$T/bin/twice"
expect_stream
expect_rc 0
expect_refused_twice
expect_no_out "attach done"
expect_ev 2 "$(guard_ev ptrace) and e['target'].startswith('pid:$VPID')"
if [ "$(evq "e.get('action')=='killed'")" -gt 0 ]; then
	victim_check may-stop
else
	victim_check
fi
t_end

# the kill fallback cannot stop a write already in the system call: only
# where the mode denies (supervised, or the engine's fmod_ret) is the
# memory outside guaranteed unchanged; the process is killed either way
t_begin guard.process-vm-writev
victim
twice "exec $T/bin/vmwrite $VPID $VADDR"
ap_run -- "$T/bin/twice"
expect_stream
expect_rc 0
expect_refused_twice
expect_ev 2 "$(guard_ev ptrace) and e['target'].startswith('pid:$VPID')"
if [ "$E2E_MODE" != tracepoint ] || [ "$(evq "e.get('action')=='blocked'")" -gt 0 ]; then
	victim_check
else
	kill -0 "$VPID" 2>/dev/null || fail "the process outside is gone"
	touch "$T/victim.go"
fi
t_end

t_begin guard.proc-mem-write
victim
twice "exec $T/bin/memwrite $VPID $VADDR"
ap_run -- "$T/bin/twice"
expect_stream
expect_rc 0
expect_refused_twice
expect_no_out "memwrite done"
expect_ev 2 "$(guard_ev ptrace) and e['target'].startswith('pid:$VPID')"
victim_check
t_end

t_begin guard.unshare
twice "exec unshare -Urm true"
ap_run -- "$T/bin/twice"
expect_stream
expect_rc 0
expect_refused_twice
expect_ev_min 2 "$(guard_ev namespace) and e['target'].startswith(('unshare', 'clone'))"
t_end

t_begin guard.chroot
twice "exec chroot / true"
ap_run -- "$T/bin/twice"
expect_stream
expect_rc 0
expect_refused_twice
expect_ev 2 "$(guard_ev namespace) and e['target']=='chroot'"
t_end

t_begin guard.setns
twice "exec nsenter -t $$ -m true"
ap_run -- "$T/bin/twice"
expect_stream
expect_rc 0
expect_refused_twice
expect_ev_min 2 "$(guard_ev namespace) and e['target']=='setns'"
t_end

# The engine: `run` is the command's parent. Supervised: SIGKILL, which
# must fail (if it did not, run would die and the stream would end without
# its exit event). Tracepoint kill fallback: the signal would still be
# delivered as the sender dies, so the case sends SIGWINCH (ignored by
# run and the watchdog; signal 0 to one process is an allowed existence
# check) and asserts the sender was killed.
SIG=-KILL
[ "$E2E_MODE" = tracepoint ] && SIG=-WINCH
t_begin guard.signal-engine
twice "exec /bin/kill $SIG \$ENGINE"
make_script twice "ENGINE=\$PPID; export ENGINE; $T/bin/attempt; echo a=\$?; $T/bin/attempt; echo b=\$?; $PY -c 'import os; os.kill(-1, 0)'; echo c=\$?; $PY -c 'import os; os.kill(0, 0)'; echo d=\$?; echo pg=\$(ps -o pgid= -p \$ENGINE 2>/dev/null || cut -d' ' -f5 /proc/\$ENGINE/stat); $PY -c 'import os; g = os.getpgid(int(os.environ[\"ENGINE\"])); g > 1 and os.kill(-g, 0)'; echo e=\$?"
ap_run -- "$T/bin/twice"
expect_stream
expect_rc 0
expect_refused_twice
# where the engine denies each target of a broadcast (fmod_ret), the
# kernel still returns 0 for kill(-1) and for a group with a member left:
# the event says blocked, and run is still alive to write the exit event
if ! grep -q '^c=0' "$T/out" || [ "$(evq "e.get('target')=='pid:-1' and e.get('action')=='blocked' and e['mode']=='tracepoint'")" = 1 ]; then :; else
	fail "kill(-1) was not refused"
fi
# the command has a process group of its own: `kill 0` (a script's
# clean-up) reaches the session only, and is allowed
grep -q '^d=0' "$T/out" || fail "kill(0) of the command's own group failed"
# (where run's group is init's, 0 or 1 as under the VM's busybox init,
# there is no group of the engine's own to send to)
PG=$(sed -n 's/^pg= *//p' "$T/out" | tr -d ' ')
if [ "${PG:-0}" -le 1 ] || ! grep -q '^e=0' "$T/out" || [ "$(evq "e.get('target','').startswith('pgid:') and e.get('action')=='blocked' and e['mode']=='tracepoint'")" = 1 ]; then :; else
	fail "kill(-PGID) of the engine's process group was not refused"
fi
expect_ev 2 "$(guard_ev signal) and e['target'].startswith('pid:') and e['target']!='pid:-1'"
expect_ev 1 "$(guard_ev signal) and e['target']=='pid:-1'"
if [ "${PG:-0}" -gt 1 ]; then
	expect_ev 1 "$(guard_ev signal) and e['target'].startswith('pgid:')"
fi
t_end

# the watchdog (a process of the actplane binary outside the session, with
# the same command line as run)
t_begin guard.signal-watchdog
make_script twice '
me=$(tr "\0" " " < /proc/$PPID/cmdline)
wd=
for p in $(pgrep -x actplane-wd); do
	[ "$p" = "$PPID" ] && continue
	[ "$(tr "\0" " " < /proc/$p/cmdline 2>/dev/null)" = "$me" ] && wd=$p
done
echo wd=$wd
[ -n "$wd" ] || exit 0
/bin/kill '"$SIG"' $wd; echo a=$?; /bin/kill '"$SIG"' $wd; echo b=$?'
ap_run -- "$T/bin/twice"
expect_stream
expect_rc 0
if grep -q '^wd=$' "$T/out"; then
	echo "skip e2e.guard.signal-watchdog$E2E_SUFFIX: no watchdog process in this mode"
	_t_name=
else
	expect_refused_twice
	expect_ev 2 "$(guard_ev signal) and e['target'].startswith('pid:')"
fi
[ -n "$_t_name" ] && t_end

# ---- negative twins ----
t_begin guard.ptrace-inside-allowed
make_script twice "sleep 5 & c=\$!; $T/bin/attach \$c; echo a=\$?; kill \$c"
ap_run -- "$T/bin/twice"
expect_stream
expect_rc 0
expect_out "a=0"
expect_ev 0 "e['type']=='violation' and e['rule']=='session-guard'"
t_end

base_policy "guard: notify"
t_begin guard.notify-reports
victim
make_script twice "$T/bin/attach $VPID; echo a=\$?; unshare -Urm true; echo b=\$?"
ap_run -- "$T/bin/twice"
expect_stream
expect_rc 0
expect_out "a=0"
expect_out "b=0"
expect_ev_min 1 "e['type']=='violation' and e['rule']=='session-guard' and e['op']=='ptrace' and e['effect']=='notify' and e['action']=='reported'"
expect_ev_min 1 "e['type']=='violation' and e['rule']=='session-guard' and e['op']=='namespace' and e['effect']=='notify' and e['action']=='reported'"
victim_check
t_end

base_policy "guard: {allow: [namespaces]}"
t_begin guard.allow-namespaces
victim
make_script twice "unshare -Urm true; echo a=\$?; $T/bin/attach $VPID; echo b=\$?"
ap_run -- "$T/bin/twice"
expect_stream
expect_rc 0
expect_out "a=0"
grep -q '^b=0' "$T/out" && fail "ptrace was allowed too"
expect_ev 0 "e['type']=='violation' and e['op']=='namespace'"
expect_ev 1 "$(guard_ev ptrace)"
if [ "$(evq "e.get('action')=='killed'")" -gt 0 ]; then
	victim_check may-stop
else
	victim_check
fi
t_end
