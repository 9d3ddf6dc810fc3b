#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Supervised mode + Landlock: a static "writes only in the workspace" rule
# is also a Landlock ruleset, which holds for what the seccomp filter does
# not look at (here mknod of a regular file) and without the supervisor.
. "$(dirname "$0")/lib.sh"
e2e_setup

if ! timeout 60 "$AP_BIN" run --mode supervised --rule 'rule p: block exec "no-such-e2e"' -- true \
	> "$T/probe.out" 2> "$T/probe.err"; then
	echo "skip e2e.supervised.landlock: no supervised mode here"
	exit 0
fi
if ! "$AP_BIN" check --rule 'rule ws: block write file "/**" unless target "/tmp/x/**"' 2>/dev/null |
	grep -q '^landlock:'; then
	echo "skip e2e.supervised.landlock: no Landlock on this kernel"
	exit 0
fi
PY=$(python3 -c 'import sys; print(sys.executable)')
mkdir -p ws
policy <<EOF
version: 1
policy: |
  rule ws-only:
    block write file "/**" unless target "$T/ws/**"
    because "the agent writes only in its workspace"
EOF

t_begin supervised.landlock.check-says
"$AP_BIN" check > "$T/out" 2> "$T/err"
grep -q "^landlock: rule 'ws-only'.*$T/ws" "$T/out" || fail "check does not list ws-only as covered by Landlock"
t_end

t_begin supervised.landlock.mknod-outside
ap_run -- "$PY" -c '
import os
for p in ("ws/inside", "outside"):
    try:
        os.mknod(p); print(p, "created")
    except OSError as e:
        print(p, "errno", e.errno)'
expect_rc 0
expect_out "ws/inside created"
expect_out "outside errno 13"
expect_missing "$T/outside"
t_end
