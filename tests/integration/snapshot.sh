# shellcheck shell=sh
# Snapshot tests, sourced by run.sh (its helpers and variables apply).
#
# The guest runs guest-tests/snap-counter: a counter kept only in guest
# memory, printed as EMBER_COUNT N every half second, written to the first
# disk if there is one, and a vsock echo listener on port 5000.  A restore
# is right when the restored guest's first count follows the counts the
# original printed, instead of starting over.
#
# Each ember gets its own console file: the original's in $LOG, a restored
# one's in $LOG.rN; at the end they are appended to $LOG so a failure shows
# them all.  The original's last line may be cut in the middle by the pause,
# so "where it stopped" is the last count but one.

# snap_ember LOGFILE SOCK: ember in API mode in the background; SNAP_PID.
snap_ember() {
	rm -f "$2"
	echo "+ ember --api-sock $2 (console: $1)" >>"$LOG.api"
	# shellcheck disable=SC2086 # SNAP_EMBER_ARGS: more options, split
	"$EMBER" --api-sock "$2" ${SNAP_EMBER_ARGS-} </dev/null >>"$1" 2>&1 &
	SNAP_PID=$!
	SOCK=$2
	wait_sock "$2"
}

# snap_boot [DISK] [TRACK]: the original VM, counting; waits for count 4.
# SNAP_EMBER_ARGS: more options for its ember.
# With SNAP_TAP set, eth0 is on that tap and SNAP_IP (ip=...) configures it;
# SNAP_MEM is the guest's MiB (128); SNAP_HUGE its huge_pages (hugepages.sh).
# SNAP_GUEST: the guest-tests script (snap-counter).  SNAP_PRESTART: a
# function that puts more devices before InstanceStart.
snap_boot() {
	SNAP_UDS=$LOGDIR/snap-v.sock
	rm -f "$SNAP_UDS"
	snap_ember "$LOG" "$LOGDIR/api.sock" || return 1
	API_PID=$SNAP_PID
	api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE ${SNAP_IP-}ember.test=${SNAP_GUEST:-snap-counter}\"}" &&
		api_ok 204 PUT /machine-config "{\"vcpu_count\":${SNAP_VCPUS:-1},\"mem_size_mib\":${SNAP_MEM:-128},\"track_dirty_pages\":${2:-false}${SNAP_HUGE:+,\"huge_pages\":\"$SNAP_HUGE\"}}" &&
		{ [ -z "${1-}" ] || api_ok 204 PUT /drives/data "{\"drive_id\":\"data\",\"path_on_host\":\"$1\",\"is_root_device\":false,\"is_read_only\":false}"; } &&
		{ [ -z "${SNAP_TAP-}" ] || api_ok 204 PUT /network-interfaces/eth0 "{\"iface_id\":\"eth0\",\"host_dev_name\":\"$SNAP_TAP\",\"guest_mac\":\"06:00:ac:1f:00:02\"}"; } &&
		api_ok 204 PUT /vsock "{\"guest_cid\":3,\"uds_path\":\"$SNAP_UDS\"}" &&
		{ [ -z "${SNAP_PRESTART-}" ] || "$SNAP_PRESTART"; } &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' || return 1
	wait_in "$LOG" '^EMBER_COUNT 4$' 150
}

# counts FILE: the EMBER_COUNT values of FILE's whole lines, in order.
# (The guest's tty ends lines with \r\n.)
counts() { tr -d '\r' <"$1" | sed -n 's/^EMBER_COUNT \([0-9]*\)$/\1/p'; }
# stopped_at FILE: the last count surely complete before the pause.
stopped_at() { counts "$1" | tail -n 2 | head -n 1; }

# snap_take TYPE STATE MEM: pause (if running) and snapshot.
snap_take() {
	api "GET" / && case "$BODY" in *Paused*) ;; *) api_ok 204 PATCH /vm '{"state":"Paused"}' || return 1 ;; esac
	api_ok 204 PUT /snapshot/create "{\"snapshot_type\":\"$1\",\"snapshot_path\":\"$2\",\"mem_file_path\":\"$3\"}"
}

