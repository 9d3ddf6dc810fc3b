#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Supervised mode (seccomp user notification): the block twins of the
# engine's cases. A blocked operation fails with EPERM before it takes
# effect, the command carries on, and the event says "blocked".
. "$(dirname "$0")/lib.sh"
e2e_setup

if ! timeout 60 "$AP_BIN" run --mode supervised --rule 'rule p: block exec "no-such-e2e"' -- true \
	> "$T/probe.out" 2> "$T/probe.err"; then
	echo "skip e2e.supervised.block: no supervised mode here: $(grep -m1 -i error "$T/probe.err" | cut -c1-160)"
	exit 0
fi

mkdir -p prot ws
echo keep > prot/keep.txt
echo moveme > prot/move.txt
echo 0123456789 > prot/trunc.txt
echo topsecret > secret.txt
make_script payload "touch $T/payload-ran"
make_repo
policy <<EOF
version: 1
policy: |
  rule no-payload:
    block exec "payload"
    because "payload is off limits"
  rule no-push:
    block exec "git" "push"
    because "pushing is done by the release job"
  rule no-secret:
    block read file "**/secret.txt"
    because "secrets stay secret"
  rule prot-ro:
    block write file "$T/prot/**"
    because "prot is read-only"
  rule prot-keep:
    block unlink file "$T/prot/**"
    because "prot is kept"
  rule prot-stay:
    block rename file "$T/prot/**"
    because "prot stays in place"
EOF
blocked() { # rule op
	echo "e['type']=='violation' and e['rule']=='$1' and e['op']=='$2' and e['effect']=='block' and e['action']=='blocked' and e['mode']=='supervised'"
}

t_begin supervised.start-mode
ap_run -- true
expect_stream
expect_rc 0
expect_ev 1 "e['type']=='start' and e['mode']=='supervised'"
t_end

t_begin supervised.block-exec
ap_run -- bash -c "$T/bin/payload; echo after=\$?"
expect_stream
expect_rc 0
expect_missing "$T/payload-ran"
expect_out "after=126"
expect_ev 1 "$(blocked no-payload exec) and e['target']=='$T/bin/payload'"
t_end

t_begin supervised.block-read
ap_run -- bash -c 'cat secret.txt; echo after=$?'
expect_stream
expect_rc 0
expect_no_out topsecret
expect_out "after=1"
expect_ev 1 "$(blocked no-secret read) and e['target']=='$T/secret.txt' and e['comm']=='cat'"
t_end

t_begin supervised.block-write
ap_run -- bash -c 'echo changed > prot/keep.txt; echo after=$?'
expect_stream
expect_rc 0
expect_out "after=1"
[ "$(cat prot/keep.txt)" = keep ] || fail "prot/keep.txt was changed"
expect_ev 1 "$(blocked prot-ro write) and e['target']=='$T/prot/keep.txt'"
t_end

t_begin supervised.block-unlink
ap_run -- bash -c 'rm -f prot/keep.txt; echo after=$?'
expect_stream
expect_rc 0
expect_out "after=1"
expect_exists "$T/prot/keep.txt"
expect_ev 1 "$(blocked prot-keep unlink) and e['target']=='$T/prot/keep.txt' and e['comm']=='rm'"
t_end

t_begin supervised.block-rename
ap_run -- bash -c 'mv prot/move.txt ws/moved.txt; echo after=$?'
expect_stream
expect_rc 0
expect_out "after=1"
expect_exists "$T/prot/move.txt"
expect_missing "$T/ws/moved.txt"
expect_ev_min 1 "$(blocked prot-stay rename) and e['target']=='$T/prot/move.txt'"
t_end

t_begin supervised.block-truncate
ap_run -- bash -c 'truncate -s 0 prot/trunc.txt; echo after=$?'
expect_stream
expect_rc 0
expect_out "after=1"
[ "$(cat prot/trunc.txt)" = 0123456789 ] || fail "prot/trunc.txt was truncated"
expect_ev_min 1 "$(blocked prot-ro write) and e['target']=='$T/prot/trunc.txt'"
t_end

t_begin supervised.git-status-allowed-push-blocked
before=$(git -C "$T/remote.git" rev-list --all --count)
ap_run -- bash -c 'cd repo && git status --short >/dev/null && echo status-ok; git push -q origin main; echo push=$?'
expect_stream
expect_rc 0
expect_out status-ok
expect_no_out "push=0"
[ "$(git -C "$T/remote.git" rev-list --all --count)" = "$before" ] || fail "the remote changed"
expect_ev_min 1 "$(blocked no-push exec) and 'push' in e['argv']"
expect_ev 0 "e['type']=='violation' and e['op']=='exec' and 'status' in e.get('argv', [])"
t_end

t_begin supervised.unrelated-ops-untouched
ap_run -- bash -c 'echo hi > ws/new.txt && cat ws/new.txt && mv ws/new.txt ws/n2.txt && rm ws/n2.txt && echo done'
expect_stream
expect_rc 0
expect_out done
expect_no_violation
t_end
