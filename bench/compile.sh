#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Compile-time benchmark: generate policies of 1, 16, 64 and 256 rules with a
# realistic mix (path globs with **, programs with arguments, endpoints,
# `if` expressions, unless-conditions and gates) and time
# `actplane compile` end to end (process start, YAML + DSL parsing,
# lowering, automaton, blob written and fsync'd), best and median of N runs;
# then the in-process phases (bench/compile_phases.c: parse, lower including
# the automaton, blob), best of N. Results go in docs/performance.md
# ("Compile time").
#
#   bench/compile.sh [N]          (default N=15; AP_BIN or OUTPUT select the binary)
set -eu
cd "$(dirname "$0")/.."
OUTPUT=${OUTPUT:-build}
AP_BIN=${AP_BIN:-$PWD/$OUTPUT/actplane}
N=${1:-15}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# programs a real policy names: a small vocabulary, used with many arguments
progs=(git curl wget npm pip cargo docker kubectl terraform ssh scp rsync psql mysql aws gcloud)

gen() { # gen RULES FILE
	local n=$1 f=$2 i
	{
		echo "version: 1"
		echo "policy: |"
		echo '  source AGENT = exec "claude"'
		echo '  source AGENT = exec "codex"'
		echo '  source SECRET = file "**/.env*"'
		echo '  source SECRET = file "**/*credential*"'
		echo '  source UNTRUSTED = endpoint "*:80"'
		echo '  endorse REVIEWED by exec "tools/review"'
		echo '  declassify SECRET by exec "tools/redact"'
		for ((i = 0; i < n; i++)); do
			echo "  rule r$i:"
			case $((i % 4)) in
			0)
				echo "    block write \"src/mod$i/**/*.py\" if AGENT and not REVIEWED unless target \"src/mod$i/tests/**\""
				echo "    notify unlink \"src/mod$i/**\" if AGENT"
				;;
			1)
				echo "    kill exec \"${progs[i % 16]}\" \"sub$i\" \"--env=prod*\" if AGENT or UNTRUSTED"
				echo "    block exec \"/opt/bin/run$i\" if SECRET unless lineage-includes exec \"tools/runner\""
				;;
			2)
				echo "    block connect endpoint \"10.$((i % 250)).0.0/16:443\" if SECRET"
				echo "    notify recv endpoint \"192.168.$((i % 250)).*\" if AGENT and not SECRET"
				;;
			3)
				echo "    block exec \"git\" \"commit\" \"-m*\" if AGENT unless after exec \"make\" \"test$i\" passed since write \"src/mod$i/**\""
				echo "    ask read \"data/set$i/**/*.csv\" if UNTRUSTED"
				;;
			esac
			echo "    because \"rule $i\""
		done
	} > "$f"
}

now_ns() { date +%s%N; }

# the in-process driver, linked against the built library
drv=$tmp/compile_phases
${CC:-gcc} -std=gnu11 -O2 -D_GNU_SOURCE -Isrc -I. -I"$OUTPUT" bench/compile_phases.c \
	"$OUTPUT/libactplane.a" -lbpf -lelf -lz -lyaml -ljson-c -lseccomp -lcrypto -lpthread \
	-o "$drv"

printf '%-6s %-8s %-9s %-7s | %-9s %-10s | %-7s %-7s %-6s\n' rules clauses patterns states \
	"cli best" "cli median" parse lower blob
for n in 1 16 64 256; do
	p=$tmp/p$n.yaml
	gen "$n" "$p"
	times=()
	for ((k = 0; k < N; k++)); do
		t0=$(now_ns)
		AP_CAPS=lsm "$AP_BIN" compile --policy "$p" --out "$tmp/out.blob" > "$tmp/msg" 2>&1
		t1=$(now_ns)
		times+=($(((t1 - t0) / 1000)))
	done
	sorted=($(printf '%s\n' "${times[@]}" | sort -n))
	best=${sorted[0]}
	med=${sorted[$((N / 2))]}
	# "wrote F: B bytes, R rules, C kernel clauses, P patterns, S automaton states"
	read -r clauses patterns states < <(sed -n \
		's/.* \([0-9]*\) kernel clauses, \([0-9]*\) patterns, \([0-9]*\) automaton states.*/\1 \2 \3/p' "$tmp/msg")
	read -r tparse tlower tblob < <("$drv" "$p" "$N")
	printf '%-6s %-8s %-9s %-7s | %-9s %-10s | %-7s %-7s %-6s\n' "$n" "$clauses" "$patterns" \
		"$states" "$(awk -v u="$best" 'BEGIN{printf "%.1f", u/1000}')" \
		"$(awk -v u="$med" 'BEGIN{printf "%.1f", u/1000}')" "$tparse" "$tlower" "$tblob"
done
