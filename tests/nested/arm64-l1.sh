#!/usr/bin/env bash
# The aarch64 build's integration tests (issue 20): an arm64 L1 under QEMU's
# TCG (virt, GICv3, EL2, so Debian's arm64 kernel brings up KVM) runs
# tests/integration/run.sh on build-aarch64/ember, with the aarch64 guest
# (guest/arm64-kernel.sh's Image, the guest initramfs and ext4 root disk
# built with Debian's arm64 busybox-static and the cross compiler).  Which
# tests, and which are reported as skipped with a reason: tests/nested/arm64-tests.
#
#   tests/nested/arm64-l1.sh [NAME...]   (default: those arm64-tests lists)
#
# Needs `make ARCH=aarch64` of ember, ember-jailer, vsock-host, mktap and
# api-curl in build-aarch64 (make integration-arm64 does it).  One nested
# QEMU at a time on the machine: like tests/nested/run.sh it leaves the
# lock to its caller (`flock /tmp/ember-nested.lock make ...`), who may hold
# it already for a whole `make test`.  Output as
# tests/nested/run.sh's: a line per test, each failed test's output in
# tests/nested/logs/arm64-<test>.log, L1's console in logs/l1-arm64.log.
# Exit status 0 iff no test failed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${ARM64_BUILD:-$root/build-aarch64}
cache=${EMBER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ember}
logs=$here/logs
L1_TIMEOUT=${L1_TIMEOUT_ARM64:-1800} # 61 tests run, about 18 minutes of L1 time

die() { echo "arm64-l1: $*" >&2; exit 1; }
say() { echo "arm64-l1: $*" >&2; }

for t in ember ember-jailer vsock-host mktap api-curl ember-uffd-handler mig-hostile; do
	[ -x "$build/$t" ] || die "no $build/$t (make ARCH=aarch64 $build/$t)"
done
command -v qemu-system-aarch64 >/dev/null || die "install qemu-system-arm"
command -v aarch64-linux-gnu-gcc >/dev/null || die "install gcc-aarch64-linux-gnu"

# The tests: arm64-tests' run lines (or the NAMEs given); its skip lines,
# matched against run.sh -l, are reported without running.
mapfile -t known < <("$root/tests/integration/run.sh" -l)
run=() skips=()
while read -r name rest; do
	case "$name" in '' | '#'*) continue ;; esac
	if [ -z "$rest" ]; then
		run+=("$name")
		continue
	fi
	for t in "${known[@]}"; do
		# shellcheck disable=SC2254 # the name is a pattern on purpose
		case "$t" in $name) skips+=("$t ${rest#skip: }") ;; esac
	done
