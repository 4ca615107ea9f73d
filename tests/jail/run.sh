#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Host-side tests of build/ember-jailer: argument validation, the refusals
# that keep a root-run jailer from writing through planted symlinks and hard
# links, cleanup after a failure, and (as root, where the host allows mount
# namespaces and pivot_root) real jails around a static probe program
# (tests/jail/jail-probe.c) that reports what it sees from inside.
#
# Usage: tests/jail/run.sh [path/to/ember-jailer]
# Output: "ember-test: PASS|FAIL|SKIP name [why]" per test, then a summary;
# exit 0 iff nothing failed.
set -u

cd "$(dirname "$0")/../.."
JAILER=$(realpath "${1:-build/ember-jailer}")
PROBE_SRC=tests/jail/jail-probe.c

pass=0
fail=0
skip=0
ok() {
	echo "ember-test: PASS $1"
	pass=$((pass + 1))
}
bad() {
	echo "ember-test: FAIL $1 ${2:-}"
	fail=$((fail + 1))
}
skp() {
	echo "ember-test: SKIP $1 ${2:-}"
	skip=$((skip + 1))
}

if [ ! -x "$JAILER" ]; then
	echo "ember-test: FAIL setup $JAILER missing (make build/ember-jailer)"
	echo "ember-test: 0 passed, 1 failed"
	exit 1
fi

