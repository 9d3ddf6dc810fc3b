#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make demo`: a scripted "agent" session in a scratch project under the
# starter policy from `actplane init`. The agent edits code, tries to commit
# before testing, pushes, and reads a secret before talking to the network;
# actplane shows what it stopped and why.
set -u
cd "$(dirname "$0")/.."
AP=${AP_BIN:-$PWD/build/actplane}
demo=$(mktemp -d /tmp/actplane-demo.XXXXXX)
trap 'rm -rf "$demo"' EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "a scratch project in $demo"
cd "$demo"
git init -q . && git config user.email demo@example.invalid && git config user.name demo
mkdir -p src && echo 'int main(void) { return 0; }' > src/main.c
printf 'test:\n\t@echo tests pass\n' > Makefile
echo 'API_TOKEN=not-a-real-token' > .env
git add -A && git commit -qm init
git init -q --bare "$demo/remote.git" && git remote add origin "$demo/remote.git"

say "actplane init: the starter policy"
"$AP" init || exit 1
sed -n '1,200p' actplane.yaml

say "actplane check: what will be enforced on this kernel"
"$AP" check || exit 1

if ! "$AP" --help | grep -q '^  run '; then
	say "next"
	echo "The kernel engine ('actplane run') is not built yet; see 'issues'."
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "actplane run needs root: run 'sudo make demo'"
	exit 0
fi

# The demo agent: what an agent might do in a few turns.
cat > agent.sh <<'AGENT'
#!/bin/sh
echo "[agent] editing src/main.c"; echo '/* tweak */' >> src/main.c
echo "[agent] committing";        git commit -qam "tweak" || echo "[agent] commit failed"
echo "[agent] running the tests"; make -s test
echo "[agent] committing again";  git commit -qam "tweak" && echo "[agent] committed"
echo "[agent] pushing";           git push -q origin HEAD || echo "[agent] push failed"
echo "[agent] done"
AGENT
chmod +x agent.sh
say "sudo actplane run -- ./agent.sh"
"$AP" run --events "$demo/events.jsonl" -- ./agent.sh
echo "(exit status $?)"
say "the audit trail (.actplane/events.jsonl)"
cat .actplane/events.jsonl 2>/dev/null | head -20
if [ -f .actplane/last-violation.txt ]; then
	say "what the agent was told (.actplane/last-violation.txt)"
	cat .actplane/last-violation.txt
fi
