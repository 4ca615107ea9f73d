#!/bin/sh
# Runs inside L1: snapshot restore latency, ember vs QEMU microvm, the same
# guest (kernel, initramfs, command line), 1 vCPU, 128 MiB and 1 GiB, a
# serial console and no other device, in the same L1 run.
#
# "Guest running" is the same probe for both: bench/serialtime writes a byte
# to the VMM's stdin (the guest's UART) at once and whenever the last one has
# left the pipe (2 ms apart at least), and
# the guest's guest-tests/serial-echo answers "ECHO x" on the console from
# userspace; the first answer read is the moment.  Both are timed from the
# VMM process's start (fork) to that moment:
#
#   ember         ember --api-sock, then PUT /snapshot/load (File backend:
#                 the memory file mapped MAP_PRIVATE, resume_vm) as soon as
#                 the socket takes it; the request's sending and its 204 are
#                 timed too (request -> running is the density module's
#                 figure, there through the vsock echo)
#   qemu-microvm  qemu -M microvm ... -incoming fd:3, fd 3 the saved
#                 migration stream (a regular file): QEMU reads it and
#                 copies the pages into fresh anonymous memory, then runs
#                 the guest (the stream holds no run state: saved with
#                 migration.store-global-state=off, so QEMU starts it at once
#                 as after any incoming migration)
#
# The snapshots: one cold boot each per size, the probe answered, then
# ember's PATCH /vm Paused + Full snapshot, QEMU's QMP stop + migrate
# "exec:cat > FILE" (QEMU 7.2 in L1 has no file: URI).  A restore of each
# left paused must get no answer (the probe's own check).  Then LOADS restores
# per VMM and size, one at a time, alternating ember and QEMU.  All files
# are on L1's tmpfs.  Beside each pair, QEMU started with -incoming defer is
# timed to its QMP greeting (qemu-startup): its process start-up alone, to
# tell apart from the load (ember's own is the time to its API socket).
#
# Writes $BENCH_OUT/restore-peer.tsv.  Needs: EMBER SERIALTIME VMLINUX INITRD
# BENCH_OUT, QEMU and QEMU_DATA (without them: ember's rows only, said so).
set -u
: "${LOADS:=30}"
d=/tmp/peerbench out=$BENCH_OUT/restore-peer.tsv
CMDLINE="console=ttyS0 reboot=k panic=-1 no_timer_check quiet ember.test=serial-echo"
mkdir -p "$d" "$BENCH_OUT"
printf 'vmm\tmem_mib\trun\tready_ms\tsent_ms\tanswered_ms\n' >"$out"

have_qemu=0
if [ -n "${QEMU:-}" ] && [ -x "$QEMU" ]; then
	have_qemu=1
else
	echo "bench: QEMU not in L1, ember's rows only" >&2
fi
ms() { case "$1" in -) echo - ;; *) awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }' ;; esac; }
# qemu_st MEM "SERIALTIME-OPTIONS" ARGS...: serialtime over QEMU microvm as
# bench/boot-in-l1.sh runs it, plus ARGS (the options are words, no spaces).
qemu_st() {
	mem=$1 opts=$2
	shift 2
	# shellcheck disable=SC2086 # words on purpose
	"$SERIALTIME" $opts -- "$QEMU" -L "$QEMU_DATA" -accel kvm -M microvm,acpi=off,x-option-roms=off,rtc=off \
		-cpu host -nodefaults -no-reboot -display none -serial stdio -m "$mem" -smp 1 \
		-kernel "$VMLINUX" -initrd "$INITRD" -append "$CMDLINE" \
		-global migration.store-global-state=off "$@"
}
# timed VMM MEM RUN COMMAND...: one row of the TSV from COMMAND's serialtime line.
timed() {
	vmm=$1 mem=$2 run=$3
	shift 3
	R=$("$@" 2>"$d/err") || {
		echo "bench: $vmm $mem MiB restore $run failed: $(cat "$d/err")" >&2
		return 1
	}
	set -- $(echo "$R" | tr ' =' '\n\n' | awk 'NR % 2 == 0')
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$vmm" "$mem" "$run" "$(ms "$1")" "$(ms "$2")" \
		"$(ms "$3")" >>"$out"
}

