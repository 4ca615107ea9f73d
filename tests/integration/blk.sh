# shellcheck shell=sh
# virtio-blk tests, sourced by run.sh (its helpers and variables apply).

# A private, writable copy of the root disk for one test.
rootfs_copy() {
	cp "$ROOTFS" "$LOGDIR/rootfs.ext4" || { fail "cannot copy $ROOTFS"; return 1; }
}

# mkdisk PATH MIB: a zeroed raw image.
mkdisk() { rm -f "$1" && dd if=/dev/zero of="$1" bs=1048576 count="$2" 2>/dev/null; }

# Boots from the ext4 disk, no initramfs: root=/dev/vda from --disk ...,root.
t_rootfs_boot() {
	rootfs_copy || return 1
	vm run --kernel "$VMLINUX" --disk "$LOGDIR/rootfs.ext4,root" \
		--cmdline "$BASE_CMDLINE ember.test=rootfs-check" </dev/null
	reached_init && has 'root=/dev/vda rw' && has EMBER_ROOTFS_OK &&
		has 'EMBER_GUEST_RESULT rc=0'
}

# bytes N...: raw bytes, given in decimal.
bytes() { for _b in "$@"; do printf "\\$(printf %03o "$_b")"; done; }
le32() { bytes $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }

# mbr_disk OUT FS SIGNATURE: FS as partition 1 (type 0x83, LBA-only) of an
# MBR disk starting at 1 MiB; the kernel names it PARTUUID=<signature>-01.
mbr_disk() {
	rm -f "$1" && dd if=/dev/zero of="$1" bs=1048576 count=1 2>/dev/null &&
		cat "$2" >>"$1" || return 1
	_n=$(($(stat -c %s "$2") / 512))
	{ le32 "$3"; bytes 0 0 0 254 255 255 131 254 255 255; le32 2048; le32 "$_n"; } |
		dd of="$1" bs=1 seek=440 conv=notrunc 2>/dev/null &&
		bytes 85 170 | dd of="$1" bs=1 seek=510 conv=notrunc 2>/dev/null
}

# Firecracker's partuuid: the root ext4 is partition 1 of an MBR disk, at
# 1 MiB; PUT /drives with is_root_device and partuuid boots the guest with
# root=PARTUUID=e3be4d01-01 rw, and / is that partition (vda1), writable.
t_rootfs_partuuid() {
	rootfs_copy && mbr_disk "$LOGDIR/parted.img" "$LOGDIR/rootfs.ext4" $((0xe3be4d01)) &&
		rm -f "$LOGDIR/rootfs.ext4" || { fail "cannot build the partitioned disk"; return 1; }
	api_start || return 1
	api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"boot_args\":\"$BASE_CMDLINE ember.test=partuuid-check\"}" &&
		api_ok 204 PUT /drives/rootfs "{\"drive_id\":\"rootfs\",\"path_on_host\":\"$LOGDIR/parted.img\",\"is_root_device\":true,\"is_read_only\":false,\"partuuid\":\"e3be4d01-01\"}" &&
		api_ok 200 GET /vm/config && has_body '"partuuid":"e3be4d01-01"' &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' ||
		{ kill -9 "$API_PID"; return 1; }
	api_wait_exit 150
	rc_is 0 && has 'root=PARTUUID=e3be4d01-01 rw' && lacks 'root=/dev/vda' &&
		has EMBER_PARTUUID_OK && has 'EMBER_GUEST_RESULT rc=0'
}

# The guest writes a pattern with dd conv=fsync (WRITEs then a FLUSH), says
# so, and ember is SIGKILLed at once: the host file must hold the pattern.
disk_write() { # ENGINE
	_img=$LOGDIR/scratch.img
	mkdisk "$_img" 8 || { fail "mkdisk"; return 1; }
	echo "+ ember run ... --disk $_img,id=scratch,engine=$1 (killed after the flush)" >>"$LOG"
	"$EMBER" run --kernel "$VMLINUX" --initrd "$INITRD" --disk "$_img,id=scratch,engine=$1" \
		--cmdline "$BASE_CMDLINE ember.test=disk-write" </dev/null >>"$LOG" 2>&1 &
	_pid=$!
	wait_for 'EMBER_DISK_WRITTEN\|EMBER_GUEST_RESULT' 150
	kill -9 "$_pid" 2>/dev/null
	wait "$_pid"
	has EMBER_DISK_WRITTEN || return 1
	yes ember-disk-pattern | head -c 4194304 >"$LOGDIR/expect.bin"
	head -c 4194304 "$_img" >"$LOGDIR/got.bin"
	cmp -s "$LOGDIR/expect.bin" "$LOGDIR/got.bin" || { fail "host file lacks the pattern"; return 1; }
	# Nothing beyond the pattern was written.
	[ "$(tail -c +4194305 "$_img" | tr -d '\000' | wc -c)" = 0 ] ||
		fail "bytes after the pattern are not zero"
}
t_disk_write_sync() { disk_write sync; }
t_disk_write_io_uring() { disk_write io_uring; }

