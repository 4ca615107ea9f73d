#!/usr/bin/env bash
# The arm64 libraries `make ARCH=aarch64` links ember against: Debian's arm64
# -dev packages (and what their static libraries need), unpacked into a cache
# folder, never installed.  Installing them through multiarch would replace
# amd64 packages (libfdt-dev:arm64 conflicts with libfdt-dev:amd64), so apt
# here reads arm64 package lists into a private state directory and only
# downloads.  libc comes with the cross compiler (libc6-dev-arm64-cross).
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
mkdir -p "$work/lists/partial" "$work/archives/partial" "$work/debs" "$work/root"
# Private lists: the host's apt state and dpkg architectures stay untouched.
apt_opts=($( [ "$(id -u)" = 0 ] && echo -o APT::Sandbox::User=root)
	-o "APT::Architecture=arm64" -o "APT::Architectures::=arm64"
	-o "Dir::State::Lists=$work/lists" -o "Dir::Cache::Archives=$work/archives"
	-o "Dir::State::status=/dev/null" -o "Debug::NoLocking=1")
apt-get "${apt_opts[@]}" -qq update >&2
(cd "$work/debs" && apt-get "${apt_opts[@]}" -qq download "${PKGS[@]/%/:arm64}" >&2)
for d in "$work"/debs/*.deb; do
	dpkg-deb -x "$d" "$work/root"
done
# The packages' absolute symlinks (lib*.so -> /lib/...) would point at the
# host; only the static archives and headers are used, so they can stay.
touch "$work/root/.done"
rm -rf "$root"
mv "$work/root" "$root"
echo "$root"
