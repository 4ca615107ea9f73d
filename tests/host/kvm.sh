#!/bin/sh
# ember on this machine's own /dev/kvm, whatever it is: none, kvm-pvm, or a
# real one.  `make test` runs it on the host before the integration tests
# (which go to L1 unless this host's KVM runs our guest).
#
#   tests/host/kvm.sh [-l] [NAME...]
#
# Needs EMBER, VMLINUX, INITRD and CURL in the environment (make host-tests
# sets them).  Tests that do not apply to this host skip themselves.
set -u

here=$(cd "$(dirname "$0")" && pwd)
it=$here/../integration
LOGDIR=${LOGDIR:-/tmp/ember-host-tests}
VM_TIMEOUT=${VM_TIMEOUT:-60}
BASE_CMDLINE="console=ttyS0 reboot=k panic=-1 no_timer_check ember.timeout=30"
. "$it/lib.sh"
. "$it/kvm_host.sh"

is_kvm_pvm() { [ -e /sys/module/kvm_pvm ] && kvm_dev_opens; }

# On a real kvm-pvm host: the refusal is up front (exit 2, no guest run);
# with --allow-kvm-pvm the stock guest does run and dies as it does there,
# and the second line of defence explains the emulation failure: exit 3 and
# a message naming kvm-pvm, seconds after start rather than a silent hang.
t_kvm_pvm_host() {
	is_kvm_pvm || { skip "this host's /dev/kvm is not kvm-pvm"; return 1; }
	_t0=$(date +%s)
	vm run --kernel "$VMLINUX" --initrd "$INITRD" --cmdline "$BASE_CMDLINE"
	_secs=$(seconds_since "$_t0")
	rc_is 2 && has 'ember: error: /dev/kvm is kvm-pvm' &&
		has 'runs only PVM-enabled guest kernels' && lacks 'Linux version' &&
		{ [ "$_secs" -le 3 ] || fail "refusal took ${_secs} s"; } || return 1
	_t0=$(date +%s)
	vm run --allow-kvm-pvm --kernel "$VMLINUX" --initrd "$INITRD" --cmdline "$BASE_CMDLINE"
	_secs=$(seconds_since "$_t0")
	echo "+ the guest died after ${_secs} s" >>"$LOG"
	rc_is 3 && has 'warning: /dev/kvm is kvm-pvm: --allow-kvm-pvm given' &&
		has 'KVM internal error, suberror 1' &&
		has "KVM could not emulate an instruction early in boot: this host's KVM is kvm-pvm" &&
		lacks 'EMBER_GUEST_INIT' &&
		{ [ "$_secs" -le 30 ] || fail "the guest took ${_secs} s to die"; }
}

# The API on the real thing: InstanceStart is a 400 naming kvm-pvm.
t_kvm_pvm_host_api() {
	is_kvm_pvm || { skip "this host's /dev/kvm is not kvm-pvm"; return 1; }
	api_start || return 1
	api_ok 204 PUT /boot-source \
		"{\"kernel_image_path\": \"$VMLINUX\", \"initrd_path\": \"$INITRD\"}" &&
		api_ok 400 PUT /actions '{"action_type": "InstanceStart"}' &&
		has_body 'Failed to start the microVM: /dev/kvm is kvm-pvm' &&
		api_ok 200 GET / && has_body '"state":"Not started"'
	_r=$?
	kill -9 "$API_PID" 2>/dev/null
	wait "$API_PID" 2>/dev/null
	return $_r
}

if [ "${1-}" != -l ]; then
	for v in EMBER VMLINUX INITRD CURL; do
		eval "[ -n \"\${$v-}\" ]" || { echo "kvm.sh: $v is not set" >&2; exit 2; }
	done
fi
it_main "$0" "$it/kvm_host.sh" -- "$@"
