#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# ember-jailer on cgroup v1, as root, run by tests/jail/run.sh inside a
# private mount namespace (unshare -m --propagation private) so its mounts
# stay ours.  It mounts the v1 cpuset hierarchy at a path with a space in
# it ("cg v1", "\040" in /proc/mounts) and unmounts every other v1 cpuset
# mount in this namespace, so the jailer can only find the hierarchy by
# reading /proc/mounts right.  On a hybrid host the mount joins the existing
# cpuset hierarchy; on a v2-only one it creates it (if cpuset is not in use
# in v2).  A real hierarchy, not a fake: new v1 cpuset groups start with
# empty cpuset.cpus/mems and refuse settings and tasks until they are filled,
# which is what the jailer must handle.
#
# Usage: cgroup-v1.sh JAILER PROBE TMPDIR
# Output: "ember-test: PASS|FAIL|SKIP name [why]" lines.
set -u
JAILER=$1 PROBE=$2 T=$3
PN=$(basename "$PROBE")
BASE="$T/v1base"
V1="$T/cg v1"
CGP="ember-jail-v1-$$"
ERR="$T/v1.err"
OUT="$T/v1.probe"

ok() { echo "ember-test: PASS $1"; }
bad() { echo "ember-test: FAIL $1 ${2:-}"; }
skip_all() {
	for t in jail-v1-gosdk jail-v1-nested-inherit jail-v1-cleanup jail-v1-no-controller \
		jail-v1-none jail-v1-default-v2; do
		echo "ember-test: SKIP $t $1"
	done
	exit 0
}

mkdir -p "$V1" "$BASE"
mount -t cgroup -o cpuset cgroup "$V1" 2>"$ERR" ||
	skip_all "cannot mount a v1 cpuset hierarchy: $(head -c 200 "$ERR") (cpuset in use in v2?)"
# Every other v1 cpuset mount goes (in this namespace only).
awk '$3 == "cgroup" && $4 ~ /(^|,)cpuset(,|$)/ { print $2 }' /proc/mounts | while read -r m; do
	m=$(printf '%b' "$m")
	[ "$m" = "$V1" ] || umount "$m"
done
[ "$(awk '$3 == "cgroup" && $4 ~ /(^|,)cpuset(,|$)/' /proc/mounts | wc -l)" = 1 ] ||
	skip_all "could not make $V1 the only v1 cpuset mount"
PARENT_PREEXISTS=0
[ -d "$V1/$PN" ] && PARENT_PREEXISTS=1
cleanup() {
	local d
	for d in "$V1/$PN/gosdk" "$V1/$CGP/a/b/nest" "$V1/$CGP/a/b" "$V1/$CGP/a" "$V1/$CGP"; do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null
	done
	[ $PARENT_PREEXISTS = 0 ] && [ -d "$V1/$PN" ] && rmdir "$V1/$PN" 2>/dev/null
	umount "$V1" 2>/dev/null
}
trap cleanup EXIT

# jail_bg ID ARGS... : the jailer (which becomes the probe, same pid) in the
# background, the probe sleeping 3 s; waits until it is in its cpuset group
# (or gone) and leaves its pid in $JPID.
jail_bg() {
	local id=$1 path=$2 n
	shift 2
	"$JAILER" --id "$id" "$@" sleep 3 >"$OUT" 2>"$ERR" </dev/null &
	JPID=$!
	for n in $(seq 100); do
		grep -q ":cpuset:/$path\$" "/proc/$JPID/cgroup" 2>/dev/null && return 0
		[ -d "/proc/$JPID" ] || return 1
		sleep 0.05
	done
	return 1
}
val() { tr -d '\n' <"$1" 2>/dev/null; }

ROOT_CPUS=$(val "$V1/cpuset.cpus")
ROOT_MEMS=$(val "$V1/cpuset.mems")
# firecracker-go-sdk's jailer command line (jailer.go, JailerCommandBuilder.Args):
# its NUMA node's cpus from sysfs, no --cgroup-version, so v1 by default.
CPUS=$(val /sys/devices/system/node/node0/cpulist)
[ -n "$CPUS" ] || CPUS=$ROOT_CPUS
if jail_bg gosdk "$PN/gosdk" --uid 1234 --gid 1234 --exec-file "$PROBE" \
	--cgroup cpuset.mems=0 --cgroup "cpuset.cpus=$CPUS" --chroot-base-dir "$BASE" \
	-- --no-seccomp --api-sock /run/firecracker.socket; then
	got="$(val "$V1/$PN/gosdk/cpuset.cpus") $(val "$V1/$PN/gosdk/cpuset.mems")"
	wait "$JPID"
	rc=$?
	if [ "$got" != "$CPUS 0" ]; then
		bad jail-v1-gosdk "cpuset.cpus/mems are '$got', want '$CPUS 0'"
	elif [ $rc != 0 ]; then
		bad jail-v1-gosdk "exit $rc: $(head -c 300 "$ERR")"
	elif ! grep -qxF "argv=/$PN --id gosdk --no-seccomp --api-sock /run/firecracker.socket sleep 3" "$OUT"; then
		bad jail-v1-gosdk "probe saw: $(head -n1 "$OUT")"
	else
		ok jail-v1-gosdk
	fi
