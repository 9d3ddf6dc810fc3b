#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The real agents end to end (issue 4's acceptance): Claude Code and Codex
# from npm, pointed at a scripted model server on 127.0.0.1 that asks their
# shell tool to run `git push origin HEAD` and records the next request.
#   agents.X.hook  the hook from `init --with-X` injects a feedback entry
#                  (written by hand) into the agent's next model request
#   agents.X.run   under `actplane run` with a no-push policy the push is
#                  stopped and the next request carries actplane's reason
#   agents.mcp.inspector  a real MCP client (the inspector's CLI) talks to
#                  `actplane mcp`
# Agents are installed into $OUTPUT/npm (not globally); skipped with the
# reason only when the npm registry cannot be reached.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
OUTPUT=${OUTPUT:-build}
AP=${AP_BIN:-$ROOT/$OUTPUT/actplane}
NPM_DIR=$ROOT/$OUTPUT/npm
BIN=$NPM_DIR/node_modules/.bin
REASON="pushing is done by the release job"

if [ ! -x "$AP" ]; then
	echo "not ok agents: $AP missing (run make)"
	exit 0
fi

# ---- doctor (no npm needed) ----
doctor_cases() {
	local d j
	d=$(mktemp -d /tmp/actplane-doctor.XXXXXX)
	mkdir -p "$d/p"
	cat >"$d/p/actplane.yaml" <<'YAML'
version: 1
policy: |
  source AGENT = exec "claude"
  rule no-env-write:
    block write "**/.env" if AGENT
    because "secrets are edited by hand"
YAML
	(cd "$d/p" && CODEX_HOME="$d/codex" "$AP" init --with-claude --with-codex --with-mcp >/dev/null 2>&1)
	j=$(cd "$d/p" && CODEX_HOME="$d/codex" AP_CAPS=lsm "$AP" doctor --json 2>/dev/null)
	if printf '%s' "$j" | python3 -c '
import json, sys
d = json.load(sys.stdin)
c = {x["name"]: x for x in d["checks"]}
assert c["claude-hook"]["status"] == "ok", c["claude-hook"]
assert c["codex-hook"]["status"] == "ok", c["codex-hook"]
assert c["mcp"]["status"] == "ok", c["mcp"]
assert c["policy"]["status"] == "ok", c["policy"]
# a BPF-LSM kernel: this build enforces through the supervisor there
assert c["mode"]["status"] == "ok" and "supervised" in c["mode"]["detail"], c["mode"]
for x in d["checks"]:
    assert x["status"] in ("ok", "info") or x["fix"], x
' 2>"$d/err"; then
		echo "ok agents.doctor.wired"
	else
		echo "not ok agents.doctor.wired"; sed 's/^/    /' "$d/err" | tail -3
	fi
	# block cannot be honoured without BPF-LSM: doctor says which rule, how to fix, exit 1
	(cd "$d/p" && CODEX_HOME="$d/codex" AP_CAPS=tracepoint "$AP" doctor >"$d/out" 2>&1)
	if [ $? = 1 ] && grep -q "^fail  mode.*no-env-write (block)" "$d/out" && grep -q "fix: enable BPF-LSM" "$d/out"; then
		echo "ok agents.doctor.degraded"
	else
		echo "not ok agents.doctor.degraded"; sed 's/^/    /' "$d/out" | grep -v "^    ok" | tail -5
	fi
	# Codex wired but its trust missing (another CODEX_HOME): a failure with its fix
	(cd "$d/p" && CODEX_HOME="$d/other" AP_CAPS=lsm "$AP" doctor >"$d/out" 2>&1)
	if [ $? = 1 ] && grep -q "^fail  codex-hook.*not trusted" "$d/out" &&
		grep -q "fix: actplane init --with-codex" "$d/out"; then
		echo "ok agents.doctor.codex_untrusted"
	else
		echo "not ok agents.doctor.codex_untrusted"; sed 's/^/    /' "$d/out" | tail -5
	fi
	rm -rf "$d"
}
doctor_cases

# ---- install ----
need_install=0
for t in claude codex mcp-inspector; do
	[ -x "$BIN/$t" ] || need_install=1
done
if [ $need_install = 1 ]; then
	mkdir -p "$NPM_DIR"
	# Node 20 here: a bare name would resolve Claude Code to the last
	# release that still declares node 20 (agent-notes.md); ask for latest.
	if ! timeout 600 npm install --prefix "$NPM_DIR" --no-audit --no-fund \
		@anthropic-ai/claude-code@latest @openai/codex@latest \
		@modelcontextprotocol/inspector@latest >"$NPM_DIR/install.log" 2>&1; then
		if ! timeout 30 npm ping >/dev/null 2>&1; then
			for c in claude.hook codex.hook claude.run codex.run mcp.inspector; do
				echo "skip agents.$c: the npm registry is unreachable"
			done
			exit 0
		fi
		echo "not ok agents.install: npm install failed, see $NPM_DIR/install.log"
		tail -5 "$NPM_DIR/install.log" | sed 's/^/    /'
		exit 0
	fi
fi

