#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Supervised mode against the ways around a path or a program name. Each
# case states the documented outcome (docs/security-model.md).
. "$(dirname "$0")/lib.sh"
e2e_setup

if ! timeout 60 "$AP_BIN" run --mode supervised --rule 'rule p: block exec "no-such-e2e"' -- true \
	> "$T/probe.out" 2> "$T/probe.err"; then
	echo "skip e2e.supervised.adversary: no supervised mode here"
	exit 0
fi

mkdir -p prot ws
echo keep > prot/keep.txt
echo topsecret > prot/secret.txt
make_script payload "touch $T/payload-ran"
policy <<EOF
version: 1
policy: |
  rule prot-ro:
    block write file "$T/prot/**"
    because "prot is read-only"
  rule prot-keep:
    block unlink file "$T/prot/**"
    because "prot is kept"
  rule no-secret:
    block read file "$T/prot/secret.txt"
    because "secret"
  rule no-payload:
    block exec "payload"
    because "payload is off limits"
EOF
kept() { [ "$(cat "$T/prot/keep.txt" 2>/dev/null)" = keep ] || fail "prot/keep.txt changed or gone"; }

# relative path from another directory: resolved against the process's cwd
t_begin supervised.adversary.relative-path
ap_run -- bash -c 'cd ws && rm -f ../prot/keep.txt; echo after=$?'
expect_rc 0
expect_out after=1
kept
expect_ev 1 "e['type']=='violation' and e['rule']=='prot-keep' and e['target']=='$T/prot/keep.txt' and e['action']=='blocked'"
t_end

t_begin supervised.adversary.dotdot
ap_run -- bash -c 'rm -f ws/../ws/./../prot//keep.txt; echo after=$?'
expect_rc 0
expect_out after=1
kept
expect_ev 1 "e['type']=='violation' and e['rule']=='prot-keep' and e['target']=='$T/prot/keep.txt'"
t_end

# a symbolic link is followed the way open() follows it
t_begin supervised.adversary.symlink
ln -sf "$T/prot/keep.txt" ws/link
ap_run -- bash -c 'echo changed > ws/link; echo after=$?'
expect_rc 0
expect_out after=1
kept
expect_ev 1 "e['type']=='violation' and e['rule']=='prot-ro' and e['target']=='$T/prot/keep.txt'"
t_end

# a dangling symlink into prot: open(O_CREAT) would create the link's target
t_begin supervised.adversary.dangling-symlink
ln -sf "$T/prot/new.txt" ws/dangling
ap_run -- bash -c 'echo x > ws/dangling; echo after=$?'
expect_rc 0
expect_out after=1
expect_missing "$T/prot/new.txt"
t_end

t_begin supervised.adversary.proc-self-root
ap_run -- bash -c 'cat /proc/self/root'"$T"'/prot/secret.txt; echo after=$?'
expect_rc 0
expect_no_out topsecret
expect_out after=1
expect_ev 1 "e['type']=='violation' and e['rule']=='no-secret' and e['target']=='$T/prot/secret.txt'"
t_end

# a hard link made before the session: the engine learned the inode's
# names under the pattern's directory at load, the supervisor reads them
t_begin supervised.adversary.hard-link
ln -f "$T/prot/keep.txt" "$T/ws/hl"
ap_run -- bash -c 'echo changed > ws/hl; echo after=$?'
expect_rc 0
expect_out after=1
kept
expect_ev 1 "e['type']=='violation' and e['rule']=='prot-ro' and e['target']=='$T/ws/hl' and e['action']=='blocked'"
rm -f "$T/ws/hl"
t_end

# the filter is inherited by every thread and every fork of a thread
t_begin supervised.adversary.fork-from-thread
ap_run -- python3 -c '
import os, threading
def t():
    pid = os.fork()
    if pid == 0:
        try:
            os.execv("'"$T"'/bin/payload", ["payload"])
        except OSError as e:
            print("exec-errno", e.errno, flush=True)
        os._exit(3)
    os.waitpid(pid, 0)
th = threading.Thread(target=t); th.start(); th.join()
print("after", flush=True)'
expect_rc 0
expect_out "exec-errno 1"
expect_missing "$T/payload-ran"
expect_ev 1 "e['type']=='violation' and e['rule']=='no-payload' and e['action']=='blocked'"
t_end

# a double-forked daemon (setsid) is still filtered
t_begin supervised.adversary.double-fork-daemon
ap_run -- bash -c '( setsid bash -c "rm -f prot/keep.txt; echo daemon-rc=\$? > ws/daemon.out" & ); sleep 1.5; cat ws/daemon.out'
expect_rc 0
expect_out daemon-rc=1
kept
expect_ev 1 "e['type']=='violation' and e['rule']=='prot-keep' and e['action']=='blocked'"
t_end

# execveat(memfd): a file with no name cannot be matched against a program
# glob; with exec rules in force it is refused (rule "unresolved")
t_begin supervised.adversary.execveat-memfd
ap_run -- python3 -c '
import os
fd = os.memfd_create("innocent")
os.write(fd, open("/bin/true", "rb").read())
try:
    os.execve(fd, ["innocent"], {})
except OSError as e:
    print("exec-errno", e.errno, flush=True)'
expect_rc 0
expect_out "exec-errno 1"
expect_ev 1 "e['type']=='violation' and e['op']=='exec' and e['rule']=='unresolved' and e['target'].startswith('/memfd:') and e['action']=='blocked'"
t_end

# io_uring: its submissions would bypass the filter, so io_uring_setup
# fails with EPERM in a session with file rules
t_begin supervised.adversary.io-uring
ap_run -- python3 -c '
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
params = ctypes.create_string_buffer(120)
r = libc.syscall(425, 8, params)
print("io_uring_setup", r, ctypes.get_errno(), flush=True)'
expect_rc 0
expect_out "io_uring_setup -1 1"
t_end

# /proc/self/fd/N reopened for writing: "self" is the caller, not the
# supervisor, and the magic link leads to the protected file
t_begin supervised.adversary.proc-self-fd-reopen
ap_run -- bash -c 'exec 3<prot/keep.txt; echo changed > /proc/self/fd/3; echo after=$?'
expect_rc 0
expect_out after=1
kept
expect_ev 1 "e['type']=='violation' and e['rule']=='prot-ro' and e['target']=='$T/prot/keep.txt' and e['action']=='blocked'"
t_end
