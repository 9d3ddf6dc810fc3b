#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What the kernel engine costs, measured live (root):
#
# 1. BPF time per operation: kernel.bpf_stats_enabled=1, then the summed
#    run_time_ns / run_cnt deltas of the engine's programs (found by the
#    pid of `actplane run` in `bpftool prog show`) over a phase of N
#    open/close, fork+exit or fork+exec+exit operations made by a process
#    of the session, divided by N.
# 2. Wall clock of the same loops in one run: without the engine, with the
#    engine loaded but the process outside any session, and inside the
#    session (the full evaluation path).
# 3. A build of the project (`make -j2` of a clean tree) without and with
#    `actplane run`, as a ratio (target: under 3% overhead).
#
# usage: sudo bench/engine.sh [N] [BUILD_RUNS]   (defaults: 200000, 2)
# BENCH_MODE=tracepoint (default) measures the kernel engine alone;
# BENCH_MODE=supervised or auto measures what `run` does in that mode.
# Prints a Markdown table for docs/performance.md.
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
N=${1:-200000}
BUILD_RUNS=${2:-2}
OUTPUT=${OUTPUT:-build}
AP_BIN=${AP_BIN:-$ROOT/$OUTPUT/actplane}
NFORK=$((N / 20))
BENCH_MODE=${BENCH_MODE:-tracepoint}

[ "$(id -u)" -eq 0 ] || { echo "bench/engine.sh: needs root" >&2; exit 3; }
[ -x "$AP_BIN" ] || { echo "bench/engine.sh: build first ($AP_BIN)" >&2; exit 2; }
command -v bpftool >/dev/null || { echo "bench/engine.sh: needs bpftool" >&2; exit 3; }

W=$(mktemp -d /tmp/ap-bench.XXXXXX)
apid=
cleanup() {
	[ -n "$apid" ] && kill "$apid" 2>/dev/null
	sysctl -q -w kernel.bpf_stats_enabled="$old_stats" >/dev/null 2>&1 || true
	rm -rf "$W"
}
old_stats=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
trap cleanup EXIT

cat > "$W/opbench.c" <<'EOF'
// SPDX-License-Identifier: MIT
/* opbench open|fork|exec N FILE: N operations, prints ns per operation */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}
int main(int argc, char **argv)
{
	long n = atol(argv[2]);
	double t0 = now();
	for (long i = 0; i < n; i++) {
		if (!strcmp(argv[1], "open")) {
			int fd = open(argv[3], O_RDONLY);
			if (fd < 0) return 1;
			close(fd);
		} else {
			pid_t p = fork();
			if (p == 0) {
				if (!strcmp(argv[1], "exec"))
					execl("/bin/true", "true", (char *)NULL);
				_exit(0);
			}
			waitpid(p, NULL, 0);
		}
	}
	printf("%.0f\n", (now() - t0) / n);
	return 0;
}
EOF
gcc -O2 -o "$W/opbench" "$W/opbench.c"
echo data > "$W/file.txt"

# A policy of the usual shape: sources, a declassifier, gates, several
# rules; nothing in the benchmark matches, so this is the price of asking.
mkdir -p "$W/proj"
cat > "$W/proj/actplane.yaml" <<'EOF'
version: 1
policy: |
  source SECRET = file "**/*credentials*"
  source SECRET = file "/root/.ssh/**"
  source DOWNLOADED = file "**/downloads/**"
  source AGENT = exec "claude"
  declassify SECRET by exec "redact"
  rule no-exfil:
    notify connect endpoint "*" if SECRET
    because "secrets stay here"
  rule no-unreviewed-push:
    kill exec "git" "push" if DOWNLOADED
    because "review first"
  rule tests-first:
    notify exec "git" "commit" unless after exec "make" "test" passed since write "src/**"
    because "tests first"
  rule prod-db:
    kill open file "**/prod.db" unless lineage-includes exec "migrate"
    because "migrations only"
  rule stay-home:
    notify unlink file "/etc/**"
    because "no"
run:
  seed: [AGENT]
EOF

# the command of the session: runs each phase when told to, reports back
mkfifo "$W/to_cmd" "$W/from_cmd"
cat > "$W/phases.sh" <<EOF
for ph in open fork exec; do
	n=$N; [ \$ph = open ] || n=$NFORK
	read -r _ < "$W/to_cmd"
	r=\$("$W/opbench" \$ph \$n "$W/file.txt")
	echo "\$r" > "$W/from_cmd"
done
EOF

stats() { # summed run_time_ns and run_cnt of the programs pid $1 holds
	# (their ids from the fdinfo of its descriptors: bpftool may lack the
	# pid iterator, and other engines may be loaded at the same time)
	local ids
	ids=$(grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -u | tr '\n' ' ')
	bpftool prog show -j | python3 -c '
import json, sys
ids = {int(x) for x in sys.argv[1].split()}; t = c = 0
for p in json.load(sys.stdin):
    if p.get("id") in ids:
        t += p.get("run_time_ns", 0); c += p.get("run_cnt", 0)
print(t, c, len(ids))' "$ids"
}

# --- wall clock without any engine ---
base_open=$("$W/opbench" open "$N" "$W/file.txt")
base_fork=$("$W/opbench" fork "$NFORK" "$W/file.txt")
base_exec=$("$W/opbench" exec "$NFORK" "$W/file.txt")

