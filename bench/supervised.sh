#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What the supervised mode costs, measured live (root), in one run:
#
# 1. Wall clock of a C build (the project's user-space sources, every
#    src/**/*.c with gcc -O2, make -j2, twice) and of a git-heavy loop (150
#    times add/commit/status/log),
#    bare, under `run --mode tracepoint` (the engine alone) and under
#    `run --mode supervised` (engine + seccomp supervisor), with a typical
#    policy (exec, write, unlink rules: write opens and unlinks are held),
#    and again with a read rule added (then every open is held: the worst
#    case). Timed inside the command (the engine's load is printed
#    apart); best of RUNS rounds, the modes taking turns in each round.
#    Ratios against bare.
# 2. Per-notification round trip: N open(O_WRONLY) of one file in a loop,
#    bare vs supervised, (t_sup - t_bare) / N from the caller's view; and
#    the supervisor's own mean (receive to respond, evaluation included),
#    printed by run with ACTPLANE_SUP_STATS=1.
#
# usage: sudo bench/supervised.sh [RUNS] [N]   (defaults: 2, 20000)
# Prints a Markdown table for docs/performance.md.
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${1:-2}
N=${2:-20000}
OUTPUT=${OUTPUT:-build}
AP_BIN=${AP_BIN:-$ROOT/$OUTPUT/actplane}
[ "$(id -u)" -eq 0 ] || { echo "bench/supervised.sh: needs root" >&2; exit 3; }
[ -x "$AP_BIN" ] || { echo "bench/supervised.sh: build first ($AP_BIN)" >&2; exit 2; }

