#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Supervised mode against a check-then-use race: a second thread flips the
# path between the supervisor's read and the kernel's. Documented outcome
# (docs/security-model.md): the race can be won against the supervisor,
# but the kernel engine re-evaluates the file really opened at the syscall's
# exit and SIGKILLs the process before it returns to user space, so nothing
# is written through the descriptor.
. "$(dirname "$0")/lib.sh"
e2e_setup

if ! timeout 60 "$AP_BIN" run --mode supervised --rule 'rule p: block exec "no-such-e2e"' -- true \
	> "$T/probe.out" 2> "$T/probe.err"; then
	echo "skip e2e.supervised.toctou: no supervised mode here"
	exit 0
fi
mkdir -p prot ws
echo keep > prot/keep.txt
echo ok > ws/ok.txt
policy <<EOF
version: 1
policy: |
  rule prot-ro:
    block write file "$T/prot/**"
    because "prot is read-only"
EOF

t_begin supervised.toctou.flip-path
ap_run -- python3 -c '
import ctypes, os, threading, time
libc = ctypes.CDLL(None, use_errno=True)
a = b"'"$T"'/ws/ok.txt\0"
b = b"'"$T"'/prot/keep.txt\0"
buf = ctypes.create_string_buffer(max(len(a), len(b)) + 1)
stop = False
def flip():
    while not stop:
        ctypes.memmove(buf, a, len(a)); ctypes.memmove(buf, b, len(b))
threading.Thread(target=flip, daemon=True).start()
end = time.time() + 4
won = 0
while time.time() < end:
    fd = libc.open(buf, os.O_WRONLY | os.O_APPEND)
    if fd >= 0:
        if os.readlink("/proc/self/fd/%d" % fd).endswith("/prot/keep.txt"):
            won += 1
            os.write(fd, b"PWNED\n")
        os.close(fd)
stop = True
print("won", won, flush=True)'
# killed (137) when the race was won, else it finished with won 0
[ "$RC" -eq 137 ] || grep -q "^won 0" "$T/out" || fail "exit $RC, output $(head -c 100 "$T/out")"
[ "$(cat prot/keep.txt)" = keep ] || fail "prot/keep.txt was written: $(head -c 60 prot/keep.txt)"
if [ "$RC" -eq 137 ]; then
	expect_ev_min 1 "e['type']=='violation' and e['rule']=='prot-ro' and e['action']=='killed'"
fi
t_end
