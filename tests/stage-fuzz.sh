#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fuzz the policy front end (YAML + DSL) with libFuzzer, ASan and UBSan for
# FUZZ_SECONDS (default 60). One line: ok fuzz.policy when no crash, leak,
# timeout or sanitizer report; otherwise not ok with the reproducer's path.
# The corpus grows in $OUTPUT/fuzz/corpus from run to run.
set -u
cd "$(dirname "$0")/.."
OUTPUT=${OUTPUT:-build}
CLANG=${CLANG:-clang}
secs=${FUZZ_SECONDS:-60}
out=$OUTPUT/fuzz

if ! command -v "$CLANG" > /dev/null 2>&1; then
	echo "skip fuzz.policy: $CLANG is not installed"
	exit 0
fi
if ! blog=$(OUTPUT=$OUTPUT CLANG=$CLANG bash tests/fuzz/build.sh 2>&1); then
	echo "not ok fuzz.policy: the fuzzer does not build"
	printf '%s\n' "$blog" | tail -15 | sed 's/^/    /'
	exit 0
fi
mkdir -p "$out/corpus"
"$out/fuzz_policy" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-max_len=8192 -dict=tests/fuzz/policy.dict -print_final_stats=1 \
	-artifact_prefix="$out/" "$out/corpus" "$out/seeds" > "$out/fuzz.log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz.log")
if [ $rc -eq 0 ] && ! grep -qE '^(==[0-9]+==ERROR|SUMMARY: )|runtime error:|deadly signal' \
	"$out/fuzz.log"; then
	echo "ok fuzz.policy"
	echo "# fuzz.policy: ${runs:-?} inputs in ${secs}s, no crash, leak or sanitizer report"
else
	artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$out/fuzz.log" | tail -1)
	echo "not ok fuzz.policy: exit $rc, reproducer ${artifact:-none} (log: $out/fuzz.log)"
	grep -E 'ERROR|SUMMARY|runtime error|#[0-9]+ 0x' "$out/fuzz.log" | head -15 | sed 's/^/    /'
fi
