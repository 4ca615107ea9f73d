# shellcheck shell=sh
# Live fork (PUT /vm/fork, issue 18), sourced by run.sh; uses snapshot.sh's
# helpers and its counting guest (guest-tests/snap-counter: a count kept
# only in guest RAM, EMBER_COUNT N every half second, EMBER_RAND N with 16
# bytes of /dev/urandom, a vsock echo on port 5000).  A child is right when
# its first count follows the count the parent had at the fork instead of
# starting over.  Child i's console is $LOG.ri (appended to $LOG at the end).

# fork_children N [EXTRA-JSON-PER-CHILD]: the "children" array for N
# children, child i on $LOGDIR/fork$i.sock, console $LOG.ri, vsock
# $LOGDIR/fork$i.vsock.
fork_children() {
	_j=
	for _i in $(seq 1 "$1"); do
		rm -f "$LOG.r$_i" "$LOGDIR/fork$_i.sock" "$LOGDIR/fork$_i.vsock"
		_j="$_j${_j:+,}{\"api_sock\":\"$LOGDIR/fork$_i.sock\",\"serial_out_path\":\"$LOG.r$_i\",\"vsock_override\":{\"uds_path\":\"$LOGDIR/fork$_i.vsock\"}${2:+,$2}}"
	done
	echo "{\"children\":[$_j]}"
}

# fork_pids: the pids of running fork children, found by their fixed
# command line ("ember fork-child"), not counting process starters
# (spawn.c: "ember-starter"), should one have it.
fork_pids() {
	for _d in /proc/[0-9]*; do
		[ "$(tr '\0' ' ' 2>/dev/null <"$_d/cmdline")" = "ember fork-child " ] || continue
		[ "$(cat "$_d/comm" 2>/dev/null)" = ember-starter ] || printf '%s ' "${_d#/proc/}"
	done
}

fork_cleanup() {
	for _p in $(fork_pids); do kill -9 "$_p" 2>/dev/null; done
	snap_kill "$API_PID"
	SOCK=$LOGDIR/api.sock
	snap_logs
}

# child_api I: point the api helpers at child I.
child_api() { SOCK=$LOGDIR/fork$1.sock; }

# counts_on FILE: the guest with console FILE counts 2 more, and the
# ember on $SOCK answers Running.
counts_on() {
	_c=$(counts "$1" | tail -n 1)
	wait_in "$1" "^EMBER_COUNT $((_c + 2))\$" 60 && api_ok 200 GET / && has_body '"state":"Running"'
}

# Fork a running guest into 3: each child continues the parent's count (no
# reboot) with its TSC where the parent's was, prints to its own console,
# answers GET / as Running on its own socket, echoes on its own vsock and,
# with a new VM generation ID, reseeds its RNG: the 16 bytes the three draw
# at one count all differ.  The parent runs on, still Running, its count
# going on.
t_fork_three() {
	rm -f "$LOG".r*
	snap_boot || { fork_cleanup; return 1; }
	grep -q 'EMBER_VMGENID present' "$LOG" || { fail "the guest has no VM generation ID device"; fork_cleanup; return 1; }
	_b=$(counts "$LOG" | tail -n 1)
	api_ok 204 PUT /vm/fork "$(fork_children 3)" || { fork_cleanup; return 1; }
	_a=$(counts "$LOG" | tail -n 1)
	echo "+ parent count before the fork $_b, after $_a; children: $(fork_pids)" >>"$LOG.api"
	_r=0 _seen= _cnt=$((_b + 4))
	api_ok 200 GET / && has_body '"state":"Running"' || _r=1
	for i in 1 2 3; do
		[ $_r = 0 ] || break
		child_api "$i"
		api_ok 200 GET / && has_body '"state":"Running"' &&
			api_ok 200 GET /vm/config && has_body '"mem_size_mib":128' &&
			continues "$LOG.r$i" "$_b" && tsc_continues "$LOG" "$LOG.r$i" &&
				vsock_echo "$LOGDIR/fork$i.vsock" || { _r=1; break; }
		grep -q 'crng reseeded due to virtual machine fork' "$LOG.r$i" ||
			{ fail "child $i's kernel did not reseed"; _r=1; break; }
		wait_in "$LOG.r$i" "^EMBER_RAND $_cnt " 60 || { _r=1; break; }
		_seen="$_seen $(rand_at "$LOG.r$i" "$_cnt")"
	done
	# Three values of 32 hex digits, none twice.
	echo "+ the children's random bytes at count $_cnt:$_seen" >>"$LOG.api"
	[ $_r = 1 ] || [ "$(echo $_seen | tr ' ' '\n' | grep -c '^[0-9a-f]\{32\}$')" = 3 ] ||
		{ fail "not three children's random bytes at count $_cnt:$_seen"; _r=1; }
	[ $_r = 1 ] || [ -z "$(echo $_seen | tr ' ' '\n' | sort | uniq -d)" ] ||
		{ fail "children drew the same random bytes:$_seen"; _r=1; }
	SOCK=$LOGDIR/api.sock
	[ $_r = 1 ] || { wait_in "$LOG" "^EMBER_COUNT $((_a + 4))\$" 60 && vsock_echo "$SNAP_UDS" &&
		api_ok 200 GET / && has_body '"state":"Running"'; } || _r=1
	[ $_r = 1 ] || [ "$(echo $(fork_pids) | wc -w)" = 3 ] || { fail "not 3 children running: $(fork_pids)"; _r=1; }
	fork_cleanup
	return $_r
}

