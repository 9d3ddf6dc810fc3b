#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The BPF-LSM VM stage: boot Debian's 6.1 cloud kernel (BPF-LSM active) under
# qemu and run, inside it, the LSM probe and the same live end-to-end suite
# as on the host. Case names get a "vm." prefix. The two kernels, 6.1 here
# and the host's, are the portability floor.
#   VM_STAGE=0 skips the stage (the reason is printed).
set -u
cd "$(dirname "$0")/.."
OUTPUT=${OUTPUT:-build}
if [ "${VM_STAGE:-1}" = 0 ]; then
	echo "skip vm: VM_STAGE=0 in the environment"
	exit 0
fi
if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "not ok vm: qemu-system-x86_64 is missing (scripts/deps.sh installs qemu-system-x86)"
	exit 0
fi
guest=$(mktemp /tmp/ap-vm-guest.XXXXXX)
trap 'rm -f "$guest"' EXIT
cat > "$guest" <<'GUEST'
# runs inside the VM (busybox sh), from /work
# the probe must load a real BPF-LSM program here (it is refused on the
# host), and check must still describe the mode run really uses
line=$(actplane check --policy examples/E01-secret-no-exfil.yaml 2>&1 | sed -n 2p)
case "$line" in
*"BPF-LSM: yes"*) echo "ok lsm-probe: a BPF-LSM program loads on this kernel ($line)" ;;
*) echo "not ok lsm-probe: the probe does not see BPF-LSM: $line" ;;
esac
mkdir -p tests && mv e2e stage-e2e.sh tests/ 2>/dev/null
export E2E_JOBS=1 STORM_SECONDS=${STORM_SECONDS:-3}
bash tests/stage-e2e.sh
GUEST
VM_TIMEOUT=${VM_TIMEOUT:-900} bash tests/vm/vm.sh --tools "$guest" tests/e2e tests/stage-e2e.sh examples 2>&1 |
	sed -e 's/^ok /ok vm./' -e 's/^not ok /not ok vm./' -e 's/^skip /skip vm./' |
	grep -v '^AP-VM-LSM'
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] || echo "not ok vm: the VM run failed (exit $rc; console log in $OUTPUT/vm/console.log)"
