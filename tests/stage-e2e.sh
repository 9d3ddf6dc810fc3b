#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Live end-to-end tests: real programs under `actplane run`, as root.
# Each tests/e2e/*.sh prints `ok e2e.NAME` / `not ok e2e.NAME: why` lines.
# Skipped (with the reason) when not root or when this kernel has no BTF;
# as root on a BTF kernel, an engine that cannot load is a failure.
set -u
cd "$(dirname "$0")/.."
OUTPUT=${OUTPUT:-build}
export AP_BIN=${AP_BIN:-$PWD/$OUTPUT/actplane}
E2E_SCRIPT_TIMEOUT=${E2E_SCRIPT_TIMEOUT:-240}
export STORM_SECONDS=${STORM_SECONDS:-10}

if [ "$(id -u)" -ne 0 ]; then
	echo "skip e2e: not root (the engine loads BPF programs; run 'sudo make test')"
	exit 0
fi
if [ ! -x "$AP_BIN" ]; then
	echo "not ok e2e: $AP_BIN is missing (run make)"
	exit 0
fi
if [ ! -r /sys/kernel/btf/vmlinux ]; then
	echo "skip e2e: this kernel has no BTF (/sys/kernel/btf/vmlinux), the engine cannot load"
	exit 0
fi
# can the engine load here at all?
probe=$(mktemp -d /tmp/ap-e2e-probe.XXXXXX)
(cd "$probe" && timeout 60 "$AP_BIN" run --rule 'rule probe: notify exec "no-such-program-e2e-probe"' -- true) \
	> "$probe/out" 2> "$probe/err"
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "not ok e2e.engine-load: 'actplane run -- true' exited $rc: $(grep -m1 -i 'error' "$probe/err" | cut -c1-200)"
	sed 's/^/    /' "$probe/err" | tail -15
	rm -rf "$probe"
	exit 0
fi
rm -rf "$probe"
echo "ok e2e.engine-load"

# Scripts run E2E_JOBS at a time (each in its own temp project; loading
# the engine is the slow part, mostly verifier time); output is printed in
# script order. The storm runs alone, at the end, so it measures itself.
E2E_JOBS=${E2E_JOBS:-$(nproc)}
outdir=$(mktemp -d /tmp/ap-e2e-out.XXXXXX)
trap 'rm -rf "$outdir"' EXIT
scripts=()
for t in tests/e2e/*.sh; do
	case "$t" in */lib.sh|*/storm.sh) continue ;; esac
	scripts+=("$t")
done
[ -f tests/e2e/storm.sh ] && storm=tests/e2e/storm.sh || storm=

run_one() {
	local t=$1 name rc
	name=$(basename "$t" .sh)
	# E2E_TRACE=1 (the VM) says when each script starts and ends, so a
	# guest that stops names what was running
	[ "${E2E_TRACE:-0}" = 1 ] && echo "# e2e: $name started at $(cut -d' ' -f1 /proc/uptime)"
	timeout -k 10 "$E2E_SCRIPT_TIMEOUT" bash "$t" > "$outdir/$name.out" 2>&1
	rc=$?
	if [ $rc -ne 0 ] || ! grep -q '^\(not \)\?ok \|^skip ' "$outdir/$name.out"; then
		echo "not ok e2e.$name: the script exited $rc$([ $rc -eq 124 ] && echo ' (timeout)')" \
			>> "$outdir/$name.out"
	fi
	[ "${E2E_TRACE:-0}" = 1 ] && echo "# e2e: $name ended at $(cut -d' ' -f1 /proc/uptime)"
	return 0
}

running=0
for t in "${scripts[@]}"; do
	run_one "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$E2E_JOBS" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait
for t in "${scripts[@]}"; do
	cat "$outdir/$(basename "$t" .sh).out"
done
if [ -n "$storm" ]; then
	run_one "$storm"
	cat "$outdir/storm.out"
fi