else
	wait "$JPID"
	bad jail-v1-gosdk "exit $?, never in cpuset:/$PN/gosdk: $(head -c 300 "$ERR")"
fi
rmdir "$V1/$PN/gosdk" 2>/dev/null
[ $PARENT_PREEXISTS = 0 ] && rmdir "$V1/$PN" 2>/dev/null

# Only cpuset.cpus given, three new levels: cpuset.mems of each comes from
# its parent (without it the process could not join: ENOSPC).
if jail_bg nest "$CGP/a/b/nest" --exec-file "$PROBE" --uid 1234 --gid 1234 \
	--chroot-base-dir "$BASE" --cgroup-version 1 --parent-cgroup "$CGP/a/b" \
	--cgroup "cpuset.cpus=${ROOT_CPUS%%[-,]*}" --; then
	got="$(val "$V1/$CGP/cpuset.mems") $(val "$V1/$CGP/a/b/cpuset.mems") $(val "$V1/$CGP/a/b/nest/cpuset.mems")"
	wait "$JPID"
	if [ "$got" != "$ROOT_MEMS $ROOT_MEMS $ROOT_MEMS" ]; then
		bad jail-v1-nested-inherit "cpuset.mems down the levels: '$got'"
	else
		ok jail-v1-nested-inherit
	fi
else
	wait "$JPID"
	bad jail-v1-nested-inherit "exit $?: $(head -c 300 "$ERR")"
fi
rmdir "$V1/$CGP/a/b/nest" "$V1/$CGP/a/b" "$V1/$CGP/a" "$V1/$CGP" 2>/dev/null

# A value the kernel refuses: exit 15, the message names the file (through
# the mount's real name), and every group this run made is gone.
"$JAILER" --id bad --exec-file "$PROBE" --uid 1234 --gid 1234 --chroot-base-dir "$BASE" \
	--cgroup-version 1 --parent-cgroup "$CGP/a" --cgroup cpuset.cpus=99999 \
	>"$OUT" 2>"$ERR" </dev/null
rc=$?
if [ $rc != 15 ]; then
	bad jail-v1-cleanup "exit $rc, want 15: $(head -c 300 "$ERR")"
elif ! head -n1 "$ERR" | grep -qF "ember-jailer: cgroup $V1/$CGP/a/bad/cpuset.cpus = '99999'"; then
	bad jail-v1-cleanup "message: $(head -n1 "$ERR")"
elif [ -e "$V1/$CGP" ]; then
	bad jail-v1-cleanup "$V1/$CGP left behind"
else
	ok jail-v1-cleanup
fi

"$JAILER" --id noc --exec-file "$PROBE" --uid 1234 --gid 1234 --chroot-base-dir "$BASE" \
	--cgroup-version 1 --cgroup nosuchctl.x=1 >"$OUT" 2>"$ERR" </dev/null
rc=$?
if [ $rc = 15 ] && grep -q "no hierarchy with the 'nosuchctl' controller" "$ERR"; then
	ok jail-v1-no-controller
else
	bad jail-v1-no-controller "exit $rc: $(head -n1 "$ERR")"
fi

# No v1 hierarchy at all (a v2-only host): --cgroup-version 1 fails as in
# Firecracker; without it we fall back to v2 where Firecracker would fail.
awk '$3 == "cgroup" { print $2 }' /proc/mounts | while read -r m; do
	umount "$(printf '%b' "$m")"
done
"$JAILER" --id none --exec-file "$PROBE" --uid 1234 --gid 1234 --chroot-base-dir "$BASE" \
	--cgroup-version 1 --cgroup cpuset.cpus=0 >"$OUT" 2>"$ERR" </dev/null
rc=$?
if [ $rc = 15 ] && grep -q "no cgroup v1 hierarchy in /proc/mounts" "$ERR"; then
	ok jail-v1-none
else
	bad jail-v1-none "exit $rc: $(head -n1 "$ERR")"
fi
CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
if [ -z "$CG2" ] || ! [ -w "$CG2" ]; then
	echo "ember-test: SKIP jail-v1-default-v2 no writable cgroup2 mount"
elif "$JAILER" --id dflt --exec-file "$PROBE" --uid 1234 --gid 1234 --chroot-base-dir "$BASE" \
	--parent-cgroup "$CGP" --cgroup cgroup.max.descendants=2 >"$OUT" 2>"$ERR" </dev/null; then
	got=$(val "$CG2/$CGP/dflt/cgroup.max.descendants")
	rmdir "$CG2/$CGP/dflt" "$CG2/$CGP"
	[ "$got" = 2 ] && ok jail-v1-default-v2 ||
		bad jail-v1-default-v2 "$CG2/$CGP/dflt/cgroup.max.descendants is '$got'"
else
	bad jail-v1-default-v2 "exit $?: $(head -n1 "$ERR")"
fi