T=$(mktemp -d /tmp/ember-jail-test.XXXXXX)
CG_PARENT="ember-jail-test-$$"
CG_MOUNT=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo 2>/dev/null)
cleanup() {
	# A daemonized probe may still be sleeping: stop it by its recorded pid,
	# then the cgroups can go.
	local f
	for f in "$T"/base/*/*/root/*.pid; do
		[ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	sleep 0.2
	if [ -n "$CG_MOUNT" ] && [ -d "$CG_MOUNT/$CG_PARENT" ]; then
		for d in "$CG_MOUNT/$CG_PARENT"/*/; do
			[ -d "$d" ] && rmdir "$d" 2>/dev/null
		done
		rmdir "$CG_MOUNT/$CG_PARENT" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT

# The probe must be static: the jail holds nothing else.
PROBE="$T/bin/jail-probe"
mkdir -p "$T/bin"
if ! gcc -static -O2 -Wall -Wextra -Werror -o "$PROBE" "$PROBE_SRC" 2>"$T/gcc.err"; then
	bad build-probe "$(head -c 300 "$T/gcc.err")"
	PROBE=""
fi

BASE="$T/base"
mkdir -p "$BASE"
OUT="$T/out"
ERR="$T/err"

# run EXPECTED_RC NAME MSG_REGEX ARGS... : runs the jailer, checks exit code,
# that stderr is one "ember-jailer: " line matching MSG_REGEX (first line
# when cleanup lines follow).
run() {
	local want=$1 name=$2 re=$3 rc
	shift 3
	${RUN_TIMEOUT:+timeout "$RUN_TIMEOUT"} "$JAILER" "$@" >"$OUT" 2>"$ERR" </dev/null
	rc=$?
	if [ "$rc" != "$want" ]; then
		bad "$name" "exit $rc, want $want: $(head -c 300 "$ERR")"
		return 1
	fi
	if [ -n "$re" ] && ! head -n1 "$ERR" | grep -Eq "^ember-jailer: .*($re)"; then
		bad "$name" "message '$(head -n1 "$ERR")' does not match /$re/"
		return 1
	fi
	return 0
}
# A jail base that validation failures must leave untouched.
base_empty() { [ -z "$(ls -A "$BASE")" ]; }

# Common valid arguments (the exec file does not need to be the probe for
# argument tests; any static ELF works, the probe is one).
EXE=${PROBE:-$JAILER}
EXE_NAME=$(basename "$(realpath "$EXE")")
V=(--exec-file "$EXE" --uid 1234 --gid 1234 --chroot-base-dir "$BASE")

# ---- arguments ----------------------------------------------------------

run 1 usage-no-args "missing" && ok usage-no-args
run 1 usage-unknown-option "unknown option" --id a "${V[@]}" --frobnicate && ok usage-unknown-option
run 1 usage-missing-value "needs a value" "${V[@]}" --id && ok usage-missing-value
run 1 usage-missing-uid "--uid: missing" --id a --exec-file "$EXE" --gid 1 && ok usage-missing-uid
run 1 usage-repeated "more than once" --id a --id b "${V[@]}" && ok usage-repeated
"$JAILER" --help >"$OUT" 2>&1 && grep -q '^usage: ember-jailer' "$OUT" && ok usage-help ||
	bad usage-help "$(head -c 200 "$OUT")"

run 2 id-empty "--id ''" --id "" "${V[@]}" && base_empty && ok id-empty
run 2 id-65-chars "1 to 64" --id "$(printf 'a%.0s' $(seq 65))" "${V[@]}" && base_empty &&
	ok id-65-chars
run 2 id-slash "only letters" --id "a/b" "${V[@]}" && base_empty && ok id-slash
run 2 id-dot "only letters" --id "a.b" "${V[@]}" && base_empty && ok id-dot
run 2 id-dotdot "only letters" --id ".." "${V[@]}" && base_empty && ok id-dotdot

run 3 exec-missing "No such file" --id a --exec-file "$T/nope" --uid 1 --gid 1 \
	--chroot-base-dir "$BASE" && base_empty && ok exec-missing
run 3 exec-directory "not a regular file" --id a --exec-file "$T" --uid 1 --gid 1 \
	--chroot-base-dir "$BASE" && base_empty && ok exec-directory
echo 'echo hi' >"$T/script.sh"
chmod +x "$T/script.sh"
run 3 exec-not-elf "not a 64-bit ELF" --id a --exec-file "$T/script.sh" --uid 1 --gid 1 \
	--chroot-base-dir "$BASE" && base_empty && ok exec-not-elf
DYN=$(command -v ls)
if [ -n "$DYN" ] && file -L "$DYN" 2>/dev/null | grep -q 'dynamically linked'; then
	run 3 exec-dynamic "dynamically linked" --id a --exec-file "$DYN" --uid 1 --gid 1 \
		--chroot-base-dir "$BASE" && base_empty && ok exec-dynamic
else
	skp exec-dynamic "no dynamically linked ls found"
fi

run 4 uid-not-number "--uid 'abc'" --id a --exec-file "$EXE" --uid abc --gid 1 && ok uid-not-number
run 4 uid-negative "--uid '-1'" --id a --exec-file "$EXE" --uid -1 --gid 1 && ok uid-negative
run 4 gid-minus-one "4294967295" --id a --exec-file "$EXE" --uid 1 --gid 4294967295 &&
	ok gid-minus-one

run 6 cgroup-version-3 "must be 1 or 2" --id a "${V[@]}" --cgroup-version 3 && base_empty &&
	ok cgroup-version-3
run 6 cgroup-key-dotdot "not a cgroup file" --id a "${V[@]}" --cgroup '../x=1' && base_empty &&
	ok cgroup-key-dotdot
run 6 cgroup-key-slash "not a cgroup file" --id a "${V[@]}" --cgroup 'memory.max/x=1' &&
	ok cgroup-key-slash
run 6 cgroup-no-equals "FILE=VALUE" --id a "${V[@]}" --cgroup memory.max && ok cgroup-no-equals
run 6 cgroup-empty-value "non-empty" --id a "${V[@]}" --cgroup memory.max= && ok cgroup-empty-value
run 6 parent-cgroup-dotdot "relative path" --id a "${V[@]}" --parent-cgroup ../x &&
	ok parent-cgroup-dotdot
run 6 parent-cgroup-absolute "relative path" --id a "${V[@]}" --parent-cgroup /x &&
	ok parent-cgroup-absolute

run 7 rlimit-unknown "unknown resource" --id a "${V[@]}" --resource-limit cpu=1 &&
	ok rlimit-unknown
run 7 rlimit-not-number "not a decimal" --id a "${V[@]}" --resource-limit fsize=1k &&
	ok rlimit-not-number
run 7 rlimit-no-equals "expected fsize" --id a "${V[@]}" --resource-limit fsize && ok rlimit-no-equals

run 13 netns-missing "--netns" --id a "${V[@]}" --netns "$T/no-such-ns" && base_empty &&
	ok netns-missing

# A FIFO nobody writes to, named as the binary or the namespace: refused at
# once (a blocking open would hang the jailer; timeout's 124 fails the test).
mkfifo "$T/fifo"
RUN_TIMEOUT=20 run 3 exec-fifo "not a regular file" --id a --exec-file "$T/fifo" --uid 1 \
	--gid 1 --chroot-base-dir "$BASE" && base_empty && ok exec-fifo
RUN_TIMEOUT=20 run 13 netns-fifo "not a network namespace" --id a "${V[@]}" --netns "$T/fifo" &&
	base_empty && ok netns-fifo
RUN_TIMEOUT=20 run 13 netns-directory "not a network namespace" --id a "${V[@]}" --netns "$T" &&
	base_empty && ok netns-directory

# ---- refusals in the jail path (no root needed: the base is ours) -----------

J="$BASE/$EXE_NAME"

# The binary's destination planted as a symlink: refused, target untouched.
mkdir -p "$J/sym/root"
echo precious >"$T/target"
ln -s "$T/target" "$J/sym/root/$EXE_NAME"
if run 12 dest-symlink "exists as a symlink" --id sym "${V[@]}"; then
	if [ "$(cat "$T/target")" = precious ] && [ -L "$J/sym/root/$EXE_NAME" ]; then
		ok dest-symlink
	else
		bad dest-symlink "symlink target or link changed"
	fi
fi

# Planted as a hard link to a file elsewhere: refused, file untouched.
mkdir -p "$J/hard/root"
echo precious >"$T/victim"
if ln "$T/victim" "$J/hard/root/$EXE_NAME" 2>/dev/null; then
	if run 12 dest-hardlink "exists as a hard link" --id hard "${V[@]}"; then
		if [ "$(cat "$T/victim")" = precious ] && [ "$(stat -c %h "$T/victim")" = 2 ]; then
			ok dest-hardlink
		else
			bad dest-hardlink "victim changed"
		fi
	fi
else
	skp dest-hardlink "cannot make a hard link here (protected_hardlinks?)"
fi

# A jail is single use: an existing binary (plain file) is refused too.
mkdir -p "$J/used/root"
echo old >"$J/used/root/$EXE_NAME"
run 12 dest-exists "already exists" --id used "${V[@]}" &&
	[ "$(cat "$J/used/root/$EXE_NAME")" = old ] && ok dest-exists

# A symlinked component anywhere in <base>/<exec>/<id>/root is not followed.
mkdir -p "$T/elsewhere"
B2="$T/base2"
mkdir -p "$B2"
ln -s "$T/elsewhere" "$B2/$EXE_NAME"
if run 11 dir-symlink-exec "is a symlink" --id a --exec-file "$EXE" --uid 1 --gid 1 \
	--chroot-base-dir "$B2"; then
	[ -z "$(ls -A "$T/elsewhere")" ] && ok dir-symlink-exec ||
		bad dir-symlink-exec "something was created through the symlink"
fi
mkdir -p "$J"
ln -s "$T/elsewhere" "$J/symid"
if run 11 dir-symlink-id "is a symlink" --id symid "${V[@]}"; then
	[ -z "$(ls -A "$T/elsewhere")" ] && ok dir-symlink-id ||
		bad dir-symlink-id "something was created through the symlink"
fi
mkdir -p "$J/symroot"
ln -s "$T/elsewhere" "$J/symroot/root"
if run 11 dir-symlink-root "is a symlink" --id symroot "${V[@]}"; then
	[ -z "$(ls -A "$T/elsewhere")" ] && ok dir-symlink-root ||
		bad dir-symlink-root "something was created through the symlink"
fi

# A failure after the jail was made removes it and says so (rlimit above
# fs.nr_open fails even with CAP_SYS_RESOURCE).
if run 14 cleanup-after-rlimit "setrlimit no-file" --id late "${V[@]}" \
	--resource-limit no-file=4294967295; then
	if [ -e "$J/late" ]; then
		bad cleanup-after-rlimit "$J/late left behind"
	elif ! grep -q 'cleanup: removed' "$ERR"; then
		bad cleanup-after-rlimit "no cleanup message: $(cat "$ERR")"
	else
		ok cleanup-after-rlimit
	fi
fi
if [ -r /proc/self/ns/net ]; then
	echo notans >"$T/notns"
	if run 13 netns-not-a-namespace "not a network namespace|Operation not permitted" \
		--id nsbad "${V[@]}" --netns "$T/notns"; then
		[ ! -e "$J/nsbad" ] && ok netns-not-a-namespace ||
			bad netns-not-a-namespace "$J/nsbad left behind"
	fi
fi

# ---- real jails (root, mount namespaces, pivot_root) ------------------------

can_jail=""
if [ "$(id -u)" != 0 ]; then
	can_jail="not root"
elif [ -z "$PROBE" ]; then
	can_jail="no probe binary"
elif ! unshare --mount true 2>/dev/null; then
	can_jail="no mount namespaces here (unshare --mount failed)"
fi

# probe_run NAME ID ARGS... : jails the probe; on success $OUT holds its report.
probe_run() {
	local name=$1 id=$2
	shift 2
	"$JAILER" --id "$id" --exec-file "$PROBE" --uid 1234 --gid 1234 \
		--chroot-base-dir "$BASE" "$@" >"$OUT" 2>"$ERR" </dev/null 3</dev/null
}
want() { # want NAME KEY=VALUE... : every line present in $OUT
	local name=$1 l
	shift
	for l in "$@"; do
		if ! grep -qxF -- "$l" "$OUT"; then
			bad "$name" "missing '$l' in: $(tr '\n' '|' <"$OUT" | head -c 600)"
			return 1
		fi
	done
}

if [ -n "$can_jail" ]; then
	for t in jail-positive jail-single-use jail-rlimits jail-dev-exists jail-netns \
		jail-new-pid-ns jail-daemonize; do
		skp "$t" "$can_jail"
	done
else
	PN=$(basename "$PROBE")
	probe_run jail-positive pos -- one two
	rc=$?
	if [ $rc = 16 ]; then
		can_jail="pivot_root not possible here: $(head -n1 "$ERR")"
		skp jail-positive "$can_jail"
	elif [ $rc != 0 ]; then
		bad jail-positive "exit $rc: $(head -c 300 "$ERR")"
	else
		uffd_line="uffd=missing"
		if [ -c /dev/userfaultfd ]; then
			uffd_line="uffd=c $(printf '%d,%d' "0x$(stat -c %t /dev/userfaultfd)" \
				"0x$(stat -c %T /dev/userfaultfd)") 600 1234:1234"
		fi
		want jail-positive "argv=/$PN --id pos one two" \
			"uid=1234 euid=1234 gid=1234 egid=1234 ngroups=0" "cwd=/" \
			"kvm=c 10,232 600 1234:1234" "tun=c 10,200 600 1234:1234" "$uffd_line" \
			"nofile=2048" "env=empty" "inherited_fds=0" &&
			root_list=$(sed -n 's/^root= //p' "$OUT" | tr ' ' '\n' | sort | tr '\n' ' ') &&
			if [ "$root_list" != "dev $PN run " ]; then
				bad jail-positive "jail root shows '$root_list'"
			elif [ "$(stat -c '%a %u:%g' "$BASE/$PN/pos/root")" != "700 1234:1234" ]; then
				bad jail-positive "root dir is $(stat -c '%a %u:%g' "$BASE/$PN/pos/root")"
			elif [ "$(stat -c '%a %u' "$BASE/$PN/pos/root/$PN")" != "755 0" ]; then
				bad jail-positive "binary is $(stat -c '%a %u' "$BASE/$PN/pos/root/$PN")"
			else
				ok jail-positive
			fi
	fi
fi

if [ -z "$can_jail" ]; then
	# Used once: the same id again is refused, the jail left as it was.
	run 12 jail-single-use "already exists" --id pos --exec-file "$PROBE" --uid 1234 \
		--gid 1234 --chroot-base-dir "$BASE" && [ -e "$BASE/$PN/pos/root/dev/kvm" ] &&
		ok jail-single-use

	if probe_run jail-rlimits rl --resource-limit no-file=512 --resource-limit fsize=1048576; then
		want jail-rlimits "nofile=512" "fsize=1048576" && ok jail-rlimits
	else
		bad jail-rlimits "exit $?: $(head -c 300 "$ERR")"
	fi

	# A pre-existing /dev/kvm in a reused root: mknod refuses, after the pivot,
	# and what this run made (the binary) is removed again.
	mkdir -p "$BASE/$PN/devx/root/dev"
	echo keep >"$BASE/$PN/devx/root/dev/kvm"
	if run 17 jail-dev-exists "mknod /dev/kvm" --id devx --exec-file "$PROBE" --uid 1234 \
		--gid 1234 --chroot-base-dir "$BASE"; then
		if [ -e "$BASE/$PN/devx/root/$PN" ]; then
			bad jail-dev-exists "binary left behind"
		elif [ "$(cat "$BASE/$PN/devx/root/dev/kvm")" != keep ]; then
			bad jail-dev-exists "pre-existing file changed"
		else
			ok jail-dev-exists
		fi
	fi

	# Network namespace: a fresh one, kept by a bind mount as `ip netns` does;
	# inside it the probe sees only the loopback interface.
	touch "$T/netns"
	if ! unshare --net="$T/netns" true 2>"$T/unshare.err"; then
		skp jail-netns "cannot make a network namespace: $(head -c 200 "$T/unshare.err")"
	elif probe_run jail-netns ns --netns "$T/netns"; then
		want jail-netns "ifaces=lo" "uid=1234 euid=1234 gid=1234 egid=1234 ngroups=0" &&
			ok jail-netns
	else
		bad jail-netns "exit $?: $(head -c 300 "$ERR")"
	fi
	umount "$T/netns" 2>/dev/null

	# --new-pid-ns: the probe is pid 1 of its namespace; its host pid is recorded.
	if probe_run jail-new-pid-ns pidns --new-pid-ns; then
		pidf="$BASE/$PN/pidns/root/$PN.pid"
		if ! [ -s "$pidf" ]; then
			bad jail-new-pid-ns "no pid file $pidf"
		else
			# The jailer returns once the probe has exec'd, not once it
			# has written: wait for it (its host pid is in the file).
			hpid=$(cat "$pidf")
			for _ in $(seq 50); do
				[ -d "/proc/$hpid" ] || break
				sleep 0.1
			done
			want jail-new-pid-ns "pid=1" "uid=1234 euid=1234 gid=1234 egid=1234 ngroups=0" &&
				ok jail-new-pid-ns
		fi
	else
		bad jail-new-pid-ns "exit $?: $(head -c 300 "$ERR")"
	fi
fi

# cgroup v1 (tests/jail/cgroup-v1.sh), in a private mount namespace of its own.
if [ -n "$can_jail" ]; then
	for t in jail-v1-gosdk jail-v1-nested-inherit jail-v1-cleanup jail-v1-no-controller \
		jail-v1-none jail-v1-default-v2; do
		skp "$t" "$can_jail"
	done
else
	unshare -m --propagation private bash tests/jail/cgroup-v1.sh "$JAILER" "$PROBE" "$T" \
		>"$T/v1.out" 2>&1
	grep -q '^ember-test: ' "$T/v1.out" || bad jail-v1 "no results: $(head -c 300 "$T/v1.out")"
	while read -r _ st name why; do
		case $st in
		PASS) ok "$name" ;;
		SKIP) skp "$name" "$why" ;;
		*) bad "$name" "$why" ;;
		esac
	done < <(grep '^ember-test: ' "$T/v1.out")
