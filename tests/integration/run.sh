#!/bin/sh
# ember integration tests: real guests on real KVM.
#
#   tests/integration/run.sh [-l] [NAME...]
#
# Runs inside the nested harness's L1 (busybox sh, as root) or directly on a
# host with a usable /dev/kvm; tests/nested/run.sh sets it up either way.
# -l lists the tests (every t_NAME function here and in the other *.sh files
# next to it but lib.sh).  NAMEs select tests (default: all).
#
# Needs in the environment:
#   EMBER        the ember binary
#   VMLINUX      guest kernel, ELF with PVH note     (guest/build-kernel.sh)
#   BZIMAGE      the same kernel as bzImage
#   INITRD       guest initramfs                      (guest/mkinitramfs.sh)
#   TRIPLEFAULT  tests/integration/triplefault.S, linked (make build/triplefault.elf)
#   ROOTFS       guest ext4 root disk image               (guest/mkrootfs.sh)
#   CURL         curl, for the API tests (--unix-socket)
#   JAILER       ember-jailer; CGROUP_ROOT where cgroup2 is mounted
#   VSOCK_HOST   tests/integration/vsock-host.c, built (make build/vsock-host)
#   MKTAP        tests/integration/mktap.c, built (make build/mktap)
#   UFFD_HANDLER snapshot/examples/uffd_handler.c, built (make build/ember-uffd-handler)
#   LOGDIR       where each test's output goes (default /tmp/ember-it)
#
# Output and exit status: tests/integration/lib.sh (its runner).  Every VM
# runs under a timeout, so the script always ends.
set -u

# Under nested KVM the guest's TSC calibration check misfires: no_timer_check.
# panic=-1: a guest panic resets at once (the markers then are missing and the
# test fails) instead of sitting out panic's delay.  ember.timeout bounds the
# guest side too, below the host-side timeout.
BASE_CMDLINE="console=ttyS0 reboot=k panic=-1 no_timer_check ember.timeout=120"

# IT_DIR: where these files are when another script sources this one
# (tests/nested/xhost.sh, with IT_LIB_ONLY=1: the helpers, no run).
here=${IT_DIR:-$(dirname "$0")}
. "$here/lib.sh"
# Every other *.sh next to this script is a file of tests sharing its
# helpers (jailer.sh, snapshot.sh, ...): a new one is picked up by being there.
IT_FILES=
for _f in "$here"/*.sh; do
	case ${_f##*/} in run.sh | lib.sh) continue ;; esac
	# shellcheck disable=SC1090 # found at run time
	. "$_f"
	IT_FILES="$IT_FILES $_f"
done

# --- tests -----------------------------------------------------------------

# PVH entry of the ELF vmlinux, default 1 vCPU / 128 MiB.
t_vmlinux_init() {
	boot "$VMLINUX" && reached_init && cpus_are 1 &&
		memkb_between 100000 131072
}

# bzImage: 64-bit boot protocol, zero page, initrd through boot_params.
t_bzimage_init() {
	boot "$BZIMAGE" && reached_init && cpus_are 1 &&
		memkb_between 100000 131072
}

# The guest brings up every vCPU from the MP table.
t_vcpus_2() { boot "$VMLINUX" --vcpus 2 && reached_init && cpus_are 2; }
t_vcpus_4() { boot "$BZIMAGE" --vcpus 4 && reached_init && cpus_are 4; }

# MemTotal is RAM minus what the kernel reserves for itself: 512 MiB is
# 524288 kB, of which a small guest keeps well over 480000.
t_mem_512() {
	boot "$VMLINUX" --mem 512 && reached_init && memkb_between 480000 524288
}

# `reboot -f` in the middle of a guest test: i8042 reset, ember exits 0,
# and nothing after the reboot ran.
t_guest_reboot_exits_0() {
	boot "$VMLINUX" -- ember.test=reboot && rc_is 0 &&
		has EMBER_GUEST_REBOOTING && lacks EMBER_GUEST_REBOOT_FAILED &&
		lacks EMBER_GUEST_RESULT && has "$GUEST_RESET"
}

# `poweroff -f`: PSCI SYSTEM_OFF on aarch64, ember exits 0 and nothing after
# it ran.  x86 guests power off through ACPI's sleep states, which ember does
# not offer (their poweroff halts).
t_guest_poweroff_exits_0() {
	[ "$GUEST_ARCH" = aarch64 ] || { skip "x86 guests have no power-off (no ACPI S5)"; return 1; }
	boot "$VMLINUX" -- ember.test=poweroff && rc_is 0 &&
		has EMBER_GUEST_POWERING_OFF && lacks EMBER_GUEST_POWEROFF_FAILED &&
		lacks EMBER_GUEST_RESULT && has 'ember: guest requested shutdown'
}

# The guest runs the script named on its command line and reports status.
t_guest_test_status() {
	boot "$VMLINUX" -- ember.test=pass && rc_is 0 &&
		has EMBER_GUEST_PASS_RAN && has 'EMBER_GUEST_RESULT rc=0' &&
		boot "$VMLINUX" -- ember.test=exit3 && rc_is 0 &&
		has 'EMBER_GUEST_RESULT rc=3'
}


