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
