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
	# cmocka prints "[       OK ] case", "[  FAILED  ] case" (again in its
	# summary) and "[  SKIPPED ] case"; a test says why it skips on a line
	# "skip: REASON" before calling skip().
	printf '%s\n' "$out" | awk -v t="$name" '
		/^skip: / { why = substr($0, 7) }
		/^\[       OK \] / { print "ok " t "." $4 }
		/^\[  FAILED  \] [^ ]+$/ { if (!seen[$4]++) print "not ok " t "." $4 }
		/^\[  SKIPPED \] [^ ]+$/ {
			if (!skipped[$4]++) print "skip " t "." $4 ": " (why != "" ? why : "skipped by the test (no reason printed)")
			why = ""
		}'
	if [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^\[  FAILED  \] [^ ]*$'; then
		echo "not ok $name: exited $rc"
		printf '%s\n' "$out" | tail -20 | sed 's/^/    /'
	elif [ $rc -ne 0 ]; then
		printf '%s\n' "$out" | grep -v '^\[' | tail -30 | sed 's/^/    /'
	fi
done
