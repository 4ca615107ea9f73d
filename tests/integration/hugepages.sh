# shellcheck shell=sh
# 2 MiB hugetlbfs guest RAM (machine-config huge_pages "2M", issue 18),
# sourced by run.sh; uses snapshot.sh's helpers.  L1 has no huge pages of its
# own: each test sizes the pool (as root) and puts it back.

HP=/sys/kernel/mm/hugepages/hugepages-2048kB

# hp_set N: the pool at N pages; the first call remembers what to put back.
hp_set() {
	[ -d "$HP" ] || { skip "no 2 MiB hugetlbfs pool in L1's kernel"; return 1; }
	[ -n "${HP_WAS-}" ] || HP_WAS=$(cat "$HP/nr_hugepages")
	echo "$1" >"$HP/nr_hugepages"
	[ "$(cat "$HP/nr_hugepages")" = "$1" ] || fail "nr_hugepages is $(cat "$HP/nr_hugepages"), not $1"
}
hp_restore() {
	[ -z "${HP_WAS-}" ] || echo "$HP_WAS" >"$HP/nr_hugepages"
	HP_WAS=
}
# Pages taken or promised: in use plus reserved (ember reserves at mmap).
hp_committed() {
	echo $(($(cat "$HP/nr_hugepages") - $(cat "$HP/free_hugepages") + $(cat "$HP/resv_hugepages")))
}
# kB of hugetlb pages PID has faulted in (smaps' Private_Hugetlb).
hp_faulted_kb() { awk '/^Private_Hugetlb:/ { s += $2 } END { print s + 0 }' "/proc/$1/smaps"; }

# hp_check PID WHAT: PID holds the 128 MiB guest's 64 pages, some faulted in.
hp_check() {
	_c=$(hp_committed)
	_f=$(hp_faulted_kb "$1")
	echo "+ $2: $_c huge pages committed, $_f kB hugetlb faulted in" >>"$LOG.api"
	NOTE="${NOTE:+$NOTE; }$2: $_c pages committed, $_f kB faulted"
	[ "$_c" -ge 64 ] || { fail "$2: $_c huge pages committed, expected 64"; return 1; }
	[ "$_f" -gt 0 ] || fail "$2: no hugetlb pages in ember's smaps"
}

# A 2M guest boots on reserved huge pages and counts; GET /vm/config says
# 2M; a Full snapshot records it, so a File restore is refused with
# Firecracker's message and a Uffd restore (2 MiB pages from the handler)
# continues the count on huge pages again.  Killed embers give the pool back.
t_huge_boot_snapshot() {
	hp_set 80 || return 1
	rm -f "$LOG".r*
	_r=1
	if SNAP_HUGE=2M snap_boot; then
		hp_check "$API_PID" boot &&
			api_ok 200 GET /vm/config && has_body '"huge_pages":"2M"' &&
			snap_take Full "$LOGDIR/snap.state" "$LOGDIR/snap.mem" && _r=0
	fi
	snap_kill "$API_PID"
	_at=$(stopped_at "$LOG")
	[ $_r = 0 ] && { [ "$(hp_committed)" = 0 ] || fail "pool not given back: $(hp_committed) pages"; } ||
		{ hp_restore; return 1; }
	# File: refused by name, and that ember stays up for another try.
	snap_ember "$LOG.r1" "$LOGDIR/api.sock" &&
		api PUT /snapshot/load "{\"snapshot_path\":\"$LOGDIR/snap.state\",\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":\"$LOGDIR/snap.mem\"},\"resume_vm\":true}" &&
		{ [ "$STATUS" = 400 ] || fail "File restore of a 2M snapshot: status $STATUS"; } &&
		has_body "Cannot restore hugetlbfs backed snapshot by mapping the memory file. Please use uffd." &&
		api_ok 200 GET / && has_body '"state":"Not started"'
	_r=$?
	snap_kill "$SNAP_PID"
	[ $_r = 0 ] || { snap_logs; hp_restore; return 1; }
	uffd_handler_start
	snap_load "$LOG.r2" "$LOGDIR/api.sock" "$LOGDIR/snap.state" Uffd "$_hs" true &&
		continues "$LOG.r2" "$_at" && hp_check "$SNAP_PID" restore &&
		api_ok 200 GET /vm/config && has_body '"huge_pages":"2M"'
	_r=$?
	snap_kill "$SNAP_PID"
	kill "$_hpid" 2>/dev/null
	wait "$_hpid" 2>/dev/null
	snap_logs
	hp_restore
	return $_r
}

# With fewer free huge pages than the guest needs, InstanceStart is a 400
# naming the shortage (ember reserves at mmap: no SIGBUS later), nothing
# started, and ember answers on; an odd size is refused at PUT already.
t_huge_short_pool() {
	hp_set 10 || return 1
	api_start &&
		api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE\"}" &&
		api PUT /machine-config '{"vcpu_count":1,"mem_size_mib":129,"huge_pages":"2M"}' &&
		{ [ "$STATUS" = 400 ] || fail "129 MiB on 2M pages: status $STATUS"; } &&
		has_body "not a multiple of the configured page size" &&
		api_ok 204 PUT /machine-config '{"vcpu_count":1,"mem_size_mib":128,"huge_pages":"2M"}' &&
		api PUT /actions '{"action_type":"InstanceStart"}' &&
		{ [ "$STATUS" = 400 ] || fail "InstanceStart with 10 free pages: status $STATUS"; } &&
		has_body "not enough free 2 MiB huge pages: guest memory needs 64, the host has 10 free" &&
		api_ok 200 GET / && has_body '"state":"Not started"' &&
		{ [ "$(hp_committed)" = 0 ] || fail "a refused start kept $(hp_committed) pages"; }
	_r=$?
	snap_kill "$API_PID"
	hp_restore
	return $_r
}
