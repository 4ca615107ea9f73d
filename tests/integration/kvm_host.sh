# shellcheck shell=sh
# What ember says about the host's KVM, sourced by run.sh (in L1 or on a host
# with KVM) and by tests/host/kvm.sh (on any host).  Both need root: they
# build the host ember must refuse in a private mount namespace (unshare -m).

# seconds_since T0: whole seconds from T0 (date +%s) to now.
seconds_since() { echo $(($(date +%s) - $1)); }

# kvm_dev_opens: /dev/kvm is a device node that opens read-write.  -c
# first: "<>" would create a plain file where there is no node.
kvm_dev_opens() { [ -c /dev/kvm ] && { exec 5<>/dev/kvm; } 2>/dev/null && exec 5>&-; }

# in_ns SETUP ember-args...: runs ember in a new mount namespace after the
# shell commands SETUP, with vm()'s timeout and logging; sets RC.
in_ns() {
	_setup=$1
	shift
	echo "+ [ns: $_setup] ember $*" >>"$LOG"
	# shellcheck disable=SC2016 # expanded by the inner shell
	timeout -s KILL "$VM_TIMEOUT" unshare -m sh -c "$_setup"' && exec "$@"' sh "$EMBER" "$@" \
		</dev/null >>"$LOG" 2>&1
	RC=$?
	echo "+ exit status $RC" >>"$LOG"
}

# ns_start_fails SETUP NEEDLE [NEEDLE2]: ember's API in a new mount namespace
# after SETUP; InstanceStart is a 400 whose fault_message has NEEDLE (and
# NEEDLE2), and the API goes on serving.
ns_start_fails() {
	SOCK=$LOGDIR/api.sock
	rm -f "$SOCK"
	unshare -m sh -c "$1"' && exec "$@"' sh "$EMBER" --api-sock "$SOCK" \
		</dev/null >>"$LOG" 2>&1 &
	API_PID=$!
	wait_sock "$SOCK" || return 1
	api_ok 204 PUT /boot-source "{\"kernel_image_path\": \"$VMLINUX\"}" &&
		api_ok 400 PUT /actions '{"action_type": "InstanceStart"}' &&
		has_body "Failed to start the microVM: $2" && has_body "${3-$2}" &&
		lacks_api "log says why" &&
		api_ok 200 GET / && has_body '"state":"Not started"'
	_r=$?
	kill -9 "$API_PID" 2>/dev/null
	wait "$API_PID" 2>/dev/null
	return $_r
}

# The kvm-pvm host, made on a host with KVM: /sys/module/kvm_pvm exists.
FAKE_PVM='mount -t tmpfs none /sys/module && mkdir /sys/module/kvm_pvm'

# A host whose KVM is kvm-pvm is refused before the guest runs: exit 2 in
# well under the seconds a stock guest takes to die there, with a message
# naming kvm-pvm and what it needs.  Over the API, InstanceStart is a 400
# whose fault_message says the same, and ember keeps serving.
t_kvm_pvm_refused() {
	[ "$(id -u)" = 0 ] || { skip "needs root (unshare -m)"; return 1; }
	kvm_dev_opens || { skip "/dev/kvm does not open here"; return 1; }
	_t0=$(date +%s)
	in_ns "$FAKE_PVM" run --kernel "$VMLINUX" --initrd "$INITRD" \
		--cmdline "$BASE_CMDLINE"
	_secs=$(seconds_since "$_t0")
	rc_is 2 && has 'ember: error: /dev/kvm is kvm-pvm (/sys/module/kvm_pvm)' &&
		has 'runs only PVM-enabled guest kernels' && lacks 'EMBER_GUEST_INIT' &&
		{ [ "$_secs" -le 3 ] || fail "refusal took ${_secs} s"; } || return 1
	ns_start_fails "$FAKE_PVM" '/dev/kvm is kvm-pvm' 'PVM-enabled guest kernels'
}

# No /dev/kvm at all: `ember run` exits 2 naming it, and InstanceStart's
# fault_message names the cause instead of pointing at the log.
t_api_no_kvm() {
	[ "$(id -u)" = 0 ] || { skip "needs root (unshare -m)"; return 1; }
	_nokvm='mount -t tmpfs none /dev && ln -s /proc/self/fd /dev/fd'
	in_ns "$_nokvm" run --kernel "$VMLINUX" --initrd "$INITRD"
	rc_is 2 && has 'ember: error: /dev/kvm: No such file or directory' || return 1
	ns_start_fails "$_nokvm" '/dev/kvm: No such file or directory'
}

# The harness's choice (tests/nested/decide.sh) on a KVM that runs our
# guest, as L1's does: its canary boots the guest to init within the
# default 20 s and the direct path is taken.  (On kvm-pvm, and without
# /dev/kvm, tests/nested/test-decide.sh and the tests above cover it.)
t_canary_on_real_kvm() {
	[ ! -e /sys/module/kvm_pvm ] || { skip "kvm-pvm: the harness skips the canary there"; return 1; }
	kvm_dev_opens || { skip "no /dev/kvm here"; return 1; }
	_decide=
	for _d in "$here" "$here/../nested"; do
		[ -f "$_d/decide.sh" ] && _decide=$_d/decide.sh && break
	done
	[ -n "$_decide" ] || { fail "decide.sh not found"; return 1; }
	(
		unset EMBER_FORCE_NESTED EMBER_FORCE_DIRECT KVM_DEV SYSFS CANARY_TIMEOUT
		CANARY_LOG=$LOG.canary
		. "$_decide"
		decide_kvm
		echo "+ decide_kvm: mode=$KVM_MODE why=$KVM_WHY"
	) >>"$LOG" 2>&1
	has 'mode=direct why=/dev/kvm ran the canary guest to init in [0-9]* ms' || return 1
	NOTE=$(sed -n 's/.*\(canary guest to init in [0-9]* ms\).*/\1/p' "$LOG" | tail -n1)
}