# Read-only drive: the guest kernel sees ro, and a forced write gets IOERR;
# the host file does not change.
t_disk_read_only() {
	_img=$LOGDIR/scratch.img
	yes ro-disk-content | head -c 4194304 >"$_img"
	_before=$(md5sum <"$_img")
	boot "$VMLINUX" --disk "$_img,id=scratch,ro" -- ember.test=disk-ro &&
		reached_init && has EMBER_RO_OK && has 'EMBER_GUEST_RESULT rc=0' &&
		{ [ "$(md5sum <"$_img")" = "$_before" ] || fail "read-only image changed"; }
}

# Four disks at once, each with its own serial and size.
t_four_disks() {
	_args=
	for _i in 0 1 2 3; do
		mkdisk "$LOGDIR/d$_i.img" $((_i + 1)) || { fail mkdisk; return 1; }
		_args="$_args --disk $LOGDIR/d$_i.img,id=d$_i"
	done
	# shellcheck disable=SC2086
	boot "$VMLINUX" $_args -- ember.test=disks-list && reached_init &&
		has 'EMBER_DISKS n=4 ' && has ':d0:2048' && has ':d1:4096' &&
		has ':d2:6144' && has ':d3:8192'
}

# A guest that writes garbage to a disk's transport registers and submits a
# looped descriptor chain: ember keeps running, the device answers the next
# good request, the root disk keeps working.
t_guest_pokes_transport() {
	rootfs_copy && mkdisk "$LOGDIR/scratch.img" 1 || return 1
	vm run --kernel "$VMLINUX" --disk "$LOGDIR/rootfs.ext4,root" \
		--disk "$LOGDIR/scratch.img,id=scratch" \
		--cmdline "$BASE_CMDLINE ember.test=poke" </dev/null
	reached_init && has 'virtio-poke: looped chain: used idx 1' &&
		has "GET_ID: used idx 2, len 21, status 0, serial 'scratch'" &&
		has EMBER_POKE_SURVIVED && has 'EMBER_GUEST_RESULT rc=0'
}

# A drive's rate limiter: 1 MiB/s (and a 1 MiB bucket) makes a 4 MiB read
# take about 3 s in the guest; PATCH /drives with an empty limiter while
# the VM runs lifts it, and the next 4 MiB go at once.
disk_ms() { sed -n "s/.*EMBER_DISK_RATE $1 ms=\([0-9]*\).*/\1/p" "$LOG" | tail -n1; }
t_disk_rate_limited() {
	mkdisk "$LOGDIR/rate.img" 16 && api_start || return 1
	api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE ember.test=disk-rate\"}" &&
		api_ok 204 PUT /drives/scratch "{\"drive_id\":\"scratch\",\"path_on_host\":\"$LOGDIR/rate.img\",\"is_root_device\":false,\"rate_limiter\":{\"bandwidth\":{\"size\":1048576,\"refill_time\":1000}}}" &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' &&
		wait_for 'EMBER_DISK_RATE first' 150 &&
		api_ok 204 PATCH /drives/scratch '{"drive_id":"scratch","rate_limiter":{}}' &&
		api_ok 200 GET /vm/config && has_body '"rate_limiter":{"bandwidth":null,"ops":null}' ||
		{ kill -9 "$API_PID"; return 1; }
	api_wait_exit 150
	rc_is 0 && has 'EMBER_GUEST_RESULT rc=0' || return 1
	_first=$(disk_ms first) _second=$(disk_ms second)
	NOTE="4 MiB read: ${_first:-?} ms at 1 MiB/s, ${_second:-?} ms after PATCH lifted it"
	echo "+ $NOTE" >>"$LOG.api"
	[ -n "$_first" ] && [ -n "$_second" ] || { fail "no EMBER_DISK_RATE lines"; return 1; }
	[ "$_first" -ge 2000 ] || fail "limited to 1 MiB/s, 4 MiB took only $_first ms"
	[ "$_second" -lt $((_first / 2)) ] || fail "after the PATCH: $_second ms, before $_first ms"
}

t_bad_disks() {
	printf 'odd' >"$LOGDIR/odd.img"
	mkdisk "$LOGDIR/ok.img" 1
	# One over the per-VM device budget (16 virtio devices).
	_many=
	for _i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17; do
		_many="$_many --disk $LOGDIR/ok.img,id=n$_i"
	done
	refused 'no-such-disk' run --kernel "$VMLINUX" --disk "$LOGDIR/no-such-disk" &&
		refused 'multiple of 512' run --kernel "$VMLINUX" --disk "$LOGDIR/odd.img" &&
		refused 'frob' run --kernel "$VMLINUX" --disk "$LOGDIR/ok.img,frob" &&
		refused 'engine' run --kernel "$VMLINUX" --disk "$LOGDIR/ok.img,engine=aio" &&
		refused 'only one disk can be root' run --kernel "$VMLINUX" \
			--disk "$LOGDIR/ok.img,root" --disk "$LOGDIR/ok.img,root,id=b" &&
		# shellcheck disable=SC2086
		refused 'more than 16' run --kernel "$VMLINUX" $_many
}
