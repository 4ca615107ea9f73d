#!/usr/bin/env bash
# Install every Debian package ember needs to build, test, build guests and run
# the nested-KVM harness.  Idempotent: does nothing when all are present, so
# `make run` / `make test` can call it on every invocation cheaply.
set -euo pipefail

PKGS=(
	# build
	build-essential pkg-config
	libseccomp-dev libcap-dev liburing-dev libfdt-dev libjansson-dev
	libcmocka-dev
	# make ARCH=aarch64 (guest/arm64-sysroot.sh adds the arm64 libraries);
	# its libc only comes as a recommendation, which this installs without
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross
	# tests/nested/arm64-l1.sh: the arm64 L1
	qemu-system-arm
	# nested harness: L1 kernel + modules, emulator, firmware for QEMU microvm
	qemu-system-x86 qemu-utils linux-image-amd64 kmod
	# guest kernel builds: x86 from 6.1; aarch64 from 6.12, the first Debian
	# source whose vmgenid driver reads a device tree (guest/arm64-kernel.sh)
	linux-source-6.1 linux-source-6.12 bc flex bison libelf-dev libssl-dev xz-utils
	# guest rootfs / initramfs
	busybox-static e2fsprogs cpio
	# bench plot, tests
	gnuplot-nox python3 curl util-linux
	# make test's format check (.clang-format)
	clang-format
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}" >&2
	echo "install-deps: run as root (or: sudo $0)" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
