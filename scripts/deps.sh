#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install every build and test dependency from Debian's packages. Idempotent:
# does nothing when everything is present.
set -eu
pkgs=(
	make gcc clang llvm pkg-config
	libbpf-dev bpftool libelf-dev zlib1g-dev
	libyaml-dev libjson-c-dev libncurses-dev libseccomp-dev libssl-dev
	libcmocka-dev libclang-rt-14-dev
	git python3 iproute2 util-linux procps
	qemu-system-x86 busybox-static cpio
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing packages: ${missing[*]} (run as root: sudo make deps)" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