# wait_gone PID SECONDS: PID has exited (a zombie has: nobody may reap it).
wait_gone() {
	_n=0
	while [ -e "/proc/$1" ] && [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)" != Z ]; do
		[ $_n -lt $(($2 * 10)) ] || return 1
		sleep 0.1
		_n=$((_n + 1))
	done
}

# nthreads PID: how many threads PID has (a fork child waiting in the pool
# has one; one that runs a VM has its vCPU, API and other threads too).
nthreads() { ls "/proc/$1/task" 2>/dev/null | wc -l; }
# fork_running, fork_waiting: fork_pids running a VM (more than one
# thread), and those waiting in a pool (one); a pid a line.
fork_running() { for _p in $(fork_pids); do [ "$(nthreads "$_p")" -gt 1 ] && echo "$_p"; done; }
fork_waiting() { for _p in $(fork_pids); do [ "$(nthreads "$_p")" = 1 ] && echo "$_p"; done; }
# policies PID: its threads' scheduling policies, each once (0 ordinary,
# 3 SCHED_BATCH: a child until it runs, vmm/fork_child.c).
policies() {
	for _t in /proc/"$1"/task/*/stat; do sed 's/.*) //' "$_t" | awk '{ print $39 }'; done |
		sort -u | tr '\n' ' '
}

# made_ahead PID: that waiting child has mapped the parent's RAM and, on
# x86, made its vCPU, as told once the parent's VM exists (vmm/fork.c:
# pool_tell); waits for it up to 10 s (a child refilled after a fork starts
# as the test looks).
made_ahead() {
	_i=0
	while [ $_i -lt 20 ]; do
		grep -q 'memfd:ember-ram' "/proc/$1/maps" 2>/dev/null &&
			{ [ "$(uname -m)" != x86_64 ] || ls -l "/proc/$1/fd" 2>/dev/null | grep -q 'kvm-vcpu:0$'; } &&
			return 0
		sleep 0.5
		_i=$((_i + 1))
	done
	fail "waiting child $1 has not made its VM ahead: $(grep -c ember-ram "/proc/$1/maps" 2>/dev/null) RAM mappings, $(ls -l "/proc/$1/fd" 2>/dev/null | grep -c kvm-vcpu) vCPUs"
	return 1
}

# --fork-pool 3: three children wait, started, before any fork, each with
# the parent's RAM mapped and its vCPU made.  One of them is killed; a fork
# into 3 then uses the other two (each now runs a VM: more than one thread,
# and says it took what it made ahead, the vsock's three queue notifiers
# too) and one new child, and every child continues the count, with its
# TSC where the parent's was (tsc_continues: a vCPU made seconds before
# the fork once got KVM's sync rule and a TSC set back), and echoes on its
# vsock (its kicks come through those notifiers).  After the fork the pool
# is full again (three children waiting, one thread each, each with its VM
# made ahead), the parent counts on, and a second fork takes a child from
# the refilled pool: it continues the parent's count of then, from pages
# the parent wrote since the first fork.  Waiting
# children are SCHED_BATCH, running ones ordinary in every thread.  Once
# the parent is gone its waiting children leave too while the forked ones
# count on.
t_fork_pool() {
	rm -f "$LOG".r*
	SNAP_EMBER_ARGS="--fork-pool 3" snap_boot || { fork_cleanup; return 1; }
	_pool=$(fork_pids)
	echo "+ pooled before the fork: $_pool" >>"$LOG.api"
	[ "$(echo $_pool | wc -w)" = 3 ] || { fail "not 3 pooled children: $_pool"; fork_cleanup; return 1; }
	for _p in $_pool; do made_ahead "$_p" || { fork_cleanup; return 1; }; done
	_dead=${_pool%% *}
	kill -9 "$_dead"
	_b=$(counts "$LOG" | tail -n 1)
	api_ok 204 PUT /vm/fork "$(fork_children 3)" || { fork_cleanup; return 1; }
	_r=0
	for i in 1 2 3; do
		child_api "$i"
		continues "$LOG.r$i" "$_b" && tsc_continues "$LOG" "$LOG.r$i" && counts_on "$LOG.r$i" &&
			vsock_echo "$LOGDIR/fork$i.vsock" ||
			{ _r=1; break; }
	done
	for _p in ${_pool#* }; do
		[ $_r = 1 ] || [ "$(nthreads "$_p")" -gt 1 ] ||
			{ fail "pooled child $_p is not running a VM ($(nthreads "$_p") thread)"; _r=1; }
	done
	_busy=$(echo $(fork_running)) _idle=$(echo $(fork_waiting))
	echo "+ after the fork: running $_busy, waiting $_idle" >>"$LOG.api"
	[ $_r = 1 ] || { [ "$(echo $_busy | wc -w)" = 3 ] && [ "$(echo $_idle | wc -w)" = 3 ]; } ||
		{ fail "not 3 children running and 3 waiting: $_busy / $_idle"; _r=1; }
	_took=$(grep -c 'VM made ahead: [0-9]* vCPUs, 1 RAM regions, 3 queue notifiers' "$LOG")
	[ $_r = 1 ] || [ "$_took" = 2 ] || { fail "$_took children took a VM made ahead, not 2"; _r=1; }
	for _p in $_idle; do
		[ $_r = 1 ] || made_ahead "$_p" || _r=1
	done
	for _p in $_busy; do
		[ $_r = 1 ] || [ "$(policies "$_p")" = "0 " ] ||
			{ fail "running child $_p has threads not ordinary: policies $(policies "$_p")"; _r=1; }
	done
	for _p in $_idle; do
		[ $_r = 1 ] || [ "$(policies "$_p")" = "3 " ] ||
			{ fail "waiting child $_p is not SCHED_BATCH: policy $(policies "$_p")"; _r=1; }
	done
	# The parent counts on, and the refilled pool serves a second fork,
	# whose child continues the count the parent has now: pages the parent
	# wrote after the first fork, sent on top of the frozen base.
	SOCK=$LOGDIR/api.sock
	[ $_r = 1 ] || counts_on "$LOG" || _r=1
	_c=$(counts "$LOG" | tail -n 1)
	rm -f "$LOGDIR/fork4.sock" "$LOGDIR/fork4.vsock"
	[ $_r = 1 ] || { api_ok 204 PUT /vm/fork "{\"children\":[{\"api_sock\":\"$LOGDIR/fork4.sock\",\"serial_out_path\":\"$LOG.r4\",\"vsock_override\":{\"uds_path\":\"$LOGDIR/fork4.vsock\"}}]}" &&
		continues "$LOG.r4" "$_c" && tsc_continues "$LOG" "$LOG.r4"; } || _r=1
	_took=$(grep -c 'VM made ahead: [0-9]* vCPUs, 1 RAM regions, 3 queue notifiers' "$LOG")
	[ $_r = 1 ] || [ "$_took" = 3 ] || { fail "$_took children took a VM made ahead after two forks, not 3"; _r=1; }
	[ $_r = 1 ] || grep -q 'fork: 1 children in [0-9]* us ([1-9][0-9]* pages of our own sent to each)' "$LOG" ||
		{ fail "the second fork sent its child none of the parent's own pages"; _r=1; }
	_idle=$(echo $(fork_waiting))
	snap_kill "$API_PID"
	for _p in $_idle; do
		[ $_r = 1 ] || wait_gone "$_p" 10 || { fail "waiting child $_p outlived its parent"; _r=1; }
	done
	[ $_r = 1 ] || { child_api 2 && counts_on "$LOG.r2"; } || _r=1
	fork_cleanup
	return $_r
}

# A paused VM forks: parent and child stay Paused (no count moves).  The
# parent resumes first and counts on for some seconds; then the child
# resumes on its own API and continues where the parent stopped at the
# fork: nothing the parent wrote since reached the child's memory (the
# count lives in a page the paused child never wrote, so it reads the
# memfd the parent's RAM was mapped from, frozen by the fork).
t_fork_paused() {
	rm -f "$LOG".r*
	snap_boot && api_ok 204 PATCH /vm '{"state":"Paused"}' || { fork_cleanup; return 1; }
	sleep 1
	_at=$(stopped_at "$LOG") _last=$(counts "$LOG" | tail -n 1)
	api_ok 204 PUT /vm/fork "$(fork_children 1)" && api_ok 200 GET / && has_body '"state":"Paused"' &&
		child_api 1 && api_ok 200 GET / && has_body '"state":"Paused"' || { fork_cleanup; return 1; }
	sleep 3
	_r=0
	[ -z "$(counts "$LOG.r1")" ] || { fail "the paused child counted: $(counts "$LOG.r1" | head -n 1)"; _r=1; }
	[ "$(counts "$LOG" | tail -n 1)" = "$_last" ] || { fail "the paused parent counted on"; _r=1; }
	SOCK=$LOGDIR/api.sock
	[ $_r = 1 ] || { api_ok 204 PATCH /vm '{"state":"Resumed"}' &&
		wait_in "$LOG" "^EMBER_COUNT $((_last + 8))\$" 60; } || _r=1
	child_api 1
	[ $_r = 1 ] || { api_ok 204 PATCH /vm '{"state":"Resumed"}' && api_ok 200 GET / &&
		has_body '"state":"Running"' && continues "$LOG.r1" "$_at"; } || _r=1
	fork_cleanup
	return $_r
}

# Per-child overrides: the parent's eth0 is on tap-fk0, the child's on
# tap-fk1 (network_overrides) and its vsock on its own uds_path.  With
# tap-fk0 taken down, the guest's address answers pings through tap-fk1:
# the child's; both vsock paths echo.
t_fork_net_vsock() {
	[ "$(id -u)" = 0 ] || { fail "needs root (tap)"; return 1; }
	rm -f "$LOG".r*
	snap_mktap tap-fk0 && snap_mktap tap-fk1 || return 1
	ip addr del 172.31.0.1/24 dev tap-fk1
	SNAP_TAP=tap-fk0 SNAP_IP="ip=172.31.0.2::172.31.0.1:255.255.255.0::eth0:off " snap_boot &&
		api_ok 204 PUT /vm/fork "$(fork_children 1 '"network_overrides":[{"iface_id":"eth0","host_dev_name":"tap-fk1"}]')"
	_r=$?
	[ $_r = 1 ] || wait_in "$LOG.r1" '^EMBER_COUNT ' 60 || _r=1
	if [ $_r = 0 ]; then
		ip link set tap-fk0 down && ip addr del 172.31.0.1/24 dev tap-fk0 &&
			ip addr add 172.31.0.1/24 dev tap-fk1 || { fail "cannot move the address to tap-fk1"; _r=1; }
	fi
	[ $_r = 1 ] || { ping -c 3 -W 5 172.31.0.2 >>"$LOG.api" 2>&1 || { fail "the child does not answer pings on tap-fk1"; false; }; } || _r=1
	[ $_r = 1 ] || { vsock_echo "$LOGDIR/fork1.vsock" && vsock_echo "$SNAP_UDS"; } || _r=1
	[ $_r = 1 ] || { child_api 1 && api_ok 200 GET /vm/config && has_body '"host_dev_name":"tap-fk1"'; } || _r=1
	fork_cleanup
	ip link del tap-fk0 2>/dev/null
	ip link del tap-fk1 2>/dev/null
	return $_r
}

# fork_refused JSON NEEDLE [N]: a 400 whose fault_message has NEEDLE, N (0)
# fork children running after it, the parent Running.
fork_refused() {
	api PUT /vm/fork "$1"
	[ "$STATUS" = 400 ] || { fail "fork $1: status $STATUS, expected 400"; return 1; }
	has_body "$2" || return 1
	sleep 1
	[ "$(echo $(fork_pids) | wc -w)" = "${3:-0}" ] ||
		{ fail "not ${3:-0} fork children after a refused fork: $(fork_pids)"; return 1; }
	api_ok 200 GET / && has_body '"state":"Running"'
}

# Bad requests are refused with a 400, before the start too, and leave no
# child behind; the parent counts on through all of them and forks fine
# afterwards.  Children that fail to start (a socket in a missing
# directory, the parent's own socket, an interface the VM does not have)
# make the whole fork fail, the children already built exit
# without having run.
t_fork_bad() {
	rm -f "$LOG".r*
	SNAP_UDS=$LOGDIR/snap-v.sock
	snap_ember "$LOG" "$LOGDIR/api.sock" || return 1
	API_PID=$SNAP_PID
	api PUT /vm/fork "$(fork_children 1)"
	[ "$STATUS" = 400 ] && has_body 'running or paused' || { fail "fork before the start: $STATUS $BODY"; snap_kill "$API_PID"; return 1; }
	snap_kill "$API_PID"
	snap_boot || { fork_cleanup; return 1; }
	_many=$(fork_children 17)
	_ok1="{\"api_sock\":\"$LOGDIR/fork1.sock\",\"serial_out_path\":\"$LOG.r1\",\"vsock_override\":{\"uds_path\":\"$LOGDIR/fork1.vsock\"}}"
	fork_refused '{}' 'children' &&
		fork_refused '{"children":[]}' '1 to 16' &&
		fork_refused "$_many" '1 to 16' &&
		fork_refused "{\"children\":[$_ok1,$_ok1]}" 'same api_sock' &&
		fork_refused "{\"children\":[{\"api_sock\":\"$LOGDIR/nodir/c.sock\",\"vsock_override\":{\"uds_path\":\"$LOGDIR/fork1.vsock\"}}]}" 'child 0' &&
		fork_refused "{\"children\":[$_ok1,{\"api_sock\":\"$LOGDIR/api.sock\",\"vsock_override\":{\"uds_path\":\"$LOGDIR/fork2.vsock\"}}]}" 'child 1' &&
		fork_refused "{\"children\":[{\"api_sock\":\"$LOGDIR/fork1.sock\"}]}" 'vsock_override' &&
		fork_refused "$(fork_children 1 '"network_overrides":[{"iface_id":"eth0","host_dev_name":"tap-none"}]')" 'child 0'
	_r=$?
	_c=$(counts "$LOG" | tail -n 1)
	[ $_r = 1 ] || wait_in "$LOG" "^EMBER_COUNT $((_c + 2))\$" 60 || _r=1
	_c=$(counts "$LOG" | tail -n 1)
	[ $_r = 1 ] || { api_ok 204 PUT /vm/fork "$(fork_children 1)" && continues "$LOG.r1" "$_c"; } || _r=1
	fork_cleanup
	return $_r
}

# A parent forks twice: the second fork's child continues the count the
# parent had then, which lives in pages the parent wrote after the first
# fork (sent to the child on top of the frozen base, fork_pages.c), and
# the first child runs on.  Then that first child (itself a restored VM:
# its memory is the frozen base plus its own pages) forks in turn: the
# grandchild continues the child's count, from the child's own pages.
t_fork_twice() {
	rm -f "$LOG".r*
	snap_boot && api_ok 204 PUT /vm/fork "$(fork_children 1)" || { fork_cleanup; return 1; }
	_c=$(counts "$LOG" | tail -n 1)
	wait_in "$LOG" "^EMBER_COUNT $((_c + 6))\$" 60 || { fork_cleanup; return 1; }
	_b=$(counts "$LOG" | tail -n 1)
	rm -f "$LOG.r2" "$LOGDIR/fork2.sock" "$LOGDIR/fork2.vsock" "$LOG.r9" "$LOGDIR/fork9.sock" "$LOGDIR/fork9.vsock"
	_r=0
	api_ok 204 PUT /vm/fork "{\"children\":[{\"api_sock\":\"$LOGDIR/fork2.sock\",\"serial_out_path\":\"$LOG.r2\",\"vsock_override\":{\"uds_path\":\"$LOGDIR/fork2.vsock\"}}]}" &&
		continues "$LOG.r2" "$_b" && vsock_echo "$LOGDIR/fork2.vsock" || _r=1
	_c1=$(counts "$LOG.r1" | tail -n 1)
	[ $_r = 1 ] || wait_in "$LOG.r1" "^EMBER_COUNT $((_c1 + 2))\$" 60 || _r=1
	_c1=$(counts "$LOG.r1" | tail -n 1)
	[ $_r = 1 ] || { child_api 1 && api_ok 204 PUT /vm/fork "{\"children\":[{\"api_sock\":\"$LOGDIR/fork9.sock\",\"serial_out_path\":\"$LOG.r9\",\"vsock_override\":{\"uds_path\":\"$LOGDIR/fork9.vsock\"}}]}" &&
		continues "$LOG.r9" "$_c1" && vsock_echo "$LOGDIR/fork9.vsock"; } || _r=1
	SOCK=$LOGDIR/api.sock
	[ $_r = 1 ] || [ "$(echo $(fork_pids) | wc -w)" = 3 ] || { fail "not 3 children running: $(fork_pids)"; _r=1; }
	fork_cleanup
	return $_r
}

# A VM restored from a Full snapshot (File backend: its RAM is the memory
# file mapped privately plus the pages it wrote since) forks into 2: each
# child continues the count the restored VM had, from the pages it wrote
# after the restore (fork_pages.c), and the restored VM counts on.  A VM
# restored with the Uffd backend (anonymous RAM, nothing to share) is
# refused with the reason.
t_fork_restored() {
	snap_full || return 1
	_r=0
	snap_load "$LOG.r0" "$LOGDIR/api.sock" "$LOGDIR/snap.state" File "$LOGDIR/snap.mem" true &&
		continues "$LOG.r0" "$_at" || _r=1
	API_PID=$SNAP_PID
	_c=$(counts "$LOG.r0" | tail -n 1)
	[ $_r = 1 ] || wait_in "$LOG.r0" "^EMBER_COUNT $((_c + 4))\$" 60 || _r=1
	_b=$(counts "$LOG.r0" | tail -n 1)
	[ $_r = 1 ] || api_ok 204 PUT /vm/fork "$(fork_children 2)" || _r=1
	for i in 1 2; do
		[ $_r = 0 ] || break
		child_api "$i"
		api_ok 200 GET / && has_body '"state":"Running"' && continues "$LOG.r$i" "$_b" ||
			_r=1
	done
	SOCK=$LOGDIR/api.sock
	[ $_r = 1 ] || counts_on "$LOG.r0" || _r=1
	fork_cleanup
	[ $_r = 0 ] || return 1
	uffd_handler_start
	snap_load "$LOG.r3" "$LOGDIR/api.sock" "$LOGDIR/snap.state" Uffd "$_hs" true &&
		continues "$LOG.r3" "$_at" || _r=1
	API_PID=$SNAP_PID
	[ $_r = 1 ] || fork_refused "$(fork_children 1)" 'Uffd backend' || _r=1
	fork_cleanup
	kill "$_hpid" 2>/dev/null
	wait "$_hpid" 2>/dev/null
	return $_r
}

# A VM that arrived by live migration forks: its RAM is the memfd the
# destination received the pages into (migrate_recv.c), mapped privately
# as a restore maps its memory file, and that memfd is what it hands its
# child.  The child continues the count the migrated VM had at the fork
# and echoes on its own vsock; the migrated VM counts on.  (The
# destination's console is $LOG.r1, so the child is number 5.)
t_fork_migrated() {
	rm -f "$LOG".r* "$LOGDIR/fork5.sock" "$LOGDIR/fork5.vsock"
	snap_boot || { snap_kill "$API_PID"; return 1; }
	_r=0
	mig_dest "unix:$LOGDIR/mig.sock" && mig_send "unix:$LOGDIR/mig.sock" && mig_follows || _r=1
	SOCK=$LOGDIR/api2.sock
	_b=$(counts "$LOG.r1" | tail -n 1)
	[ $_r = 1 ] || api_ok 204 PUT /vm/fork "{\"children\":[{\"api_sock\":\"$LOGDIR/fork5.sock\",\"serial_out_path\":\"$LOG.r5\",\"vsock_override\":{\"uds_path\":\"$LOGDIR/fork5.vsock\"}}]}" || _r=1
	[ $_r = 1 ] || { continues "$LOG.r5" "$_b" && vsock_echo "$LOGDIR/fork5.vsock"; } || _r=1
	[ $_r = 1 ] || { SOCK=$LOGDIR/fork5.sock && api_ok 200 GET / && has_body '"state":"Running"'; } || _r=1
	SOCK=$LOGDIR/api2.sock
	[ $_r = 1 ] || counts_on "$LOG.r1" || _r=1
	snap_kill "$DEST_PID"
	fork_cleanup
	return $_r
}

# 2 MiB huge-page RAM forks: the parent's RAM is a hugetlbfs memfd, the
# child maps it privately and continues the count, its copies on write on
# huge pages (Private_Hugetlb in its smaps).  Every private mapping
# reserves its pages in the pool, the parent's after the fork too (64 each
# for 128 MiB).  With 130 pages the child fits but the parent's own copies
# do not: refused before the parent's RAM changed, no child left, the
# parent counts on.  With 200, a fork into 1 works, and a second fork of 2
# children finds 8 free and is refused with the reason while parent and
# child count on.
t_fork_huge() {
	hp_set 130 || return 1
	rm -f "$LOG".r*
	SNAP_HUGE=2M snap_boot || { fork_cleanup; hp_restore; return 1; }
	fork_refused "$(fork_children 1)" 'copies of its memory after the fork' &&
		counts_on "$LOG" && hp_set 200 || { fork_cleanup; hp_restore; return 1; }
	_b=$(counts "$LOG" | tail -n 1)
	_r=0
	api_ok 204 PUT /vm/fork "$(fork_children 1)" && continues "$LOG.r1" "$_b" || _r=1
	_kid=$(fork_pids)
	[ $_r = 1 ] || { child_api 1 && api_ok 200 GET /vm/config && has_body '"huge_pages":"2M"'; } || _r=1
	SOCK=$LOGDIR/api.sock
	[ $_r = 1 ] || { _f=$(hp_faulted_kb $_kid); echo "+ child $_kid: $_f kB private hugetlb, $(hp_committed) pages committed" >>"$LOG.api"; [ "$_f" -gt 0 ]; } ||
		{ fail "the child has no private huge pages"; _r=1; }
	[ $_r = 1 ] || { [ "$(hp_committed)" -ge 192 ] || { fail "$(hp_committed) huge pages committed, expected 192"; _r=1; }; }
	_two=
	for i in 3 4; do
		rm -f "$LOGDIR/fork$i.sock" "$LOGDIR/fork$i.vsock"
		_two="$_two${_two:+,}{\"api_sock\":\"$LOGDIR/fork$i.sock\",\"serial_out_path\":\"$LOG.r$i\",\"vsock_override\":{\"uds_path\":\"$LOGDIR/fork$i.vsock\"}}"
	done
	[ $_r = 1 ] || fork_refused "{\"children\":[$_two]}" 'huge pages' 1 || _r=1
	_c=$(counts "$LOG" | tail -n 1)
	_c1=$(counts "$LOG.r1" | tail -n 1)
	[ $_r = 1 ] || { wait_in "$LOG" "^EMBER_COUNT $((_c + 2))\$" 60 && wait_in "$LOG.r1" "^EMBER_COUNT $((_c1 + 2))\$" 60; } || _r=1
	fork_cleanup
	hp_restore
	return $_r
}

# A pooled child of a 2 MiB huge-page parent makes its vCPU ahead (x86) but
# not its RAM: a private map of hugetlbfs reserves its pages, 64 that a
# waiting child would hold for nothing.  At the fork it takes the vCPU
# ("VM made ahead: 1 vCPUs, 0 RAM regions"), maps the parent's RAM and
# continues the count, its TSC where the parent's was and its copies on
# write on huge pages.
t_fork_huge_pool() {
	hp_set 200 || return 1
	rm -f "$LOG".r*
	SNAP_HUGE=2M SNAP_EMBER_ARGS="--fork-pool 1" snap_boot || { fork_cleanup; hp_restore; return 1; }
	_kid=$(fork_pids)
	_b=$(counts "$LOG" | tail -n 1)
	_r=0
	[ "$(echo $_kid | wc -w)" = 1 ] || { fail "not 1 pooled child: $_kid"; _r=1; }
	[ $_r = 1 ] || { api_ok 204 PUT /vm/fork "$(fork_children 1)" && continues "$LOG.r1" "$_b" &&
		tsc_continues "$LOG" "$LOG.r1"; } || _r=1
	[ $_r = 1 ] || [ "$(uname -m)" != x86_64 ] || grep -q 'VM made ahead: 1 vCPUs, 0 RAM regions' "$LOG" ||
		{ fail "the pooled child did not take its vCPU made ahead"; _r=1; }
	[ $_r = 1 ] || [ "$(hp_faulted_kb $_kid)" -gt 0 ] || { fail "the pooled child $_kid has no private huge pages"; _r=1; }
	fork_cleanup
	hp_restore
	return $_r
}

# jail_same PID WHAT: process PID (a fork child or the process starter) is
# in the jail exactly as the jailed parent ember ($API_PID): uid/gid 4242,
# no capabilities, no_new_privs, the same root directory, mount namespace
# and cgroup.
jail_same() {
	_st=/proc/$1/status
	grep -q '^Uid:[[:space:]]*4242[[:space:]]*4242' "$_st" &&
		grep -q '^Gid:[[:space:]]*4242[[:space:]]*4242' "$_st" &&
		grep -q '^CapEff:[[:space:]]*0000000000000000' "$_st" &&
		grep -q '^CapPrm:[[:space:]]*0000000000000000' "$_st" &&
		grep -q '^NoNewPrivs:[[:space:]]*1' "$_st" ||
		{ cat "$_st" >>"$LOG.api"; fail "$2 $1: ids, capabilities or no_new_privs not the jail's"; return 1; }
	[ "$(stat -L -c %d:%i "/proc/$1/root/")" = "$(stat -L -c %d:%i "/proc/$API_PID/root/")" ] ||
		{ fail "$2 $1: root is not the jail's"; return 1; }
	[ "$(readlink "/proc/$1/ns/mnt")" = "$(readlink "/proc/$API_PID/ns/mnt")" ] ||
		{ fail "$2 $1: not in the jail's mount namespace"; return 1; }
	[ "$(cat "/proc/$1/cgroup")" = "$(cat "/proc/$API_PID/cgroup")" ] ||
		{ fail "$2 $1: cgroup $(cat "/proc/$1/cgroup")"; return 1; }
}

# Fork under ember-jailer: the children (and the process starter that made
# them) stay in the jail, seen from outside: uid/gid 4242, no capabilities,
# no_new_privs, the jail's root, mount namespace and cgroup (whose
# pids.current counts them), every child thread under its seccomp filter
# and no longer SCHED_BATCH.
# Their API sockets and consoles are paths inside the jail; each child
# answers as Running and continues the parent's count; the parent counts on.
# The parent has --fork-pool 1: one child comes from the pool, and the one
# started for the pool after the fork waits in the jail too.
t_fork_jailer() {
	[ "$(id -u)" = 0 ] || { fail "needs root"; return 1; }
	JAIL_EMBER_ARGS="--fork-pool 1" jail_start it-fork --cgroup-version 2 --cgroup pids.max=200 || return 1
	jail_boot snap-counter 128 && wait_in "$LOG" '^EMBER_COUNT 3$' 150 || { kill -9 "$API_PID"; return 1; }
	_b=$(counts "$LOG" | tail -n 1)
	api_ok 204 PUT /vm/fork '{"children":[{"api_sock":"/fork1.sock","serial_out_path":"/fork1.out"},{"api_sock":"/fork2.sock","serial_out_path":"/fork2.out"}]}' ||
		{ fork_jail_cleanup; return 1; }
	_kids=$(fork_running)
	_starter=$(for _d in /proc/[0-9]*; do
		[ "$(cat "$_d/comm" 2>/dev/null)" = ember-starter ] &&
			[ "$(awk '/^PPid:/ { print $2 }' "$_d/status")" = "$API_PID" ] && echo "${_d#/proc/}"
	done)
	echo "+ jailed parent $API_PID, starter '$_starter', children '$_kids'" >>"$LOG.api"
	_r=0
	[ "$(echo $_kids | wc -w)" = 2 ] || { fail "not 2 children running: $_kids"; _r=1; }
	[ -n "$_starter" ] || { fail "no process starter under the jailed ember"; _r=1; }
	for _p in $_starter $_kids; do
		[ $_r = 0 ] || break
		jail_same "$_p" "process" || _r=1
	done
	_cg=$CGROUP_ROOT/$(basename "$EMBER")/it-fork
	for _p in $_kids; do
		[ $_r = 0 ] || break
		grep -qx "$_p" "$_cg/cgroup.procs" || { fail "child $_p not in $_cg/cgroup.procs"; _r=1; }
	done
	for _i in 1 2; do
		[ $_r = 0 ] || break
		SOCK=$JROOT/fork$_i.sock
		api_ok 200 GET / && has_body '"state":"Running"' && continues "$JROOT/fork$_i.out" "$_b" || _r=1
	done
	# Running: every thread of every child is filtered, and an ordinary
	# task again (the jail has no /proc for a child to list its threads in).
	for _p in $_kids; do
		[ $_r = 0 ] || break
		for _t in /proc/"$_p"/task/*; do
			grep -q '^Seccomp:[[:space:]]*2' "$_t/status" ||
				{ fail "child $_p thread ${_t##*/} not filtered"; _r=1; break; }
		done
		[ $_r = 1 ] || [ "$(policies "$_p")" = "0 " ] ||
			{ fail "jailed child $_p has threads not ordinary: policies $(policies "$_p")"; _r=1; }
	done
	_idle=$(fork_waiting)
	echo "+ waiting in the pool: '$_idle'" >>"$LOG.api"
	[ $_r = 1 ] || [ "$(echo $_idle | wc -w)" = 1 ] || { fail "not 1 child waiting in the pool: '$_idle'"; _r=1; }
	[ $_r = 1 ] || jail_same "$_idle" "pooled child" || _r=1
	SOCK=$JROOT/api.sock
	[ $_r = 1 ] || counts_on "$LOG" || _r=1
	fork_jail_cleanup
	return $_r
}

fork_jail_cleanup() {
	for _p in $(fork_pids); do kill -9 "$_p" 2>/dev/null; done
	kill -9 "$API_PID" 2>/dev/null
	wait "$API_PID" 2>/dev/null
	for _i in 1 2; do
		[ -e "$JROOT/fork$_i.out" ] || continue
		echo "=== console of child $_i ===" >>"$LOG"
		cat "$JROOT/fork$_i.out" >>"$LOG"
	done
}