# Serial input: stdin reaches the guest's shell through the 8250's RX path.
# Typed only once the shell runs (the driver flushes the UART FIFO when it
# opens the port, so earlier bytes are legitimately lost).  The shell's echo
# of the line shows "$((6*7))"; only running it prints 42.
t_console_stdin() {
	_fifo=$LOGDIR/stdin.fifo
	rm -f "$_fifo" && mkfifo "$_fifo" || { fail "mkfifo"; return 1; }
	echo "+ ember run (shell, stdin from $_fifo)" >>"$LOG"
	timeout -s KILL "$VM_TIMEOUT" "$EMBER" run --kernel "$VMLINUX" --initrd "$INITRD" \
		--cmdline "$BASE_CMDLINE ember.shell=1" <"$_fifo" >>"$LOG" 2>&1 &
	_pid=$!
	# Read-write: opening never blocks, whether or not ember opened it yet.
	exec 4<>"$_fifo"
	if wait_for 'ember-init: shell on the console' 150; then
		sleep 2
		printf 'echo EMBER_STDIN_$((6*7))\n' >&4
		wait_for EMBER_STDIN_42 60
		printf 'exit\n' >&4
	fi
	exec 4>&-
	wait "$_pid"
	RC=$?
	echo "+ exit status $RC" >>"$LOG"
	rc_is 0 && has EMBER_STDIN_42 && lacks EMBER_GUEST_TIMEOUT
}

# --console file:PATH puts the guest's console in the file, not on stdout.
t_console_file() {
	_f=$LOGDIR/console-file.out
	rm -f "$_f"
	boot "$VMLINUX" --console "file:$_f" && rc_is 0 && lacks 'EMBER_GUEST_INIT ' &&
		{ grep -q 'EMBER_GUEST_INIT cpus=1 ' "$_f" || fail "$_f lacks EMBER_GUEST_INIT"; }
}

# A guest that triple-faults: clear message, exit 3 (guest crash), no hang.
t_triple_fault() {
	[ -f "$TRIPLEFAULT" ] || { fail "no $TRIPLEFAULT"; return 1; }
	vm run --kernel "$TRIPLEFAULT" --console none </dev/null
	rc_is 3 && has 'triple fault'
}

t_garbage_kernel() {
	head -c 2000000 /dev/urandom >"$LOGDIR/garbage.img"
	printf '\177ELF' >"$LOGDIR/elfmagic.img"
	refused 'neither an ELF vmlinux nor a bzImage' run --kernel "$LOGDIR/garbage.img" &&
		refused 'elf' run --kernel "$LOGDIR/elfmagic.img" &&
		refused 'not a regular file' run --kernel /dev/null
}

# Cut at a quarter: headers intact, payload missing.  Must be refused before
# any of it reaches the guest.
t_truncated_kernels() {
	for _k in "$VMLINUX" "$BZIMAGE"; do
		_sz=$(wc -c <"$_k")
		head -c $((_sz / 4)) "$_k" >"$LOGDIR/trunc.img"
		refused 'truncated' run --kernel "$LOGDIR/trunc.img" || return 1
	done
	refused 'initrd' run --kernel "$VMLINUX" --initrd "$LOGDIR/no-such-initrd"
}

t_missing_kernel() {
	refused 'no-such-kernel' run --kernel "$LOGDIR/no-such-kernel" &&
		refused 'kernel' run
}

t_bad_arguments() {
	refused 'vcpus' run --kernel "$VMLINUX" --vcpus 0 &&
		refused 'vcpus' run --kernel "$VMLINUX" --vcpus 33 &&
		refused 'vcpus' run --kernel "$VMLINUX" --vcpus 2x &&
		refused 'mem' run --kernel "$VMLINUX" --mem 0 &&
		refused 'mem' run --kernel "$VMLINUX" --mem 100000000 &&
		refused 'more than this host has' run --kernel "$VMLINUX" --mem 1000000 &&
		refused 'console' run --kernel "$VMLINUX" --console tty &&
		refused 'unknown\|usage' run --kernel "$VMLINUX" --frobnicate &&
		refused 'unknown\|usage' fly
}

# --entropy: the guest's /dev/hwrng is virtio-rng (the device model's
# smallest device) and its reads are random; without it there is none.
t_entropy() {
	boot "$VMLINUX" --entropy -- ember.test=hwrng && rc_is 0 &&
		has 'EMBER_HWRNG current=virtio_rng' && has 'EMBER_HWRNG_OK' &&
		has 'EMBER_GUEST_RESULT rc=0' || return 1
	cat "$LOG" >"$LOG.with" && : >"$LOG" # the second boot's output alone
	boot "$VMLINUX" -- ember.test=hwrng && rc_is 0 && lacks 'current=virtio_rng' &&
		lacks 'EMBER_HWRNG_OK' &&
		refused 'takes no value' run --kernel "$VMLINUX" --entropy=yes &&
		refused 'only one entropy device' run --kernel "$VMLINUX" --entropy --entropy
}

