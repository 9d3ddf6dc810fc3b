#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Case 5: `after exec ... passed since ...` gates. Commit without tests
# matches; tests that passed, then commit, does not; tests, then an edit
# under src, then commit matches (stale); failing tests do not count as
# `passed`.
E2E_MODES=${E2E_MODES:-tracepoint auto}
. "$(dirname "$0")/lib.sh"
e2e_setup
make_repo
# run-tests passes unless told to fail
make_script run-tests '[ "${1:-}" = fail ] && exit 1; exit 0'
policy <<EOF
version: 1
policy: |
  rule tests-before-commit:
    kill exec "git" "commit" unless after exec "run-tests" passed since write "$T/repo/src/**"
    because "run the tests (and let them pass) after your last change, then commit"
EOF
export PATH=$T/bin:$PATH
edit() { echo "// $1" >> "$T/repo/src/a.c"; }

t_begin commit-tests.without-tests
edit 1
before=$(commits)
ap_run -- bash -c 'cd repo && git commit -qam change1; echo after'
expect_stream
expect_out after
expect_ev 1 "e['type']=='violation' and e['rule']=='tests-before-commit' and e['op']=='exec' and 'commit' in e['argv'] and e['action']=='killed'"
[ "$(commits)" -eq "$before" ] || fail "the commit happened"
t_end

t_begin commit-tests.passed
before=$(commits)
ap_run -- bash -c 'cd repo && run-tests && git commit -qam change1 && echo committed'
expect_stream
expect_rc 0
expect_out committed
expect_no_violation
[ "$(commits)" -eq $((before + 1)) ] || fail "the commit did not happen"
t_end

t_begin commit-tests.stale
before=$(commits)
ap_run -- bash -c 'cd repo && run-tests && echo "// edit" >> src/a.c && git commit -qam change2; echo after'
expect_stream
expect_out after
expect_ev 1 "e['type']=='violation' and e['rule']=='tests-before-commit' and 'commit' in e['argv']"
[ "$(commits)" -eq "$before" ] || fail "the stale commit happened"
t_end

t_begin commit-tests.failed
before=$(commits)
ap_run -- bash -c 'cd repo && run-tests fail; git commit -qam change2; echo after'
expect_stream
expect_out after
expect_ev 1 "e['type']=='violation' and e['rule']=='tests-before-commit' and 'commit' in e['argv']"
[ "$(commits)" -eq "$before" ] || fail "the commit after failing tests happened"
t_end

t_begin commit-tests.edit-then-tests
before=$(commits)
ap_run -- bash -c 'cd repo && echo "// edit2" >> src/a.c && run-tests && git commit -qam change3 && echo committed'
expect_stream
expect_rc 0
expect_out committed
expect_no_violation
[ "$(commits)" -eq $((before + 1)) ] || fail "the commit did not happen"
t_end
