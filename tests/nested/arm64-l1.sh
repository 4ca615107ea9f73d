#!/usr/bin/env bash
# The aarch64 harness's first cut (issue 20): an arm64 L1 under QEMU's TCG
# (virt, GICv3, EL2, so Debian's arm64 kernel brings up KVM), booting
# build-aarch64/ember's guest (guest/arm64-kernel.sh's Image and a busybox
# initramfs) with 1 and 2 vCPUs.  Prints L1's console; exits 0 when both
# guests reached init, saw their vCPUs and powered off (ember exit 0).
# Takes the nested lock itself: one QEMU at a time on the machine.
#   tests/nested/arm64-l1.sh [EMBER]   (default build-aarch64/ember)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
ember=${1:-$root/build-aarch64/ember}
cache=${EMBER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ember}
[ -x "$ember" ] || { echo "arm64-l1: no $ember (make ARCH=aarch64)" >&2; exit 1; }
command -v qemu-system-aarch64 >/dev/null || { echo "arm64-l1: install qemu-system-arm" >&2; exit 1; }

# L1's kernel and busybox: Debian's arm64 packages, unpacked, never installed.
debs=$cache/arm64-l1-debs
if ! ls "$debs"/linux-image-*-arm64-unsigned_*.deb >/dev/null 2>&1; then
	"$root/guest/arm64-debs.sh" "$debs" busybox-static linux-image-arm64
	dep=$(dpkg-deb -f "$debs"/linux-image-arm64_*.deb Depends | sed 's/ .*//')
	"$root/guest/arm64-debs.sh" "$debs" "$dep-unsigned"
fi
kernel=$("$root/guest/arm64-kernel.sh")/Image

work=$(mktemp -d /tmp/ember-arm64-l1.XXXXXX)
trap 'rm -rf "$work"' EXIT
for d in "$debs"/busybox-static_*.deb "$debs"/linux-image-*-unsigned_*.deb; do
	dpkg-deb -x "$d" "$work/pkg"
done

# A root of busybox and @init: a newc cpio at @out.
mkroot() {
	local dir=$1 out=$2 init=$3
	mkdir -p "$dir"/{bin,proc,sys,dev,tmp,ember}
	cp "$work/pkg/bin/busybox" "$dir/bin/busybox"
	ln -sf busybox "$dir/bin/sh"
	printf '%s\n' '#!/bin/sh' '/bin/busybox --install -s /bin' \
		'mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev' \
		"$init" >"$dir/init"
	chmod +x "$dir/init"
	(cd "$dir" && find . | cpio -o -H newc --quiet) >"$out"
}

mkroot "$work/guest" "$work/guest.cpio" \
	'echo "EMBER-GUEST-INIT cpus=$(grep -c ^processor /proc/cpuinfo) $(grep MemTotal /proc/meminfo)"; poweroff -f'
mkdir -p "$work/l1/ember"
cp "$ember" "$work/l1/ember/ember"
cp "$kernel" "$work/l1/ember/Image"
cp "$work/guest.cpio" "$work/l1/ember/guest.cpio"
mkroot "$work/l1" "$work/l1.cpio" \
	'echo "l1: $(uname -m) $(ls /dev/kvm)"
for n in 1 2; do
	timeout 120 /ember/ember run --kernel /ember/Image --initrd /ember/guest.cpio --vcpus $n --mem 256 \
		--no-seccomp --cmdline "console=ttyS0 reboot=k panic=1"
	echo "l1: ember exit $? (vcpus $n)"
done
poweroff -f'

vmlinuz=$(ls "$work"/pkg/boot/vmlinuz-*)
flock /tmp/ember-nested.lock timeout 420 qemu-system-aarch64 \
	-M virt,virtualization=on,gic-version=3 -cpu max,pauth-impdef=on -smp 2 -m 4096 \
	-accel tcg,thread=multi -nographic -no-reboot \
	-kernel "$vmlinuz" -initrd "$work/l1.cpio" \
	-append "console=ttyAMA0 panic=-1 quiet" | tee "$work/console.log"
grep -q 'EMBER-GUEST-INIT cpus=1 ' "$work/console.log" &&
	grep -q 'EMBER-GUEST-INIT cpus=2 ' "$work/console.log" &&
	grep -q 'l1: ember exit 0 (vcpus 1)' "$work/console.log" &&
	grep -q 'l1: ember exit 0 (vcpus 2)' "$work/console.log"
