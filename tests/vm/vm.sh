#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Boot Debian's cloud kernel (6.1, BPF-LSM built in) under qemu (TCG, no KVM
# needed) from an initramfs holding busybox, the actplane binary and its
# libraries, run one script inside, and print its output. The VM's exit
# status is the script's: it prints "AP-VM-EXIT <rc>" last, which we parse.
#
#   tests/vm/vm.sh [--no-lsm] [--tools] SCRIPT [FILES...]
#
# --tools also copies bash, python3 (with its standard library) and git
# into the guest, for the end-to-end suite.
# FILES are copied to /work in the guest next to SCRIPT. The kernel package
# is fetched with apt-get download into $OUTPUT/vm on first use.
set -eu
cd "$(dirname "$0")/../.."
OUTPUT=${OUTPUT:-build}
VMDIR=$PWD/$OUTPUT/vm
LSM="landlock,lockdown,yama,bpf"
TOOLS=0
while [ $# -gt 0 ]; do
	case "$1" in
	--no-lsm) LSM="landlock,lockdown,yama"; shift ;;
	--tools) TOOLS=1; shift ;;
	*) break ;;
	esac
done
script=$1; shift
mkdir -p "$VMDIR"

kernel() {
	local k
	k=$(ls "$VMDIR"/kernel/boot/vmlinuz-* 2>/dev/null | head -n1 || true)
	if [ -z "$k" ]; then
		(
			cd "$VMDIR"
			resolve() {
				apt-cache depends linux-image-cloud-amd64 2>/dev/null |
					sed -n 's/.*Depends: \(linux-image-[0-9].*\)/\1/p' | head -n1
			}
			pkg=$(resolve)
			[ -n "$pkg" ] || { apt-get update -qq >/dev/null 2>&1; pkg=$(resolve); }
			[ -n "$pkg" ] || { echo "vm: cannot resolve linux-image-cloud-amd64 (apt-get update?)" >&2; exit 1; }
			apt-get download -q "$pkg" >/dev/null 2>&1 ||
				{ echo "vm: apt-get download $pkg failed" >&2; exit 1; }
			rm -rf kernel && mkdir kernel && dpkg-deb -x linux-image-*.deb kernel
		)
		k=$(ls "$VMDIR"/kernel/boot/vmlinuz-* | head -n1)
	fi
	echo "$k"
}

# Copy a binary and the shared libraries it needs into the initramfs tree.
add_bin() {
	local root=$1 bin=$2 dest=${3:-$2} lib
	mkdir -p "$root$(dirname "$dest")"
	cp -L "$bin" "$root$dest"
	for lib in $(ldd "$bin" 2>/dev/null | grep -o '/[^ ]*' | sort -u); do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

build_initramfs() {
	local root=$VMDIR/root f
	rm -rf "$root" && mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,work,etc,root}
	cp /bin/busybox "$root/bin/busybox"
	for f in $("$root/bin/busybox" --list); do
		[ -e "$root/bin/$f" ] || ln -s busybox "$root/bin/$f"
	done
	add_bin "$root" "$OUTPUT/actplane" /usr/local/bin/actplane
	if [ "$TOOLS" = 1 ]; then
		local py
		py=$(readlink -f /usr/bin/python3)
		add_bin "$root" /bin/bash /bin/bash
		add_bin "$root" "$py" /usr/bin/python3
		ln -sf python3 "$root/usr/bin/$(basename "$py")"
		add_bin "$root" /usr/bin/git /usr/bin/git
		# util-linux's setpriv (busybox's lacks --reuid), as on the host
		add_bin "$root" /usr/bin/setpriv /usr/bin/setpriv
		for f in /usr/lib/git-core/git-remote-http /usr/lib/git-core/git; do
			[ -e "$f" ] && add_bin "$root" "$f" "$f"
		done
		mkdir -p "$root/usr/lib" "$root/usr/share"
		cp -a /usr/lib/git-core "$root/usr/lib/"
		cp -a /usr/share/git-core "$root/usr/share/" 2>/dev/null || true
		(cd /usr/lib && tar cf - --exclude=test --exclude=tests --exclude=idlelib \
			--exclude=tkinter --exclude=ensurepip --exclude=lib2to3 \
			--exclude=site-packages --exclude=dist-packages \
			"$(basename "$py")") | (cd "$root/usr/lib" && tar xf -)
		for f in /usr/lib/"$(basename "$py")"/lib-dynload/*.so; do
			add_bin "$root" "$f" "$f"
		done
	fi
	echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
	echo "nobody:x:65534:65534:nobody:/nonexistent:/bin/sh" >> "$root/etc/passwd"
	echo "root:x:0:" > "$root/etc/group"
	echo "nogroup:x:65534:" >> "$root/etc/group"
	cp "$script" "$root/work/test.sh"
	for f in "$@"; do cp -r "$f" "$root/work/"; done
	cat > "$root/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs tmp /tmp
# what any distribution provides: /run (actplane's control sockets) and a
# working loopback (the tests' listeners are on 127.0.0.1)
mkdir -p /run && mount -t tmpfs run /run
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
mkdir -p /sys/fs/cgroup && mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
echo; echo "AP-VM-LSM $(cat /sys/kernel/security/lsm 2>/dev/null)"
cd /work
export PATH=/usr/local/bin:/usr/bin:/bin:/sbin AP_BIN=/usr/local/bin/actplane
sh /work/test.sh
echo "AP-VM-EXIT $?"
poweroff -f
INIT
	chmod +x "$root/init"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$VMDIR/initrd.gz"
}

command -v qemu-system-x86_64 >/dev/null || { echo "vm: qemu-system-x86_64 missing (scripts/deps.sh installs it)" >&2; exit 1; }
k=$(kernel)
build_initramfs "$@"
out=$VMDIR/console.log
timeout "${VM_TIMEOUT:-300}" qemu-system-x86_64 -m 1024 -smp 2 -nographic -no-reboot -nic none \
	-kernel "$k" -initrd "$VMDIR/initrd.gz" \
	-append "console=ttyS0 quiet loglevel=5 panic=-1 softlockup_panic=1 softlockup_all_cpu_backtrace=1 lsm=$LSM" \
	> "$out" 2>&1 || true
# drop the firmware's terminal escapes, keep what the guest printed
clean=$(tr -d '\r' < "$out" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g')
# (the firmware may leave its text on the marker's line)
printf '%s\n' "$clean" | sed -n '/AP-VM-LSM/,$p' | sed '1s/^.*AP-VM-LSM/AP-VM-LSM/' |
	grep -v -e '^AP-VM-EXIT' -e '^\[ *[0-9]*\.[0-9]*\]'
rc=$(printf '%s\n' "$clean" | sed -n 's/^AP-VM-EXIT \([0-9]*\)$/\1/p' | tail -n1)
if [ -z "$rc" ]; then
	# what the guest printed is above; a kernel that stopped (a soft lockup
	# panics the guest: softlockup_panic=1) said why on the console
	echo "vm: the guest did not finish (see $out); its kernel's last words:"
	printf '%s\n' "$clean" | grep '^\[ *[0-9]*\.[0-9]*\]' | tail -n 80 | sed 's/^/    /'
	exit 1
fi
exit "$rc"
