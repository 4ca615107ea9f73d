#!/usr/bin/env bash
# The nested-KVM harness: real KVM for a machine that has none.
#
#   tests/nested/run.sh --tests [NAME...]   integration tests (default: all)
#   tests/nested/run.sh --run               boot the default guest, console here
#   tests/nested/run.sh --bench             bench/*-in-l1.sh -> bench/results/
#                                           (BENCH="boot net": only those)
#   tests/nested/run.sh --xhost             the cross-host tests: two L1s at
#                                           once on one network (xhost.sh)
#
# Where /dev/kvm runs our guest (a canary boot says so; decide.sh) everything
# runs directly; EMBER_FORCE_NESTED=1 or EMBER_FORCE_DIRECT=1 overrule that.
# Otherwise it builds an L1 initramfs (busybox, the Debian kvm modules, ember,
# the guest artifacts, the tests) and boots the host's Debian kernel in
# QEMU/TCG with emulated SVM + NPT; the tests run in there as root, on the
# /dev/kvm that kvm-amd provides.  Every boot has a timeout, so this always
# ends.  Serial logs go to tests/nested/logs/; the output of each failed test
# is also split out to tests/nested/logs/<test>.log.
#
# Exit status: 0 iff every test passed (--tests), the guest ran (--run), the
# benchmark produced its table (--bench).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$repo/build
work=$here/work
logs=$here/logs
L1_TIMEOUT_TESTS=${L1_TIMEOUT_TESTS:-2400}
L1_TIMEOUT_BENCH=${L1_TIMEOUT_BENCH:-2400}
L1_TIMEOUT_RUN=${L1_TIMEOUT_RUN:-600}
L1_TIMEOUT_RUN_INTERACTIVE=${L1_TIMEOUT_RUN_INTERACTIVE:-14400}
L1_TIMEOUT_XHOST=${L1_TIMEOUT_XHOST:-900}
L1_STALL=${L1_STALL:-150}
L1_MODULES="irqbypass ccp kvm kvm-amd tun bridge"

die() { echo "nested: $*" >&2; exit 1; }
say() { echo "nested: $*" >&2; }

mode=${1:-}
[ $# -gt 0 ] && shift
case "$mode" in
--tests | --run | --bench | --xhost) mode=${mode#--} ;;
*) die "usage: $0 --tests [NAME...] | --run | --bench | --xhost" ;;
esac

# What the Makefile builds for the tests (build/l1-manifest, written from its
# L1_MANIFEST), the bench's tools only for the bench, as "VAR L1-PATH
# HOST-PATH" lines: the host path last, so that it may hold spaces.
manifest=$build/l1-manifest
[ -f "$manifest" ] || die "$manifest missing: run make first (make build/l1-manifest)"
tools=$(awk -v mode="$mode" -v repo="$repo" '
	/^#/ || NF == 0 { next }
	NF != 4 || $1 !~ /^([A-Z_][A-Z0-9_]*|-)$/ || $3 !~ /^\/ember\// || $4 !~ /^(all|bench)$/ {
		print "nested: " FILENAME ": bad line: " $0 >"/dev/stderr"
		exit 1
	}
	$4 == "all" || $4 == mode { print $1, $3, repo "/" $2 }' "$manifest")
while read -r var dst f; do
	[ -f "$f" ] || die "$f missing: run make first (make ${f#"$repo/"})"
done <<<"$tools"

kdir=$("$repo/guest/build-kernel.sh")
initrd=$("$repo/guest/mkinitramfs.sh")
rootfs=$("$repo/guest/mkrootfs.sh")
mkdir -p "$logs"

# ko_copy VERSION MODULE DEST: a module of that kernel, uncompressed, to DEST.
ko_copy() {
	local f
	f=$(modinfo -k "$1" -F filename "$2") || die "module $2 of $1 not found"
	case "$f" in
	*.ko) cp "$f" "$3" ;;
	*.ko.xz) xz -dc "$f" >"$3" ;;
	*.ko.zst) zstd -qdc "$f" >"$3" ;;
	*) die "module $2: unexpected file $f" ;;
	esac
}

