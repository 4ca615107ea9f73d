#!/bin/sh
# Runs inside L1 (busybox sh, real /dev/kvm): boot-to-init time and memory
# overhead, ember vs QEMU microvm, same guest kernel and initramfs, 1 vCPU,
# 128 MiB, RUNS runs each, alternating so drift hits both equally.
# Writes $BENCH_OUT/boot.tsv; bench/report.sh turns it into table and plot.
#
# Needs: EMBER BOOTTIME VMLINUX BZIMAGE INITRD BENCH_OUT; QEMU and QEMU_DATA
# for the QEMU column (skipped with a note when absent).
set -u
RUNS=${RUNS:-10}
MEM=128
TIMEOUT=120
MARKER=EMBER_GUEST_INIT
# Same command line for both VMMs.  quiet: measure booting, not printing
# the kernel log through an emulated UART (each byte is a VM exit).
CMDLINE="console=ttyS0 reboot=k panic=-1 no_timer_check quiet"
out=$BENCH_OUT/boot.tsv
mkdir -p "$BENCH_OUT"
printf 'vmm\tkernel\trun\tboot_ms\tpss_kb\toverhead_kb\treported_ms\n' >"$out"

record() { # vmm kernel run -- command...
	vmm=$1 kernel=$2 run=$3
	shift 4
	line=$("$BOOTTIME" "$MARKER" "$TIMEOUT" "$MEM" -- "$@" </dev/null) || {
		echo "bench: $vmm/$kernel run $run failed" >&2
		return 1
	}
	# boot_us=N pss_kb=N guest_kb=N overhead_kb=N vmm_reported_ms=N
	set -- $(echo "$line" | tr ' =' '\n\n' | awk 'NR%2==0')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$vmm" "$kernel" "$run" \
		"$(($1 / 1000)).$(printf '%03d' $(($1 % 1000)))" "$2" "$4" "$5" >>"$out"
	echo "bench: $vmm $kernel run $run: boot $(($1 / 1000)) ms, overhead $4 kB"
}

have_qemu=0
if [ -n "${QEMU:-}" ] && [ -x "$QEMU" ]; then
	have_qemu=1
else
	echo "bench: QEMU not in L1, ember column only" >&2
fi

i=1
while [ $i -le "$RUNS" ]; do
	for kname in vmlinux bzImage; do
		if [ $kname = vmlinux ]; then k=$VMLINUX; else k=$BZIMAGE; fi
		record ember $kname $i -- "$EMBER" run --kernel "$k" --initrd "$INITRD" \
			--cmdline "$CMDLINE" --mem $MEM --vcpus 1
		[ $have_qemu = 1 ] && record qemu-microvm $kname $i -- "$QEMU" -L "$QEMU_DATA" \
			-accel kvm -M microvm,acpi=off,x-option-roms=off,rtc=off -cpu host \
			-nodefaults -no-reboot -display none -serial stdio -m $MEM -smp 1 \
			-kernel "$k" -initrd "$INITRD" -append "$CMDLINE"
	done
	i=$((i + 1))
done
exit 0
