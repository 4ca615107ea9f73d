#!/usr/bin/env bash
# Build ember's default guest userland as an initramfs (newc cpio, not
# compressed: ember hands it to the kernel as is and the kernel unpacks it
# faster than it would gunzip it).
#
#   guest/mkinitramfs.sh OUT         write the initramfs to OUT
#   guest/mkinitramfs.sh             build it into the cache, print its path
#   guest/mkinitramfs.sh --tree DIR  only lay out the file tree in DIR (empty
#                                    or missing); guest/mkrootfs.sh uses this
#
# Contents: busybox-static with its applet links, guest/init as /init (and
# /sbin/init, for a disk root), every guest/tools/*.c built static into /bin,
# and tests/integration/guest-tests/* in /guest-tests.
#
# For another architecture (tests/nested/arm64-l1.sh): EMBER_BUSYBOX names
# its busybox-static, EMBER_GUEST_CC its cross compiler, and EMBER_BUSYBOX_LIST
# a busybox that runs here (the host's, of the same release) to list the
# applets, since the foreign one cannot run.
#
# No root needed.  Output is reproducible for the same inputs (fixed mtimes
# and owners, sorted entries) and cached under ~/.cache/ember by the hash of
# the inputs, so repeated calls cost a cp.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
cache=${EMBER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ember}
busybox=${EMBER_BUSYBOX:-/bin/busybox}
busybox_list=${EMBER_BUSYBOX_LIST:-$busybox}
cc=${EMBER_GUEST_CC:-gcc}
guest_tests=$repo/tests/integration/guest-tests
cflags=(-static -O2 -s -Wall -Wextra -Werror)

die() { echo "mkinitramfs: $*" >&2; exit 1; }

[ -x "$busybox" ] || die "$busybox missing (apt-get install busybox-static)"
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' ||
	die "$busybox is not static (apt-get install busybox-static)"

# Every file whose content or mode affects the image, one per line.
inputs() {
	printf '%s\n' "$here/mkinitramfs.sh" "$here/init" "$busybox"
	find "$here/tools" "$guest_tests" -type f 2>/dev/null | LC_ALL=C sort
}

# Content hash of the inputs plus the compiler that builds the tools.
input_key() {
	{
		inputs | while IFS= read -r f; do
			printf '%s %s\n' "${f#"$repo"/}" "$(stat -c %a "$f")"
			cat "$f"
		done
		"$cc" --version | head -n1
		echo "${cflags[*]}"
	} | sha256sum | cut -c1-16
}

# Compile guest/tools/*.c (one program per file) into $1.
build_tools() {
	local out=$1 src name
	for src in "$here"/tools/*.c; do
		[ -e "$src" ] || continue
		name=$(basename "$src" .c)
		"$cc" "${cflags[@]}" -o "$out/$name" "$src" ||
			die "building $name failed"
	done
}

# Lay out the guest file tree in $1.
stage_tree() {
	local root=$1 link
	mkdir -p "$root"
	[ -z "$(ls -A "$root")" ] || die "--tree: $root is not empty"
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root,etc,guest-tests}

	install -m 0755 "$busybox" "$root/bin/busybox"
	# busybox knows where each applet belongs; skip its init (ours is /init)
	# and linuxrc.
	while IFS= read -r link; do
		case "$link" in sbin/init | linuxrc | bin/busybox) continue ;; esac
		mkdir -p "$root/$(dirname "$link")"
		ln -sf "/bin/busybox" "$root/$link"
	done < <("$busybox_list" --list-full)

	install -m 0755 "$here/init" "$root/init"
	ln -s ../init "$root/sbin/init"
	build_tools "$root/bin"
	if [ -d "$guest_tests" ]; then
		find "$guest_tests" -maxdepth 1 -type f -exec install -m 0755 -t "$root/guest-tests" {} +
	fi
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
	printf 'root:x:0:\n' >"$root/etc/group"

	# Fixed timestamps make the image a function of the inputs only.
	find "$root" -exec touch -h -d @0 {} +
}

# One newc header (+ name) for an entry without data; see
# Documentation/driver-api/early-userspace/buffer-format.rst.
newc_header() { # name mode rdevmajor rdevminor
	local name=$1 namesize=$((${#1} + 1))
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
		0 "$2" 0 0 1 0 0 0 0 "$3" "$4" "$namesize" 0
	printf '%s\0' "$name"
	# Header (110 bytes) plus name is padded to a multiple of 4.
	head -c $(((4 - (110 + namesize) % 4) % 4)) /dev/zero
}

# Pack tree $1 into the cpio file $2.
pack_cpio() {
	local root=$1 out=$2
	(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
		cpio --quiet -o -H newc -R 0:0 --reproducible) >"$out"
	# The kernel opens /dev/console before /init runs, so stdio only works
	# if the node is in the archive.  Creating it needs root, so append a
	# second, hand-written archive holding just that node (the kernel
	# unpacks concatenated archives in order).
	{
		newc_header dev/console $((0020600)) 5 1
		newc_header 'TRAILER!!!' 0 0 0
	} >>"$out"
}

if [ "${1-}" = --tree ]; then
	[ $# -eq 2 ] || die "usage: $0 --tree DIR"
	stage_tree "$2"
	exit 0
fi
[ $# -le 1 ] || die "usage: $0 [OUT] | --tree DIR"

key=$(input_key)
cached="$cache/guest-$key/initramfs.cpio"
if [ ! -f "$cached" ]; then
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/ember-initramfs.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	stage_tree "$tmp/root"
	pack_cpio "$tmp/root" "$tmp/initramfs.cpio"
	mkdir -p "$(dirname "$cached")"
	mv "$tmp/initramfs.cpio" "$cached.tmp.$$" && mv "$cached.tmp.$$" "$cached"
fi

if [ $# -eq 1 ]; then
	cp "$cached" "$1.tmp.$$" && mv "$1.tmp.$$" "$1"
else
	echo "$cached"
fi