for mem in 128 1024; do
	cat >"$d/vm$mem.json" <<JSON
{"boot-source": {"kernel_image_path": "$VMLINUX", "initrd_path": "$INITRD",
                 "boot_args": "$CMDLINE"},
 "machine-config": {"vcpu_count": 1, "mem_size_mib": $mem}}
JSON
	"$SERIALTIME" -t 120 -w -a "$d/e.sock" -s "$d/e$mem.state,$d/e$mem.mem" -- \
		"$EMBER" --api-sock "$d/e.sock" --config-file "$d/vm$mem.json" >/dev/null ||
		{ echo "bench: ember's $mem MiB snapshot failed" >&2; exit 1; }
	if [ $have_qemu = 1 ]; then
		rm -f "$d/q$mem.mig"
		qemu_st "$mem" "-t 120 -w -q $d/qmp.sock -m $d/q$mem.mig" \
			-qmp "unix:$d/qmp.sock,server=on,wait=off" >/dev/null ||
			{ echo "bench: QEMU's $mem MiB snapshot failed" >&2; exit 1; }
	fi
	echo "bench: $mem MiB snapshots: ember $(du -k "$d/e$mem.mem" | cut -f1) KiB of memory file," \
		"QEMU $( [ $have_qemu = 1 ] && du -k "$d/q$mem.mig" | cut -f1) KiB of stream"
	load="{\"snapshot_path\":\"$d/e$mem.state\",\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":\"$d/e$mem.mem\"},\"resume_vm\":true}"
	# The probe must not answer a guest that does not run: each VMM's
	# restore left paused (ember: resume_vm false; QEMU: -S) gets no
	# answer in 10 s, or the figures below mean nothing.
	if "$SERIALTIME" -t 10 -a "$d/r.sock" -l "$(echo "$load" | sed 's/"resume_vm":true/"resume_vm":false/')" \
		-- "$EMBER" --api-sock "$d/r.sock" >/dev/null 2>&1; then
		echo "bench: ember's paused $mem MiB restore answered the probe" >&2
		exit 1
	fi
	if [ $have_qemu = 1 ] && qemu_st "$mem" "-t 10 -i $d/q$mem.mig" -incoming fd:3 -S \
		>/dev/null 2>&1; then
		echo "bench: QEMU's paused $mem MiB restore answered the probe" >&2
		exit 1
	fi
	echo "bench: $mem MiB restores left paused: no answer from either VMM, as it should be"
	run=1
	while [ $run -le "$LOADS" ]; do
		timed ember "$mem" $run "$SERIALTIME" -t 60 -a "$d/r.sock" -l "$load" -- \
			"$EMBER" --api-sock "$d/r.sock" || exit 1
		[ $have_qemu = 0 ] || timed qemu-microvm "$mem" $run \
			qemu_st "$mem" "-t 60 -i $d/q$mem.mig" -incoming fd:3 || exit 1
		# QEMU's start-up alone, for the report's split: to its QMP
		# greeting, with nothing to load (ember's is sent_ms).
		[ $have_qemu = 0 ] || timed qemu-startup "$mem" $run \
			qemu_st "$mem" "-t 60 -g $d/g.sock" -incoming defer \
			-qmp "unix:$d/g.sock,server=on,wait=off" || exit 1
		run=$((run + 1))
	done
	echo "bench: $LOADS restores of $mem MiB timed for each VMM"
	rm -f "$d/e$mem.state" "$d/e$mem.mem" "$d/q$mem.mig"
done
rm -rf "$d"
exit 0
