#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The test driver behind `make test`. Runs every stage, each of which prints
# one line per test case:
#   ok NAME | not ok NAME [: why] | skip NAME: reason
# and closes with "N passed, N failed, N skipped".
# STAGES="unit golden" limits the stages; OUTPUT selects the build dir.
set -u
cd "$(dirname "$0")/.."
export OUTPUT=${OUTPUT:-build}
export AP_BIN=${AP_BIN:-$PWD/$OUTPUT/actplane}
STAGES=${STAGES:-"unit golden e2e agents fuzz vm"}

pass=0 fail=0 skip=0
failed=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT

count() {
	local line
	while IFS= read -r line; do
		printf '%s\n' "$line"
		case "$line" in
		"ok "*) pass=$((pass + 1)) ;;
		"not ok "*) fail=$((fail + 1)); failed+=("${line#not ok }") ;;
		"skip "*) skip=$((skip + 1)) ;;
		esac
	done
}

for stage in $STAGES; do
	script=tests/stage-$stage.sh
	[ -f "$script" ] || continue
	echo "== $stage"
	count < <(bash "$script" 2>&1)
done

if [ ${#failed[@]} -gt 0 ]; then
	echo
	echo "failed:"
	printf '  %s\n' "${failed[@]}"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
