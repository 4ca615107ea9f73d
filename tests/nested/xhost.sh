#!/bin/sh
# The cross-host tests of live migration (issue 17), one half of each: runs
# in each of the two L1 machines tests/nested/run.sh --xhost boots at once
# (two QEMUs joined by a wire on the loopback, L1 "a" at 10.77.0.1 is the
# source host, "b" at 10.77.0.2 the destination).
#
#   xhost.sh ROLE SELF-IP PEER-IP
#
# xhost_migrate  a counting guest (snapshot.sh's snap-counter: its count
#                lives only in guest RAM) with a disk and vsock migrates
#                live from a to b over TCP: the source exits 0, b's first
#                count follows a's last with at most one tick lost, vsock
#                echoes and the disk sees the new counts at b.
# xhost_restore  disaster recovery: a Full snapshot taken on a is carried to
#                b over the L1 network (busybox tar and nc) and restored
#                there; the count goes on.
#
# Disks are not migrated (shared storage, see the README): each host makes
# the same blank data disk under the same path, as if it were shared.  The
# halves meet through small files sent with busybox nc (xh_put/xh_get);
# every exchange happens whether or not the steps before it worked, so a
# failure on one side fails that test on both and never desynchronises the
# next.  Output as the integration runner's (lib.sh): run.sh splits it.
set -u
ROLE=$1 SELF=$2 PEER=$3
IT_DIR=/ember/tests IT_LIB_ONLY=1 . /ember/tests/run.sh

XH_MIG_PORT=47017
XH_WAIT=${XH_WAIT:-300}
XH_DISK=$LOGDIR/xh-data.img

# Each host takes files on a port of its own.
xh_port() { if [ "$1" = a ]; then echo 5601; else echo 5602; fi; }
xh_peer_role() { if [ "$ROLE" = a ]; then echo b; else echo a; fi; }

# xh_get FILE: the next file the other host sends, into FILE.
xh_get() {
	rm -f "$1"
	timeout "$XH_WAIT" nc -l -p "$(xh_port "$ROLE")" -e sh -c "cat >'$1'" </dev/null
	[ -f "$1" ] || fail "nothing came from the other host ($(basename "$1"))"
}

# xh_put FILE: FILE to the other host, once it listens.
xh_put() {
	_n=0
	until nc "$PEER" "$(xh_port "$(xh_peer_role)")" <"$1" 2>/dev/null; do
		[ $_n -lt $((XH_WAIT * 5)) ] || { fail "the other host never listened"; return 1; }
		sleep 0.2
		_n=$((_n + 1))
	done
}

# xh_verdict RC: the line that tells the other host whether our steps went well.
xh_verdict() { if [ "$1" = 0 ]; then echo "XH_OK"; else echo "XH_FAILED ${WHY:-failed}"; fi; }

# xh_peer_ok FILE: the other side's steps went well (its verdict is FILE's last line).
xh_peer_ok() {
	tail -n 1 "$1" | grep -q '^XH_OK' ||
		fail "the other host: $(tail -n 1 "$1" | sed 's/^XH_FAILED //')"
}

# --- a: the source host ---------------------------------------------------------

xh_a_migrate() {
	rm -f "$LOG".r*
	mkdisk "$XH_DISK" 1 && snap_boot "$XH_DISK"
	_r=$?
	xh_get "$LOGDIR/xh.ready" && [ $_r = 0 ] && xh_peer_ok "$LOGDIR/xh.ready" &&
		mig_send "tcp:$PEER:$XH_MIG_PORT"
	_r=$?
	# The console, for b to see where the count stopped, and the verdict.
	{ tr -d '\r' <"$LOG" && xh_verdict $_r; } >"$LOGDIR/xh.console"
	xh_put "$LOGDIR/xh.console" || _r=1
	snap_kill "$API_PID"
	return $_r
}

