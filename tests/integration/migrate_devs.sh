# shellcheck shell=sh
# Live migration with more devices than migrate.sh's guest has (issue 17):
# each either migrates and works at the destination, or the source refuses
# up front (400 before it contacts the destination) and runs on.  Sourced
# by run.sh; migrate.sh's, snapshot.sh's and balloon.sh's helpers apply.
#
#   virtio-balloon       migrates (its state is a snapshot section)
#   virtio-pmem          migrates (the file must be at the destination, as
#                        a disk); virtio-rng (entropy) migrates
#   virtio-mem           refused: its memory is not in the stream yet
#   MMDS data store      refused while it holds data: the store is the
#                        API's and is not carried (as in a snapshot)

# mig_refused_up_front WHAT: PUT /migration/send says 400 naming WHAT, the
# source's guest counts on, and the destination heard nothing: it still
# says Migrating.
mig_refused_up_front() {
	SOCK=$LOGDIR/api.sock
	api PUT /migration/send "{\"url\":\"unix:$LOGDIR/mig.sock\"}" && has_body "$1" && mig_failed &&
		SOCK=$LOGDIR/api2.sock && api_ok 200 GET / && has_body '"state":"Migrating"'
}

# mig_devs_end: both embers gone; a destination killed while it listened
# leaves its socket file, which the next listener would refuse to replace.
mig_devs_end() {
	mig_end
	rm -f "$LOGDIR/mig.sock"
}

mig_put_hotplug() { api_ok 204 PUT /hotplug/memory '{"total_size_mib":256}'; }

# A VM with hotpluggable memory (virtio-mem) is not sent.
t_migrate_hotplug_refused() {
	rm -f "$LOG".r* "$LOGDIR/mig.sock"
	SNAP_PRESTART=mig_put_hotplug snap_boot || { snap_kill "$API_PID"; return 1; }
	mig_dest "unix:$LOGDIR/mig.sock" && mig_refused_up_front 'memory hotplug cannot be migrated'
	_r=$?
	mig_devs_end
	return $_r
}

# A VM whose MMDS holds data is not sent; once its store is emptied (the
# data put into the destination's first), it migrates and the destination
# serves the data.
t_migrate_mmds_refused() {
	rm -f "$LOG".r* "$LOGDIR/mig.sock"
	snap_boot || { snap_kill "$API_PID"; return 1; }
	_doc='{"latest":{"meta-data":{"id":"i-migrated"}}}'
	api_ok 204 PUT /mmds "$_doc" && mig_dest "unix:$LOGDIR/mig.sock" &&
		mig_refused_up_front 'MMDS data store is not migrated' &&
		api_ok 204 PUT /mmds "$_doc" && SOCK=$LOGDIR/api.sock && api_ok 204 PUT /mmds '{}' &&
		mig_send "unix:$LOGDIR/mig.sock" && SOCK=$LOGDIR/api2.sock &&
		api_ok 200 GET / && has_body '"state":"Running"' &&
		api_ok 200 GET /mmds && has_body 'i-migrated' && mig_follows
	_r=$?
	mig_devs_end
	return $_r
}

# An inflated balloon migrates: at the destination its settings are back
# and it still works (it inflates further: the guest's MemAvailable falls,
# and deflates).
t_migrate_balloon() {
	rm -f "$LOG".r* "$LOGDIR/mig.sock"
	balloon_boot 192 '{"amount_mib":0,"deflate_on_oom":false,"stats_polling_interval_s":1}' \
		balloon ember.hog=100 &&
		guest_wait '^EMBER_BALLOON_READY' 150 && balloon_to 64 120 || { balloon_end; return 1; }
	_ok=0
	MIG_NO_VSOCK=1 # this VM has no vsock (set and cleared here: ash may keep a prefix assignment)
	mig_dest "unix:$LOGDIR/mig.sock" && MIG_NO_VSOCK=0 && mig_send "unix:$LOGDIR/mig.sock" &&
		API_PID=$DEST_PID && SOCK=$LOGDIR/api2.sock &&
		api_ok 200 GET /balloon && has_body '"amount_mib":64' &&
		has_body '"stats_polling_interval_s":1' &&
		wait_in "$LOG.r1" '^EMBER_MEMAVAIL' 60 && sleep 2 && _av0=$(memavail "$LOG.r1") &&
		balloon_to 128 120 && sleep 3 && _av1=$(memavail "$LOG.r1") && _ok=1
	if [ $_ok = 1 ] && [ $((_av0 - _av1)) -lt $((50 * 1024)) ]; then
		fail "migrated balloon: MemAvailable $_av0 -> $_av1 kB after inflating to 128 MiB"
		_ok=0
	fi
	MIG_NO_VSOCK=0
	[ $_ok = 1 ] && balloon_to 0 120 && kill -0 "$DEST_PID" || _ok=0
	NOTE=$(tr -d '\r' <"$LOG" | sed -n 's/.*migration: sent //p' | tail -n 1)
	mig_devs_end
	[ $_ok = 1 ]
}