# PUT /entropy with a rate limiter: 4 KiB a second (and a 4 KiB bucket to
# start with) makes 16 KiB take about 3 s in the guest; unlimited, it takes
# a fraction of that.  GET /vm/config shows the limiter as it was put.
hwrng_ms() { sed -n 's/.*EMBER_HWRNG_RATE bytes=16384 ms=\([0-9]*\).*/\1/p' "$LOG" | tail -n1; }
t_entropy_rate_limited() {
	_bucket='{"size":4096,"one_time_burst":0,"refill_time":1000}'
	api_start || return 1
	api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE ember.test=hwrng-rate\"}" &&
		api_ok 400 PUT /entropy '{"rate_limiter":{"bandwidth":{"size":1,"refill_time":0}}}' &&
		api_ok 204 PUT /entropy "{\"rate_limiter\":{\"bandwidth\":$_bucket}}" &&
		api_ok 200 GET /vm/config && has_body "\"entropy\":{\"rate_limiter\":{\"bandwidth\":$_bucket,\"ops\":null}}" &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' &&
		api_ok 400 PUT /entropy '{}' ||
		{ kill -9 "$API_PID"; return 1; }
	api_wait_exit 150
	rc_is 0 && has 'EMBER_HWRNG current=virtio_rng' && has 'EMBER_GUEST_RESULT rc=0' || return 1
	_limited=$(hwrng_ms)
	cat "$LOG" >"$LOG.limited" && : >"$LOG"
	boot "$VMLINUX" --entropy -- ember.test=hwrng-rate
	_free=$(hwrng_ms)
	NOTE="16 KiB from /dev/hwrng: ${_limited:-?} ms at 4 KiB/s, ${_free:-?} ms unlimited"
	echo "+ $NOTE" >>"$LOG.api"
	[ -n "$_limited" ] && [ -n "$_free" ] || { fail "no EMBER_HWRNG_RATE line"; return 1; }
	[ "$_limited" -ge 2000 ] || fail "limited to 4 KiB/s, 16 KiB took only $_limited ms"
	[ "$_free" -lt "$_limited" ] || fail "unlimited took $_free ms, limited $_limited ms"
}

# --- virtio-blk ---------------------------------------------------------------

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


# Firecracker's getting-started sequence with plain curl: logger, metrics,
# boot-source, rootfs drive, machine-config, InstanceStart; GET / reports
# Running; Pause stops the guest (no new ticks), Resume lets it go on; the
# guest's reboot ends ember with 0 and removes the socket.  Metrics lines
# carry emit_id's instance id and the properties, where Firecracker puts them.
t_api_getting_started() {
	rootfs_copy && api_start --id it-getting-started || return 1
	api_ok 200 GET / && has_body '"state":"Not started"' &&
		api_ok 204 PUT /logger "{\"log_path\":\"$LOGDIR/api-fc.log\",\"level\":\"Info\"}" &&
		api_ok 204 PUT /metrics "{\"metrics_path\":\"$LOGDIR/api-metrics.json\",\"emit_id\":true,\"properties\":{\"team\":\"ember\"}}" &&
		api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"boot_args\":\"$BASE_CMDLINE ember.test=api-ticks\"}" &&
		api_ok 204 PUT /drives/rootfs "{\"drive_id\":\"rootfs\",\"path_on_host\":\"$LOGDIR/rootfs.ext4\",\"is_root_device\":true,\"is_read_only\":false}" &&
		api_ok 204 PUT /machine-config '{"vcpu_count":2,"mem_size_mib":256}' &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' &&
		api_ok 200 GET / && has_body '"state":"Running"' && has_body '"id":"it-getting-started"' ||
		{ kill -9 "$API_PID"; return 1; }
	wait_for 'EMBER_TICK 3' 150 || { kill -9 "$API_PID"; fail "guest never ticked"; return 1; }
	api_ok 204 PATCH /vm '{"state":"Paused"}' && api_ok 200 GET / &&
		has_body '"state":"Paused"' || { kill -9 "$API_PID"; return 1; }
	_t0=$(ticks)
	sleep 4
	_t1=$(ticks)
	api_ok 204 PATCH /vm '{"state":"Resumed"}' || { kill -9 "$API_PID"; return 1; }
	wait_for "EMBER_TICK $((_t1 + 2))" 60
	api_ok 204 PUT /actions '{"action_type":"FlushMetrics"}'
	api_wait_exit 150
	[ "$_t0" = "$_t1" ] || { fail "guest ticked while paused ($_t0 -> $_t1)"; return 1; }
	rc_is 0 && has 'EMBER_TICK 59' && has 'EMBER_GUEST_RESULT rc=0' &&
		{ grep -q 'guest init after' "$LOGDIR/api-fc.log" || fail "log_path has no log"; } &&
		{ grep -q '"api_server":{"requests":[1-9][0-9]*,"errors":[0-9]*,"latency_us_avg":[1-9]' "$LOGDIR/api-metrics.json" ||
			fail "no metrics line"; } &&
		{ grep -q '^{"utc_timestamp_ms":[0-9]*,"id":"it-getting-started","properties":{"team":"ember"},"api_server"' "$LOGDIR/api-metrics.json" ||
			fail "metrics lines lack emit_id's id or the properties"; } &&
		{ grep -q '"block":{"rootfs":{"read_count":[1-9]' "$LOGDIR/api-metrics.json" &&
			grep -Eq '"vcpu":\{"exit_io":([1-9]|[0-9]+,"exit_mmio":[1-9])' "$LOGDIR/api-metrics.json" ||
			fail "metrics lack block reads or vCPU exits"; }
}

