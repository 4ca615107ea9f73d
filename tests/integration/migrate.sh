# shellcheck shell=sh
# Live migration tests (issue 17), sourced by run.sh; they use snapshot.sh's
# counting guest (guest-tests/snap-counter: a count kept only in guest RAM,
# a vsock echo listener on port 5000) and its helpers.  Both embers run in
# this L1: the source's console is $LOG, the destination's $LOG.r1.

# mig_dest URL [EXTRA-JSON]: a fresh ember on api2.sock receiving at URL;
# DEST_PID.  It says Migrating until the VM arrives.  Its vsock is on
# mig-v.sock unless EXTRA-JSON says otherwise (or MIG_NO_VSOCK=1: the VM
# has none): in one L1 the source still listens on its own path, which
# the destination must not take from it.
mig_dest() {
	_extra=${2:-}
	case "${MIG_NO_VSOCK:-0}$_extra" in
	1* | *vsock_override*) ;;
	*) _extra="\"vsock_override\":{\"uds_path\":\"$LOGDIR/mig-v.sock\"}${_extra:+,$_extra}" ;;
	esac
	snap_ember "$LOG.r1" "$LOGDIR/api2.sock" || return 1
	DEST_PID=$SNAP_PID
	api_ok 204 PUT /migration/receive "{\"url\":\"$1\"${_extra:+,$_extra}}" &&
		api_ok 200 GET / && has_body '"state":"Migrating"'
}

# mig_send URL [DOWNTIME]: PUT /migration/send on the source; 204 expected,
# then the source must end by itself with 0.
mig_send() {
	SOCK=$LOGDIR/api.sock
	api_ok 204 PUT /migration/send "{\"url\":\"$1\",\"max_downtime_ms\":${2:-300}}" || return 1
	api_wait_exit 30 || { fail "the source did not end after the migration"; return 1; }
	[ "$RC" = 0 ] || { fail "the source ended with $RC, expected 0"; return 1; }
	# The figures, for the report: pages, bytes, rounds, total and downtime.
	NOTE=$(tr -d '\r' <"$LOG" | sed -n 's/.*migration: sent //p' | tail -n 1)
}

# mig_follows: the destination's first count comes at most one tick after
# the source's last whole one, and it goes on counting.
mig_follows() {
	_last=$(counts "$LOG" | tail -n 1)
	wait_in "$LOG.r1" "^EMBER_COUNT $((_last + 3))\$" 60 || return 1
	_first=$(counts "$LOG.r1" | head -n 1)
	[ -n "$_first" ] && [ "$_first" -gt "$_last" ] && [ "$_first" -le $((_last + 2)) ] ||
		fail "destination's first count '$_first' after the source's last '$_last'"
	! grep -q EMBER_GUEST_INIT "$LOG.r1" || fail "the guest booted again"
}

mig_end() {
	snap_kill "$API_PID"
	snap_kill "$DEST_PID"
	snap_logs
}

# mig_live URL: boot, count, migrate while running; the count, vsock and
# GET / at the destination.
mig_live() {
	rm -f "$LOG".r*
	snap_boot || { snap_kill "$API_PID"; return 1; }
	mig_dest "$1" "\"vsock_override\":{\"uds_path\":\"$LOGDIR/mig-v.sock\"}" &&
		mig_send "$1" && SOCK=$LOGDIR/api2.sock &&
		api_ok 200 GET / && has_body '"state":"Running"' &&
		api_ok 200 GET /vm/config && has_body '"mem_size_mib":128' &&
		mig_follows && vsock_echo "$LOGDIR/mig-v.sock"
	_r=$?
	mig_end
	return $_r
}

# Over a Unix socket, the guest running: it goes on counting there.
# First a destination killed before any source came leaves its socket file
# behind: the next destination on that path takes it over (it used to fail
# with "Address already in use").
t_migrate_unix() {
	mig_dest "unix:$LOGDIR/mig.sock" || { snap_kill "$DEST_PID"; return 1; }
	snap_kill "$DEST_PID"
	[ -S "$LOGDIR/mig.sock" ] || { fail "no stale socket file to take over"; return 1; }
	mig_live "unix:$LOGDIR/mig.sock"
}

# Over TCP on the loopback.
t_migrate_tcp() {
	mig_live "tcp:127.0.0.1:47017"
}

# A paused VM arrives paused (no counts) and goes on once resumed.
t_migrate_paused() {
	rm -f "$LOG".r*
	snap_boot || { snap_kill "$API_PID"; return 1; }
	api_ok 204 PATCH /vm '{"state":"Paused"}' &&
		mig_dest "unix:$LOGDIR/mig.sock" && mig_send "unix:$LOGDIR/mig.sock" &&
		SOCK=$LOGDIR/api2.sock && api_ok 200 GET / && has_body '"state":"Paused"' &&
		sleep 3 && { [ "$(counts "$LOG.r1" | wc -l)" = 0 ] || fail "counted while paused"; } &&
		api_ok 204 PATCH /vm '{"state":"Resumed"}' && mig_follows
	_r=$?
	mig_end
	return $_r
}