# Debian's own kernel (the one L1 boots) and its virtio modules as a cpio,
# for tests/integration/acpi.sh: a stock kernel that finds the virtio-mmio
# devices through ACPI.  Without one the test skips.
deb_files=
deb_kernel=$(ls /boot/vmlinuz-*-amd64 2>/dev/null | sort -V | tail -n1 || true)
if [ -n "$deb_kernel" ] && [ -d "/lib/modules/${deb_kernel#/boot/vmlinuz-}" ]; then
	rm -rf "$work/debian-modules" && mkdir -p "$work/debian-modules/debian-modules"
	for m in virtio_ring virtio virtio_mmio virtio_blk; do
		ko_copy "${deb_kernel#/boot/vmlinuz-}" $m "$work/debian-modules/debian-modules/$m.ko"
	done
	(cd "$work/debian-modules" && find . -mindepth 1 | LC_ALL=C sort |
		cpio --quiet -o -H newc -R 0:0) >"$work/debian-modules.cpio"
	deb_files=$'\n'"DEBIAN_KERNEL /ember/guest/debian-vmlinuz $deb_kernel"
	deb_files+=$'\n'"DEBIAN_MODULES /ember/guest/debian-modules.cpio $work/debian-modules.cpio"
fi

# All the files the tests, l1-init and the bench use, as "VAR L1-PATH
# HOST-PATH" (VAR - where none looks it up by variable): the tools, what
# guest/*.sh built, and curl for the API tests (Firecracker's getting-started
# uses it).  The direct mode exports each at its host path; stage_l1 copies
# each to its L1 path and lists it in L1's /ember/env, which l1-init
# sources, so both sides see the same names.
l1_files="$tools
VMLINUX /ember/guest/vmlinux $kdir/vmlinux
BZIMAGE /ember/guest/bzImage $kdir/bzImage
INITRD /ember/guest/initramfs.cpio $initrd
ROOTFS /ember/guest/rootfs.ext4 $rootfs$deb_files"
# BENCH_BASELINE=OLD-EMBER (as for make bench-api): an older ember whose
# figures modules put next to ours in the same L1 (bench/density-in-l1.sh).
if [ "$mode" = bench ] && [ -n "${BENCH_BASELINE:-}" ]; then
	l1_files+=$'\n'"EMBER_BASELINE /ember/bin/ember-baseline $BENCH_BASELINE"
fi
if curl=$(command -v curl); then
	l1_files+=$'\n'"CURL /ember/bin/curl $curl"
fi
while read -r var dst f; do
	[ "$var" = - ] || printf -v "$var" %s "$f"
done <<<"$l1_files"

# Direct only on a /dev/kvm that runs our guest (decide.sh says how it knows;
# its canary boots $EMBER with $VMLINUX and $INITRD).
. "$here/decide.sh"
CANARY_LOG=$logs/canary.log
decide_kvm || die "$KVM_WHY"
say "$KVM_WHY"

# ---------------------------------------------------------------- direct
if [ "$KVM_MODE" = direct ]; then
	# shellcheck disable=SC2046 # a word per variable name
	export $(awk '$1 != "-" { print $1 }' <<<"$l1_files")
	CGROUP_ROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts) && export CGROUP_ROOT
	case "$mode" in
	tests)
		out=$logs/direct-tests.log
		LOGDIR=$work/direct-it "$repo/tests/integration/run.sh" "$@" | tee "$out"
		rc=${PIPESTATUS[0]}
		;;
	run)
		cmdline="console=ttyS0 reboot=k panic=-1"
		[ -t 0 ] && cmdline="$cmdline ember.shell=1"
		# shellcheck disable=SC2153 # set from l1_files, like the others
		exec "$EMBER" run --kernel "$VMLINUX" --initrd "$INITRD" --cmdline "$cmdline"
		;;
	bench)
		mkdir -p "$repo/bench/results"
		brc=0
		for b in "$repo"/bench/*-in-l1.sh; do
			n=${b##*/}
			n=${n%-in-l1.sh}
			[ -z "${BENCH:-}" ] || [[ " $BENCH " == *" $n "* ]] || continue
			BENCH_OUT=$repo/bench/results \
				QEMU=$(command -v qemu-system-x86_64 || true) QEMU_DATA=/usr/share/qemu \
				"$b" || { echo "bench: $n failed" >&2; brc=1; }
		done
		# A failed module fails the bench, as in L1, after the report of
		# what the others measured.
		"$repo/bench/report.sh" "$repo/bench/results"
		exit $brc
		;;
	xhost)
		# One host is one L1: two hosts need the nested harness.
		say "SKIP the cross-host tests: they need two L1 machines (nested mode)"
		exit 0
		;;
	esac
	summary=$(grep -E '^ember-test: [0-9]+ passed, [0-9]+ failed' "$out" | tail -n1 || true)
	[ -n "$summary" ] || die "the tests did not finish; see $out"
	echo "${summary#ember-test: }"
	exit "$rc"
