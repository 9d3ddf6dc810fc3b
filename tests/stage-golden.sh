#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Golden tests of `actplane check`, run from the repository root so paths
# in the output are the relative ones given on the command line.
#
#   tests/golden/valid/X.yaml    X.json = `check --json`, X.txt = the human
#                                summary (stdout); exit 0 expected
#   tests/golden/invalid/X.yaml  X.err = stderr of `check`; exit 1 expected
#   examples/X.yaml              tests/golden/examples/X.json and X.txt
#   X.args                       extra check arguments (e.g. --domain D)
#   X.caps                       the kernel to pretend (default tracepoint)
#
# The kernel is fixed through the AP_CAPS test hook, so the expectations do
# not depend on this machine's BPF-LSM; and the cases run from a copy at a
# fixed place (GOLDEN_ROOT), since relative patterns are anchored at the
# policy's absolute directory and the automaton's size follows that path,
# so the output must not depend on where the repository is checked out.
# UPDATE=1 rewrites the expectations:
# review the diff (git diff tests/golden) before keeping it.
set -u
cd "$(dirname "$0")/.."
OUTPUT=${OUTPUT:-build}
AP_BIN=${AP_BIN:-$PWD/$OUTPUT/actplane}
UPDATE=${UPDATE:-0}
REPO=$PWD
GOLDEN_ROOT=${GOLDEN_ROOT:-/tmp/actplane-golden-root}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$GOLDEN_ROOT"' EXIT
rm -rf "$GOLDEN_ROOT" && mkdir -p "$GOLDEN_ROOT/tests" &&
	cp -r tests/golden "$GOLDEN_ROOT/tests/" && cp -r examples "$GOLDEN_ROOT/" &&
	cd "$GOLDEN_ROOT" || { echo "not ok golden: cannot copy the cases to $GOLDEN_ROOT"; exit 0; }

if [ ! -x "$AP_BIN" ]; then
	echo "not ok golden: no binary at $AP_BIN (run make)"
	exit 0
fi

# compare NAME EXPECTED-FILE ACTUAL-FILE: prints nothing when equal
compare() {
	if [ "$UPDATE" = 1 ]; then
		cp "$3" "$REPO/$2"
		return 0
	fi
	if [ ! -f "$2" ]; then
		echo "missing $2 (UPDATE=1 creates it)"
		return 1
	fi
	if ! cmp -s "$2" "$3"; then
		diff -u "$2" "$3" | head -20 | sed 's/^/    /'
		return 1
	fi
}

# check_valid NAME YAML EXPECT-PREFIX
check_valid() {
	local name=$1 yaml=$2 exp=$3 base=${2%.yaml} caps=tracepoint args=() why=""
	[ -f "$base.caps" ] && caps=$(cat "$base.caps")
	[ -f "$base.args" ] && read -r -a args < "$base.args"
	AP_CAPS=$caps "$AP_BIN" check --json --policy "$yaml" "${args[@]}" \
		> "$tmp/out.json" 2> "$tmp/err.json"
	local rc1=$?
	AP_CAPS=$caps "$AP_BIN" check --policy "$yaml" "${args[@]}" \
		> "$tmp/out.txt" 2> "$tmp/err.txt"
	local rc2=$?
	if [ $rc1 -ne 0 ] || [ $rc2 -ne 0 ]; then
		echo "not ok $name: check exited $rc1 (json) / $rc2 (text), expected 0"
		sed 's/^/    /' "$tmp/err.txt" | head -10
		return
	fi
	if ! d=$(compare "$name" "$exp.json" "$tmp/out.json"); then
		echo "not ok $name: --json output differs from $exp.json"
		printf '%s\n' "$d"
		return
	fi
	if ! d=$(compare "$name" "$exp.txt" "$tmp/out.txt"); then
		echo "not ok $name: summary differs from $exp.txt"
		printf '%s\n' "$d"
		return
	fi
	echo "ok $name"
}

shopt -s nullglob
for y in tests/golden/valid/*.yaml; do
	n=$(basename "$y" .yaml)
	check_valid "golden.valid.$n" "$y" "${y%.yaml}"
done

mkdir -p tests/golden/examples
for y in examples/*.yaml; do
	n=$(basename "$y" .yaml)
	check_valid "golden.example.$n" "$y" "tests/golden/examples/$n"
done

for y in tests/golden/invalid/*.yaml; do
	n=$(basename "$y" .yaml)
	base=${y%.yaml}
	caps=tracepoint
	args=()
	[ -f "$base.caps" ] && caps=$(cat "$base.caps")
	[ -f "$base.args" ] && read -r -a args < "$base.args"
	AP_CAPS=$caps "$AP_BIN" check --policy "$y" "${args[@]}" > /dev/null 2> "$tmp/err"
	rc=$?
	if [ $rc -ne 1 ]; then
		echo "not ok golden.invalid.$n: check exited $rc, expected 1"
		continue
	fi
	if ! d=$(compare "golden.invalid.$n" "$base.err" "$tmp/err"); then
		echo "not ok golden.invalid.$n: stderr differs from $base.err"
		printf '%s\n' "$d"
		continue
	fi
	echo "ok golden.invalid.$n"
done

# `init` writes exactly the starter kept (and checked) as a golden case,
# refuses to overwrite it, and replaces it with --force.
mkdir "$tmp/init"
if (cd "$tmp/init" && "$AP_BIN" init > /dev/null) &&
   cmp -s "$tmp/init/actplane.yaml" tests/golden/valid/init-starter.yaml; then
	echo "ok golden.init.starter"
else
	echo "not ok golden.init.starter: init output differs from tests/golden/valid/init-starter.yaml"
fi
echo "# mine" > "$tmp/init/actplane.yaml"
(cd "$tmp/init" && "$AP_BIN" init > /dev/null 2>&1)
rc=$?
if [ $rc -eq 1 ] && [ "$(cat "$tmp/init/actplane.yaml")" = "# mine" ]; then
	echo "ok golden.init.refuses-overwrite"
else
	echo "not ok golden.init.refuses-overwrite: exit $rc, or the file was replaced"
fi
if (cd "$tmp/init" && "$AP_BIN" init --force > /dev/null) &&
   cmp -s "$tmp/init/actplane.yaml" tests/golden/valid/init-starter.yaml; then
	echo "ok golden.init.force"
else
	echo "not ok golden.init.force: --force did not write the starter"
fi
(cd "$tmp/init" && "$AP_BIN" init --bogus > /dev/null 2>&1)
rc=$?
if [ $rc -eq 2 ]; then
	echo "ok golden.init.unknown-option"
else
	echo "not ok golden.init.unknown-option: exit $rc, expected 2"
fi

# compile: deterministic bytes, atomic replace
if AP_CAPS=tracepoint "$AP_BIN" compile --policy examples/E05-test-before-commit.yaml \
	--out "$tmp/a.blob" > /dev/null 2>&1 &&
   AP_CAPS=tracepoint "$AP_BIN" compile --policy examples/E05-test-before-commit.yaml \
	--out "$tmp/b.blob" > /dev/null 2>&1 && cmp -s "$tmp/a.blob" "$tmp/b.blob"; then
	echo "ok golden.compile.deterministic"
else
	echo "not ok golden.compile.deterministic: two compiles differ or failed"
fi
"$AP_BIN" compile --policy examples/E05-test-before-commit.yaml > /dev/null 2>&1
rc=$?
[ $rc -eq 2 ] && echo "ok golden.compile.needs-out" ||
	echo "not ok golden.compile.needs-out: exit $rc, expected 2"