# 1000 malformed requests through one curl against a running VM: every one
# gets a 4xx, GET / still answers Running, and the guest keeps ticking.
t_api_malformed_requests() {
	api_start || return 1
	api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE ember.test=api-ticks\"}" &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' &&
		wait_for 'EMBER_TICK 2' 150 || { kill -9 "$API_PID"; fail "guest did not start"; return 1; }
	_cfg=$LOGDIR/bad-requests.curl
	: >"$_cfg"
	_i=0
	while [ $_i -lt 1000 ]; do
		case $((_i % 8)) in
		0) printf 'url = "http://localhost/machine-config"\nrequest = "PUT"\ndata = "{bad json"\n' ;;
		1) printf 'url = "http://localhost/machine-config"\nrequest = "PUT"\ndata = "{\\"vcpu_count\\":0,\\"mem_size_mib\\":128}"\n' ;;
		2) printf 'url = "http://localhost/no/such/path"\n' ;;
		3) printf 'url = "http://localhost/"\nrequest = "DELETE"\n' ;;
		4) printf 'url = "http://localhost/drives/a"\nrequest = "PUT"\ndata = "{\\"drive_id\\":\\"b\\"}"\n' ;;
		5) printf 'url = "http://localhost/boot-source"\nrequest = "PUT"\ndata = "{\\"kernel_image_path\\":42}"\n' ;;
		6) printf 'url = "http://localhost/actions"\nrequest = "PUT"\ndata = "{\\"action_type\\":\\"Explode\\"}"\n' ;;
		7) printf 'url = "http://localhost/machine-config"\nrequest = "PUT"\ndata = "{\\"vcpu_count\\":1,\\"mem_size_mib\\":128,\\"vcpu_count\\":2}"\n' ;;
		esac >>"$_cfg"
		# Each "next" starts afresh, so every request names the socket.
		printf 'unix-socket = "%s"\nheader = "Content-Type: application/json"\nwrite-out = "%%{http_code}\\n"\noutput = "/dev/null"\n' "$SOCK" >>"$_cfg"
		_i=$((_i + 1))
		[ $_i -lt 1000 ] && echo next >>"$_cfg"
	done
	"$CURL" -s -K "$_cfg" >"$LOGDIR/bad-codes.txt" 2>>"$LOG"
	_n4=$(grep -c '^4[0-9][0-9]$' "$LOGDIR/bad-codes.txt")
	echo "+ 1000 malformed requests: $_n4 answered 4xx" >>"$LOG.api"
	_t0=$(ticks)
	api_ok 200 GET / && has_body '"state":"Running"'
	_ok=$?
	api_wait_exit 150
	[ $_ok = 0 ] || return 1
	[ "$_n4" = 1000 ] || { fail "$_n4 of 1000 malformed requests got a 4xx"; return 1; }
	rc_is 0 && has 'EMBER_TICK 59' &&
		{ [ "$(ticks)" -gt "$_t0" ] || fail "guest stopped ticking"; }
}

# Pre-boot vs runtime: a start that fails (no boot source; a drive whose
# file went away, named in the message) leaves ember configurable; after
# InstanceStart, config PUTs and a second start are refused with 400 and a
# fault_message; the VM keeps running.
t_api_runtime_rules() {
	mkdisk "$LOGDIR/gone.img" 1 && api_start || return 1
	api_ok 400 PUT /actions '{"action_type":"InstanceStart"}' &&
		has_body 'fault_message' &&
		api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE ember.test=api-ticks\"}" &&
		api_ok 204 PUT /drives/gone "{\"drive_id\":\"gone\",\"path_on_host\":\"$LOGDIR/gone.img\",\"is_root_device\":false,\"is_read_only\":false}" &&
		rm "$LOGDIR/gone.img" &&
		api_ok 400 PUT /actions '{"action_type":"InstanceStart"}' &&
		has_body "drive gone: $LOGDIR/gone.img: No such file" &&
		mkdisk "$LOGDIR/gone.img" 1 &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' &&
		api_ok 400 PUT /actions '{"action_type":"InstanceStart"}' &&
		api_ok 400 PUT /machine-config '{"vcpu_count":2,"mem_size_mib":256}' &&
		api_ok 400 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\"}" &&
		has_body 'fault_message' &&
		api_ok 200 GET / && has_body '"state":"Running"' ||
		{ kill -9 "$API_PID"; return 1; }
	api_wait_exit 150
	rc_is 0 && has 'EMBER_TICK 59'
}

