#!/bin/sh
# Runs inside L1: live migration, ember against QEMU microvm, the same guest
# (1 vCPU, 256 MiB, the same kernel and initramfs) migrated from one process
# to a fresh one in the same L1 over a Unix socket, each VMM with a 300 ms
# downtime budget (QEMU's default downtime-limit, ember's max_downtime_ms).
# QEMU's bandwidth cap (max-bandwidth, 128 MiB/s by default) is lifted to
# 10 GiB/s: ember has none, and the two should move pages alike.
#
#   quiet  guest-tests/snap-counter: a count every half second, little else
#   busy   guest-tests/mig-dirty: the same count, and 32 MiB of guest RAM
#          rewritten over and over (dd in a loop), so pre-copy has pages
#          dirtied under it round after round
#
# The figures are each VMM's own:
#   ember  its "migration: sent P pages, B bytes in R rounds, T ms in all,
#          D ms downtime (W ms of it ...)" line: downtime from the source
#          pausing the vCPUs to the destination's answer that it runs the VM
#          (it answers once the VM is built there, right before its vCPUs
#          start); W (dest_ms), the part after the last byte was sent
#   QEMU   query-migrate on the source's QMP: "downtime" (from stopping the
#          VM to the end of the stream at the source: the destination's
#          loading the device state and starting is not in it, so it is the
#          more lenient of the two), "total-time", "ram.transferred"
# Each run also checks that the guest counts on at the destination.
#
# Writes $BENCH_OUT/migrate.tsv.  Needs: EMBER CURL VMLINUX INITRD BENCH_OUT;
# QEMU and QEMU_DATA for the QEMU rows (skipped with a note when absent).
set -u
RUNS=${MIG_RUNS:-3}
MEM=256
BUDGET_MS=300
QMP_PORT=44444
d=/tmp/migbench
out=$BENCH_OUT/migrate.tsv
mkdir -p "$d" "$BENCH_OUT"
printf 'vmm\tguest\trun\tdowntime_ms\ttotal_ms\tbytes\trounds\tdest_ms\n' >"$out"

cmdline() { echo "console=ttyS0 reboot=k panic=-1 no_timer_check quiet ember.test=$1"; }
guest_of() { if [ "$1" = quiet ]; then echo snap-counter; else echo mig-dirty; fi; }

PIDS=
stop_all() {
	[ -z "$PIDS" ] || kill -9 $PIDS 2>/dev/null
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	PIDS=
}
trap 'stop_all; rm -rf "$d"' EXIT
trap 'exit 1' INT TERM

# count_at LOG: the guest's last whole count in LOG.
count_at() { tr -d '\r' <"$1" | sed -n 's/^EMBER_COUNT \([0-9]*\)$/\1/p' | tail -n 1; }

# wait_count LOG N SECONDS: the guest in LOG counted to N.
wait_count() {
	_n=0
	while ! { [ -f "$1" ] && tr -d '\r' <"$1" | grep -q "^EMBER_COUNT $2\$"; }; do
		[ $_n -lt $(($3 * 5)) ] || return 1
		sleep 0.2
		_n=$((_n + 1))
	done
}

# goes_on SRC DST: the destination counts on from where the source stopped.
goes_on() {
	_from=$(count_at "$1")
	[ -n "$_from" ] && wait_count "$2" $((_from + 3)) 60
}

api() { # SOCK METHOD PATH JSON
	"$CURL" -s -f --unix-socket "$1" -X "$2" -H 'Content-Type: application/json' -d "$4" \
		"http://localhost$3" >/dev/null
}

row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$out"; }

# --- ember ----------------------------------------------------------------------

