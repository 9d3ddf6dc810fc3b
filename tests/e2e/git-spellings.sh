#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Case 8: git run directly, via `bash -c`, via `python3 -c subprocess`, via
# `env`, and as a copy under another directory: all match, and git never
# creates the repository. The indirect spellings share one session.
E2E_MODES=${E2E_MODES:-tracepoint auto}
. "$(dirname "$0")/lib.sh"
e2e_setup
mkdir -p other
cp "$(command -v git)" other/git
policy <<'EOF'
version: 1
policy: |
  rule no-git-init:
    kill exec "git" "init"
    because "repositories are created by the platform team"
EOF
match='e["type"]=="violation" and e["rule"]=="no-git-init" and e["op"]=="exec" and e["action"]=="killed"'

t_begin git-spellings.direct
ap_run -- git init -q r1
expect_stream
expect_rc 137
expect_ev 1 "$match and e['argv']==['git','init','-q','r1'] and e['target']=='$(readlink -f "$(command -v git)")'"
expect_ev 1 "$match and e['comm']=='git' and e['exe']=='$(readlink -f "$(command -v git)")'" "the acting process named as the program it execs"
expect_missing r1
t_end

ap_run -- bash -c '
bash -c "git init -q r2"; echo "bash-c: $?"
python3 -c "import subprocess; print(\"python-subprocess:\", subprocess.run([\"git\", \"init\", \"-q\", \"r3\"]).returncode)"
env GIT_UNUSED=1 git init -q r4; echo "env: $?"
'"$T"'/other/git init -q r5; echo "copy: $?"'
expect_stream
all=("${_t_fails[@]}")
spell() { # name expected-output repo extra-match
	t_begin "git-spellings.$1"
	_t_fails=("${all[@]}")
	expect_out "$2"
	expect_missing "$3"
	expect_ev 1 "$match and '$3' in e['argv'] ${4:-}"
	t_end
}
spell bash-c "bash-c: 137" r2
spell python-subprocess "python-subprocess: -9" r3
spell env "env: 137" r4
spell copy "copy: 137" r5 "and e['target']=='$T/other/git'"

t_begin git-spellings.other-subcommand
ap_run -- bash -c 'git --version; env git --version; '"$T"'/other/git --version; python3 -c "import subprocess; subprocess.run([\"git\", \"--version\"])"'
expect_stream
expect_rc 0
expect_out "git version"
expect_no_violation
t_end
