#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The session guard's path items (policy-language.md section 7): a process
# of the session may not write, rename or remove the active policy file or
# .actplane/, nor move itself out of the session's cgroup. Supervised mode
# fails the operation (EPERM, the file unchanged); tracepoint mode kills the
# process (whatever --fallback says). Each case then tries a protected write
# again in the same session, which must fail too. Negative twins: `guard:
# {allow: [files]}`, reading the policy, writing other project files.
E2E_MODES=${E2E_MODES-"tracepoint auto"}
. "$(dirname "$0")/lib.sh"
e2e_setup

tp=false
[ "$E2E_MODE" = tracepoint ] && tp=true
# what a guarded operation does here: exit status of the acting process,
# the event's effect and action
if $tp; then
	DENIED=137 EFFECT=kill ACTION=killed
else
	DENIED=1 EFFECT=block ACTION=blocked
fi

write_policy() {
	policy <<EOF
version: 1
policy: |
  rule watch-curl:
    notify exec "no-such-e2e-program"
    because "a rule of the policy's own"
$1
EOF
	cp actplane.yaml "$T/policy.orig"
}
write_policy ""
mkdir -p .actplane
echo '{"mine":1}' > .actplane/keep.json

# bring the project back between cases (from outside any session)
restore() {
	rm -f x .pre-link
	cp "$T/policy.orig" actplane.yaml
	rm -rf .actplane
	mkdir -p .actplane
	echo '{"mine":1}' > .actplane/keep.json
}
policy_same() {
	cmp -s actplane.yaml "$T/policy.orig" || fail "actplane.yaml was changed"
}
# guarded OP TARGET: a session-guard event for it, as this mode decides
guarded() {
	echo "e['type']=='violation' and e['rule']=='session-guard' and e['op']=='$1' and e['target']=='$2' and e['effect']=='$EFFECT' and e['action']=='$ACTION' and 'session-guard' in e['rules'] and '.actplane/' in e['reason']"
}
no_guard() {
	expect_ev 0 "e['type']=='violation' and e['rule']=='session-guard'" "session-guard events (negative twin)"
}

t_begin guard.files-start
ap_run -- true
expect_stream
expect_rc 0
if $tp; then
	expect_ev 1 "e['type']=='start' and e['mode']=='tracepoint'"
else
	expect_ev 1 "e['type']=='start' and e['mode']=='supervised'"
fi
t_end

t_begin guard.files-append
ap_run -- bash -c '(echo changed >> actplane.yaml); echo first=$?; (echo again >> actplane.yaml); echo second=$?'
expect_stream
expect_rc 0
expect_out "first=$DENIED"
expect_out "second=$DENIED"
policy_same
expect_ev 2 "$(guarded write "$T/actplane.yaml")"
t_end
restore

t_begin guard.files-truncate
ap_run -- bash -c '(: > actplane.yaml); echo first=$?; (truncate -s 0 actplane.yaml); echo second=$?'
expect_stream
expect_rc 0
expect_out "first=$DENIED"
expect_out "second=$DENIED"
# tracepoint: O_TRUNC and truncate(2) have happened when the kill lands
$tp || policy_same
expect_ev 2 "$(guarded write "$T/actplane.yaml")"
t_end
restore

t_begin guard.files-dot-actplane
ap_run -- bash -c '(echo "{}" >> .actplane/events.jsonl); echo first=$?; (echo x > .actplane/new.txt); echo second=$?; cat .actplane/keep.json'
expect_stream
expect_rc 0
expect_out "first=$DENIED"
expect_out "second=$DENIED"
expect_out '{"mine":1}'
grep -qx '{}' .actplane/events.jsonl && fail ".actplane/events.jsonl was written by the session"
$tp || expect_missing .actplane/new.txt
expect_ev 1 "$(guarded write "$T/.actplane/events.jsonl")"
expect_ev 1 "$(guarded write "$T/.actplane/new.txt")"
t_end
restore

t_begin guard.files-rm-rf
ap_run -- bash -c '(rm -rf .actplane); echo first=$?; (rm -f .actplane/keep.json); echo second=$?'
expect_stream
expect_rc 0
expect_out "first=$DENIED"
expect_out "second=$DENIED"
expect_exists .actplane
# supervised: nothing was removed; tracepoint: the first unlink (the
# call the kill lands after) may have been
$tp || expect_exists .actplane/keep.json
expect_ev_min 2 "$(guarded unlink "$T/.actplane/keep.json") or ($(guarded unlink "$T/.actplane/events.jsonl"))"
t_end
restore

t_begin guard.files-rename
ap_run -- bash -c '(mv actplane.yaml x); echo first=$?; (echo z >> actplane.yaml); echo second=$?; if [ -e x ]; then (echo z >> x); echo third=$?; fi'
expect_stream
expect_rc 0
expect_out "first=$DENIED"
expect_out "second=$DENIED"
expect_ev_min 1 "$(guarded rename "$T/actplane.yaml")"
expect_ev 1 "$(guarded write "$T/actplane.yaml")"
if $tp; then
	# the rename took place before the kill: the file under its new name
	# is still the policy's inode, and still guarded
	expect_out "third=$DENIED"
	expect_ev 1 "$(guarded write "$T/x")"
	cmp -s x "$T/policy.orig" || fail "the renamed policy was changed"
