#!/usr/bin/env bash
# Build ember's default guest as an ext4 root disk image, the same file tree
# as the initramfs (guest/mkinitramfs.sh --tree): busybox, guest/init as
# /sbin/init, our static guest tools and the guest tests.
#
#   guest/mkrootfs.sh OUT    write the image to OUT
#   guest/mkrootfs.sh        build it into the cache, print its path
#
# mkfs.ext4 -d fills the filesystem from a directory: no root, no loop
# mount.  Cached under ~/.cache/ember by the hash of the inputs.  Boot it
# with `ember run --disk IMAGE,root` (no initrd): the kernel mounts
# /dev/vda and runs /sbin/init.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${EMBER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ember}
size_mib=${EMBER_ROOTFS_MIB:-64}

die() { echo "mkrootfs: $*" >&2; exit 1; }
command -v mkfs.ext4 >/dev/null || die "mkfs.ext4 missing (apt-get install e2fsprogs)"
[ $# -le 1 ] || die "usage: $0 [OUT]"

# The initramfs key already covers the tree; add this script and the size.
initramfs=$("$here/mkinitramfs.sh")
key=$( (basename "$(dirname "$initramfs")"; cat "$0"; echo "$size_mib") | sha256sum | cut -c1-16)
cached="$cache/rootfs-$key/rootfs.ext4"

if [ ! -f "$cached" ]; then
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/ember-rootfs.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	"$here/mkinitramfs.sh" --tree "$tmp/root"
	# The kernel mounts devtmpfs on /dev itself (DEVTMPFS_MOUNT) for a disk
	# root, and /dev/console must exist before that for init's stdio.
	truncate -s "${size_mib}M" "$tmp/rootfs.ext4"
	# Fixed UUID and hash seed, root-owned files, no journal (a test disk
	# that is thrown away; keeps boots and fsync-free shutdowns simple).
	# 4 KiB blocks, not mkfs's 1 KiB for small disks: mounting with DAX
	# (virtio-pmem, rootflags=dax) needs blocks of the page size.
	mkfs.ext4 -q -F -b 4096 -L ember-root -U 6d9b1f2e-0c47-4c59-9a53-6e6b2a0e0e01 \
		-E root_owner=0:0,hash_seed=6d9b1f2e-0c47-4c59-9a53-6e6b2a0e0e02 \
		-O ^has_journal -d "$tmp/root" "$tmp/rootfs.ext4" ||
		die "mkfs.ext4 failed"
	mkdir -p "$(dirname "$cached")"
	mv "$tmp/rootfs.ext4" "$cached.tmp.$$" && mv "$cached.tmp.$$" "$cached"
fi

if [ $# -eq 1 ]; then
	cp --sparse=always "$cached" "$1.tmp.$$" && mv "$1.tmp.$$" "$1"
else
	echo "$cached"
fi