xh_a_restore() {
	rm -f "$LOG".r* "$LOGDIR"/snap.*
	mkdisk "$XH_DISK" 1 && snap_boot "$XH_DISK" &&
		snap_take Full "$LOGDIR/snap.state" "$LOGDIR/snap.mem"
	_r=$?
	snap_kill "$API_PID"
	{ tr -d '\r' <"$LOG" && xh_verdict $_r; } >"$LOGDIR/xh-src.log"
	touch "$LOGDIR/snap.state" "$LOGDIR/snap.mem"
	tar -C "$LOGDIR" -cf "$LOGDIR/xh.tar" snap.state snap.mem xh-src.log &&
		xh_put "$LOGDIR/xh.tar" || _r=1
	echo "+ sent $(wc -c <"$LOGDIR/xh.tar") bytes of snapshot to $PEER" >>"$LOG.api"
	rm -f "$LOGDIR/xh.tar" "$LOGDIR"/snap.*
	return $_r
}

# --- b: the destination host ----------------------------------------------------

xh_b_migrate() {
	rm -f "$LOG".r*
	API_PID=
	mkdisk "$XH_DISK" 1 &&
		mig_dest "tcp:$SELF:$XH_MIG_PORT" "\"vsock_override\":{\"uds_path\":\"$LOGDIR/mig-v.sock\"}"
	_r=$?
	xh_verdict $_r >"$LOGDIR/xh.ready"
	xh_put "$LOGDIR/xh.ready" && xh_get "$LOGDIR/xh.console" && [ $_r = 0 ] &&
		cp "$LOGDIR/xh.console" "$LOG" && xh_peer_ok "$LOG" &&
		SOCK=$LOGDIR/api2.sock && api_ok 200 GET / && has_body '"state":"Running"' &&
		api_ok 200 GET /vm/config && has_body 'xh-data.img' &&
		mig_follows && vsock_echo "$LOGDIR/mig-v.sock" &&
		wait_disk_count "$XH_DISK" $((_first + 2))
	_r=$?
	NOTE=$(sed -n 's/.*migration: sent //p' "$LOG" | tail -n 1)
	mig_end
	return $_r
}

xh_b_restore() {
	rm -f "$LOG".r* "$LOGDIR"/snap.*
	mkdisk "$XH_DISK" 1 && xh_get "$LOGDIR/xh.tar" && tar -C "$LOGDIR" -xf "$LOGDIR/xh.tar" &&
		cp "$LOGDIR/xh-src.log" "$LOG" && xh_peer_ok "$LOG" && _at=$(stopped_at "$LOG") &&
		snap_load "$LOG.r1" "$LOGDIR/api.sock" "$LOGDIR/snap.state" File "$LOGDIR/snap.mem" true \
			"\"vsock_override\":{\"uds_path\":\"$LOGDIR/dr-v.sock\"}" &&
		api_ok 200 GET / && has_body '"state":"Running"' &&
		continues "$LOG.r1" "$_at" && vsock_echo "$LOGDIR/dr-v.sock" &&
		wait_disk_count "$XH_DISK" $((_at + 3))
	_r=$?
	NOTE="snapshot of $(du -k "$LOGDIR/xh.tar" 2>/dev/null | cut -f1) KiB carried over from $PEER"
	snap_kill "${SNAP_PID:-}"
	snap_logs
	rm -f "$LOGDIR/xh.tar" "$LOGDIR"/snap.*
	return $_r
}

t_xhost_migrate() { "xh_${ROLE}_migrate"; }
t_xhost_restore() { "xh_${ROLE}_restore"; }

# --- runner: each test once (a retry is a new pair of L1s, run.sh's) ------------

mkdir -p "$LOGDIR"
nfail=0
for t in xhost_migrate xhost_restore; do
	if it_run_one "$t"; then
		echo "ember-test: PASS $t ($IT_ELAPSED s)${NOTE:+: $NOTE}"
	else
		nfail=$((nfail + 1))
		echo "ember-test: FAIL $t: ${WHY:-failed}"
		it_dump_log "$t"
	fi
done
[ $nfail = 0 ]