fi

# ---------------------------------------------------------------- nested
qemu=$(command -v qemu-system-x86_64) || die "qemu-system-x86_64 missing (make deps)"
busybox=/bin/busybox
[ -x "$busybox" ] || die "$busybox missing (make deps)"
[ -n "$curl" ] || die "curl missing (make deps)"
l1_kernel=$(ls /boot/vmlinuz-*-amd64 2>/dev/null | sort -V | tail -n1)
[ -n "$l1_kernel" ] || die "no /boot/vmlinuz-*-amd64 (apt-get install linux-image-amd64)"
l1_ver=${l1_kernel#/boot/vmlinuz-}
[ -d "/lib/modules/$l1_ver" ] || die "no /lib/modules/$l1_ver for $l1_kernel"
# The bench's QEMU vsock rows use vhost-vsock: L1 needs /dev/vhost-vsock
# (without the module, bench/net-in-l1.sh says n/a for them).
if [ "$mode" = bench ] && modinfo -k "$l1_ver" vhost_vsock >/dev/null 2>&1; then
	L1_MODULES="$L1_MODULES vhost_vsock"
fi
# The cross-host tests' L1s talk over a virtio-net NIC.
[ "$mode" != xhost ] || L1_MODULES="$L1_MODULES virtio_pci virtio_net"

# Modules in load order: each one's dependencies first.
module_order() {
	local m dep
	for m in "$@"; do
		for dep in $(modinfo -k "$l1_ver" -F depends "$m" | tr , ' '); do
			module_order "$dep"
		done
		echo "$m"
	done
}

# copy_with_libs BIN DESTROOT [L1-PATH]: BIN into DESTROOT at L1-PATH
# (/ember/bin/BIN's name by default), its shared libraries (and the dynamic
# loader) at their own paths under DESTROOT.
copy_with_libs() {
	local bin=$1 root=$2 dst=${3:-/ember/bin/$(basename "$1")} lib
	install -D -m 0755 "$bin" "$root$dst"
	# A static binary has none: ldd fails, saying so on stderr.
	for lib in $(ldd "$bin" 2>/dev/null | grep -o '/[^ ]*'); do
		install -D -m 0755 "$lib" "$root$lib"
	done
}

stage_l1() {
	local root=$1 m f var dst
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,lib64}
	mkdir -p "$root"/ember/{bin,guest,tests,bench,modules}
	install -m 0755 "$busybox" "$root/bin/busybox"
	for m in $("$busybox" --list-full); do
		case "$m" in bin/busybox | linuxrc | sbin/init) continue ;; esac
		mkdir -p "$root/$(dirname "$m")"
		ln -sf /bin/busybox "$root/$m"
	done
	install -m 0755 "$here/l1-init" "$root/init"

	module_order $L1_MODULES | awk '!seen[$0]++' >"$root/ember/modules/load-order"
	while read -r m; do
		ko_copy "$l1_ver" "$m" "$root/ember/modules/$m.ko"
	done <"$root/ember/modules/load-order"

	# L1 has no shared libraries of its own: programs bring theirs (only
	# curl has any).  l1-init takes every variable from /ember/env.
	: >"$root/ember/env"
	while read -r -u 3 var dst f; do
		case "$dst" in
		/ember/bin/*) copy_with_libs "$f" "$root" "$dst" ;;
		*) cp "$f" "$root$dst" ;;
		esac
		[ "$var" = - ] || echo "export $var=$dst" >>"$root/ember/env"
	done 3<<<"$l1_files"
	install -m 0644 "$repo"/tests/integration/*.sh "$repo/tests/nested/decide.sh" \
		"$root/ember/tests/"
	install -m 0755 "$repo/tests/integration/run.sh" "$root/ember/tests/run.sh"
	# Not next to run.sh, which sources every *.sh beside it.
	install -m 0755 "$here/xhost.sh" "$root/ember/xhost.sh"

	if [ "$mode" = bench ]; then
		install -m 0755 "$repo"/bench/*-in-l1.sh "$root/ember/bench/"
		# QEMU microvm for the side-by-side column: the binary, its
		# libraries and the two firmware images microvm needs.
		copy_with_libs "$qemu" "$root"
		mkdir -p "$root/ember/qemu-data"
		cp /usr/share/qemu/qboot.rom /usr/share/qemu/bios-microvm.bin \
			"$root/ember/qemu-data/"
	fi
}

l1root=$work/l1root
cpio=$work/l1-$mode.cpio
say "building the L1 initramfs ($l1_kernel)"
stage_l1 "$l1root"
(cd "$l1root" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0) >"$cpio"

# nokaslr: a wedged L1's register dump (dump_l1_cpus) then maps onto the
# /proc/kallsyms of any L1 boot of the same kernel (Debian's System.map is a
# stub; the symbols are in the -dbg package).  tsc=reliable: TCG's TSC is
# steady, but the kernel's clocksource watchdog distrusts it under emulation
# and falls back to the HPET (an emulated MMIO read per clock read).  On the
# TSC, KVM in L1 has its master clock and can pair the guest's clock with
# wall time (KVM_CLOCK_REALTIME, which snap_clock_realtime tests).  L1
# wedged with either clock (see kvm-keeper.c for the cause).
append="console=ttyS0 quiet panic=-1 nokaslr tsc=reliable ember.mode=$mode"
# The L1 machine: AMD with SVM and nested paging, emulated by TCG.  The
# cross-host tests run two at once, one CPU each: the machine's two cores.
[ "$mode" != xhost ] || L1_CPUS=1
l1_qemu=("$qemu" -accel tcg,thread=multi -smp "${L1_CPUS:-2}" -m 4096 -cpu EPYC,+svm,+npt
	-kernel "$l1_kernel" -initrd "$cpio" -nographic -no-reboot)

monitor=$work/monitor.sock

# dump_l1_cpus LOG: before a wedged L1 is stopped, what its two CPUs were
# doing, from QEMU's monitor, into LOG.cpus (for the next one to debug it).
dump_l1_cpus() {
	python3 "$here/dump-l1-cpus.py" "$monitor" "$1.cpus" || true
	say "L1's CPU state: $1.cpus"
}

# boot_l1 APPEND LOG TIMEOUT: one L1 boot, serial output to LOG (and to our
# stdout as it comes); sets RC to QEMU's status.  L1 prints a heartbeat every
# minute (l1-init): silence for longer than L1_STALL means L1 itself is
# wedged, so it is stopped then rather than at the overall timeout.
boot_l1() {
	local qpid last_size=-1 quiet=0 size
	: >"$2" # before tail starts, so it never shows the previous run
	rm -f "$monitor"
	timeout --foreground -k 10 "$3" "${l1_qemu[@]}" -append "$1" \
		-monitor "unix:$monitor,server=on,wait=off" </dev/null >>"$2" 2>&1 &
	qpid=$!
	tail -n +1 -f --pid=$qpid "$2" &
	while kill -0 $qpid 2>/dev/null; do
		sleep 5
		size=$(stat -c %s "$2")
		if [ "$size" = "$last_size" ]; then
			quiet=$((quiet + 5))
		else
			quiet=0 last_size=$size
		fi
		if [ $quiet -ge "$L1_STALL" ]; then
			say "L1 silent for ${quiet}s: stopping it"
			dump_l1_cpus "$2"
			kill $qpid 2>/dev/null || true
			break
		fi
		# What the wedges seen so far looked like: L1's kvm-pit thread and
		# a vCPU thread of ours soft-locked on both CPUs.  No need to wait.
		if grep -aq 'soft lockup - CPU#' "$2"; then
			say "L1 reports a soft lockup: stopping it"
			dump_l1_cpus "$2"
			kill $qpid 2>/dev/null || true
			break
		fi
	done
	RC=0
	wait $qpid || RC=$?
	sleep 0.2 # let tail print the end
	[ "$RC" -ne 124 ] || say "L1 timed out after ${3}s"
}

# xhost_l1 ROLE LOCAL-PORT PEER-PORT LOG: one of the two cross-host L1s, in
# a subshell of its own (boot_l1 uses the globals monitor and l1_qemu).
# Its NIC's frames go as UDP datagrams to the other L1's port on the
# loopback and come from it (QEMU's -netdev dgram): a wire between two hosts.
xhost_l1() {
	monitor=$work/monitor-$1.sock
	l1_qemu+=(-netdev "dgram,id=wire,local.type=inet,local.host=127.0.0.1,local.port=$2,remote.type=inet,remote.host=127.0.0.1,remote.port=$3"
		-device "virtio-net-pci,netdev=wire,mac=52:54:00:77:00:0$([ "$1" = a ] && echo 1 || echo 2),romfile=")
	boot_l1 "$append ember.xhost=$1" "$4" "$L1_TIMEOUT_XHOST"
	exit "$RC"
}

# The cross-host tests (xhost.sh): L1 "a" is the source host, "b" the
# destination; a test passes when both halves pass.  Both L1s boot again
# once if a test failed or never finished (nested emulation flakes, as for
# the integration tests); each half's output lands in logs/<test>-<role>.log.
xhost_run() {
	local attempt role port t v n rc=1 names="xhost_migrate xhost_restore"
	local -A res
	port=$((41000 + RANDOM % 20000))
	for attempt in 1 2; do
		say "booting two L1s for the cross-host tests (attempt $attempt)"
		(xhost_l1 a "$port" $((port + 1)) "$logs/l1-xhost-a.log") &
		(xhost_l1 b $((port + 1)) "$port" "$logs/l1-xhost-b.log") &
		wait || true
		res=()
		for role in a b; do
			tr -d '\r' <"$logs/l1-xhost-$role.log" | awk -v dir="$logs" -v role="$role" '
				/^ember-test-log-begin / { f = dir "/" $2 "-" role ".log"; printf "" > f; next }
				/^ember-test-log-end /   { close(f); f = ""; next }
				f != ""                  { print > f }'
			while read -r v t; do
				res[$t-$role]=$v
			done < <(tr -d '\r' <"$logs/l1-xhost-$role.log" |
				sed -n 's/^ember-test: \(PASS\|FAIL\) \([^ :]*\).*/\1 \2/p')
		done
		n=0
		for t in $names; do
			for role in a b; do
				v=${res[$t-$role]:-FAIL}
				[ "$v" = PASS ] && continue
				n=$((n + 1))
				say "FAILED $t on L1 $role${res[$t-$role]:+: output in $logs/$t-$role.log}"
			done
		done
		[ $n -gt 0 ] || { rc=0; break; }
	done
	[ $rc = 0 ] && echo "cross-host: 2 passed, 0 failed" || echo "cross-host: failed"
	exit $rc
}

