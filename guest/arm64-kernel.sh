#!/usr/bin/env bash
# The aarch64 guest kernel, cross-built from Debian's linux-source-6.12 with
# aarch64-linux-gnu-gcc (ARCH=arm64 tinyconfig + guest/kernel-arm64.config)
# into the cache, keyed by what affects it.  Prints the directory holding
# Image and config.  6.12, not x86's 6.1: Linux reads the VM Generation ID
# from a device tree only since 6.10 (drivers/virt/vmgenid.c; 6.1 finds it
# through ACPI alone), and without it aarch64 clones and fork children
# would share their RNG state.  The source is extracted into the cache once
# (out-of-tree builds leave it clean).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
series=6.12
ver=$(dpkg-query -W -f='${Version}' linux-source-$series 2>/dev/null) ||
	{ echo "arm64-kernel: linux-source-$series is not installed (make deps)" >&2; exit 1; }
key=$(cat "$here/kernel-arm64.config" "$0" <(echo "$ver") | sha256sum | cut -c1-16)
out=${EMBER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ember}/kernel-arm64-$key
[ -f "$out/Image" ] && { echo "$out"; exit 0; }

cache=$(dirname "$out")
src=$cache/src/linux-source-$series-$ver
if [ ! -f "$src/.ember-extracted" ]; then
	rm -rf "$src" && mkdir -p "$src"
	tar -xf /usr/src/linux-source-$series.tar.* -C "$src" --strip-components=1
	touch "$src/.ember-extracted"
fi
obj=$cache/build-arm64-$key
rm -rf "$obj" && mkdir -p "$obj"
k() { make -C "$src" O="$obj" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- -j"$(nproc)" "$@" \
	>>"$obj/build.log" 2>&1; }
echo "arm64-kernel: building (log: $obj/build.log)" >&2
k tinyconfig
"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$here/kernel-arm64.config" \
	>>"$obj/build.log" 2>&1
k olddefconfig
missing=$(grep -E '^CONFIG_[A-Z0-9_]+=' "$here/kernel-arm64.config" | grep -vxFf "$obj/.config" || true)
[ -z "$missing" ] || { echo "arm64-kernel: dropped by Kconfig: $missing" >&2; exit 1; }
k Image || { tail -n 30 "$obj/build.log" >&2; exit 1; }
mkdir -p "$out.tmp"
cp "$obj/arch/arm64/boot/Image" "$obj/.config" "$out.tmp/"
rm -rf "$out" "$obj" && mv "$out.tmp" "$out"
echo "$out"