fi

# cgroup v2: a setting through --cgroup is in force and the process is in the group.
cg_key=""
if [ -z "$can_jail" ] && [ -n "$CG_MOUNT" ] && [ -w "$CG_MOUNT" ]; then
	if grep -qw pids "$CG_MOUNT/cgroup.controllers" 2>/dev/null; then
		cg_key=pids.max cg_val=7
	else
		cg_key=cgroup.max.descendants cg_val=3 # core file: no controller needed
	fi
fi
if [ -n "$can_jail" ] || [ -z "$cg_key" ]; then
	skp jail-cgroup "${can_jail:-no writable cgroup2 mount}"
	skp jail-cgroup-cleanup "${can_jail:-no writable cgroup2 mount}"
else
	CGD="$CG_MOUNT/$CG_PARENT"
	if probe_run jail-cgroup cg --cgroup-version 2 --cgroup "$cg_key=$cg_val" \
		--parent-cgroup "$CG_PARENT"; then
		if [ "$(cat "$CGD/cg/$cg_key" 2>/dev/null)" != "$cg_val" ]; then
			bad jail-cgroup "$CGD/cg/$cg_key is '$(cat "$CGD/cg/$cg_key" 2>&1)'"
		else
			ok jail-cgroup
		fi
	else
		bad jail-cgroup "exit $?: $(head -c 300 "$ERR")"
	fi

	# A setting the kernel rejects: cgroup and jail removed again.
	if run 15 jail-cgroup-cleanup "Invalid argument" --id cgbad --exec-file "$PROBE" --uid 1234 \
		--gid 1234 --chroot-base-dir "$BASE" --cgroup-version 2 --cgroup "$cg_key=bogus" \
		--parent-cgroup "$CG_PARENT"; then
		if [ -e "$CGD/cgbad" ]; then
			bad jail-cgroup-cleanup "cgroup $CGD/cgbad left behind"
		elif [ -e "$BASE/$PN/cgbad" ]; then
			bad jail-cgroup-cleanup "jail left behind"
		else
			ok jail-cgroup-cleanup
		fi
	fi