mig_put_pmem_rng() {
	api_ok 204 PUT /pmem/scratch "{\"id\":\"scratch\",\"path_on_host\":\"$LOGDIR/mig-pmem.img\",\"root_device\":false,\"read_only\":false}" &&
		api_ok 204 PUT /entropy '{}'
}

# A read-write pmem device and an entropy device migrate: at the
# destination the guest (guest-tests/mig-devs) reads what L1 writes into
# the pmem file after the migration, and /dev/hwrng still gives bytes.
t_migrate_pmem_entropy() {
	rm -f "$LOG".r* "$LOGDIR/mig.sock"
	mkdisk "$LOGDIR/mig-pmem.img" 2 &&
		printf 'PMEM-BEFORE-0001' | dd of="$LOGDIR/mig-pmem.img" conv=notrunc 2>/dev/null ||
		{ fail "cannot make the pmem file"; return 1; }
	SNAP_GUEST=mig-devs SNAP_PRESTART=mig_put_pmem_rng snap_boot &&
		wait_in "$LOG" 'EMBER_DEVS [0-9]* pmem=PMEM-BEFORE-0001 hwrng=16' 60 ||
		{ snap_kill "$API_PID"; return 1; }
	mig_dest "unix:$LOGDIR/mig.sock" && mig_send "unix:$LOGDIR/mig.sock" &&
		SOCK=$LOGDIR/api2.sock && api_ok 200 GET /vm/config &&
		has_body '"pmem":[{"id":"scratch"' && has_body '"entropy":{' && mig_follows &&
		printf 'PMEM-AFTER--0002' | dd of="$LOGDIR/mig-pmem.img" conv=notrunc 2>/dev/null &&
		wait_in "$LOG.r1" 'EMBER_DEVS [0-9]* pmem=PMEM-AFTER--0002 hwrng=16' 60
	_r=$?
	mig_devs_end
	return $_r
}

# mig_bridge: the L1 end of the network, bridge br-mg holding the host's
# address with tap-mg0 (the source's) and tap-mg1 (the destination's) as
# ports, as two hosts' taps on one LAN: one tap cannot be opened by two
# processes, and a tap-to-tap move is what a second host would see.
mig_bridge() {
	mig_bridge_del
	brctl addbr br-mg && ip addr add 172.31.0.1/24 dev br-mg && ip link set br-mg up ||
		{ fail "cannot create bridge br-mg"; return 1; }
	for _t in tap-mg0 tap-mg1; do
		tunctl -t "$_t" >/dev/null && brctl addif br-mg "$_t" && ip link set "$_t" up ||
			{ fail "cannot add $_t to br-mg"; return 1; }
	done
}

mig_bridge_del() {
	ip link del tap-mg0 2>/dev/null
	ip link del tap-mg1 2>/dev/null
	ip link set br-mg down 2>/dev/null
	brctl delbr br-mg 2>/dev/null
	true
}

# A TCP connection from L1 into the guest survives the migration: one nc
# connection sends a numbered line every 20 ms before, during and after the
# move (from tap-mg0 to tap-mg1, network_overrides), and every line comes
# back once, in order, the last ones from the destination.  The traffic
# also runs through the last pass: device events served after the last
# dirty pages were collected would leave the destination's rx queue behind
# its device state, and the guest's network broken.
t_migrate_tap() {
	[ "$(id -u)" = 0 ] || { fail "needs root (tap)"; return 1; }
	rm -f "$LOG".r* "$LOGDIR/tcp.out"
	mig_bridge || { mig_bridge_del; return 1; }
	SNAP_GUEST=mig-tcp SNAP_TAP=tap-mg0 SNAP_IP="ip=172.31.0.2::172.31.0.1:255.255.255.0::eth0:off " snap_boot ||
		{ snap_kill "$API_PID"; mig_bridge_del; return 1; }
	(_i=0; while [ $_i -lt 1000 ]; do echo "LINE $_i"; _i=$((_i + 1)); sleep 0.02; done; sleep 60) |
		nc 172.31.0.2 5002 >"$LOGDIR/tcp.out" 2>>"$LOG.api" &
	_nc=$!
	wait_in "$LOGDIR/tcp.out" '^LINE 10$' 60 &&
		mig_dest "unix:$LOGDIR/mig.sock" "\"vsock_override\":{\"uds_path\":\"$LOGDIR/mig-v.sock\"},\"network_overrides\":[{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap-mg1\"}]" &&
		mig_send "unix:$LOGDIR/mig.sock" && _moved=$(grep -c '^LINE' "$LOGDIR/tcp.out") &&
		mig_follows && wait_in "$LOGDIR/tcp.out" '^LINE 999$' 180 &&
		{ [ "$_moved" -lt 999 ] || fail "every line was echoed before the move: nothing crossed it"; } &&
		{ grep '^LINE' "$LOGDIR/tcp.out" | awk '$2 != NR - 1 { bad = 1 } END { exit bad || NR != 1000 }' ||
			fail "lines lost, doubled or reordered across the move"; }
	_r=$?
	kill "$_nc" 2>/dev/null
	mig_devs_end
	mig_bridge_del
	return $_r
}
