#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Case 11: a fork from a secondary thread and a daemonized grandchild
# (double fork, the parent exits) stay under the policy, with the seed label.
E2E_MODES=${E2E_MODES:-tracepoint auto}
. "$(dirname "$0")/lib.sh"
e2e_setup
echo 'FORBIDDEN-CONTENT' > forbidden.txt
echo 'fine' > allowed.txt
policy <<'EOF'
version: 1
policy: |
  source AGENT = exec "no-such-agent-binary"
  rule agent-off-limits:
    kill open file "forbidden.txt" if AGENT
    because "the agent may not read that file"
run:
  seed: [AGENT]
EOF
THREAD_FORK='import os, sys, threading
res = {}
def worker():
    pid = os.fork()
    if pid == 0:
        os.execvp("cat", ["cat", sys.argv[1]])
    _, st = os.waitpid(pid, 0)
    res["sig"] = os.WTERMSIG(st) if os.WIFSIGNALED(st) else 0
    res["code"] = os.WEXITSTATUS(st) if os.WIFEXITED(st) else -1
t = threading.Thread(target=worker)
t.start(); t.join()
print("child signal %d code %d" % (res["sig"], res["code"]))'

t_begin fork-lineage.thread-fork
ap_run -- python3 -c "$THREAD_FORK" forbidden.txt
expect_stream
expect_rc 0
expect_out "child signal 9"
expect_no_out FORBIDDEN-CONTENT
expect_ev 1 "e['type']=='violation' and e['rule']=='agent-off-limits' and e['comm']=='cat' and 'AGENT' in e['labels'] and e['action']=='killed'"
t_end

t_begin fork-lineage.thread-fork-allowed
ap_run -- python3 -c "$THREAD_FORK" allowed.txt
expect_stream
expect_rc 0
expect_out "child signal 0 code 0"
expect_out fine
expect_no_violation
t_end

# The daemon outlives the command: --keep-alive waits for it, still under
# the policy. It reports through a file, since its stdout is detached.
DAEMON='import os, sys
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.close(0); os.close(1); os.close(2)
        rfd = os.open(sys.argv[1], os.O_RDONLY)
        data = os.read(rfd, 100)
        with open("daemon.out", "wb") as f: f.write(data)
        os._exit(0)
    os._exit(0)
os.wait()
print("parent exiting")'

t_begin fork-lineage.daemon
rm -f daemon.out
ap_run --keep-alive -- python3 -c "$DAEMON" forbidden.txt
expect_stream
expect_rc 0
expect_out "parent exiting"
expect_ev 1 "e['type']=='violation' and e['rule']=='agent-off-limits' and e['comm'].startswith('python') and 'AGENT' in e['labels'] and e['action']=='killed'"
expect_missing daemon.out
t_end

t_begin fork-lineage.daemon-allowed
rm -f daemon.out
ap_run --keep-alive -- python3 -c "$DAEMON" allowed.txt
expect_stream
expect_rc 0
expect_no_violation
grep -q fine daemon.out 2>/dev/null || fail "the daemon did not finish its work under --keep-alive"
t_end

# Without --keep-alive the session ends with the command: leftovers are
# ended (SIGTERM), run returns promptly.
t_begin fork-lineage.session-ends-with-command
start=$(date +%s)
rm -f daemon.pid
ap_run -- bash -c '( setsid bash -c "echo \$\$ > daemon.pid; exec sleep 300" & ) ; while [ ! -s daemon.pid ]; do :; done; echo started'
end=$(date +%s)
expect_stream
expect_rc 0
expect_out started
[ $((end - start)) -lt 20 ] || fail "run waited $((end - start))s for a leftover daemon"
if [ -s daemon.pid ] && kill -0 "$(cat daemon.pid)" 2>/dev/null; then
	kill -9 "$(cat daemon.pid)"
	fail "the leftover daemon is still running"
fi
t_end