# --config-file takes GET /vm/config's JSON and starts at once; --no-api
# means no socket at all; --log-path sends ember's log to a file.
t_api_config_file() {
	cat >"$LOGDIR/vm.json" <<EOF
{
  "boot-source": {"kernel_image_path": "$VMLINUX", "initrd_path": "$INITRD",
                  "boot_args": "$BASE_CMDLINE ember.test=pass"},
  "machine-config": {"vcpu_count": 2, "mem_size_mib": 192},
  "drives": []
}
EOF
	rm -f "$LOGDIR/cf.log"
	vm --config-file "$LOGDIR/vm.json" --no-api --log-path "$LOGDIR/cf.log" --level Info </dev/null
	rc_is 0 && has 'EMBER_GUEST_INIT cpus=2 ' && has EMBER_GUEST_PASS_RAN &&
		memkb_between 150000 196608 &&
		{ grep -q 'guest init after' "$LOGDIR/cf.log" || fail "--log-path file has no log"; } &&
		lacks 'ember: guest init after' &&
		printf '{"boot-source": {"kernel_image_path": 7}}' >"$LOGDIR/bad.json" &&
		refused 'kernel_image_path' --config-file "$LOGDIR/bad.json" --no-api &&
		refused 'no-api needs --config-file' --no-api
}

# A socket path that is a regular file is refused, not clobbered.
t_api_bad_socket() {
	echo precious >"$LOGDIR/not-a-socket"
	refused 'not-a-socket' --api-sock "$LOGDIR/not-a-socket" &&
		{ grep -q precious "$LOGDIR/not-a-socket" || fail "file clobbered"; }
}

# SendCtrlAltDel: the keys reach the guest's keyboard driver (atkbd with
# i8042.dumbkbd, as Firecracker's guests boot), the guest kernel reboots,
# ember exits 0 well before the guest's own script would have ended.
t_api_ctrl_alt_del() {
	api_start || return 1
	api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE i8042.dumbkbd ember.test=api-ticks\"}" &&
		api_ok 400 PUT /actions '{"action_type":"SendCtrlAltDel"}' &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' ||
		{ kill -9 "$API_PID"; return 1; }
	wait_for 'EMBER_TICK 3' 150 &&
		api_ok 204 PUT /actions '{"action_type":"SendCtrlAltDel"}' ||
		{ kill -9 "$API_PID"; return 1; }
	api_wait_exit 60
	rc_is 0 && has 'ember: guest reset via i8042' && lacks 'EMBER_TICK 59'
}

# PATCH /drives/{id} after start: the guest reads the new file (and its
# new size) from the same /dev/vdX; a bad path is refused and changes
# nothing.
# A FIFO as the kernel (PUT /boot-source) or as a running drive's new file
# (PATCH) is refused at once with "not a regular file"; the guest goes on.
t_api_fifo_files() {
	rm -f "$LOGDIR/k.fifo" && mkfifo "$LOGDIR/k.fifo" && mkdisk "$LOGDIR/f.img" 1 || return 1
	api_start || return 1
	api_ok 400 PUT /boot-source "{\"kernel_image_path\":\"$LOGDIR/k.fifo\"}" &&
		has_body 'not a regular file' &&
		api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE ember.test=api-ticks\"}" &&
		api_ok 204 PUT /drives/scratch "{\"drive_id\":\"scratch\",\"path_on_host\":\"$LOGDIR/f.img\",\"is_root_device\":false,\"is_read_only\":true}" &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' &&
		wait_for 'EMBER_TICK 2' 150 &&
		api_ok 400 PATCH /drives/scratch "{\"drive_id\":\"scratch\",\"path_on_host\":\"$LOGDIR/k.fifo\"}" &&
		has_body 'not a regular file' &&
		wait_for 'EMBER_TICK 4' 60 && api_ok 200 GET / && has_body '"state":"Running"'
	_r=$?
	kill -9 "$API_PID" 2>/dev/null
	wait "$API_PID" 2>/dev/null
	rm -f "$LOGDIR/k.fifo"
	return $_r
}

