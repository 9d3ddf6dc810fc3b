#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Storm: several processes open files as fast as they can (aim: 200k
# opens/s in total) for STORM_SECONDS while one of them hammers a file a
# rule matches, to overflow the ring buffer. The engine must survive, the
# command's status must come through, and every record lost must be
# counted in `loss` events (matches seen + drops reported == matching opens).
E2E_MODES=${E2E_MODES:-tracepoint auto}
. "$(dirname "$0")/lib.sh"
e2e_setup
STORM_SECONDS=${STORM_SECONDS:-10}
STORM_WORKERS=${STORM_WORKERS:-4}
STORM_MATCHING=${STORM_MATCHING:-50000}
cat > storm.c <<'EOF'
// SPDX-License-Identifier: MIT
/* storm SECONDS PATH [MAX]: open/close PATH until SECONDS pass or MAX opens
 * were made; prints the number of opens that succeeded. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	double secs = atof(argv[1]);
	long max = argc > 3 ? atol(argv[3]) : -1, n = 0;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		for (int i = 0; i < 256 && n != max; i++) {
			int fd = open(argv[2], O_RDONLY);
			if (fd >= 0) { close(fd); n++; }
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (n == max || (t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 >= secs)
			break;
	}
	printf("%ld\n", n);
	return 0;
}
EOF
gcc -O2 -o storm storm.c || { echo "not ok e2e.storm$E2E_SUFFIX: cannot build the storm helper"; exit 0; }
echo quiet > quiet.txt
echo loud > loud.txt
policy <<'EOF'
version: 1
policy: |
  rule watched:
    notify open file "loud.txt"
    because "storm test"
EOF
script='for i in $(seq 1 '"$STORM_WORKERS"'); do ./storm '"$STORM_SECONDS"' quiet.txt > quiet.$i & done
./storm '"$STORM_SECONDS"' loud.txt '"$STORM_MATCHING"' > loud.count &
wait'

t_begin storm
start=$(date +%s.%N)
E2E_TIMEOUT=$((STORM_SECONDS * 6 + 60)) ap_run -- bash -c "$script"
end=$(date +%s.%N)
expect_stream
expect_rc 0
quiet=$(cat quiet.* 2>/dev/null | awk '{s += $1} END {print s + 0}')
loud=$(cat loud.count 2>/dev/null || echo 0)
seen=$(evq "e['type']=='violation' and e['rule']=='watched'")
drops=$(python3 -c 'import json,sys
x=[json.loads(l) for l in open(sys.argv[1]) if l.strip()][-1]
print(x.get("drops", 0) if x.get("type") == "exit" else -1)' ev.jsonl 2>/dev/null || echo -1)
lossev=$(evq "e['type']=='loss'")
rate=$(python3 -c "print(int(($quiet + $loud) / $STORM_SECONDS))")
[ "$loud" -gt 0 ] || fail "the matching opener made no opens"
[ "$drops" -ge 0 ] || fail "no exit event with a drop count"
[ $((seen + drops)) -eq "$loud" ] || fail "$loud matching opens, $seen events and $drops reported drops: some went unreported"
[ "$drops" -eq 0 ] || [ "$lossev" -gt 0 ] || fail "$drops drops but no loss event"
echo "# storm$E2E_SUFFIX: $((quiet + loud)) opens in ${STORM_SECONDS}s by $((STORM_WORKERS + 1)) processes (~$rate/s); $loud matching: $seen reported, $drops dropped in $lossev loss events; run took $(python3 -c "print(round($end - $start, 1))")s"
t_end
