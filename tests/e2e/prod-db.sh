#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Case 3: prod.db opened directly matches; opened from under the migration
# tool it does not.
E2E_MODES=${E2E_MODES:-tracepoint auto}
. "$(dirname "$0")/lib.sh"
e2e_setup
echo 'PRODUCTION-ROWS' > prod.db
# the migration tool runs its job as a child
make_script migrate '"$@"; exit $?'
policy <<'EOF'
version: 1
policy: |
  rule prod-db-only-by-migrations:
    kill open file "prod.db" unless lineage-includes exec "migrate"
    because "the production database is changed by migrations only"
EOF

t_begin prod-db.direct
ap_run -- cat prod.db
expect_stream
expect_rc 137
expect_no_out PRODUCTION-ROWS
expect_ev 1 "e['type']=='violation' and e['rule']=='prod-db-only-by-migrations' and e['op']=='open' and e['target']=='$T/prod.db' and e['comm']=='cat' and e['action']=='killed'"
t_end

t_begin prod-db.direct-from-shell
ap_run -- bash -c 'cat prod.db; echo after'
expect_stream
expect_rc 0
expect_out after
expect_no_out PRODUCTION-ROWS
expect_ev 1 "e['type']=='violation' and e['target']=='$T/prod.db' and e['comm']=='cat'"
t_end

t_begin prod-db.migration
ap_run -- "$T/bin/migrate" cat prod.db
expect_stream
expect_rc 0
expect_out PRODUCTION-ROWS
expect_no_violation
t_end