snap_kill() {
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# snap_full: boot, count, Full snapshot into snap.state / snap.mem, kill;
# _at is where the guest stopped.
snap_full() {
	rm -f "$LOG".r*
	snap_boot || { snap_kill "$API_PID"; return 1; }
	snap_take Full "$LOGDIR/snap.state" "$LOGDIR/snap.mem" || { snap_kill "$API_PID"; return 1; }
	snap_kill "$API_PID"
	_at=$(stopped_at "$LOG")
}

# snap_load FILE SOCK STATE BACKEND PATH RESUME [EXTRA-JSON]: a new ember,
# console into FILE, loading the snapshot.
snap_load() {
	snap_ember "$1" "$2" || return 1
	api_ok 204 PUT /snapshot/load "{\"snapshot_path\":\"$3\",\"mem_backend\":{\"backend_type\":\"$4\",\"backend_path\":\"$5\"},\"resume_vm\":$6${7:+,$7}}"
}

# wait_in FILE PATTERN SECONDS
wait_in() {
	_n=0
	while ! tr -d '\r' <"$1" | grep -q -- "$2"; do
		[ "$_n" -lt "$3" ] || { fail "no '$2' in $(basename "$1") after $3 s"; return 1; }
		sleep 1
		_n=$((_n + 1))
	done
}

# continues FILE FROM: the restored guest in FILE goes on after count FROM
# (its first count is FROM+1..FROM+3, never a fresh start) and reaches FROM+4.
continues() {
	wait_in "$1" "^EMBER_COUNT $(($2 + 4))\$" 120 || return 1
	_first=$(counts "$1" | head -n 1)
	[ -n "$_first" ] && [ "$_first" -gt "$2" ] && [ "$_first" -le $(($2 + 3)) ] ||
		fail "restored guest's first count '$_first', expected just after $2"
	! grep -q EMBER_GUEST_INIT "$1" || fail "the restored guest booted again"
}

# tsc_continues FROM_FILE FILE: the guest in FILE, restored (or forked) from
# the one in FROM_FILE, has its CPU's counter back where the restore found
# it.  Each EMBER_TSC sample pairs the counter with the guest's clock
# (kvm-clock, which KVM restores apart from the counter); in one guest the
# two move together, at the rate FROM_FILE's samples show.  So the counter
# at FILE's first count, its own sample, must be where the clock says from
# FROM_FILE's last sample before that count (the source's own: it may have
# stopped before printing the one of the count just before, which the
# restored guest then prints).  More than 30 ms off fails: KVM's
# TSC sync rule set pooled fork children's counters back by 0.1-0.6 s.
# aarch64's clock is its counter: it passes there.
tsc_continues() {
	_first=$(counts "$2" | head -n 1)
	wait_in "$2" "^EMBER_TSC $_first " 60 || return 1
	_dev=$(tr -d '\r' <"$1" | awk -v at="$_first" '
		$1 == "EMBER_TSC" && NF == 4 && n0 == "" { t0 = $3; n0 = $4 }
		$1 == "EMBER_TSC" && NF == 4 && $2 < at { tp = $3; np = $4 }
		END { if (np > n0) printf "%.17g %.17g %.17g\n", (tp - t0) / (np - n0), tp, np }')
	_dev=$(tr -d '\r' <"$2" | awk -v p="$_dev" -v at="$_first" '
		BEGIN { split(p, a, " ") }
		$1 == "EMBER_TSC" && NF == 4 && $2 == at && a[1] > 0 {
			printf "%d\n", (($3 - a[2]) / a[1] - ($4 - a[3])) / 1e6 }')
	echo "ember-test: INFO ${IT_T:-?}: $(basename "$2"): TSC ${_dev:-?} ms off the clock at count $_first" >&2
	[ -n "$_dev" ] || { fail "no TSC rate from $(basename "$1") up to count $((_first - 1))"; return 1; }
	[ "$_dev" -le 30 ] && [ "$_dev" -ge -30 ] ||
		fail "$(basename "$2"): the guest's TSC is $_dev ms off its clock after the restore"
}

# vsock_echo UDS: a 64 KiB echo with the guest's listener on port 5000.
vsock_echo() {
	"$VSOCK_HOST" connect "$1" 5000 65536 >"$LOG.vsock" 2>&1
	cat "$LOG.vsock" >>"$LOG.api"
	grep -q 'HOST_OK n=65536' "$LOG.vsock" || fail "vsock echo through $1 failed"
}

snap_logs() {
	for _f in "$LOG".r*; do
		[ -e "$_f" ] || continue
		echo "=== console of the restored ember ($(basename "$_f")) ===" >>"$LOG"
		cat "$_f" >>"$LOG"
		rm -f "$_f"
	done
}

# Boot, count, pause, Full snapshot, kill; a new ember loads it (File
# backend, a new vsock uds_path, Firecracker 1.17's huge_pages "None"): the
# counter goes on, the TSC too, the disk sees the new counts, vsock
# echoes, GET / says Running and GET /vm/config shows the restored machine.
t_snap_restore() {
	_disk=$LOGDIR/snap-data.img
	mkdisk "$_disk" 1
	rm -f "$LOG".r*
	snap_boot "$_disk" && vsock_echo "$SNAP_UDS" || { snap_kill "$API_PID"; snap_logs; return 1; }
	snap_take Full "$LOGDIR/snap.state" "$LOGDIR/snap.mem" || { snap_kill "$API_PID"; return 1; }
	snap_kill "$API_PID"
	_at=$(stopped_at "$LOG")
	snap_load "$LOG.r1" "$LOGDIR/api.sock" "$LOGDIR/snap.state" File "$LOGDIR/snap.mem" true \
		"\"vsock_override\":{\"uds_path\":\"$LOGDIR/snap-v2.sock\"},\"huge_pages\":\"None\"" &&
		api_ok 200 GET / && has_body '"state":"Running"' &&
		api_ok 200 GET /vm/config && has_body '"mem_size_mib":128' && has_body 'snap-data.img' &&
		continues "$LOG.r1" "$_at" && tsc_continues "$LOG" "$LOG.r1" &&
		vsock_echo "$LOGDIR/snap-v2.sock" &&
		{ dd if="$_disk" bs=512 count=1 2>/dev/null | grep -q "EMBER_DISK_COUNT $((_at + 3))" ||
			wait_disk_count "$_disk" $((_at + 3)); }
	_r=$?
	snap_kill "$SNAP_PID"
	snap_logs
	return $_r
}

# The disk's sector 0 shows a count of at least $2 within 30 s.
wait_disk_count() {
	_n=0
	while :; do
		_c=$(dd if="$1" bs=512 count=1 2>/dev/null | sed -n 's/^EMBER_DISK_COUNT \([0-9]*\).*/\1/p')
		[ -n "$_c" ] && [ "$_c" -ge "$2" ] && return 0
		[ $_n -lt 30 ] || { fail "disk shows count '$_c', expected >= $2"; return 1; }
		sleep 1
		_n=$((_n + 1))
	done
}

# Two vCPUs, the second brought up by the guest (PSCI CPU_ON on aarch64):
# snap-counter prints every other count from the second CPU, so the
# restored guest counts on only if both vCPUs came back with their timer
# and interrupt controller state; the TSC goes on (on whichever vCPU reads
# it: the two share one offset); vsock echoes too.
t_snap_two_vcpus() {
	SNAP_VCPUS=2 snap_full || return 1
	grep -q "smp: Brought up 1 node, 2 CPUs" "$LOG" || { fail "the guest did not bring up 2 CPUs"; return 1; }
	echo "ember-test: INFO snap_two_vcpus: state file $(wc -c <"$LOGDIR/snap.state") bytes" >&2
	snap_load "$LOG.r1" "$LOGDIR/api.sock" "$LOGDIR/snap.state" File "$LOGDIR/snap.mem" true \
		"\"vsock_override\":{\"uds_path\":\"$LOGDIR/snap-v2.sock\"}" &&
		continues "$LOG.r1" "$_at" && tsc_continues "$LOG" "$LOG.r1" &&
		vsock_echo "$LOGDIR/snap-v2.sock"
	_r=$?
	snap_kill "$SNAP_PID"
	snap_logs
	return $_r
}

# resume_vm false: the restored VM stays Paused (no counts) until PATCH Resumed.
t_snap_resume_later() {
	snap_full || return 1
	snap_load "$LOG.r1" "$LOGDIR/api.sock" "$LOGDIR/snap.state" File "$LOGDIR/snap.mem" false &&
		api_ok 200 GET / && has_body '"state":"Paused"' || { snap_kill "$SNAP_PID"; snap_logs; return 1; }
	sleep 3
	_n=$(counts "$LOG.r1" | wc -l)
	api_ok 204 PATCH /vm '{"state":"Resumed"}' && api_ok 200 GET / && has_body '"state":"Running"' &&
		{ [ "$_n" = 0 ] || fail "the guest counted $_n times while paused"; } &&
		continues "$LOG.r1" "$_at"
	_r=$?
	snap_kill "$SNAP_PID"
	snap_logs
	return $_r
}

# track_dirty_pages: Full, run on, Diff.  The Diff's memory file holds far
# fewer pages; rebased onto a copy of the Full's it restores the newest state.
t_snap_diff() {
	rm -f "$LOG".r*
	snap_boot "" true || { snap_kill "$API_PID"; return 1; }
	snap_take Full "$LOGDIR/full.state" "$LOGDIR/full.mem" &&
		api_ok 204 PATCH /vm '{"state":"Resumed"}' || { snap_kill "$API_PID"; return 1; }
	_full_at=$(stopped_at "$LOG")
	wait_in "$LOG" "^EMBER_COUNT $((_full_at + 6))\$" 120 || { snap_kill "$API_PID"; return 1; }
	snap_take Diff "$LOGDIR/diff.state" "$LOGDIR/diff.mem" || { snap_kill "$API_PID"; return 1; }
	snap_kill "$API_PID"
	_at=$(stopped_at "$LOG")
	_fkb=$(du -k "$LOGDIR/full.mem" | cut -f1)
	_dkb=$(du -k "$LOGDIR/diff.mem" | cut -f1)
	echo "+ full.mem ${_fkb} KiB on disk, diff.mem ${_dkb} KiB" >>"$LOG.api"
	[ "$_dkb" -lt "$_fkb" ] || { fail "diff memory (${_dkb} KiB) not smaller than full (${_fkb} KiB)"; return 1; }
	cp "$LOGDIR/full.mem" "$LOGDIR/newest.mem" &&
		"$EMBER" rebase-mem "$LOGDIR/newest.mem" "$LOGDIR/diff.mem" >>"$LOG.api" 2>&1 ||
		{ fail "ember rebase-mem failed"; return 1; }
	snap_load "$LOG.r1" "$LOGDIR/api.sock" "$LOGDIR/diff.state" File "$LOGDIR/newest.mem" true &&
		continues "$LOG.r1" "$_at"
	_r=$?
	snap_kill "$SNAP_PID"
	snap_logs
	return $_r
}

# Ten clones of one snapshot at once, each with its own API socket and vsock
# uds_path: every one counts on from the snapshot and answers on vsock.
t_snap_clones() {
	snap_full || return 1
	_pids= _r=0
	for i in 1 2 3 4 5 6 7 8 9 10; do
		snap_load "$LOG.r$i" "$LOGDIR/clone$i.sock" "$LOGDIR/snap.state" File "$LOGDIR/snap.mem" true \
			"\"vsock_override\":{\"uds_path\":\"$LOGDIR/clone$i.vsock\"}" || _r=1
		_pids="$_pids $SNAP_PID"
		[ $_r = 0 ] || break
	done
	for i in 1 2 3 4 5 6 7 8 9 10; do
		[ $_r = 0 ] || break
		continues "$LOG.r$i" "$_at" && vsock_echo "$LOGDIR/clone$i.vsock" || _r=1
	done
	for p in $_pids; do
		kill -0 "$p" 2>/dev/null || { [ $_r = 1 ] || fail "a clone died"; _r=1; }
	done
	for p in $_pids; do snap_kill "$p"; done
	snap_logs
	return $_r
}

# rand_at FILE N: the 16 random bytes the guest in FILE drew at count N.
rand_at() { tr -d '\r' <"$1" | sed -n "s/^EMBER_RAND $2 \([0-9a-f]*\)\$/\1/p" | head -n 1; }

# Three clones of one snapshot draw different random numbers: each restore
# gives the guest a new VM generation ID and the GED's interrupt, its kernel
# reseeds (and says so: without the new ID no clone does), and the 16 bytes
# each clone reads from /dev/urandom at the same count differ.  That count
# is the second after the restore, a full sleep after it, so the reseed is
# surely done.  Without the new ID clones start from one RNG state and
# drift apart only as their kernels consume randomness differently: with
# vmgenid_restored disabled, two of three drew the same bytes at the first
# count after the restore.
t_snap_clones_random() {
	snap_full || return 1
	grep -q 'EMBER_VMGENID present' "$LOG" || { fail "the guest has no VM generation ID device"; return 1; }
	_pids= _r=0 _cnt=$((_at + 3))
	for i in 1 2 3; do
		snap_load "$LOG.r$i" "$LOGDIR/clone$i.sock" "$LOGDIR/snap.state" File "$LOGDIR/snap.mem" true \
			"\"vsock_override\":{\"uds_path\":\"$LOGDIR/clone$i.vsock\"}" || _r=1
		_pids="$_pids $SNAP_PID"
		[ $_r = 0 ] || break
	done
	_seen=
	for i in 1 2 3; do
		[ $_r = 0 ] || break
		continues "$LOG.r$i" "$_at" || { _r=1; break; }
		grep -q 'crng reseeded due to virtual machine fork' "$LOG.r$i" ||
			{ fail "clone $i's kernel did not reseed"; _r=1; break; }
		_v=$(rand_at "$LOG.r$i" "$_cnt")
		echo "+ clone $i, count $_cnt: $_v" >>"$LOG.api"
		[ ${#_v} = 32 ] || { fail "clone $i printed no random bytes at count $_cnt"; _r=1; break; }
		case " $_seen " in *" $_v "*) fail "clone $i drew the same bytes as an earlier clone: $_v"; _r=1; break ;; esac
		_seen="$_seen $_v"
	done
	for p in $_pids; do snap_kill "$p"; done
	snap_logs
	return $_r
}

# Bad snapshots are refused with a 400 naming the problem, and the same
# ember still answers and then loads a good one.
t_snap_corrupt() {
	snap_full || return 1
	_s=$LOGDIR/snap.state _bad=$LOGDIR/bad.state
	_size=$(wc -c <"$_s")
	snap_ember "$LOG.r1" "$LOGDIR/api.sock" || return 1
	_load() { api PUT /snapshot/load "{\"snapshot_path\":\"$1\",\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":\"$2\"},\"resume_vm\":true}"; }
	_refused() { # WHAT PATTERN
		[ "$STATUS" = 400 ] || { fail "$1: status $STATUS, expected 400: $BODY"; return 1; }
		has_body "$2" && api_ok 200 GET / && has_body '"state":"Not started"'
	}
	# A flipped byte in the middle: the CRC.
	cp "$_s" "$_bad" && printf '\377' | dd of="$_bad" bs=1 seek=$((_size / 2)) conv=notrunc 2>/dev/null
	_load "$_bad" "$LOGDIR/snap.mem" && _refused "flipped byte" "CRC" &&
		head -c $((_size / 3)) "$_s" >"$_bad" && _load "$_bad" "$LOGDIR/snap.mem" &&
		_refused "truncated" "fault_message" &&
		: >"$_bad" && _load "$_bad" "$LOGDIR/snap.mem" && _refused "empty" "fault_message" &&
		{ printf 'XMBERSNP'; tail -c +9 "$_s"; } >"$_bad" && _load "$_bad" "$LOGDIR/snap.mem" &&
		_refused "magic" "fault_message" &&
		head -c 1048576 "$LOGDIR/snap.mem" >"$LOGDIR/short.mem" &&
		_load "$_s" "$LOGDIR/short.mem" && _refused "short memory file" "memory file" &&
		_load "$_s" "$LOGDIR/nonexistent.mem" && _refused "missing memory file" "memory file" &&
		api_ok 204 PUT /snapshot/load "{\"snapshot_path\":\"$_s\",\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":\"$LOGDIR/snap.mem\"},\"resume_vm\":true}" &&
		continues "$LOG.r1" "$_at"
	_r=$?
	kill -0 "$SNAP_PID" 2>/dev/null || { fail "ember died"; _r=1; }
	snap_kill "$SNAP_PID"
	snap_logs
	return $_r
}

# The Uffd backend: the example handler serves the memory file's pages.
# uffd_handler_start: the example handler serving snap.mem on $_hs (pid $_hpid).
uffd_handler_start() {
	_hs=$LOGDIR/uffd.sock
	rm -f "$_hs"
	"$UFFD_HANDLER" "$_hs" "$LOGDIR/snap.mem" >>"$LOG.api" 2>&1 &
	_hpid=$!
	_n=0
	while [ ! -S "$_hs" ] && [ $_n -lt 50 ]; do sleep 0.1; _n=$((_n + 1)); done
}

t_snap_uffd() {
	snap_full || return 1
	uffd_handler_start
	snap_load "$LOG.r1" "$LOGDIR/api.sock" "$LOGDIR/snap.state" Uffd "$_hs" true &&
		continues "$LOG.r1" "$_at" && vsock_echo "$SNAP_UDS"
	_r=$?
	snap_kill "$SNAP_PID"
	kill "$_hpid" 2>/dev/null
	wait "$_hpid" 2>/dev/null
	snap_logs
	return $_r
}

# A snapshot that cannot be written (no such directory, a memory file path
# that is a directory, a full filesystem: 1 MiB of tmpfs) is a 400; the
# files are not left behind, and the VM stays Paused and resumes fine.
t_snap_create_fails() {
	rm -f "$LOG".r*
	snap_boot || { snap_kill "$API_PID"; return 1; }
	api_ok 204 PATCH /vm '{"state":"Paused"}' &&
		api PUT /snapshot/create "{\"snapshot_type\":\"Full\",\"snapshot_path\":\"$LOGDIR/nodir/s\",\"mem_file_path\":\"$LOGDIR/m.mem\"}" &&
		{ [ "$STATUS" = 400 ] || fail "no directory: status $STATUS"; } && has_body fault_message &&
		{ [ ! -e "$LOGDIR/m.mem" ] || fail "partial memory file left behind"; } &&
		mkdir -p "$LOGDIR/adir" &&
		api PUT /snapshot/create "{\"snapshot_type\":\"Full\",\"snapshot_path\":\"$LOGDIR/s2\",\"mem_file_path\":\"$LOGDIR/adir\"}" &&
		{ [ "$STATUS" = 400 ] || fail "directory as memory file: status $STATUS"; } &&
		api PUT /snapshot/create "{\"snapshot_type\":\"Diff\",\"snapshot_path\":\"$LOGDIR/s3\",\"mem_file_path\":\"$LOGDIR/m3\"}" &&
		{ [ "$STATUS" = 400 ] || fail "Diff without dirty tracking: status $STATUS"; } &&
		mkdir -p "$LOGDIR/small" && mount -t tmpfs -o size=1m tmpfs "$LOGDIR/small" &&
		api PUT /snapshot/create "{\"snapshot_type\":\"Full\",\"snapshot_path\":\"$LOGDIR/small/s4\",\"mem_file_path\":\"$LOGDIR/small/m4\"}" &&
		{ [ "$STATUS" = 400 ] || fail "full filesystem: status $STATUS"; } &&
		has_body "No space left on device" &&
		{ [ -z "$(ls -A "$LOGDIR/small")" ] || fail "left in the full filesystem: $(ls "$LOGDIR/small")"; } &&
		api_ok 200 GET / && has_body '"state":"Paused"'
	_r=$?
	umount "$LOGDIR/small" 2>/dev/null
	[ $_r = 0 ] || { snap_kill "$API_PID"; return 1; }
	_at=$(counts "$LOG" | tail -n 1)
	api_ok 204 PATCH /vm '{"state":"Resumed"}' &&
		wait_in "$LOG" "^EMBER_COUNT $((_at + 3))\$" 60
	_r=$?
	snap_kill "$API_PID"
	return $_r
}

# mktap NAME: a tap in L1 with 172.31.0.1/24, the guest being .2.
snap_mktap() {
	ip link del "$1" 2>/dev/null
	tunctl -t "$1" >/dev/null && ip addr add 172.31.0.1/24 dev "$1" && ip link set "$1" up ||
		{ fail "cannot create $1"; return 1; }
}

# A snapshot of a guest on tap-sn0, restored with network_overrides onto
# tap-sn1 (tap-sn0 is gone by then, and ember has no capability to create
# it): the restored guest counts on and answers pings through tap-sn1.
# Without the override it fails to load, with a 400.
t_snap_net_override() {
	[ "$(id -u)" = 0 ] || { fail "needs root (tap)"; return 1; }
	snap_mktap tap-sn0 || return 1
	SNAP_TAP=tap-sn0 SNAP_IP="ip=172.31.0.2::172.31.0.1:255.255.255.0::eth0:off " snap_full
	_r=$?
	ip link del tap-sn0 2>/dev/null
	[ $_r = 0 ] && snap_mktap tap-sn1 || return 1
	snap_ember "$LOG.r1" "$LOGDIR/api.sock" &&
		api PUT /snapshot/load "{\"snapshot_path\":\"$LOGDIR/snap.state\",\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":\"$LOGDIR/snap.mem\"},\"resume_vm\":true}" &&
		{ [ "$STATUS" = 400 ] || fail "load onto the missing tap-sn0: status $STATUS, expected 400"; } &&
		has_body "network interface eth0: tap tap-sn0: No such device" &&
		api_ok 204 PUT /snapshot/load "{\"snapshot_path\":\"$LOGDIR/snap.state\",\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":\"$LOGDIR/snap.mem\"},\"resume_vm\":true,\"network_overrides\":[{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap-sn1\"}]}" &&
		continues "$LOG.r1" "$_at" &&
		{ ping -c 3 -W 5 172.31.0.2 >>"$LOG.api" 2>&1 || fail "the restored guest does not answer pings on tap-sn1"; }
	_r=$?
	snap_kill "$SNAP_PID"
	ip link del tap-sn1 2>/dev/null
	snap_logs
	return $_r
}

# ups FILE: the guest's uptimes (whole seconds) in FILE, in order.
ups() { tr -d '\r' <"$1" | sed -n 's/^EMBER_UP \([0-9]*\)$/\1/p'; }

# clock_realtime: the same snapshot loaded twice, 10 s and more after it
# was taken.  Plain, the guest's clock goes on from where it stopped (its
# uptime within a few seconds of the last one before the pause); with
# clock_realtime it has moved on by the wall time in between.  KVM can
# only do that on a TSC-based host clock: elsewhere ember warns, and so
# does the test, without failing.
t_snap_clock_realtime() {
	_cs=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)
	echo "+ L1 clocksource: $_cs" >>"$LOG.api"
	snap_full || return 1
	_up0=$(ups "$LOG" | tail -n 1)
	sleep 10
	snap_load "$LOG.r1" "$LOGDIR/api.sock" "$LOGDIR/snap.state" File "$LOGDIR/snap.mem" true &&
		continues "$LOG.r1" "$_at" || { snap_kill "$SNAP_PID"; snap_logs; return 1; }
	snap_kill "$SNAP_PID"
	snap_load "$LOG.r2" "$LOGDIR/api.sock" "$LOGDIR/snap.state" File "$LOGDIR/snap.mem" true \
		'"clock_realtime":true' && continues "$LOG.r2" "$_at"
	_r=$?
	snap_kill "$SNAP_PID"
	_up1=$(ups "$LOG.r1" | head -n 1) _up2=$(ups "$LOG.r2" | head -n 1)
	echo "+ uptime before the pause ${_up0}s; restored ${_up1}s, with clock_realtime ${_up2}s" >>"$LOG.api"
	if [ $_r = 0 ]; then
		[ "$_up1" -le $((_up0 + 4)) ] ||
			{ fail "plain restore: uptime ${_up1}s, expected about ${_up0}s"; _r=1; }
		if [ "$_cs" = tsc ]; then
			[ "$_up2" -ge $((_up0 + 10)) ] ||
				{ fail "clock_realtime: uptime ${_up2}s, expected ${_up0}s + 10 s or more"; _r=1; }
		else
			grep -q 'clock_realtime: the snapshot.s host clock was not TSC-based' "$LOG.r2" ||
				{ fail "clock_realtime on a $_cs host clock without a warning"; _r=1; }
			echo "ember-test: WARN snap_clock_realtime: L1's clock is $_cs, not tsc: the jump is not tested" >&2
		fi
	fi
	snap_logs
	return $_r
}

# A guest of 3200 MiB has two memory regions: 3 GiB below the MMIO gap and
# 128 MiB at 4 GiB, where Linux puts its first allocations (memblock works
# top-down).  The memory file holds both at their offsets; sparse, it takes
# little room.  The restored guest counts on and answers on vsock.
t_snap_high_mem() {
	SNAP_MEM=3200 snap_full || return 1
	_kb=$(tr -d '\r' <"$LOG" | sed -n 's/^EMBER_GUEST_INIT .*memkb=\([0-9]*\).*/\1/p')
	_size=$(stat -c %s "$LOGDIR/snap.mem") _du=$(du -k "$LOGDIR/snap.mem" | cut -f1)
	echo "+ guest MemTotal ${_kb} kB; snap.mem ${_size} bytes, ${_du} KiB on disk" >>"$LOG.api"
	[ "${_kb:-0}" -gt 3145728 ] || { fail "guest sees ${_kb} kB, expected more than 3 GiB"; return 1; }
	[ "$_size" = $((3200 * 1048576)) ] || { fail "memory file is $_size bytes"; return 1; }
	snap_load "$LOG.r1" "$LOGDIR/api.sock" "$LOGDIR/snap.state" File "$LOGDIR/snap.mem" true \
		"\"vsock_override\":{\"uds_path\":\"$LOGDIR/snap-v2.sock\"}" &&
		continues "$LOG.r1" "$_at" && vsock_echo "$LOGDIR/snap-v2.sock"
	_r=$?
	snap_kill "$SNAP_PID"
	rm -f "$LOGDIR/snap.mem"
	snap_logs
	return $_r
}

# A restored VM cannot write a snapshot over the memory file it runs from
# (nor a link to it), nor over its own disk, nor into a FIFO: each is a 400
# that touches nothing (the memory file's checksum is unchanged) and the
# guest counts on, and a proper snapshot still works after.
t_snap_no_self_overwrite() {
	_disk=$LOGDIR/snap-data.img
	mkdisk "$_disk" 1
	rm -f "$LOG".r*
	snap_boot "$_disk" && snap_take Full "$LOGDIR/snap.state" "$LOGDIR/snap.mem" ||
		{ snap_kill "$API_PID"; return 1; }
	snap_kill "$API_PID"
	_at=$(stopped_at "$LOG")
	_sum=$(md5sum <"$LOGDIR/snap.mem")
	snap_load "$LOG.r1" "$LOGDIR/api-r1.sock" "$LOGDIR/snap.state" File "$LOGDIR/snap.mem" true ||
		{ snap_kill "$SNAP_PID"; snap_logs; return 1; }
	_pid=$SNAP_PID
	ln -sf "$LOGDIR/snap.mem" "$LOGDIR/snap-link.mem"
	ln -f "$LOGDIR/snap.mem" "$LOGDIR/snap-hard.mem"
	rm -f "$LOGDIR/snap.fifo" && mkfifo "$LOGDIR/snap.fifo"
	api_ok 204 PATCH /vm '{"state":"Paused"}' &&
		api_ok 400 PUT /snapshot/create "{\"snapshot_path\":\"$LOGDIR/snap.mem\",\"mem_file_path\":\"$LOGDIR/new.mem\"}" &&
		has_body 'a file this microVM uses' &&
		api_ok 400 PUT /snapshot/create "{\"snapshot_path\":\"$LOGDIR/new.state\",\"mem_file_path\":\"$LOGDIR/snap-link.mem\"}" &&
		api_ok 400 PUT /snapshot/create "{\"snapshot_path\":\"$LOGDIR/snap-hard.mem\",\"mem_file_path\":\"$LOGDIR/new.mem\"}" &&
		api_ok 400 PUT /snapshot/create "{\"snapshot_path\":\"$LOGDIR/new.state\",\"mem_file_path\":\"$_disk\"}" &&
		api_ok 400 PUT /snapshot/create "{\"snapshot_path\":\"$LOGDIR/snap.fifo\",\"mem_file_path\":\"$LOGDIR/new.mem\"}" &&
		has_body 'not a regular file' &&
		{ [ "$(md5sum <"$LOGDIR/snap.mem")" = "$_sum" ] || fail "the memory file changed"; } &&
		[ -p "$LOGDIR/snap.fifo" ] && [ -L "$LOGDIR/snap-link.mem" ] &&
		api_ok 204 PATCH /vm '{"state":"Resumed"}' &&
		continues "$LOG.r1" "$_at" &&
		snap_take Full "$LOGDIR/again.state" "$LOGDIR/again.mem"
	_r=$?
	snap_kill "$_pid"
	snap_logs
	rm -f "$LOGDIR/snap-link.mem" "$LOGDIR/snap-hard.mem" "$LOGDIR/snap.fifo"
	return $_r
}

# A FIFO where a file is expected never hangs ember: as the snapshot to
# load or its memory file, a 400 at once and the API goes on serving.
t_snap_load_fifo() {
	rm -f "$LOGDIR/load.fifo" "$LOGDIR/mem.fifo" && mkfifo "$LOGDIR/load.fifo" "$LOGDIR/mem.fifo"
	snap_full || return 1
	snap_ember "$LOG.r1" "$LOGDIR/api.sock" || return 1
	_t0=$(date +%s)
	api_ok 400 PUT /snapshot/load "{\"snapshot_path\":\"$LOGDIR/load.fifo\",\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":\"$LOGDIR/snap.mem\"}}" &&
		has_body 'not a regular file' &&
		api_ok 400 PUT /snapshot/load "{\"snapshot_path\":\"$LOGDIR/snap.state\",\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":\"$LOGDIR/mem.fifo\"}}" &&
		has_body 'not a regular file' &&
		api_ok 200 GET / && has_body '"state":"Not started"' &&
		{ [ $(($(date +%s) - _t0)) -le 5 ] || fail "the FIFO was waited on"; }
	_r=$?
	snap_kill "$SNAP_PID"
	snap_logs
	rm -f "$LOGDIR/load.fifo" "$LOGDIR/mem.fifo"
	return $_r
}

