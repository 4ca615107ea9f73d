# shellcheck shell=bash
# Direct or nested: which KVM the integration tests, `make run` and `make
# bench` use.  Sourced by tests/nested/run.sh; tests/nested/test-decide.sh
# drives it with fakes.
#
# A /dev/kvm that opens is not yet one that runs our guest: kvm-pvm (a
# pagetable-based KVM for hosts without hardware virtualisation) answers
# every ioctl, then kills a stock kernel early in boot.  So the direct path
# is taken only once a canary guest (the real kernel and initramfs) has
# reached init on it within a bounded time; a host whose KVM is kvm-pvm is
# known not to, and skips the canary.
#
# Inputs (the test overrides them): EMBER, VMLINUX, INITRD for the canary;
# KVM_DEV (/dev/kvm), SYSFS (/sys), CANARY_TIMEOUT (20 s), CANARY_LOG; and
# the user's EMBER_FORCE_NESTED=1 / EMBER_FORCE_DIRECT=1.
#
# decide_kvm sets KVM_MODE (direct|nested) and KVM_WHY (one line for the
# user); it returns 1 only when both forcing variables are set.

# Milliseconds since boot: busybox's date has no %N (this runs in L1 too:
# the integration test canary_on_real_kvm; keep it POSIX sh plus local).
uptime_ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }

# canary: 0 iff ember boots the guest to init and the guest ends cleanly.
canary() {
	local log=${CANARY_LOG:-/tmp/ember-canary.log} rc=0
	timeout -s KILL "${CANARY_TIMEOUT:-20}" "$EMBER" run --kernel "$VMLINUX" \
		--initrd "$INITRD" --console stdio \
		--cmdline "console=ttyS0 reboot=k panic=-1 no_timer_check" \
		</dev/null >"$log" 2>&1 || rc=$?
	CANARY_RC=$rc
	[ "$rc" = 0 ] && grep -q 'EMBER_GUEST_INIT ' "$log"
}

decide_kvm() {
	local dev=${KVM_DEV:-/dev/kvm} sys=${SYSFS:-/sys} t0 ms last
	if [ -n "${EMBER_FORCE_NESTED:-}" ] && [ -n "${EMBER_FORCE_DIRECT:-}" ]; then
		KVM_MODE= KVM_WHY="EMBER_FORCE_NESTED and EMBER_FORCE_DIRECT are both set"
		return 1
	fi
	if [ -n "${EMBER_FORCE_NESTED:-}" ]; then
		KVM_MODE=nested KVM_WHY="EMBER_FORCE_NESTED is set: using the nested harness"
		return 0
	fi
	if [ -n "${EMBER_FORCE_DIRECT:-}" ]; then
		KVM_MODE=direct KVM_WHY="EMBER_FORCE_DIRECT is set: running directly on $dev, no L1"
		return 0
	fi
	if ! [ -c "$dev" ] || ! { exec 3<>"$dev"; } 2>/dev/null; then
		KVM_MODE=nested KVM_WHY="no usable $dev: using the nested harness"
		return 0
	fi
	exec 3>&-
	if [ -e "$sys/module/kvm_pvm" ]; then
		KVM_MODE=nested
		KVM_WHY="$dev is kvm-pvm and cannot run our guest kernel: using the nested harness"
		return 0
	fi
	t0=$(uptime_ms)
	if canary; then
		ms=$(($(uptime_ms) - t0))
		KVM_MODE=direct
		KVM_WHY="$dev ran the canary guest to init in $ms ms: running directly, no L1"
	else
		last=$(grep -a 'error' "${CANARY_LOG:-/tmp/ember-canary.log}" | tail -n1 | cut -c1-160)
		KVM_MODE=nested
		KVM_WHY="$dev opens but the canary guest did not reach init within ${CANARY_TIMEOUT:-20} s"
		KVM_WHY="$KVM_WHY (exit $CANARY_RC${last:+: $last}): using the nested harness"
	fi
	return 0
}
