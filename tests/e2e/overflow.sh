#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fail closed on limits (issue 11, policy-language.md section 4): a flood of
# 300,000 labelled files fills the engine's file map; the secret is then
# read and written to a new file whose labels cannot be recorded any more;
# a fresh process that reads that file and connects is still stopped,
# because the overflowed session carries every label seen in it, and the
# `loss` event says so. Second part: with a small process map
# (ACTPLANE_ENGINE_MAX_PROCS, a documented test knob), a process forked
# when the map is full is still the session's (found by its cgroup).
E2E_MODES=${E2E_MODES:-tracepoint auto}
E2E_TIMEOUT=${E2E_TIMEOUT:-600}
. "$(dirname "$0")/lib.sh"
e2e_setup
echo 'hunter2' > secret.txt
echo 'public' > public.txt
policy <<'EOF'
version: 1
policy: |
  source AGENT = exec "no-such-agent-binary"
  source SECRET = file "secret.txt"
  rule no-exfil:
    kill connect endpoint "127.0.0.1" if SECRET
    because "secrets stay on this machine"
run:
  seed: [AGENT]
EOF
listen

# every file the seeded session creates is labelled AGENT: 300,000 of them
# do not fit the file map (65,536). They go to tmpfs when there is one
# (the engine sees the same opens; creating and removing them is faster).
FLOOD=$(mktemp -d /dev/shm/ap-flood.XXXXXX 2>/dev/null || mktemp -d "$T/flood.XXXXXX")
trap 'rm -rf "$FLOOD"; e2e_cleanup' EXIT
# A file system that runs out of room (the VM's RAM disk) gets the rest
# created and removed one by one: each is still a new labelled inode (the
# engine keeps the labels of removed files too).
cat > flood.py <<'PY'
import errno, os, sys
d, n = sys.argv[1], int(sys.argv[2])
os.mkdir(d)
keep = True
def make(i):
    os.close(os.open("%s/%d" % (d, i), os.O_WRONLY | os.O_CREAT, 0o644))
for i in range(n):
    try:
        make(i)
    except OSError as e:
        if e.errno != errno.ENOSPC or not keep:
            raise
        keep = False
        for j in range(max(0, i - 1000), i):
            os.unlink("%s/%d" % (d, j))
        make(i)
    if not keep:
        os.unlink("%s/%d" % (d, i))
PY
# SRC is copied to carry.txt by a process of its own; a fresh process (not
# its descendant) reads carry.txt, then connects
flow_cmd() {
	echo "/usr/bin/python3 flood.py $FLOOD/$1 $2 && ${3:-} cp $1 carry.txt && " \
	     "bash -c 'read -r x < carry.txt; exec 3<>/dev/tcp/127.0.0.1/$PORT && echo \"\$x\" >&3; echo connected'"
}
overflow_ev="e['type']=='loss' and e.get('overflowed') and e.get('kind')=='overflow' and 'ap_files' in e.get('reason','')"

t_begin overflow.flood-secret
# `status`, asked from inside once the flood is over (run refreshes its
# state file every second), shows the overflow too. OVERFLOW_FLOOD (the VM
# stage: emulated CPUs) makes the flood smaller and the file map with it.
N=${OVERFLOW_FLOOD:-300000}
st_cmd="sleep 2; $AP_BIN status --json > status.json;"
if [ "$N" -lt 300000 ]; then
	ACTPLANE_ENGINE_MAX_FILES=$((N / 5)) ap_run -- bash -c "$(flow_cmd secret.txt "$N" "$st_cmd")"
else
	ap_run -- bash -c "$(flow_cmd secret.txt "$N" "$st_cmd")"
fi
expect_stream
expect_rc 137
expect_no_out connected
/usr/bin/python3 - "$T/status.json" <<'PY' || fail "status --json did not show the overflowed session"
import json, sys
st = json.load(open(sys.argv[1]))
assert st.get("overflowed") is True, st
assert any(s.get("overflowed") for s in st.get("sessions", [])), st
PY
expect_ev 1 "$overflow_ev" "one loss event naming the overflow of ap_files"
expect_ev 1 "e['type']=='violation' and e['rule']=='no-exfil' and e['op']=='connect' and 'SECRET' in e['labels']"
t_end
rm -rf "${FLOOD:?}"/*

# the twin overflows the same way, with the file map shrunk (documented
# test knob) so that 3,000 files are a flood
t_begin overflow.flood-public
ACTPLANE_ENGINE_MAX_FILES=1024 ap_run -- bash -c "$(flow_cmd public.txt 3000)"
expect_stream
expect_rc 0
expect_out connected
expect_ev 1 "$overflow_ev" "one loss event naming the overflow of ap_files"
expect_no_violation
t_end
rm -rf "${FLOOD:?}"/*

# ---- a fork the full process map cannot record ----
# 40 sleepers fill a 16-entry process map; then the shell reads the secret
# and starts a new process that connects: it has no entry of its own
# (tracepoint: found by the session's cgroup; supervised: evaluated as an
# unknown process of the session), and is stopped.
fork_cmd() {
	echo "for i in \$(seq 40); do sleep 3 & done; read -r x < $1; " \
	     "bash -c 'exec 3<>/dev/tcp/127.0.0.1/$PORT && echo hi >&3; echo connected'; wait"
}
procs_ev="e['type']=='loss' and e.get('overflowed') and 'ap_procs' in e.get('reason','')"

t_begin overflow.fork-secret
ACTPLANE_ENGINE_MAX_PROCS=16 ap_run -- bash -c "$(fork_cmd secret.txt)"
expect_stream
expect_no_out connected
expect_ev 1 "$procs_ev" "one loss event naming the overflow of ap_procs"
expect_ev_min 1 "e['type']=='violation' and e['rule']=='no-exfil' and e['op']=='connect' and 'SECRET' in e['labels']"
t_end

t_begin overflow.fork-public
ACTPLANE_ENGINE_MAX_PROCS=16 ap_run -- bash -c "$(fork_cmd public.txt)"
expect_stream
expect_rc 0
expect_out connected
expect_ev 1 "$procs_ev" "one loss event naming the overflow of ap_procs"
expect_no_violation
t_end