# Firecracker opens what a PUT names when it is PUT: a missing kernel, a
# FIFO as initrd or drive, a missing image, a tap that does not exist, a
# vsock uds_path that is a regular file are
# each a 400 naming the file (sent with the PUT, not at InstanceStart), and
# none of them is kept: GET /vm/config shows nothing configured, and the good
# configuration PUT after them boots.  A deprecated vsock_id gets
# Firecracker's Deprecation header.
t_api_put_checks() {
	rm -f "$LOGDIR/pc.fifo" && mkfifo "$LOGDIR/pc.fifo" && mkdisk "$LOGDIR/pc.img" 1 || return 1
	api_start || return 1
	api_ok 400 PUT /boot-source "{\"kernel_image_path\":\"$LOGDIR/no-vmlinux\"}" &&
		has_body 'The kernel file cannot be opened' && has_body 'no-vmlinux: No such file' &&
		api_ok 400 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$LOGDIR/pc.fifo\"}" &&
		has_body 'The initrd file cannot be opened' && has_body 'pc.fifo: not a regular file' &&
		api_ok 400 PUT /drives/scratch "{\"drive_id\":\"scratch\",\"path_on_host\":\"$LOGDIR/no-disk.img\",\"is_root_device\":false}" &&
		has_body 'Unable to create the virtio block device' && has_body 'no-disk.img' &&
		api_ok 400 PUT /drives/scratch "{\"drive_id\":\"scratch\",\"path_on_host\":\"$LOGDIR/pc.fifo\",\"is_root_device\":false,\"is_read_only\":true}" &&
		has_body 'not a regular file' &&
		api_ok 400 PUT /network-interfaces/eth0 '{"iface_id":"eth0","host_dev_name":"tap-nosuch9"}' &&
		has_body 'Cannot open/create the tap device' && has_body 'tap-nosuch9' &&
		api_ok 400 PUT /vsock "{\"guest_cid\":3,\"uds_path\":\"$LOGDIR/pc.img\"}" &&
		has_body 'pc.img exists and is not a socket' &&
		api_ok 200 GET /vm/config && has_body '"vsock":null' && has_body '"kernel_image_path":""' &&
		has_body '"drives":[]' && has_body '"network-interfaces":[]' ||
		{ kill -9 "$API_PID"; return 1; }
	_hdr=$("$CURL" -s -i --unix-socket "$SOCK" -X PUT -d "{\"guest_cid\":3,\"uds_path\":\"$LOGDIR/pc.vsock\",\"vsock_id\":\"v\"}" http://localhost/vsock)
	echo "+ PUT /vsock with vsock_id -> $_hdr" >>"$LOG.api"
	case "$_hdr" in *"Deprecation: true"*) ;; *) fail "no Deprecation header for vsock_id" ;; esac &&
		api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE ember.test=api-ticks\"}" &&
		api_ok 204 PUT /drives/scratch "{\"drive_id\":\"scratch\",\"path_on_host\":\"$LOGDIR/pc.img\",\"is_root_device\":false,\"is_read_only\":true}" &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' &&
		wait_for 'EMBER_TICK 2' 150
	_r=$?
	kill -9 "$API_PID" 2>/dev/null
	wait "$API_PID" 2>/dev/null
	rm -f "$LOGDIR/pc.fifo"
	return $_r
}

# The go-sdk's default logging: the log and metrics are FIFOs nobody reads
# yet when they are PUT; its readers come later and get the lines.
# FlushMetrics is for a running VM (400 before), and without metrics it has
# nothing to do (204).
t_api_fifo_logger_metrics() {
	rm -f "$LOGDIR/log.fifo" "$LOGDIR/met.fifo" && mkfifo "$LOGDIR/log.fifo" "$LOGDIR/met.fifo" &&
		: >"$LOGDIR/log.out" && : >"$LOGDIR/met.out" || return 1
	api_start || return 1
	api_ok 204 PUT /logger "{\"log_path\":\"$LOGDIR/log.fifo\",\"level\":\"Info\"}" &&
		api_ok 204 PUT /metrics "{\"metrics_path\":\"$LOGDIR/met.fifo\"}" &&
		api_ok 400 PUT /actions '{"action_type":"FlushMetrics"}' && has_body 'before starting' ||
		{ kill -9 "$API_PID"; return 1; }
	cat "$LOGDIR/log.fifo" >"$LOGDIR/log.out" &
	_lc=$!
	cat "$LOGDIR/met.fifo" >"$LOGDIR/met.out" &
	_mc=$!
	api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE ember.test=api-ticks\"}" &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' &&
		wait_for 'EMBER_TICK 2' 150 &&
		api_ok 204 PUT /actions '{"action_type":"FlushMetrics"}'
	_r=$?
	sleep 1
	kill -9 "$API_PID" 2>/dev/null
	wait "$API_PID" 2>/dev/null
	kill "$_lc" "$_mc" 2>/dev/null
	wait "$_lc" "$_mc" 2>/dev/null
	cat "$LOGDIR/log.out" "$LOGDIR/met.out" >>"$LOG.api"
	rm -f "$LOGDIR/log.fifo" "$LOGDIR/met.fifo"
	[ $_r = 0 ] || return 1
	grep -q 'guest init after' "$LOGDIR/log.out" || { fail "no log line through the FIFO"; return 1; }
	grep -q '"utc_timestamp_ms"' "$LOGDIR/met.out" || { fail "no metrics line through the FIFO"; return 1; }
	: >"$LOG"
	api_start || return 1
	api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE ember.test=api-ticks\"}" &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' &&
		api_ok 204 PUT /actions '{"action_type":"FlushMetrics"}'
	_r=$?
	kill -9 "$API_PID" 2>/dev/null
	wait "$API_PID" 2>/dev/null
	return $_r
}

t_api_patch_drive() {
	{ printf 'first-disk.'; head -c 1048565 /dev/zero; } >"$LOGDIR/first.img"
	{ printf 'second-disk'; head -c 2097141 /dev/zero; } >"$LOGDIR/second.img"
	api_start || return 1
	api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE ember.test=disk-watch\"}" &&
		api_ok 204 PUT /drives/scratch "{\"drive_id\":\"scratch\",\"path_on_host\":\"$LOGDIR/first.img\",\"is_root_device\":false,\"is_read_only\":false}" &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' ||
		{ kill -9 "$API_PID"; return 1; }
	wait_for 'EMBER_DISK_SAYS first-disk. size 2048' 150 &&
		api_ok 400 PATCH /drives/scratch "{\"drive_id\":\"scratch\",\"path_on_host\":\"$LOGDIR/no-such.img\"}" &&
		api_ok 400 PATCH /drives/nosuch "{\"drive_id\":\"nosuch\",\"path_on_host\":\"$LOGDIR/second.img\"}" &&
		api_ok 204 PATCH /drives/scratch "{\"drive_id\":\"scratch\",\"path_on_host\":\"$LOGDIR/second.img\"}" ||
		{ kill -9 "$API_PID"; return 1; }
	api_wait_exit 120
	rc_is 0 && has 'EMBER_DISK_SAYS second-disk size 4096' && has 'EMBER_GUEST_RESULT rc=0'
}