ember_run() { # GUEST RUN
	rm -f "$d"/*.sock "$d"/*.log
	cat >"$d/vm.json" <<JSON
{"boot-source": {"kernel_image_path": "$VMLINUX", "initrd_path": "$INITRD",
                 "boot_args": "$(cmdline "$(guest_of "$1")")"},
 "machine-config": {"vcpu_count": 1, "mem_size_mib": $MEM}}
JSON
	"$EMBER" --api-sock "$d/src.sock" --config-file "$d/vm.json" </dev/null >"$d/src.log" 2>&1 &
	PIDS=$!
	"$EMBER" --api-sock "$d/dst.sock" </dev/null >"$d/dst.log" 2>&1 &
	PIDS="$PIDS $!"
	if ! wait_count "$d/src.log" 4 120; then
		echo "bench: migrate: ember $1 run $2: the guest did not count" >&2
		stop_all
		return 1
	fi
	api "$d/dst.sock" PUT /migration/receive "{\"url\":\"unix:$d/mig.sock\"}" &&
		api "$d/src.sock" PUT /migration/send \
			"{\"url\":\"unix:$d/mig.sock\",\"max_downtime_ms\":$BUDGET_MS}" &&
		goes_on "$d/src.log" "$d/dst.log"
	_r=$?
	# "sent P pages, B bytes in R rounds, T ms in all, D ms downtime (W ms of it waiting ...)"
	set -- "$1" "$2" $(sed -n 's/.*migration: sent [0-9]* pages, \([0-9]*\) bytes in \([0-9]*\) rounds, \([0-9]*\) ms in all, \([0-9]*\) ms downtime (\([0-9]*\) ms.*/\1 \2 \3 \4 \5/p' "$d/src.log")
	stop_all
	sed -n 's/.*migration: sent /bench: migrate: ember: sent /p' "$d/src.log"
	if [ $_r != 0 ] || [ $# -lt 7 ]; then
		echo "bench: migrate: ember $1 run $2 failed" >&2
		tail -n 5 "$d/src.log" "$d/dst.log" >&2
		return 1
	fi
	row ember "$1" "$2" "$6" "$5" "$3" "$4" "$7"
	echo "bench: migrate: ember $1 run $2: downtime $6 ms ($7 ms the destination starting it), $5 ms in all, $3 bytes, $4 rounds"
}

# --- QEMU microvm -----------------------------------------------------------------

# qmp PORT COMMAND...: the commands on QEMU's QMP (TCP on the loopback: L1's
# busybox nc speaks no Unix sockets), the replies on stdout.
qmp() {
	_p=$1
	shift
	{
		echo '{"execute":"qmp_capabilities"}'
		for c; do echo "$c"; done
		sleep 0.5
	} | nc 127.0.0.1 "$_p"
}

# json_num KEY: the first number after "KEY": in stdin.
json_num() { tr ',{}' '\n\n\n' | sed -n "s/.*\"$1\": *\([0-9][0-9]*\).*/\1/p" | head -n 1; }

qemu_run() { # GUEST RUN
	rm -f "$d"/*.sock "$d"/*.log
	set -- "$1" "$2" "$QEMU" -L "$QEMU_DATA" -accel kvm \
		-M microvm,acpi=off,x-option-roms=off,rtc=off -cpu host -nodefaults -no-reboot \
		-display none -m $MEM -smp 1 -kernel "$VMLINUX" -initrd "$INITRD" \
		-append "$(cmdline "$(guest_of "$1")")"
	_g=$1 _run=$2
	shift 2
	"$@" -serial "file:$d/src.log" -qmp "tcp:127.0.0.1:$QMP_PORT,server=on,wait=off" \
		</dev/null >"$d/src.qemu" 2>&1 &
	PIDS=$!
	"$@" -serial "file:$d/dst.log" -incoming "unix:$d/mig.sock" </dev/null >"$d/dst.qemu" 2>&1 &
	PIDS="$PIDS $!"
	if ! wait_count "$d/src.log" 4 120; then
		echo "bench: migrate: qemu $_g run $_run: the guest did not count" >&2
		stop_all
		return 1
	fi
	qmp $QMP_PORT "{\"execute\":\"migrate-set-parameters\",\"arguments\":{\"downtime-limit\":$BUDGET_MS,\"max-bandwidth\":10737418240}}" \
		"{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"unix:$d/mig.sock\"}}" >"$d/qmp.out"
	_n=0 _st=
	while [ $_n -lt 120 ]; do
		qmp $QMP_PORT '{"execute":"query-migrate"}' >"$d/qmp.out"
		_st=$(sed -n 's/.*"status": *"\([a-z-]*\)".*/\1/p' "$d/qmp.out" | tail -n 1)
		case "$_st" in completed | failed | cancelled) break ;; esac
		_n=$((_n + 1))
	done
	_down=$(json_num downtime <"$d/qmp.out")
	_total=$(json_num total-time <"$d/qmp.out")
	_bytes=$(json_num transferred <"$d/qmp.out")
	_r=1
	[ "$_st" = completed ] && goes_on "$d/src.log" "$d/dst.log" && _r=0
	stop_all
	# A completed migration with no time at all is a misread answer, not a figure.
	if [ $_r != 0 ] || [ -z "$_down" ] || [ "${_total:-0}" = 0 ]; then
		echo "bench: migrate: qemu $_g run $_run failed (status '$_st')" >&2
		tail -n 3 "$d/qmp.out" "$d/src.qemu" "$d/dst.qemu" >&2
		return 1
	fi
	row qemu-microvm "$_g" "$_run" "$_down" "$_total" "$_bytes" - -
	echo "bench: migrate: qemu $_g run $_run: downtime $_down ms, $_total ms in all, $_bytes bytes"
}

# Interleaved, so drift in L1 hits both alike.
have_qemu=0
[ -n "${QEMU:-}" ] && [ -x "$QEMU" ] && have_qemu=1
[ $have_qemu = 1 ] || echo "bench: migrate: QEMU not in L1, ember rows only" >&2
rc=0
for g in quiet busy; do
	run=1
	while [ $run -le "$RUNS" ]; do
		ember_run $g $run || rc=1
		[ $have_qemu = 0 ] || qemu_run $g $run || rc=1
		run=$((run + 1))
	done
done
exit $rc