else
	policy_same
	expect_missing x
fi
t_end
restore

t_begin guard.files-link
ap_run -- bash -c '(ln actplane.yaml x); echo first=$?; (echo z >> x); echo second=$?; (echo z >> actplane.yaml); echo third=$?'
expect_stream
expect_rc 0
expect_out "first=$DENIED"
expect_out "third=$DENIED"
expect_ev_min 1 "$(guarded rename "$T/actplane.yaml") and e.get('target2')=='$T/x'"
if $tp; then
	# linked before the kill: a write of the new name is the policy's
	expect_out "second=$DENIED"
	expect_ev 1 "$(guarded write "$T/x")"
else
	# no link was made: x is a file of its own
	expect_out "second=0"
	[ "$(stat -c %h actplane.yaml)" = 1 ] || fail "actplane.yaml has $(stat -c %h actplane.yaml) links"
fi
policy_same
t_end
restore

t_begin guard.files-link-made-before
ln actplane.yaml .pre-link
ap_run -- bash -c '(echo z >> .pre-link); echo first=$?; (echo z >> .pre-link); echo second=$?'
expect_stream
expect_rc 0
expect_out "first=$DENIED"
expect_out "second=$DENIED"
policy_same
expect_ev 2 "$(guarded write "$T/.pre-link")"
t_end
restore

# the cgroup2 hierarchy as this machine mounts it (the session's cgroup
# lives there, or under actplane's own mount)
CG=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
t_begin guard.cgroup-procs
if [ -z "$CG" ]; then
	echo "skip e2e.guard.cgroup-procs$E2E_SUFFIX: no cgroup2 mount"
else
	ap_run -- bash -c "bash -c 'b=\$(grep ^0:: /proc/self/cgroup); echo \$\$ > $CG/cgroup.procs; echo rc=\$?; [ \"\$b\" = \"\$(grep ^0:: /proc/self/cgroup)\" ] && echo same'; echo first=\$?; (echo \$BASHPID > $CG/cgroup.threads); echo second=\$?"
	expect_stream
	expect_rc 0
	expect_out "second=$DENIED"
	if $tp; then
		expect_out "first=$DENIED"
		expect_no_out "rc="
	else
		expect_out "rc=1"
		expect_out "same"
	fi
	expect_ev 1 "$(guarded cgroup "$CG/cgroup.procs")"
	expect_ev 1 "$(guarded cgroup "$CG/cgroup.threads")"
	t_end
fi

if $tp; then
	# the guard is never weakened by --fallback: it still kills
	t_begin guard.files-fallback-notify
	ap_run --fallback notify -- bash -c '(echo changed >> actplane.yaml); echo first=$?'
	expect_stream
	expect_rc 0
	expect_out "first=137"
	policy_same
	expect_ev 1 "$(guarded write "$T/actplane.yaml")"
	t_end
	restore
fi

# ---- negative twins ----
t_begin guard.files-read-allowed
ap_run -- bash -c 'cat actplane.yaml > /dev/null; echo r=$?; cat .actplane/keep.json; grep -c . .actplane/events.jsonl > /dev/null; echo g=$?'
expect_stream
expect_rc 0
expect_out "r=0"
expect_out '{"mine":1}'
expect_out "g=0"
no_guard
t_end

t_begin guard.files-project-writes-allowed
mkdir -p src
ap_run -- bash -c 'echo hi > notes.txt && echo more >> src/a.c && mv notes.txt notes2.txt && rm notes2.txt && mkdir -p build && echo o > build/out && echo ok-writes'
expect_stream
expect_rc 0
expect_out ok-writes
expect_exists src/a.c
no_guard
t_end

t_begin guard.files-allow-files
write_policy "guard: {allow: [files]}"
ap_run -- bash -c '(echo changed >> actplane.yaml); echo first=$?; (echo x > .actplane/new.txt); echo second=$?'
expect_stream
expect_rc 0
expect_out "first=0"
expect_out "second=0"
grep -q changed actplane.yaml || fail "the allowed write did not reach actplane.yaml"
expect_exists .actplane/new.txt
no_guard
t_end
write_policy ""
restore

t_begin guard.files-notify
write_policy "guard: notify"
ap_run -- bash -c '(echo changed >> actplane.yaml); echo first=$?'
expect_stream
expect_rc 0
expect_out "first=0"
expect_ev 1 "e['type']=='violation' and e['rule']=='session-guard' and e['op']=='write' and e['effect']=='notify' and e['action']=='reported'"
t_end
write_policy ""
restore

if ! $tp; then
	# a rule of the policy that says the same: the guard decides the tie
	t_begin guard.files-tie
	write_policy '  rule mine:
    block write ".actplane/**"
    because "mine"'
	ap_run -- bash -c '(echo x > .actplane/new.txt); echo first=$?'
	expect_stream
	expect_rc 0
	expect_out "first=1"
	expect_missing .actplane/new.txt
	expect_ev 1 "$(guarded write "$T/.actplane/new.txt") and 'mine' in e['rules']"
	t_end
	write_policy ""
	restore
fi
