#!/usr/bin/env bash
# The arm64 libraries `make ARCH=aarch64` links ember against: Debian's arm64
# -dev packages (and what their static libraries need), unpacked into a cache
# folder, never installed.  Installing them through multiarch would replace
# amd64 packages (libfdt-dev:arm64 conflicts with libfdt-dev:amd64), so
# arm64-debs.sh only downloads them.  libc comes with the cross compiler (libc6-dev-arm64-cross).
# Prints the sysroot's path; idempotent (the package list is its cache key).
set -euo pipefail

PKGS=(libseccomp-dev libseccomp2 libcap-dev libcap2 liburing-dev liburing2
	libfdt-dev libfdt1 libjansson-dev libjansson4)

cache=${EMBER_CACHE:-$HOME/.cache/ember}
key=$(printf '%s\n' "${PKGS[@]}" | sha256sum | cut -c1-16)
root=$cache/sysroot-arm64-$key
if [ -f "$root/.done" ]; then
	echo "$root"
	exit 0
fi

work=$(mktemp -d "$cache/sysroot-arm64.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/debs" "$work/root"
"$(dirname "$0")/arm64-debs.sh" "$work/debs" "${PKGS[@]}"
for d in "$work"/debs/*.deb; do
	dpkg-deb -x "$d" "$work/root"
done
# The packages' absolute symlinks (lib*.so -> /lib/...) would point at the
# host; only the static archives and headers are used, so they can stay.
touch "$work/root/.done"
rm -rf "$root"
mv "$work/root" "$root"
echo "$root"