# mig_failed: the source said 400 and its guest keeps counting there.
mig_failed() {
	[ "$STATUS" = 400 ] || { fail "send: status $STATUS, expected 400: $BODY"; return 1; }
	_last=$(counts "$LOG" | tail -n 1)
	SOCK=$LOGDIR/api.sock
	api_ok 200 GET / && has_body '"state":"Running"' &&
		wait_in "$LOG" "^EMBER_COUNT $((_last + 2))\$" 30 &&
		NOTE=$(tr -d '\r' <"$LOG" | sed -n 's/.*migration failed: //p' | tail -n 1)
}

# The destination refuses (its vsock_override directory does not exist, so
# the VM cannot be built there): the source answers 400 and runs on; the
# destination ends by itself, nothing run.
t_migrate_refused() {
	rm -f "$LOG".r*
	snap_boot || { snap_kill "$API_PID"; return 1; }
	mig_dest "unix:$LOGDIR/mig.sock" "\"vsock_override\":{\"uds_path\":\"$LOGDIR/no/such/dir/v.sock\"}" &&
		SOCK=$LOGDIR/api.sock && api PUT /migration/send "{\"url\":\"unix:$LOGDIR/mig.sock\"}" &&
		has_body "the destination refused" && mig_failed && _n=0 &&
		while kill -0 "$DEST_PID" 2>/dev/null && [ $_n -lt 30 ]; do sleep 1; _n=$((_n + 1)); done &&
		{ ! kill -0 "$DEST_PID" 2>/dev/null || fail "the destination did not end"; } &&
		{ [ "$(counts "$LOG.r1" | wc -l)" = 0 ] || fail "the refused guest ran"; }
	_r=$?
	mig_end
	return $_r
}

# The destination is stopped, then killed, while the source sends: 400, and
# the source's guest goes on.
t_migrate_dest_killed() {
	rm -f "$LOG".r*
	snap_boot || { snap_kill "$API_PID"; return 1; }
	mig_dest "unix:$LOGDIR/mig.sock" || { mig_end; return 1; }
	SOCK=$LOGDIR/api.sock
	(sleep 0.3 && kill -STOP "$DEST_PID" && sleep 2 && kill -9 "$DEST_PID") &
	_killer=$!
	api PUT /migration/send "{\"url\":\"unix:$LOGDIR/mig.sock\"}"
	wait "$_killer"
	mig_failed
	_r=$?
	mig_end
	return $_r
}

# A guest rewriting 32 MiB of its RAM in a loop (guest-tests/mig-dirty):
# pre-copy goes round after round; the count still follows (NOTE: figures).
t_migrate_dirty() {
	SNAP_GUEST=mig-dirty mig_live "unix:$LOGDIR/mig.sock"
}

# Hostile sources against a destination in L1 (tests/host/mig_hostile.c;
# tests/host/mig_streams.sh runs the same without KVM): each stream is
# answered with an ERR saying why, the destination ends with 2 and no VM
# runs.  built-*: a valid CONFIG first, so a VM is built ahead (KVM) and
# must be destroyed: after garbage, or when the final state is of another
# machine (it is then loaded whole, which fails: it has no vCPU state).
t_migrate_hostile() {
	for _c in garbage:'where 0 was due' replay:'frame 0: bad checksum' \
		bad-end:'frame 5: bad checksum' built-garbage:'where 2 was due' \
		built-mismatch:'.'; do
		_case=${_c%%:*} _re=${_c#*:}
		rm -f "$LOGDIR/mig.sock" "$LOG.r1"
		snap_ember "$LOG.r1" "$LOGDIR/api2.sock" &&
			api_ok 204 PUT /migration/receive "{\"url\":\"unix:$LOGDIR/mig.sock\"}" ||
			{ snap_kill "$SNAP_PID"; return 1; }
		_ans=$("$MIG_HOSTILE" "$_case" "$LOGDIR/mig.sock")
		wait "$SNAP_PID"
		_rc=$?
		cat "$LOG.r1" >>"$LOG"
		[ "$_rc" = 2 ] || { fail "$_case: the destination ended with $_rc, not 2"; return 1; }
		echo "$_ans" | grep -q "^ERR .*$_re" || { fail "$_case: answer '$_ans'"; return 1; }
		! grep -q 'migration: received .*: ok$' "$LOG.r1" || { fail "$_case: it went through"; return 1; }
		case "$_case" in
		built-*) grep -q 'the VM is built ahead (1 vCPUs, 1 MiB' "$LOG.r1" ||
			{ fail "$_case: no VM was built ahead"; return 1; } ;;
		esac
		[ "$_case" != built-mismatch ] || grep -q 'building the VM again from its final state' "$LOG.r1" ||
			{ fail "built-mismatch: the VM built ahead was not thrown away"; return 1; }
	done
}