WORK=$(mktemp -d /tmp/actplane-agents.XXXXXX)
SERVER_PID=
cleanup() {
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
	[ -n "${KEEP_WORK:-}" ] && echo "# kept $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT

# ---- wiring: what the user runs ----
wire() { # AGENT DIR
	# Codex's trust goes to $CODEX_HOME/config.toml: the scratch one
	export CODEX_HOME="$2/../codex-home"
	(cd "$2" && "$AP" init --with-"$1" >"$2/../init.log" 2>&1)
}

# ---- the model server ----
start_server() { # RECORD_DIR
	rm -f "$WORK/port"
	python3 tests/agents/model_server.py --port-file "$WORK/port" \
		--record-dir "$1" --command "git push origin HEAD" --lifetime 600 &
	SERVER_PID=$!
	for _ in $(seq 50); do
		[ -s "$WORK/port" ] && break
		sleep 0.1
	done
	PORT=$(cat "$WORK/port" 2>/dev/null)
}
stop_server() {
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null
	SERVER_PID=
}

# a project: a git repo whose origin is a local bare repository
make_project() { # DIR
	local d=$1
	mkdir -p "$d"
	git init -q --bare "$d/remote.git"
	git init -q "$d/proj"
	(cd "$d/proj" && git config user.email t@example.invalid && git config user.name t &&
		echo hello >README && git add README && git commit -qm init &&
		git remote add origin "$d/remote.git")
	cat >"$d/proj/actplane.yaml" <<'YAML'
version: 1
policy: |
  source AGENT = exec "claude"
  source AGENT = exec "codex"
  rule no-push:
    kill exec "git" "push" if AGENT
    because "pushing is done by the release job"
run:
  seed: [AGENT]
YAML
	mkdir -p "$d/proj/.actplane" "$d/home" "$d/codex-home" "$d/rec" "$d/state"
}

# an entry in the feedback file's format (feedback.h), written by hand
hand_entry() { # FILE MARKER
	local now
	now=$(date +%s)
	printf '%s\n' \
		"[actplane] killed: exec \`git push origin HEAD\` (/usr/bin/git) by git (pid 1)" \
		"rule no-push: kill exec \"git\" \"push\" if AGENT" \
		"because: $2" \
		"retry: retrying it unchanged will be stopped again" \
		"next: do not do this from the agent's session; take another path or ask the user to do it" \
		"{\"actplane\":1,\"ts_unix\":$now,\"rule\":\"no-push\",\"count\":1         }" >>"$1"
}

run_agent() { # AGENT DIR [PREFIX...]: runs the agent in DIR/proj
	local agent=$1 d=$2
	shift 2
	(
		cd "$d/proj" || exit 1
		export HOME="$d/home" CODEX_HOME="$d/codex-home" ACTPLANE_STATE_DIR="$d/state"
		export ANTHROPIC_BASE_URL="http://127.0.0.1:$PORT" ANTHROPIC_API_KEY=x FAKE_KEY=x
		export DISABLE_AUTOUPDATER=1 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1
		if [ "$agent" = claude ]; then
			timeout 120 "$@" "$BIN/claude" -p "Push the current branch." \
				--allowedTools Bash --output-format json
		else
			timeout 120 "$@" "$BIN/codex" exec --skip-git-repo-check \
				--dangerously-bypass-approvals-and-sandbox \
				-c model_provider=fake \
				-c "model_providers.fake={name=\"fake\",base_url=\"http://127.0.0.1:$PORT/v1\",wire_api=\"responses\",env_key=\"FAKE_KEY\"}" \
				-m gpt-5 "Push the current branch."
		fi
	) </dev/null >"$d/agent.out" 2>&1
}

followup_of() { # AGENT DIR
	if [ "$1" = claude ]; then echo "$2/rec/anthropic-followup.json"; else echo "$2/rec/openai-followup.json"; fi
}

for agent in claude codex; do
	# ---- hook injection, no enforcement ----
	d=$WORK/$agent-hook
	make_project "$d"
	if ! wire $agent "$d/proj"; then
		echo "not ok agents.$agent.hook: init failed"
		sed 's/^/    /' "$d/init.log"
		continue
	fi
	hand_entry "$d/proj/.actplane/last-violation.txt" "MARKER-$agent-hook-$$"
	start_server "$d/rec"
	run_agent $agent "$d"
	rc=$?
	stop_server
	f=$(followup_of $agent "$d")
	if [ ! -f "$f" ]; then
		echo "not ok agents.$agent.hook: the agent sent no follow-up request (exit $rc)"
		tail -5 "$d/agent.out" | sed 's/^/    /'
	elif grep -q "MARKER-$agent-hook-$$" "$f" && grep -q '\[actplane\] killed' "$f"; then
		echo "ok agents.$agent.hook"
	else
		echo "not ok agents.$agent.hook: the follow-up request lacks the feedback entry"
	fi

	# ---- under actplane run ----
	if ! "$AP" run --help >/dev/null 2>&1; then
		echo "skip agents.$agent.run: actplane run not available yet"
		continue
	fi
	if [ "$(id -u)" != 0 ] && ! sudo -n true 2>/dev/null; then
		echo "skip agents.$agent.run: needs root or passwordless sudo"
		continue
	fi
	d=$WORK/$agent-run
	make_project "$d"
	wire $agent "$d/proj" || { echo "not ok agents.$agent.run: init failed"; continue; }
	start_server "$d/rec"
	SUDO=
	[ "$(id -u)" != 0 ] && SUDO="sudo -n -E"
	run_agent $agent "$d" $SUDO "$AP" run --policy "$d/proj/actplane.yaml" \
		--fallback kill --events "$d/events.jsonl" --
	rc=$?
	stop_server
	f=$(followup_of $agent "$d")
	if git -C "$d/remote.git" rev-parse -q --verify refs/heads/master >/dev/null ||
		git -C "$d/remote.git" rev-parse -q --verify refs/heads/main >/dev/null; then
		echo "not ok agents.$agent.run: the push went through"
	elif [ ! -f "$f" ]; then
		echo "not ok agents.$agent.run: no follow-up request (exit $rc)"
		tail -5 "$d/agent.out" | sed 's/^/    /'
	elif grep -q "$REASON" "$f" && grep -q '\[actplane\]' "$f"; then
		echo "ok agents.$agent.run"
	else
		echo "not ok agents.$agent.run: the follow-up request lacks actplane's reason"
		grep -c violation "$d/events.jsonl" 2>/dev/null | sed 's/^/    violations: /'
	fi
done

# ---- the hook's cost on every tool call ----
d=$WORK/latency
make_project "$d"
hand_entry "$d/proj/.actplane/last-violation.txt" "latency"
lat=$(ACTPLANE_STATE_DIR="$d/state" python3 - "$AP" "$d/proj" <<'PY'
import json, os, resource, subprocess, sys, time
ap, proj = sys.argv[1], sys.argv[2]
inp = json.dumps({"session_id": "s", "cwd": proj, "hook_event_name": "PostToolUse",
                  "tool_name": "Bash", "tool_input": {"command": "ls"},
                  "tool_response": {"stdout": "x" * 4000, "stderr": ""}}).encode()
def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
walls, c0 = [], cpu()
for _ in range(60):
    t = time.perf_counter()
    subprocess.run([ap, "feedback-hook"], input=inp, stdout=subprocess.DEVNULL, check=True)
    walls.append((time.perf_counter() - t) * 1000)
walls.sort()
print("%.2f %.2f %.2f %.2f" % (walls[30], walls[57], (cpu() - c0) * 1000 / 60, os.getloadavg()[0]))
PY
)
read -r med p95 cpu load <<<"$lat"
ncpu=$(nproc)
if [ -z "$med" ]; then
	echo "not ok agents.hook_latency: could not measure"
elif awk -v m="$med" 'BEGIN { exit !(m < 10) }'; then
	echo "ok agents.hook_latency: median ${med} ms, p95 ${p95} ms, cpu ${cpu} ms per call"
elif awk -v l="$load" -v n="$ncpu" -v c="$cpu" 'BEGIN { exit !(l > 2 * n && c < 10) }'; then
	# a machine this loaded stretches any process's wall time; judge the
	# hook by the CPU it uses
	echo "ok agents.hook_latency: cpu ${cpu} ms per call (wall median ${med} ms at load ${load} on ${ncpu} CPUs)"
else
	echo "not ok agents.hook_latency: median ${med} ms, p95 ${p95} ms, cpu ${cpu} ms per call (limit 10 ms)"
fi

# ---- MCP with a real client ----
if ! "$AP" mcp --help >/dev/null 2>&1; then
	echo "skip agents.mcp.inspector: actplane mcp not available yet"
else
	d=$WORK/mcp
	make_project "$d"
	out=$(cd "$d/proj" && timeout 60 "$BIN/mcp-inspector" --cli "$AP" mcp --method tools/list 2>&1)
	if printf '%s' "$out" | grep -q '"check_policy"' &&
		printf '%s' "$out" | grep -q '"explain_last_violation"'; then
		echo "ok agents.mcp.inspector.tools_list"
	else
		echo "not ok agents.mcp.inspector.tools_list"
		printf '%s\n' "$out" | tail -5 | sed 's/^/    /'
	fi
	out=$(cd "$d/proj" && timeout 60 "$BIN/mcp-inspector" --cli "$AP" mcp --method tools/call \
		--tool-name check_policy --tool-arg 'policy=rule r:
  kill exec "git" "push" if NOPE' 2>&1)
	if printf '%s' "$out" | grep -q "NOPE"; then
		echo "ok agents.mcp.inspector.check_policy"
	else
		echo "not ok agents.mcp.inspector.check_policy"
		printf '%s\n' "$out" | tail -5 | sed 's/^/    /'
	fi
	out=$(cd "$d/proj" && timeout 60 "$BIN/mcp-inspector" --cli "$AP" mcp --method resources/read \
		--uri actplane:///policy 2>&1)
	if printf '%s' "$out" | grep -q "no-push"; then
		echo "ok agents.mcp.inspector.policy_resource"
	else
		echo "not ok agents.mcp.inspector.policy_resource"
		printf '%s\n' "$out" | tail -5 | sed 's/^/    /'
	fi
fi