fi

# --cgroup-version 2 and no --cgroup: the process joins <parent> if it exists
# (prepared by the caller), as in Firecracker, and makes nothing; a missing
# parent is no error.
if [ -n "$can_jail" ] || [ -z "$cg_key" ]; then
	skp jail-v2-join-parent "${can_jail:-no writable cgroup2 mount}"
else
	mkdir -p "$CG_MOUNT/$CG_PARENT/prepared"
	"$JAILER" --id join --exec-file "$PROBE" --uid 1234 --gid 1234 --chroot-base-dir "$BASE" \
		--cgroup-version 2 --parent-cgroup "$CG_PARENT/prepared" -- sleep 2 \
		>"$OUT" 2>"$ERR" </dev/null &
	jpid=$!
	for _ in $(seq 100); do
		grep -qx "0::/$CG_PARENT/prepared" "/proc/$jpid/cgroup" 2>/dev/null && break
		[ -d "/proc/$jpid" ] || break
		sleep 0.05
	done
	got=$(grep '^0::' "/proc/$jpid/cgroup" 2>/dev/null)
	wait "$jpid"
	rc=$?
	if [ "$got" != "0::/$CG_PARENT/prepared" ]; then
		bad jail-v2-join-parent "in '$got' (exit $rc: $(head -n1 "$ERR"))"
	elif [ -n "$(ls -d "$CG_MOUNT/$CG_PARENT/prepared"/*/ 2>/dev/null)" ]; then
		bad jail-v2-join-parent "a group was made below the parent"
	elif ! probe_run jail-v2-join-parent nojoin --cgroup-version 2 \
		--parent-cgroup "$CG_PARENT/none"; then
		bad jail-v2-join-parent "missing parent: exit $?: $(head -n1 "$ERR")"
	elif [ -e "$CG_MOUNT/$CG_PARENT/none" ]; then
		bad jail-v2-join-parent "the missing parent was made"
	else
		ok jail-v2-join-parent
	fi
	rmdir "$CG_MOUNT/$CG_PARENT/prepared"