# --- with the engine: outside the session, then inside it ---
sysctl -q -w kernel.bpf_stats_enabled=1
cd "$W/proj"
"$AP_BIN" run --mode "$BENCH_MODE" --events "$W/ev.jsonl" -- bash "$W/phases.sh" > "$W/run.out" 2> "$W/run.err" &
apid=$!
declare -A in_wall bpf_ns progs_runs
for ph in open fork exec; do
	n=$N; [ "$ph" = open ] || n=$NFORK
	exec 3> "$W/to_cmd"          # blocks until the command is reading
	if [ "$ph" = open ]; then
		# the engine is attached now; an unrelated process pays only
		# the hooks' early exit
		out_open=$("$W/opbench" open "$N" "$W/file.txt")
		out_fork=$("$W/opbench" fork "$NFORK" "$W/file.txt")
		out_exec=$("$W/opbench" exec "$NFORK" "$W/file.txt")
	fi
	read -r t0 c0 nprogs < <(stats "$apid")
	echo go >&3
	exec 3>&-
	read -r wall < "$W/from_cmd"
	read -r t1 c1 nprogs < <(stats "$apid")
	in_wall[$ph]=$wall
	bpf_ns[$ph]=$(( (t1 - t0) / n ))
	progs_runs[$ph]=$(python3 -c "print('%.1f' % (($c1 - $c0) / $n))")
done
wait "$apid" || true
apid=
cd "$ROOT"

# --- make -j2 of a clean tree, alternating without / with the engine ---
build_line="Build of the project: not measured (BUILD_RUNS=0)."
if [ "$BUILD_RUNS" -gt 0 ]; then
	src=$(mktemp -d /tmp/ap-bench-src.XXXXXX)
	cp -r Makefile src bpf tests "$src/" 2>/dev/null || true
	# timed inside the command, so the engine's one-time load (verifier)
	# is not counted; with the engine, the BPF time of the engine's
	# programs over the build is read too: BPF CPU time / the build's CPU
	# time is an overhead figure that other load on the machine cannot blur
	mkfifo "$W/b_go" "$W/b_done"
	cat > "$W/timed.py" <<'EOF'
import resource, subprocess, sys, time
t0 = time.monotonic()
subprocess.run(["make", "-s", "OUTPUT=build-bench", "-j2", "all"],
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.3f %.3f" % (time.monotonic() - t0, r.ru_utime + r.ru_stime))
EOF
	build_once() { # $1: "" or "run"; prints: wall cpu [bpf_ns]
		rm -rf "$src/build-bench"
		if [ -z "$1" ]; then
			(cd "$src" && python3 "$W/timed.py")
			return
		fi
		cd "$src"
		"$AP_BIN" run --mode "$BENCH_MODE" --policy "$W/proj/actplane.yaml" -- bash -c \
			'read -r _ < "$0"; python3 "$1" > "$2.res"; echo done > "$2"; read -r _ < "$0"' \
			"$W/b_go" "$W/timed.py" "$W/b_done" > /dev/null 2>&1 &
		local bp=$! t0 c0 t1 c1 np
		cd "$ROOT"
		exec 4> "$W/b_go"   # opens once the command reads: engine attached
		read -r t0 c0 np < <(stats "$bp")
		echo go >&4
		exec 4>&-
		read -r _ < "$W/b_done"
		read -r t1 c1 np < <(stats "$bp")
		echo go > "$W/b_go"
		wait "$bp"
		echo "$(cat "$W/b_done.res") $((t1 - t0))"
	}
	plain=() traced=() bpfpct=()
	for i in $(seq 1 "$BUILD_RUNS"); do
		plain+=("$(build_once "" | cut -d' ' -f1)")
		read -r wall cpu bpfns < <(build_once run)
		traced+=("$wall")
		bpfpct+=("$(python3 -c "print('%.2f' % ($bpfns / 1e9 / $cpu * 100))")")
	done
	rm -rf "$src"
	best() { printf '%s\n' "$@" | sort -g | head -1; }
	bp=$(best "${plain[@]}")
	bt=$(best "${traced[@]}")
	bb=$(printf '%s\n' "${bpfpct[@]}" | sort -g | tail -1)
	build_line="Build of the project (\`make -j2 all\`, clean tree, best of $BUILD_RUNS alternating runs): ${bp}s without, ${bt}s under \`actplane run\`: wall-clock overhead $(python3 -c "print('%.1f%%' % (($bt / $bp - 1) * 100))"); CPU time in the engine's BPF programs during the build: ${bb}% of the build's own CPU time (worst run)."
fi
ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }
cat <<EOF
Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(uname -r), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; \`sudo BENCH_MODE=$BENCH_MODE bench/engine.sh $N $BUILD_RUNS\`.

| operation | BPF ns/op (in session) | program runs/op | wall ns/op, no engine | engine loaded, outside session | in session | in-session ratio |
|---|---|---|---|---|---|---|
| open+close | ${bpf_ns[open]} | ${progs_runs[open]} | $base_open | $out_open | ${in_wall[open]} | $(ratio "${in_wall[open]}" "$base_open") |
| fork+exit | ${bpf_ns[fork]} | ${progs_runs[fork]} | $base_fork | $out_fork | ${in_wall[fork]} | $(ratio "${in_wall[fork]}" "$base_fork") |
| fork+exec+exit | ${bpf_ns[exec]} | ${progs_runs[exec]} | $base_exec | $out_exec | ${in_wall[exec]} | $(ratio "${in_wall[exec]}" "$base_exec") |

BPF ns/op: summed run_time_ns of the engine's ${nprogs} programs over the phase / operations (stats on: kernel.bpf_stats_enabled=1; the phase's own fork/exit hooks included for the fork and exec rows).

$build_line
EOF
