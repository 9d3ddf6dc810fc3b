#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build the policy front-end fuzzer (libFuzzer + ASan + UBSan) and its seed
# corpus. The target compiles the front end's sources directly (the YAML
# loader, lexer, parser, diagnostics, domains and the arena), so a broken
# file elsewhere in the tree cannot stop it.
#   OUTPUT=build bash tests/fuzz/build.sh  ->  $OUTPUT/fuzz/fuzz_policy, $OUTPUT/fuzz/seeds/
set -eu
cd "$(dirname "$0")/../.."
OUTPUT=${OUTPUT:-build}
CLANG=${CLANG:-clang}
out=$OUTPUT/fuzz
mkdir -p "$out/seeds"
srcs=(src/policy/diag.c src/policy/lexer.c src/policy/parser.c src/policy/policy.c
      src/policy/yaml.c src/policy/domains.c src/common/arena.c)
"$CLANG" -std=gnu11 -g -O1 -D_GNU_SOURCE -Isrc -I. \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer \
	"${srcs[@]}" tests/fuzz/fuzz_policy.c -lyaml -lcrypto -o "$out/fuzz_policy"
# seeds: every policy the tests and examples hold
shopt -s nullglob globstar
n=0
for f in tests/golden/**/*.yaml examples/*.yaml tests/fuzz/seeds/*; do
	cp "$f" "$out/seeds/seed-$n" && n=$((n + 1))
done
echo "built $out/fuzz_policy ($n seeds)"
