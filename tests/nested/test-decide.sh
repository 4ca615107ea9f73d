#!/usr/bin/env bash
# Tests of tests/nested/decide.sh, the harness's "direct or nested" choice,
# with fakes: a fake ember (canary passes, fails, or hangs), a fake sysfs
# with or without module/kvm_pvm, /dev/null standing in for a /dev/kvm that
# opens and a missing path for none.  No KVM needed.
#
# Output: one "ok"/"FAIL" line per case, then "N passed, N failed"; exit 0
# iff none failed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
npass=0 nfail=0

mkdir -p "$tmp/sys-kvm/module/kvm_amd" "$tmp/sys-pvm/module/kvm_pvm"
# Fake embers: what a canary sees from a good host, a kvm-pvm-like one, a hang.
cat >"$tmp/ember-good" <<'EOF'
#!/bin/sh
echo "EMBER_GUEST_INIT cpus=1 memkb=120000"
echo "ember: guest reset via i8042" >&2
exit 0
EOF
cat >"$tmp/ember-dies" <<'EOF'
#!/bin/sh
echo "ember: error: vCPU 0: KVM internal error, suberror 1" >&2
exit 3
EOF
cat >"$tmp/ember-hangs" <<'EOF'
#!/bin/sh
exec sleep 30
EOF
# Exits 0 without the guest ever printing its init line: not a pass.
cat >"$tmp/ember-silent" <<'EOF'
#!/bin/sh
exit 0
EOF
chmod +x "$tmp"/ember-*
# Records that it ran: the kvm-pvm and no-KVM cases must not boot a canary.
cat >"$tmp/ember-spy" <<EOF
#!/bin/sh
touch "$tmp/spy-ran"
exit 0
EOF
chmod +x "$tmp/ember-spy"

# case NAME EXPECT_MODE WHY_PATTERN [VAR=VALUE...]: decide in a subshell
# with only the given settings, check the mode and the reason's wording.
case_() {
	local name=$1 want=$2 pat=$3 out
	shift 3
	out=$(
		unset EMBER_FORCE_NESTED EMBER_FORCE_DIRECT
		KVM_DEV=/dev/null SYSFS=$tmp/sys-kvm EMBER=$tmp/ember-good
		VMLINUX=/vmlinux INITRD=/initrd CANARY_TIMEOUT=2 CANARY_LOG=$tmp/canary.log
		for kv in "$@"; do export "${kv?}"; done
		. "$here/decide.sh"
		decide_kvm
		echo "rc=$? mode=$KVM_MODE why=$KVM_WHY"
	)
	if [[ "$out" == *"mode=$want "* ]] && [[ "$out" =~ $pat ]]; then
		echo "ok $name"
		npass=$((npass + 1))
	else
		echo "FAIL $name: got '$out', wanted mode=$want and /$pat/"
		nfail=$((nfail + 1))
	fi
}

case_ canary_passes direct 'rc=0 .*ran the canary guest to init in [0-9]+ ms'
case_ canary_dies nested 'rc=0 .*did not reach init within 2 s \(exit 3: .*suberror 1\)' \
	EMBER="$tmp/ember-dies"
case_ canary_hangs nested 'did not reach init within 2 s \(exit 137' EMBER="$tmp/ember-hangs"
case_ canary_silent nested 'did not reach init' EMBER="$tmp/ember-silent"
rm -f "$tmp/spy-ran"
case_ kvm_pvm_skips_canary nested '/dev/null is kvm-pvm and cannot run our guest kernel' \
	SYSFS="$tmp/sys-pvm" EMBER="$tmp/ember-spy"
case_ no_kvm nested 'no usable /nonexistent/kvm' KVM_DEV=/nonexistent/kvm EMBER="$tmp/ember-spy"
case_ not_a_char_device nested 'no usable' KVM_DEV="$tmp/sys-kvm" EMBER="$tmp/ember-spy"
if [ -e "$tmp/spy-ran" ]; then
	echo "FAIL no_canary_without_need: a canary ran on a kvm-pvm or KVM-less host"
	nfail=$((nfail + 1))
else
	echo "ok no_canary_without_need"
	npass=$((npass + 1))
fi
case_ force_nested_wins_over_good_kvm nested 'EMBER_FORCE_NESTED is set' EMBER_FORCE_NESTED=1
case_ force_direct_wins_over_pvm direct 'EMBER_FORCE_DIRECT is set' \
	EMBER_FORCE_DIRECT=1 SYSFS="$tmp/sys-pvm"
case_ force_direct_wins_over_bad_canary direct 'EMBER_FORCE_DIRECT' \
	EMBER_FORCE_DIRECT=1 EMBER="$tmp/ember-dies"
case_ force_direct_without_kvm direct 'EMBER_FORCE_DIRECT' \
	EMBER_FORCE_DIRECT=1 KVM_DEV=/nonexistent/kvm
case_ both_forced_is_an_error '' 'rc=1 .*both set' EMBER_FORCE_NESTED=1 EMBER_FORCE_DIRECT=1

echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