# L1's own verdict: the last EMBER_L1_DONE line (serial output has \r\n).
l1_rc() { tr -d '\r' <"$1" | sed -n 's/^EMBER_L1_DONE rc=\([0-9]*\)$/\1/p' | tail -n1; }

case "$mode" in
run)
	if [ -t 0 ] && [ -t 1 ]; then
		say "guest shell on this console: 'exit' or 'reboot -f' ends it, Ctrl-A X kills QEMU"
		rc=0
		timeout --foreground -k 10 "$L1_TIMEOUT_RUN_INTERACTIVE" "${l1_qemu[@]}" \
			-append "$append ember.shell=1" || rc=$?
		exit "$rc"
	fi
	log=$logs/l1-run.log
	boot_l1 "$append" "$log" "$L1_TIMEOUT_RUN"
	r=$(l1_rc "$log")
	[ -n "$r" ] || die "L1 did not finish; see $log"
	exit "$r"
	;;
bench)
	log=$logs/l1-bench.log
	say "booting L1 (serial log $log)"
	[ -z "${BENCH:-}" ] || append="$append ember.bench=$(echo $BENCH | tr ' ' ,)"
	# bench/devices-in-l1.sh's pmem clones are opt-in: they have panicked L1.
	[ "${BENCH_PMEM_CLONES:-}" != 1 ] || append="$append ember.pmem_clones=1"
	boot_l1 "$append" "$log" "$L1_TIMEOUT_BENCH"
	mkdir -p "$repo/bench/results"
	# Each "EMBER_TSV_BEGIN NAME.tsv" ... "EMBER_TSV_END" block of the log
	# becomes bench/results/NAME.tsv (a module not run keeps its old file).
	tr -d '\r' <"$log" | awk -v dir="$repo/bench/results" '
		/^EMBER_TSV_BEGIN [A-Za-z0-9_.-]+\.tsv$/ { f = dir "/" $2; printf "" >f; n++; next }
		/^EMBER_TSV_END$/ { if (f) close(f); f = ""; next }
		f { print >f }
		END { exit n ? 0 : 1 }' || die "no benchmark results; see $log"
	# As in direct mode: a module that failed in L1 fails the bench, after
	# the report of what the others measured.
	"$repo/bench/report.sh" "$repo/bench/results" || exit
	tr -d '\r' <"$log" | grep '^l1: bench .* failed' >&2 && exit 1
	[ "$(l1_rc "$log")" = 0 ] || die "L1 did not finish the bench (rc '$(l1_rc "$log")'); see $log"
	exit 0 # not on into the tests below, which would boot L1 again and again in bench mode
	;;
