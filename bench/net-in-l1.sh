#!/bin/sh
# Runs inside L1 after snapshot-in-l1.sh: bulk throughput through virtio-net
# and vsock, ember vs QEMU microvm, same guest (1 vCPU, 256 MiB), same L1,
# same tap.  The guest (guest-tests/net-bench) runs netperf's server
# (guest/tools/netperf.c) on TCP and vsock port 5001; L1 runs its client:
# NET_MIB MiB per transfer, timed until the data reached the receiving
# application, each direction NET_RUNS times, directions interleaved so
# drift hits them alike.
#
#   tcp_to_guest, tcp_from_guest      virtio-net on a tap; both VMMs move the
#                                     frames in userspace (QEMU: vhost=off)
#   vsock_to_guest, vsock_from_guest  ember: hybrid vsock (device in ember,
#                                     host end a Unix socket); QEMU: vhost-vsock
#                                     (device in L1's kernel, host end AF_VSOCK),
#                                     only when L1 has /dev/vhost-vsock
#
# One VMM at a time on the one tap: two at once would share L1's two CPUs.
# A failed step prints a line and leaves "-" in the TSV.  A direction that
# failed is not tried again on that VMM (each failure may cost NET_TIMEOUT
# seconds), and past NET_BUDGET seconds the rest is skipped: the whole stays
# inside L1's timeout.
#
# Writes $BENCH_OUT/net.tsv.  Needs: EMBER NETPERF MKTAP VMLINUX INITRD
# BENCH_OUT; QEMU and QEMU_DATA for the QEMU rows (skipped with a note when
# absent).  Root for the tap (without it, vsock only).
set -u
RUNS=${NET_RUNS:-3}
MIB=${NET_MIB:-64}
XFER_TIMEOUT=${NET_TIMEOUT:-90}
BUDGET=${NET_BUDGET:-1200}
CID=${NET_CID:-3}
BOOT_TIMEOUT=120
MEM=256
PORT=5001
TAP=tap-bench0
MAC=06:00:ac:1e:00:02
HOST_IP=172.30.0.1
GUEST_IP=172.30.0.2
WHATS="tcp_to_guest tcp_from_guest vsock_to_guest vsock_from_guest"
d=/tmp/netbench
out=$BENCH_OUT/net.tsv
mkdir -p "$d" "$BENCH_OUT"
printf 'vmm\twhat\tbackend\trun\tmbytes\tseconds\tmbit_s\n' >"$out"
start=$(date +%s)
over_budget() { [ $(($(date +%s) - start)) -ge "$BUDGET" ]; }

PID=
stop_vm() {
	[ -n "$PID" ] || return 0
	kill -9 "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
	PID=
}
trap 'stop_vm; ip link del "$TAP" 2>/dev/null; rm -rf "$d"' EXIT
trap 'exit 1' INT TERM

# The tap L1 talks to the guest through, persistent so both VMMs attach in
# turn (mktap: busybox's ip has no tuntap; tunctl as a fallback).
have_tap=0
ip link del "$TAP" 2>/dev/null
if { "$MKTAP" "$TAP" 0 || tunctl -t "$TAP"; } >/dev/null 2>&1 &&
	ip addr add "$HOST_IP/24" dev "$TAP" && ip link set "$TAP" up; then
	have_tap=1
else
	echo "bench: net: cannot create $TAP (root?): vsock only" >&2
fi
have_vhost_vsock=0
[ -c /dev/vhost-vsock ] && have_vhost_vsock=1

# The guest's command line; ip= only with a NIC (else the kernel waits for
# one), ember.timeout= resets the guest should L1 never get to kill it.
cmdline() {
	c="console=ttyS0 reboot=k panic=-1 no_timer_check quiet ember.test=net-bench"
	[ $have_tap = 0 ] || c="$c ip=$GUEST_IP::$HOST_IP:255.255.255.0::eth0:off"
	echo "$c ember.timeout=$((BUDGET + BOOT_TIMEOUT))"
}

# boot VMM command...: the VMM in the background, console to $d/VMM.log;
# 0 once the guest's netperf listens, 1 (VMM killed) when the VMM died, the
# guest test ended or BOOT_TIMEOUT passed.
boot() {
	vmm=$1 log=$d/$1.log
	shift
	if over_budget; then
		echo "bench: net: $vmm not booted: past the ${BUDGET}s budget" >&2
		return 1
	fi
	"$@" </dev/null >"$log" 2>&1 &
	PID=$!
	t=0
	while [ $t -lt $BOOT_TIMEOUT ]; do
		grep -q NETPERF_READY "$log" && return 0
		grep -q EMBER_GUEST_RESULT "$log" && break
		kill -0 "$PID" 2>/dev/null || break
		sleep 1
		t=$((t + 1))
	done
	echo "bench: net: $vmm: the guest's server did not come up; console's end:" >&2
	tail -n 8 "$log" >&2
	stop_vm
	return 1
}

