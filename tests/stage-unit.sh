#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cmocka unit tests: one line per test case, from cmocka's own report.
set -u
cd "$(dirname "$0")/.."
OUTPUT=${OUTPUT:-build}
shopt -s nullglob
bins=("$OUTPUT"/tests/test_*)
if [ ${#bins[@]} -eq 0 ]; then
	echo "not ok unit: no unit test binaries under $OUTPUT/tests (run make)"
	exit 0
fi
for t in "${bins[@]}"; do
	name=$(basename "$t")
	out=$("$t" 2>&1)
	rc=$?
	# cmocka prints "[       OK ] case" and "[  FAILED  ] case"
	printf '%s\n' "$out" | sed -n \
		-e "s/^\[       OK \] \(.*\)$/ok $name.\1/p" \
		-e "s/^\[  FAILED  \] \([^ ]*\)$/not ok $name.\1/p" \
		-e "s/^\[  SKIPPED \] \([^ ]*\)$/skip $name.\1: skipped by the test/p"
	if [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^\[  FAILED  \] [^ ]*$'; then
		echo "not ok $name: exited $rc"
		printf '%s\n' "$out" | tail -20 | sed 's/^/    /'
	elif [ $rc -ne 0 ]; then
		printf '%s\n' "$out" | grep -v '^\[' | tail -30 | sed 's/^/    /'
	fi
done
