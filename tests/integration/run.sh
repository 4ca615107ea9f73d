#!/bin/sh
# ember integration tests: real guests on real KVM.
#
#   tests/integration/run.sh [-l] [NAME...]
#
# Runs inside the nested harness's L1 (busybox sh, as root) or directly on a
# host with a usable /dev/kvm; tests/nested/run.sh sets it up either way.
# -l lists the tests.  NAMEs select tests (default: all).
#
# Needs in the environment:
#   EMBER        the ember binary
#   VMLINUX      guest kernel, ELF with PVH note     (guest/build-kernel.sh)
#   BZIMAGE      the same kernel as bzImage
#   INITRD       guest initramfs                      (guest/mkinitramfs.sh)
#   TRIPLEFAULT  tests/integration/triplefault.S, linked (make build/triplefault.elf)
#   ROOTFS       guest ext4 root disk image               (guest/mkrootfs.sh)
#   LOGDIR       where each test's output goes (default /tmp/ember-it)
#
# Output, one line per test:  ember-test: PASS|FAIL NAME [why]
# then, for each failure, its full output between
#   ember-test-log-begin NAME / ember-test-log-end NAME
# and last:  ember-test: N passed, N failed
# Exit status 0 iff nothing failed.  Every VM runs under a timeout, so the
# script always ends.
set -u

LOGDIR=${LOGDIR:-/tmp/ember-it}
VM_TIMEOUT=${VM_TIMEOUT:-180}
# Under nested KVM the guest's TSC calibration check misfires: no_timer_check.
# panic=-1: a guest panic resets at once (the markers then are missing and the
# test fails) instead of sitting out panic's delay.  ember.timeout bounds the
# guest side too, below the host-side timeout.
BASE_CMDLINE="console=ttyS0 reboot=k panic=-1 no_timer_check ember.timeout=120"

TESTS="vmlinux_init bzimage_init vcpus_2 vcpus_4 mem_512 guest_reboot_exits_0
guest_test_status console_stdin console_file triple_fault garbage_kernel
truncated_kernels missing_kernel bad_arguments
rootfs_boot disk_write_sync disk_write_io_uring disk_read_only four_disks
guest_pokes_transport bad_disks"

# --- helpers ---------------------------------------------------------------

LOG=
RC=
WHY=

fail() { WHY=$*; return 1; }

# vm ARGS...: runs ember with a timeout, stdin from /dev/null unless the
# caller redirects; appends stdout+stderr to $LOG and sets $RC.
vm() {
	echo "+ ember $*" >>"$LOG"
	timeout -s KILL "$VM_TIMEOUT" "$EMBER" "$@" >>"$LOG" 2>&1
	RC=$?
	echo "+ exit status $RC" >>"$LOG"
}

# boot KERNEL [ember options...] [-- extra cmdline]
boot() {
	_k=$1
	shift
	_opts= _extra=
	while [ $# -gt 0 ]; do
		if [ "$1" = -- ]; then
			shift
			_extra=$*
			break
		fi
		_opts="$_opts $1"
		shift
	done
	# shellcheck disable=SC2086 # _opts is a word list on purpose
	vm run --kernel "$_k" --initrd "$INITRD" $_opts \
		--cmdline "$BASE_CMDLINE $_extra" </dev/null
}

rc_is() { [ "$RC" = "$1" ] || fail "exit status $RC, expected $1"; }
has() { grep -q -- "$1" "$LOG" || fail "output lacks '$1'"; }
lacks() { ! grep -q -- "$1" "$LOG" || fail "output has '$1'"; }

# A refused invocation: a configuration error is exit 1 with a message on
# stderr naming the problem; a crash would be >= 128 or a signal.
refused() { # PATTERN ember-args...
	_pat=$1
	shift
	vm "$@" </dev/null
	[ "$RC" = 1 ] || { fail "'ember $*' exit status $RC, expected 1"; return 1; }
	tail -n 3 "$LOG" | grep -qi -- "$_pat" ||
		fail "'ember $*' did not say '$_pat'"
}

# The guest's view, from its init: EMBER_GUEST_INIT cpus=N memkb=M
guest_cpus() { sed -n 's/.*EMBER_GUEST_INIT cpus=\([0-9]*\) .*/\1/p' "$LOG" | tail -n1; }
guest_memkb() { sed -n 's/.*EMBER_GUEST_INIT .*memkb=\([0-9]*\).*/\1/p' "$LOG" | tail -n1; }

reached_init() {
	rc_is 0 && has 'EMBER_GUEST_INIT ' &&
		has 'ember: guest init after [0-9]* ms' &&
		has 'ember: guest reset via i8042'
}

memkb_between() {
	_m=$(guest_memkb)
	[ -n "$_m" ] && [ "$_m" -ge "$1" ] && [ "$_m" -le "$2" ] ||
		fail "guest MemTotal '${_m}' kB not in [$1, $2]"
}

cpus_are() {
	_c=$(guest_cpus)
	[ "$_c" = "$1" ] || fail "guest saw '${_c}' CPUs, expected $1"
}

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
		lacks EMBER_GUEST_RESULT && has 'ember: guest reset via i8042'
}

