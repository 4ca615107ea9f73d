#!/bin/sh
# Runs inside L1 after boot-in-l1.sh: snapshot restore against a cold boot,
# same guest, same L1.  "Ready" is the same moment for both: the guest's
# vsock echo listener (guest-tests/snap-counter) answers a one-byte echo,
# timed from the ember process's start (bench/restoretime.c).
#
#   cold     --config-file boot, RUNS times per memory size
#   restore  PUT /snapshot/load (File backend, MAP_PRIVATE) of a snapshot
#            taken from the first cold boot, RUNS times, one at a time
#   clones   10 restores of the 128 MiB snapshot running at once: the PSS
#            sum, against one restore alone, gives the memory per clone
#
# Writes $BENCH_OUT/restore.tsv.  Needs: EMBER RESTORETIME CURL VMLINUX
# INITRD BENCH_OUT.
set -u
RUNS=${RUNS:-5}
d=/tmp/snapbench
out=$BENCH_OUT/restore.tsv
CMDLINE="console=ttyS0 reboot=k panic=-1 no_timer_check quiet ember.test=snap-counter"
mkdir -p "$d" "$BENCH_OUT"
printf 'what\tmem_mib\trun\tready_ms\tload_ms\tpss_kb\n' >"$out"

pss() { awk '/^Pss:/ { s += $2 } END { print s + 0 }' "/proc/$1/smaps_rollup"; }
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }

# measure WHAT MEM RUN restoretime-args...: one line of the TSV; $PID left running.
measure() {
	what=$1 mem=$2 run=$3
	shift 3
	line=$("$RESTORETIME" "$@") || { echo "bench: $what $mem MiB run $run failed" >&2; return 1; }
	set -- $(echo "$line" | tr ' =' '\n\n' | awk 'NR % 2 == 0')
	PID=$3
	load=-
	[ "$2" = - ] || load=$(ms "$2")
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$what" "$mem" "$run" "$(ms "$1")" "$load" \
		"$(pss "$PID")" >>"$out"
	echo "bench: $what $mem MiB run $run: ready after $(ms "$1") ms"
}

stop() { kill -9 "$@" 2>/dev/null; for p in "$@"; do wait "$p" 2>/dev/null; done; }

api() { # SOCK METHOD PATH JSON
	"$CURL" -s -f --unix-socket "$1" -X "$2" -H 'Content-Type: application/json' -d "$4" \
		"http://localhost$3" >/dev/null
}

for mem in 128 1024; do
	cfg=$d/vm$mem.json
	cat >"$cfg" <<JSON
{"boot-source": {"kernel_image_path": "$VMLINUX", "initrd_path": "$INITRD",
                 "boot_args": "$CMDLINE"},
 "machine-config": {"vcpu_count": 1, "mem_size_mib": $mem},
 "vsock": {"guest_cid": 3, "uds_path": "$d/cold.vsock"}}
JSON
	run=1
	while [ $run -le "$RUNS" ]; do
		rm -f "$d/cold.vsock" "$d/cold.sock"
		measure cold $mem $run "$d/cold.vsock" 5000 120 -- \
			"$EMBER" --api-sock "$d/cold.sock" --config-file "$cfg" || exit 1
		if [ $run = 1 ]; then
			api "$d/cold.sock" PATCH /vm '{"state":"Paused"}' &&
				api "$d/cold.sock" PUT /snapshot/create "{\"snapshot_type\":\"Full\",\"snapshot_path\":\"$d/s$mem.state\",\"mem_file_path\":\"$d/s$mem.mem\"}" ||
				{ echo "bench: snapshot of the $mem MiB VM failed" >&2; exit 1; }
		fi
		stop "$PID"
		run=$((run + 1))
	done
	run=1
	while [ $run -le "$RUNS" ]; do
		rm -f "$d/r.vsock"
		measure restore $mem $run "$d/r.vsock" 5000 60 "$d/r.sock" \
			"{\"snapshot_path\":\"$d/s$mem.state\",\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":\"$d/s$mem.mem\"},\"resume_vm\":true,\"vsock_override\":{\"uds_path\":\"$d/r.vsock\"}}" \
			-- "$EMBER" --api-sock "$d/r.sock" || exit 1
		stop "$PID"
		run=$((run + 1))
	done
done

pids=
i=1
while [ $i -le 10 ]; do
	rm -f "$d/c$i.vsock"
	measure clone 128 $i "$d/c$i.vsock" 5000 60 "$d/c$i.sock" \
		"{\"snapshot_path\":\"$d/s128.state\",\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":\"$d/s128.mem\"},\"resume_vm\":true,\"vsock_override\":{\"uds_path\":\"$d/c$i.vsock\"}}" \
		-- "$EMBER" --api-sock "$d/c$i.sock" || { stop $pids; exit 1; }
	pids="$pids $PID"
	i=$((i + 1))
done
sleep 2
total=0
for p in $pids; do total=$((total + $(pss "$p"))); done
printf 'clones10\t128\t-\t-\t-\t%s\n' "$total" >>"$out"
echo "bench: 10 clones at once: PSS sum $total KiB"
stop $pids
rm -rf "$d"
exit 0