W=$(mktemp -d /tmp/ap-bench-sup.XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/proj" "$W/repo"
cp -r src "$W/proj/src"
cp bpf/abi.h bpf/dfa_abi.h "$W/proj/" 2>/dev/null || true
mkdir -p "$W/proj/bpf" && cp bpf/*.h "$W/proj/bpf/"
cp "$OUTPUT"/*.skel.h "$W/proj/" 2>/dev/null || true
cat > "$W/proj/Makefile" <<'EOF'
SRCS := $(shell find src -name '*.c')
OBJS := $(SRCS:%.c=out/%.o)
all: $(OBJS)
out/%.o: %.c
	@mkdir -p $(@D)
	@gcc -std=gnu11 -O2 -D_GNU_SOURCE -DAP_VERSION='"b"' -Isrc -I. -c $< -o $@
EOF
git -C "$W/repo" init -q -b main
cat > "$W/gitloop.sh" <<'EOF'
cd "$1"
for i in $(seq 1 150); do
	echo "line $i" >> f.txt
	git add f.txt
	git -c user.name=b -c user.email=b@x commit -qm "c$i"
	git status --short >/dev/null
	git log -1 --oneline >/dev/null
done
EOF
cat > "$W/typical.yaml" <<EOF
version: 1
policy: |
  rule no-push:
    block exec "git" "push"
  rule no-env-write:
    block write file "**/.env*"
  rule stay:
    block unlink file "/**" unless target "$W/**" or target "/tmp/**"
EOF
cp "$W/typical.yaml" "$W/withread.yaml"
cat >> "$W/withread.yaml" <<'EOF'
  rule no-ssh:
    block read file "**/.ssh/**"
EOF

now() { date +%s.%N; }
# the workload is timed from inside the command (timed.sh), so what is
# measured is the steady state: neither the engine's load and verification
# nor the session's teardown is in it (they are printed apart, once)
cat > "$W/timed.sh" <<'EOF'
out=$1; shift
s=$(date +%s%N)
"$@" > /dev/null 2>&1
rc=$?
e=$(date +%s%N)
echo $(( (e - s) / 1000 )) > "$out"
exit $rc
EOF
# t MODE POLICY CMD...: seconds of CMD, measured inside (bare when MODE is "bare")
t() {
	local mode=$1 pol=$2
	shift 2
	rm -f "$W/us"
	if [ "$mode" = bare ]; then
		bash "$W/timed.sh" "$W/us" "$@"
	else
		# tracepoint cannot honour block: --fallback kill, as a user would
		"$AP_BIN" run --mode "$mode" $([ "$mode" = tracepoint ] && echo --fallback kill) \
			--policy "$pol" -- bash "$W/timed.sh" "$W/us" "$@" > /dev/null 2> "$W/run.err"
	fi
	[ -s "$W/us" ] || { echo "bench/supervised.sh: $mode run failed: $(tail -3 "$W/run.err")" >&2; exit 1; }
	awk '{printf "%.3f", $1 / 1e6}' "$W/us"
}
# wall seconds of a whole `run` (start, CMD, teardown)
whole() {
	local s e
	s=$(now)
	"$AP_BIN" run --mode "$1" $([ "$1" = tracepoint ] && echo --fallback kill) \
		--policy "$2" -- true > /dev/null 2>&1
	e=$(now)
	echo "$s $e" | awk '{printf "%.3f", $2 - $1}'
}
min() { tr ' ' '\n' | grep . | sort -g | head -1; }

echo "session start and end (run -- true): tracepoint $(whole tracepoint "$W/typical.yaml")s, supervised $(whole supervised "$W/typical.yaml")s"
echo
echo "| workload | bare (s) | tracepoint (s) | supervised, typical (s) | supervised, with a read rule (s) | supervised / tracepoint |"
echo "|---|---|---|---|---|---|"
for wl in build gitloop; do
	if [ $wl = build ]; then cmd=(bash -c "for i in 1 2; do make -s -B -j2 -C $W/proj all || exit 1; done"); else cmd=(bash -c "rm -rf $W/repo; mkdir -p $W/repo; git -C $W/repo init -q -b main; bash $W/gitloop.sh $W/repo"); fi
	# the modes take turns within each round, so a change in the
	# machine's load spreads over all of them; best of RUNS rounds
	B= TP= SV= SR=
	for _ in $(seq 1 "$RUNS"); do
		B="$B $(t bare - "${cmd[@]}")"
		TP="$TP $(t tracepoint "$W/typical.yaml" "${cmd[@]}")"
		SV="$SV $(t supervised "$W/typical.yaml" "${cmd[@]}")"
		SR="$SR $(t supervised "$W/withread.yaml" "${cmd[@]}")"
	done
	b=$(echo "$B" | min); tp=$(echo "$TP" | min); sv=$(echo "$SV" | min); sr=$(echo "$SR" | min)
	echo "| $wl | $b | $tp | $sv | $sr | $(echo "$sv $tp" | awk '{printf "%.3f", $1 / $2}') |"
	echo "|   ratio to bare | 1 | $(echo "$tp $b" | awk '{printf "%.3f", $1 / $2}') | $(echo "$sv $b" | awk '{printf "%.3f", $1 / $2}') | $(echo "$sr $b" | awk '{printf "%.3f", $1 / $2}') | |"
done

# per-notification round trip
PY=$(python3 -c 'import sys; print(sys.executable)')
cat > "$W/opens.py" <<EOF
import os, time
p = "$W/target.txt"
open(p, "w").close()
s = time.perf_counter()
for _ in range($N):
    os.close(os.open(p, os.O_WRONLY))
print("%.3f" % ((time.perf_counter() - s) * 1e6 / $N))
EOF
bare_us=$("$PY" "$W/opens.py")
sup_us=$(ACTPLANE_SUP_STATS=1 "$AP_BIN" run --mode supervised --policy "$W/typical.yaml" -- "$PY" "$W/opens.py" 2> "$W/sup.err")
sup_mean=$(grep -o 'supervisor: [0-9]* notifications, [0-9.]* us mean' "$W/sup.err" | awk '{print $4 " us over " $2 " notifications"}')
echo
echo "| open(O_WRONLY) round trip | bare | supervised | per notification |"
echo "|---|---|---|---|"
echo "| caller's view, $N opens | $bare_us us | $sup_us us | $(echo "$sup_us $bare_us" | awk '{printf "%.1f", $1 - $2}') us |"
echo "| supervisor's own (receive to respond) | | | $sup_mean |"