# The guest runs the script named on its command line and reports status.
t_guest_test_status() {
	boot "$VMLINUX" -- ember.test=pass && rc_is 0 &&
		has EMBER_GUEST_PASS_RAN && has 'EMBER_GUEST_RESULT rc=0' &&
		boot "$VMLINUX" -- ember.test=exit3 && rc_is 0 &&
		has 'EMBER_GUEST_RESULT rc=3'
}

# wait_for PATTERN SECONDS: polls $LOG until PATTERN shows up.
wait_for() {
	_n=0
	while ! grep -q -- "$1" "$LOG"; do
		[ "$_n" -lt "$2" ] || return 1
		sleep 1
		_n=$((_n + 1))
	done
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

t_bad_disks() {
	printf 'odd' >"$LOGDIR/odd.img"
	mkdisk "$LOGDIR/ok.img" 1
	_nine=
	for _i in 1 2 3 4 5 6 7 8 9; do _nine="$_nine --disk $LOGDIR/ok.img,id=n$_i"; done
	refused 'no-such-disk' run --kernel "$VMLINUX" --disk "$LOGDIR/no-such-disk" &&
		refused 'multiple of 512' run --kernel "$VMLINUX" --disk "$LOGDIR/odd.img" &&
		refused 'frob' run --kernel "$VMLINUX" --disk "$LOGDIR/ok.img,frob" &&
		refused 'engine' run --kernel "$VMLINUX" --disk "$LOGDIR/ok.img,engine=aio" &&
		refused 'only one disk can be root' run --kernel "$VMLINUX" \
			--disk "$LOGDIR/ok.img,root" --disk "$LOGDIR/ok.img,root,id=b" &&
		# shellcheck disable=SC2086
		refused 'more than 8' run --kernel "$VMLINUX" $_nine
}

# --- runner ----------------------------------------------------------------

if [ "${1-}" = -l ]; then
	for t in $TESTS; do echo "$t"; done
	exit 0
fi
for v in EMBER VMLINUX BZIMAGE INITRD TRIPLEFAULT ROOTFS; do
	eval "[ -n \"\${$v-}\" ]" || { echo "run.sh: $v is not set" >&2; exit 2; }
done
selected=${*:-$TESTS}
for t in $selected; do
	case " $(echo $TESTS) " in *" $t "*) ;; *)
		echo "run.sh: no test '$t' (-l lists them)" >&2
		exit 2
		;;
	esac
done

mkdir -p "$LOGDIR"
npass=0 nfail=0 failed=
for t in $selected; do
	LOG=$LOGDIR/$t.log
	: >"$LOG"
	WHY=
	start=$(date +%s)
	if "t_$t"; then
		npass=$((npass + 1))
		echo "ember-test: PASS $t ($(($(date +%s) - start)) s)"
	else
		nfail=$((nfail + 1))
		failed="$failed $t"
		echo "ember-test: FAIL $t: ${WHY:-failed}"
	fi
done
for t in $failed; do
	echo "ember-test-log-begin $t"
	cat "$LOGDIR/$t.log"
	echo "ember-test-log-end $t"
done
echo "ember-test: $npass passed, $nfail failed"
[ "$nfail" = 0 ]