xhost)
	xhost_run
	;;
esac

# tests: every test is reported by name.  If L1 wedges, the
# test that was running is named, and the ones not reported yet run again
# in a fresh L1, up to L1_ATTEMPTS boots.  Wedges seen: soft lockups of
# L1's kvm-pit thread and one of our vCPU threads while guests calibrated
# their LAPIC timer against the PIT (gone since ember offers TSC-deadline),
# and L1 freezing without a word, about once per full run and in 3 of 4
# bench runs.  All four freezes symbolised had a CPU in exc_int3: the int3
# text_poke_bp plants while it patches kernel code, here KVM's APIC static
# keys, flipped as each guest comes and goes, and (once per boot) static
# calls and jump labels as kvm-amd loads.  l1-init now starts kvm-keeper
# before any guest, which pins those keys on (see kvm-keeper.c); the
# module-load patching remains.  The closing line counts each
# test once, by its last result.
mapfile -t known < <("$repo/tests/integration/run.sh" -l)
if [ $# -gt 0 ]; then
	remaining=("$@")
	# A misspelt name is the caller's mistake, not a wedged L1: say so
	# before booting anything.
	for t in "$@"; do
		[[ " ${known[*]} " == *" $t "* ]] || die "no test '$t' (tests/integration/run.sh -l lists them)"
	done
else
	remaining=("${known[@]}")
fi
declare -A result=()
wedged=()
attempt=1
while [ ${#remaining[@]} -gt 0 ] && [ $attempt -le "${L1_ATTEMPTS:-3}" ]; do
	log=$logs/l1-tests.log
	[ $attempt = 1 ] || log=$logs/l1-tests-$attempt.log
	say "booting L1 for ${#remaining[@]} tests (attempt $attempt, serial log $log)"
	boot_l1 "$append ember.only=$(IFS=,; echo "${remaining[*]}")" "$log" "$L1_TIMEOUT_TESTS"
	tr -d '\r' <"$log" | awk -v dir="$logs" '
		/^ember-test-log-begin / { f = dir "/" $2 ".log"; printf "" > f; next }
		/^ember-test-log-end /   { close(f); f = ""; next }
		f != ""                  { print > f }'
	while read -r verdict name; do
		result[$name]=$verdict
	done < <(tr -d '\r' <"$log" | sed -n 's/^ember-test: \(PASS\|FAIL\|SKIP\) \([^ :]*\).*/\1 \2/p')
	next=()
	for t in "${remaining[@]}"; do
		[ -n "${result[$t]:-}" ] || next+=("$t")
	done
	if [ ${#next[@]} -gt 0 ]; then
		say "L1 stopped (exit $RC) while '${next[0]}' was running; log: $log"
		wedged+=("${next[0]}")
	fi
	remaining=("${next[@]}")
	attempt=$((attempt + 1))
done
for t in "${remaining[@]}"; do
	result[$t]=FAIL
	say "FAILED $t: never finished (L1 wedged each time)"
done
npass=0 nfail=0 nskip=0
for t in "${!result[@]}"; do
	if [ "${result[$t]}" = PASS ]; then
		npass=$((npass + 1))
	elif [ "${result[$t]}" = SKIP ]; then
		nskip=$((nskip + 1))
	else
		nfail=$((nfail + 1))
		[ -e "$logs/$t.log" ] && say "FAILED $t: output in $logs/$t.log"
	fi
done
[ ${#wedged[@]} -eq 0 ] || say "L1 wedged during: ${wedged[*]} (rerun in a fresh L1)"
echo "$npass passed, $nfail failed, $nskip skipped"
[ $nfail -eq 0 ]