# What moves the bytes, for the table: both userspace for the NIC, not for vsock.
backend() { # VMM WHAT
	case "$1/$2" in
	ember/tcp_*) echo "virtio-net, userspace, tap" ;;
	*/tcp_*) echo "virtio-net, userspace (vhost=off), tap" ;;
	ember/vsock_*) echo "virtio-vsock, userspace, hybrid (Unix socket)" ;;
	*/vsock_*) echo "vhost-vsock, L1 kernel (AF_VSOCK)" ;;
	esac
}

row() { # VMM WHAT RUN SECONDS MBIT_S
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$(backend "$1" "$2")" "$3" "$MIB" \
		"$4" "$5" >>"$out"
}

# VMM/WHAT pairs not to try again ("failed"): each is said once, then its
# rows just get "-".
failed=
skip() { # VMM WHAT WHY
	echo "bench: net: $1 $2: $3" >&2
	failed="$failed $1/$2"
}
skipped() { case " $failed " in *" $1/$2 "*) return 0 ;; esac; return 1; }

# xfer VMM WHAT RUN: one netperf transfer against the running guest, one
# TSV row ("-" when it failed or was skipped).
xfer() {
	vmm=$1 what=$2 run=$3
	if skipped "$vmm" "$what"; then
		:
	elif over_budget; then
		skip "$vmm" "$what" "skipped from run $run on: past the ${BUDGET}s budget"
	elif [ -z "$PID" ] || ! kill -0 "$PID" 2>/dev/null; then
		skip "$vmm" "$what" "skipped from run $run on: the VM is not running"
	fi
	if skipped "$vmm" "$what"; then
		row "$vmm" "$what" "$run" - -
		return
	fi
	case "$vmm/$what" in
	*/tcp_*) set -- tcp "$GUEST_IP" ;;
	ember/vsock_*) set -- hvsock "$d/v.sock" ;;
	*) set -- vsock "$CID" ;;
	esac
	case "$what" in *_to_guest) set -- "$@" "$PORT" to ;; *) set -- "$@" "$PORT" from ;; esac
	if ! line=$("$NETPERF" "$@" "$MIB" "$XFER_TIMEOUT" 2>"$d/netperf.err"); then
		skip "$vmm" "$what" "run $run failed ($(tail -n 1 "$d/netperf.err")); not tried again"
		row "$vmm" "$what" "$run" - -
		return
	fi
	# bytes=N us=N mbit_s=X
	# shellcheck disable=SC2046 # split on purpose
	set -- $(echo "$line" | awk -F'[ =]' '{ print $2, $4, $6 }')
	secs=$(awk -v u="$2" 'BEGIN { printf "%.3f", u / 1e6 }')
	row "$vmm" "$what" "$run" "$secs" "$3"
	echo "bench: $vmm $what run $run: $3 Mbit/s ($MIB MiB in $secs s)"
}

# measure VMM: every direction RUNS times on the VM boot left running.
measure() {
	r=1
	while [ $r -le "$RUNS" ]; do
		for w in $WHATS; do
			xfer "$1" "$w" $r
		done
		r=$((r + 1))
	done
	stop_vm
}

# unavailable VMM tcp|vsock WHY: both directions cannot be measured here.
unavailable() {
	skip "$1" "$2_to_guest" "$3"
	skip "$1" "$2_from_guest" "$3"
}

# ember: both devices on one VM.
[ $have_tap = 1 ] || unavailable ember tcp "n/a: no tap"
set -- "$EMBER" run --kernel "$VMLINUX" --initrd "$INITRD" --mem $MEM --vcpus 1 \
	--vsock "cid=$CID,uds=$d/v.sock"
[ $have_tap = 0 ] || set -- "$@" --net "tap=$TAP,mac=$MAC"
rm -f "$d/v.sock"
boot ember "$@" --cmdline "$(cmdline)"
measure ember

# QEMU microvm: the boot bench's machine (boot-in-l1.sh) plus the devices;
# with acpi=off QEMU puts their virtio_mmio.device= on the command line.
if [ -n "${QEMU:-}" ] && [ -x "$QEMU" ]; then
	[ $have_tap = 1 ] || unavailable qemu-microvm tcp "n/a: no tap"
	set -- "$QEMU" -L "$QEMU_DATA" -accel kvm -M microvm,acpi=off,x-option-roms=off,rtc=off \
		-cpu host -nodefaults -no-reboot -display none -serial stdio -m $MEM -smp 1 \
		-kernel "$VMLINUX" -initrd "$INITRD"
	[ $have_tap = 0 ] || set -- "$@" -netdev "tap,id=n0,ifname=$TAP,script=no,downscript=no,vhost=off" \
		-device "virtio-net-device,netdev=n0,mac=$MAC"
	if [ $have_vhost_vsock = 1 ]; then
		set -- "$@" -device "vhost-vsock-device,guest-cid=$CID"
	else
		unavailable qemu-microvm vsock "n/a: no /dev/vhost-vsock (module vhost_vsock)"
	fi
	# Nothing to measure without either device: no boot, only the rows.
	if [ $have_tap = 1 ] || [ $have_vhost_vsock = 1 ]; then
		boot qemu-microvm "$@" -append "$(cmdline)"
	fi
	measure qemu-microvm
else
	echo "bench: net: QEMU not in L1, ember rows only" >&2
fi
exit 0