# --- virtio-net and vsock -----------------------------------------------------

# virtio-net on a tap L1 set up: the guest (configured by ip= on its
# command line, MAC from --net) pings the host end, then 16 MiB go to the
# guest and back over TCP (the guest echoes), compared by checksum.
t_net_ping_tcp() {
	[ "$(id -u)" = 0 ] || { fail "needs root (tap)"; return 1; }
	ip link del tap-it0 2>/dev/null
	tunctl -t tap-it0 >/dev/null && ip addr add 172.30.0.1/24 dev tap-it0 &&
		ip link set tap-it0 up || { fail "cannot create tap-it0"; return 1; }
	echo "+ ember run ... --net tap=tap-it0,mac=06:00:ac:1e:00:02" >>"$LOG"
	"$EMBER" run --kernel "$VMLINUX" --initrd "$INITRD" --mem 256 \
		--net tap=tap-it0,mac=06:00:ac:1e:00:02 \
		--cmdline "$BASE_CMDLINE ip=172.30.0.2::172.30.0.1:255.255.255.0::eth0:off ember.test=net-ping" \
		</dev/null >>"$LOG" 2>&1 &
	_pid=$!
	_ok=0
	if wait_for 'EMBER_NET_READY\|EMBER_GUEST_RESULT' 150 && has EMBER_PING_OK; then
		head -c 16777216 /dev/urandom >"$LOGDIR/net-out.bin"
		# The guest's nc -e cat echoes; -w closes our side once idle.
		nc -w 5 172.30.0.2 5002 <"$LOGDIR/net-out.bin" >"$LOGDIR/net-back.bin" 2>>"$LOG"
		[ "$(md5sum <"$LOGDIR/net-out.bin")" = "$(md5sum <"$LOGDIR/net-back.bin")" ] && _ok=1
		echo "+ tcp echo: sent $(wc -c <"$LOGDIR/net-out.bin"), back $(wc -c <"$LOGDIR/net-back.bin")" >>"$LOG.api"
	fi
	kill -9 "$_pid" 2>/dev/null
	wait "$_pid"
	ip link del tap-it0 2>/dev/null
	has EMBER_PING_OK && { [ $_ok = 1 ] || fail "16 MiB TCP echo through the tap did not come back intact"; }
}

# echo_ms FILE: sends FILE through the guest's TCP echo; its round trip in ms,
# or nothing if it did not come back intact.
echo_ms() {
	_t0=$(cut -d' ' -f1 /proc/uptime)
	nc -w 5 172.30.0.2 5002 <"$1" >"$1.back" 2>>"$LOG"
	_t1=$(cut -d' ' -f1 /proc/uptime)
	[ "$(md5sum <"$1")" = "$(md5sum <"$1.back")" ] &&
		echo "$_t0 $_t1" | awk '{ printf "%d", ($2 - $1) * 1000 }'
}

# A NIC's rx and tx rate limiters: 256 KiB/s each way (256 KiB buckets)
# (and an mtu of 1400, which the guest's eth0 takes)
# make a 1 MiB TCP echo take about 3 s; a PATCH lifting both on the running
# VM makes the next one quick.
t_net_rate_limited() {
	[ "$(id -u)" = 0 ] || { fail "needs root (tap)"; return 1; }
	_lim='{"bandwidth":{"size":262144,"refill_time":1000}}'
	ip link del tap-it0 2>/dev/null
	tunctl -t tap-it0 >/dev/null && ip addr add 172.30.0.1/24 dev tap-it0 &&
		ip link set tap-it0 up || { fail "cannot create tap-it0"; return 1; }
	head -c 1048576 /dev/urandom >"$LOGDIR/net-1m.bin"
	api_start || return 1
	_ms1= _ms2=
	api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE ip=172.30.0.2::172.30.0.1:255.255.255.0::eth0:off ember.test=net-echo\"}" &&
		api_ok 204 PUT /machine-config '{"vcpu_count":1,"mem_size_mib":256}' &&
		api_ok 204 PUT /network-interfaces/eth0 "{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap-it0\",\"guest_mac\":\"06:00:ac:1e:00:02\",\"mtu\":1400,\"rx_rate_limiter\":$_lim,\"tx_rate_limiter\":$_lim}" &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' &&
		wait_for 'EMBER_NET_READY\|EMBER_GUEST_RESULT' 150 && has EMBER_PING_OK &&
		_ms1=$(echo_ms "$LOGDIR/net-1m.bin") &&
		api_ok 204 PATCH /network-interfaces/eth0 '{"iface_id":"eth0","rx_rate_limiter":{},"tx_rate_limiter":{}}' &&
		_ms2=$(echo_ms "$LOGDIR/net-1m.bin")
	_r=$?
	kill -9 "$API_PID" 2>/dev/null
	wait "$API_PID"
	ip link del tap-it0 2>/dev/null
	[ $_r = 0 ] || { [ -n "$WHY" ] || fail "1 MiB TCP echo did not come back intact"; return 1; }
	has 'EMBER_MTU 1400' || return 1 # the NIC's mtu, offered with VIRTIO_NET_F_MTU
	NOTE="1 MiB TCP echo: $_ms1 ms at 256 KiB/s each way, $_ms2 ms after PATCH lifted it"
	echo "+ $NOTE" >>"$LOG.api"
	[ "$_ms1" -ge 2000 ] || fail "limited to 256 KiB/s, 1 MiB went round in $_ms1 ms"
	[ "$_ms2" -lt $((_ms1 / 2)) ] || fail "after the PATCH: $_ms2 ms, before $_ms1 ms"
}

