#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Case 10: the same file reached by a relative path from another directory,
# by `../`, through a symlink, through /proc/self/root and through a hard
# link (made before the session, and made during it) all match the
# absolute pattern. One session runs every spelling; each `cat` must be
# killed (status 137) without printing the file.
E2E_MODES=${E2E_MODES:-tracepoint auto}
. "$(dirname "$0")/lib.sh"
e2e_setup
mkdir -p data sub links
echo 'TOPSECRET' > data/target.txt
echo 'harmless' > data/other.txt
ln -s ../data/target.txt links/sym.txt
ln data/target.txt links/hard.txt
policy <<EOF
version: 1
policy: |
  rule guarded-file:
    kill open file "$T/data/target.txt"
    because "that file is off limits"
EOF
m="e['type']=='violation' and e['rule']=='guarded-file' and e['op']=='open' and e['comm']=='cat' and e['action']=='killed'"

# name|directory|path
spellings="absolute|$T|$T/data/target.txt
relative-other-dir|$T/sub|../data/target.txt
dotdot|$T/data|../sub/../data/./target.txt
symlink|$T|links/sym.txt
proc-self-root|$T|/proc/self/root$T/data/target.txt
hard-link|$T|links/hard.txt
hard-link-made-in-session|$T|links/hard2.txt"

ap_run -- bash -c '
while IFS="|" read -r name dir path; do
	[ "$name" = hard-link-made-in-session ] && ln data/target.txt links/hard2.txt
	(cd "$dir" && exec cat "$path")
	echo "$name: $?"
done <<< "$0"' "$spellings"
expect_stream
allfails=("${_t_fails[@]}")
while IFS='|' read -r name dir path; do
	t_begin "path-aliases.$name"
	_t_fails=("${allfails[@]}")
	expect_out "$name: 137"
	expect_no_out TOPSECRET
	t_end
done <<< "$spellings"

t_begin path-aliases.events
_t_fails=("${allfails[@]}")
expect_rc 0
expect_ev 7 "$m" "killed opens"
# the event names the path used: the canonical one for every spelling but
# the hard links, which are other names of the same inode
expect_ev 5 "$m and e['target']=='$T/data/target.txt'" "killed opens reported as the canonical path"
expect_ev 2 "$m and e['target'] in ('$T/links/hard.txt', '$T/links/hard2.txt')" "killed opens through hard links"
t_end

t_begin path-aliases.other-file
ap_run -- bash -c 'cd sub && cat ../data/other.txt && cat /proc/self/root'"$T"'/data/other.txt && ln ../data/other.txt ../links/o2 && cat ../links/o2'
expect_stream
expect_rc 0
expect_out harmless
expect_no_violation
t_end