fi

# --daemonize returns at once; the probe lives on detached, as 1234, in the
# cgroup when there is one, and its pid is recorded in the jail.
if [ -z "$can_jail" ]; then
	cg_args=()
	[ -n "$cg_key" ] &&
		cg_args=(--cgroup-version 2 --cgroup "$cg_key=$cg_val" --parent-cgroup "$CG_PARENT")
	start=$(date +%s%N)
	if probe_run jail-daemonize dmn --daemonize "${cg_args[@]}" -- out /probe.out sleep 3; then
		ms=$((($(date +%s%N) - start) / 1000000))
		pidf="$BASE/$PN/dmn/root/$PN.pid"
		pid=$(cat "$pidf" 2>/dev/null)
		if [ "$ms" -gt 2000 ]; then
			bad jail-daemonize "took ${ms} ms to return"
		elif [ -z "$pid" ] || ! [ -d "/proc/$pid" ]; then
			bad jail-daemonize "pid file '$pid' does not name a live process"
		elif ! grep -qE '^Uid:\s+1234\s+1234\s+1234\s+1234' "/proc/$pid/status"; then
			bad jail-daemonize "$(grep Uid "/proc/$pid/status")"
		elif [ -n "$cg_key" ] && ! grep -qx "0::/$CG_PARENT/dmn" "/proc/$pid/cgroup"; then
			bad jail-daemonize "not in the cgroup: $(grep '^0::' "/proc/$pid/cgroup")"
		elif [ "$(awk '{ print $6 }' "/proc/$pid/stat")" != "$pid" ]; then
			bad jail-daemonize "not a session leader"
		else
			while [ -d "/proc/$pid" ]; do sleep 0.2; done
			cp "$BASE/$PN/dmn/root/probe.out" "$OUT" 2>/dev/null
			want jail-daemonize "uid=1234 euid=1234 gid=1234 egid=1234 ngroups=0" \
				"inherited_fds=0" && ok jail-daemonize
		fi
	else
		bad jail-daemonize "exit $?: $(head -c 300 "$ERR")"
	fi
fi

echo "ember-test: $skip skipped"
echo "ember-test: $pass passed, $fail failed"
[ "$fail" = 0 ]