# A guest running guest-tests/$1 with a vsock device on $_uds, the host's echo
# listener on ${_uds}_6000 ($_lpid); ember is $_pid.  True once the guest is
# ready for the host's CONNECTs.
vsock_vm_start() {
	_uds=$LOGDIR/v.sock
	rm -f "$_uds" "${_uds}_6000"
	"$VSOCK_HOST" listen "${_uds}_6000" >>"$LOG.api" 2>&1 &
	_lpid=$!
	echo "+ ember run ... --vsock cid=3,uds=$_uds" >>"$LOG"
	"$EMBER" run --kernel "$VMLINUX" --initrd "$INITRD" --vsock "cid=3,uds=$_uds" \
		--cmdline "$BASE_CMDLINE ember.test=$1" </dev/null >>"$LOG" 2>&1 &
	_pid=$!
	wait_for 'EMBER_VSOCK_GUEST_READY\|EMBER_GUEST_RESULT' 150
}

# Both stopped; false (with a failure) if ember had died before.
vsock_vm_stop() {
	kill -0 "$_pid" 2>/dev/null || { fail "ember died"; kill "$_lpid"; return 1; }
	kill -9 "$_pid" "$_lpid" 2>/dev/null
	wait "$_pid" "$_lpid" || true
}

# Firecracker's hybrid vsock: host -> guest with CONNECT <port> on uds_path
# (1 MiB echo, 100 sequential and 10 parallel connections), guest -> host
# through uds_path_<port> (1 MiB echo), garbage CONNECT lines closed while
# everything else keeps working.
t_vsock_hybrid() {
	if vsock_vm_start vsock-serve; then
		"$VSOCK_HOST" connect "$_uds" 5000 1048576 >>"$LOG.api" 2>&1
		"$VSOCK_HOST" garbage "$_uds" >>"$LOG.api" 2>&1
		"$VSOCK_HOST" many "$_uds" 5000 65536 100 1 >>"$LOG.api" 2>&1
		"$VSOCK_HOST" many "$_uds" 5000 262144 10 10 >>"$LOG.api" 2>&1
		"$VSOCK_HOST" connect "$_uds" 5000 4096 >>"$LOG.api" 2>&1
	fi
	vsock_vm_stop || return 1
	# The host side's verdicts are in $LOG.api, the guest's in $LOG.
	has 'VSOCK_OK n=1048576' && has_api 'HOST_OK n=1048576' && has_api 'HOST_OK garbage' &&
		lacks_api HOST_ERR && has_api 'HOST_OK many ok=100 failed=0' &&
		has_api 'HOST_OK many ok=10 failed=0' && has_api 'HOST_OK n=4096'
}

# A guest that drives the vsock device itself (guest-tests/vsock-poke): it
# opens a stream to the host's echo listener, then sends looped and
# out-of-range chains, short and lying headers, unknown ops and types from
# another port, an RST for its stream with a forged source CID.  ember stays
# up, each bad header the device can read is answered with RST, the stream
# is not touched and echoes, and once Linux's driver is back, 1 MiB goes
# each way intact.
t_vsock_malformed() {
	if vsock_vm_start vsock-poke; then
		"$VSOCK_HOST" connect "$_uds" 5000 1048576 >>"$LOG.api" 2>&1
	fi
	vsock_vm_stop || return 1
	has 'virtio-poke: tx looped chain: used idx 2' &&
		has 'virtio-poke: tx header outside guest memory: used idx 3' &&
		lacks "NOT RETURNED" && has "virtio-poke: 4 RSTs to the garbage, 0 to our stream, echo 'rogue hello', device status 0xf" &&
		has 'VSOCK_OK n=1048576' && has_api 'HOST_OK n=1048576' && lacks_api HOST_ERR
}

# --- runner ----------------------------------------------------------------

[ -z "${IT_LIB_ONLY-}" ] || return 0
if [ "${1-}" != -l ]; then
	for v in EMBER VMLINUX BZIMAGE INITRD TRIPLEFAULT ROOTFS CURL JAILER CGROUP_ROOT VSOCK_HOST \
		MKTAP UFFD_HANDLER; do
		eval "[ -n \"\${$v-}\" ]" || { echo "run.sh: $v is not set" >&2; exit 2; }
	done
fi
# shellcheck disable=SC2086 # a word per file
it_main "$0" $IT_FILES -- "$@"