done <"$here/arm64-tests"
if [ $# -gt 0 ]; then
	run=("$@") skips=()
fi
for t in "${run[@]}"; do
	[[ " ${known[*]} " == *" $t "* ]] || die "no test '$t' (tests/integration/run.sh -l lists them)"
done

# L1's kernel, tun and busybox: Debian's arm64 packages, unpacked, never installed.
debs=$cache/arm64-l1-debs
if ! ls "$debs"/linux-image-*-arm64-unsigned_*.deb >/dev/null 2>&1 ||
	! ls "$debs"/busybox-static_*.deb >/dev/null 2>&1; then
	"$root/guest/arm64-debs.sh" "$debs" busybox-static linux-image-arm64
	dep=$(dpkg-deb -f "$debs"/linux-image-arm64_*.deb Depends | sed 's/ .*//')
	"$root/guest/arm64-debs.sh" "$debs" "$dep-unsigned"
fi
pkg=$cache/arm64-l1-pkg
stamp=$( (ls "$debs"/*.deb; cat "$0") | sha256sum | cut -c1-16)
if [ ! -f "$pkg/.done-$stamp" ]; then
	rm -rf "$pkg" && mkdir -p "$pkg"
	for d in "$debs"/busybox-static_*.deb "$debs"/linux-image-*-unsigned_*.deb; do
		dpkg-deb -x "$d" "$pkg"
	done
	touch "$pkg/.done-$stamp"
fi
vmlinuz=$(ls "$pkg"/boot/vmlinuz-* | head -n1)
tun=$(find "$pkg/lib/modules" -name tun.ko | head -n1)
[ -n "$tun" ] || die "no tun.ko in $(ls "$debs"/linux-image-*-unsigned_*.deb)"

# The aarch64 guest: cached like the x86 one (guest/*.sh key it by their inputs).
kernel=$("$root/guest/arm64-kernel.sh")/Image
export EMBER_BUSYBOX=$pkg/bin/busybox EMBER_BUSYBOX_LIST=/bin/busybox \
	EMBER_GUEST_CC=aarch64-linux-gnu-gcc
initrd=$("$root/guest/mkinitramfs.sh")
rootfs=$("$root/guest/mkrootfs.sh")

work=$(mktemp -d /tmp/ember-arm64-l1.XXXXXX)
trap 'rm -rf "$work"' EXIT
l1=$work/l1
mkdir -p "$l1"/{bin,proc,sys,dev,tmp} "$l1"/ember/{bin,guest,tests,modules}
cp "$pkg/bin/busybox" "$l1/bin/busybox"
ln -s busybox "$l1/bin/sh"
install -m 0755 "$here/arm64-l1-init" "$l1/init"
cp "$tun" "$l1/ember/modules/tun.ko"
# The bridge for migrate_tap, with what it needs, loaded in this order by
# arm64-l1-init (the unpacked package has no modules.dep for modprobe).
for m in llc stp bridge; do
	f=$(find "$pkg/lib/modules" -name "$m.ko" | head -n1)
	[ -n "$f" ] || die "no $m.ko in $(ls "$debs"/linux-image-*-unsigned_*.deb)"
	cp "$f" "$l1/ember/modules/$m.ko"
done
for t in ember ember-jailer vsock-host mktap api-curl ember-uffd-handler mig-hostile; do
	install -m 0755 "$build/$t" "$l1/ember/bin/$t"
done
cp "$kernel" "$l1/ember/guest/Image"
cp "$initrd" "$l1/ember/guest/initramfs.cpio"
cp "$rootfs" "$l1/ember/guest/rootfs.ext4"
install -m 0644 "$root"/tests/integration/*.sh "$l1/ember/tests/"
install -m 0755 "$root/tests/integration/run.sh" "$l1/ember/tests/run.sh"
# What run.sh needs; what aarch64 has no counterpart of points nowhere
# (the tests that use them are x86's and not run here).
cat >"$l1/ember/env" <<'EOF'
export GUEST_ARCH=aarch64
export EMBER=/ember/bin/ember JAILER=/ember/bin/ember-jailer CGROUP_ROOT=/sys/fs/cgroup
export VMLINUX=/ember/guest/Image INITRD=/ember/guest/initramfs.cpio ROOTFS=/ember/guest/rootfs.ext4
export VSOCK_HOST=/ember/bin/vsock-host MKTAP=/ember/bin/mktap CURL=/ember/bin/api-curl
export BZIMAGE=/ember/none-on-aarch64 TRIPLEFAULT=/ember/none-on-aarch64
export UFFD_HANDLER=/ember/bin/ember-uffd-handler MIG_HOSTILE=/ember/bin/mig-hostile
EOF
(cd "$l1" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) >"$work/l1.cpio"

mkdir -p "$logs"
log=$logs/l1-arm64.log
say "${#run[@]} tests in an arm64 L1 (console: $log)"
# pauth-impdef=on: QEMU's default pointer authentication algorithm is slow
# to emulate; the implementation-defined one cuts L1's boot from ~10 s to ~4 s.
rc=0
timeout -k 10 "$L1_TIMEOUT" qemu-system-aarch64 \
	-M virt,virtualization=on,gic-version=3 -cpu max,pauth-impdef=on -smp 2 -m 4096 \
	-accel tcg,thread=multi -nographic -no-reboot \
	-kernel "$vmlinuz" -initrd "$work/l1.cpio" \
	-append "console=ttyAMA0 panic=-1 quiet ember.only=$(IFS=,; echo "${run[*]}")" \
	</dev/null >"$log" 2>&1 || rc=$?
[ "$rc" != 124 ] || say "L1 timed out after ${L1_TIMEOUT}s"

# Each failed test's output (between ember-test-log-begin/end) to its file.
tr -d '\r' <"$log" | awk -v dir="$logs" '
	/^ember-test-log-begin / { f = dir "/arm64-" $2 ".log"; printf "" > f; next }
	/^ember-test-log-end /   { close(f); f = ""; next }
	f != ""                  { print > f }'
tr -d '\r' <"$log" | grep -E '^(ember-test: |l1: )' || true
declare -A result=()
while read -r verdict name; do
	result[$name]=$verdict
done < <(tr -d '\r' <"$log" | sed -n 's/^ember-test: \(PASS\|FAIL\|SKIP\) \([^ :]*\).*/\1 \2/p')
npass=0 nfail=0 nskip=0
for t in "${run[@]}"; do
	case "${result[$t]:-}" in
	PASS) npass=$((npass + 1)) ;;
	SKIP) nskip=$((nskip + 1)) ;;
	FAIL)
		nfail=$((nfail + 1))
		say "FAILED $t: output in $logs/arm64-$t.log"
		;;
	*)
		nfail=$((nfail + 1))
		say "FAILED $t: never finished (L1 stopped; see $log)"
		;;
	esac
done
# The run lines win over a skip pattern that also matches.
for s in "${skips[@]}"; do
	[ -z "${result[${s%% *}]:-}" ] || continue
	[[ " ${run[*]} " == *" ${s%% *} "* ]] && continue
	echo "ember-test: SKIP ${s%% *}: ${s#* } (aarch64)"
	nskip=$((nskip + 1))
done
echo "arm64: $npass passed, $nfail failed, $nskip skipped"
[ $nfail -eq 0 ]
