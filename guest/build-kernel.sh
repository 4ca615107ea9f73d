#!/usr/bin/env bash
# Build the ember guest kernel from Debian's linux-source-6.1 into a cache
# outside the tree, keyed by the hash of everything that affects the result,
# so CI and later runs reuse it.  Prints the cache directory on stdout; it
# holds vmlinux (ELF), bzImage and config.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${EMBER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ember}
tarball=$(ls /usr/src/linux-source-6.1.tar.* 2>/dev/null | head -n1)
[ -n "$tarball" ] || { echo "build-kernel: linux-source-6.1 is not installed" >&2; exit 1; }
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)

key=$( (cat "$here/kernel.config" "$here/build-kernel.sh"; echo "$srcver") |
	sha256sum | cut -c1-16)
out="$cache/kernel-$key"
if [ -f "$out/vmlinux" ] && [ -f "$out/bzImage" ]; then
	echo "$out"
	exit 0
fi

src="$cache/src/linux-source-6.1-$srcver"
if [ ! -f "$src/.ember-extracted" ]; then
	echo "build-kernel: extracting $tarball" >&2
	rm -rf "$src" && mkdir -p "$src"
	tar -xf "$tarball" -C "$src" --strip-components=1
	touch "$src/.ember-extracted"
fi

build="$cache/build-$key"
rm -rf "$build" && mkdir -p "$build"
log="$build/build.log"
kmake() { make -C "$src" O="$build" ARCH=x86_64 -j"$(nproc)" "$@" >>"$log" 2>&1; }

echo "build-kernel: configuring (log: $log)" >&2
kmake tinyconfig
"$src/scripts/kconfig/merge_config.sh" -m -O "$build" "$build/.config" \
	"$here/kernel.config" >>"$log" 2>&1
kmake olddefconfig

# merge_config only warns when a dependency drops an option: be strict.
bad=0
while IFS= read -r line; do
	case "$line" in CONFIG_*=*) ;; *) continue ;; esac
	grep -qx "$line" "$build/.config" || { echo "build-kernel: lost $line" >&2; bad=1; }
done <"$here/kernel.config"
[ $bad -eq 0 ] || exit 1

echo "build-kernel: building vmlinux and bzImage (~10 min on 2 cores)" >&2
if ! kmake vmlinux bzImage; then
	tail -n 40 "$log" >&2
	exit 1
fi

tmp="$out.tmp.$$"
rm -rf "$tmp" && mkdir -p "$tmp"
cp "$build/vmlinux" "$build/arch/x86/boot/bzImage" "$tmp/"
cp "$build/.config" "$tmp/config"
rm -rf "$out" && mv "$tmp" "$out"
rm -rf "$build"
echo "$out"
