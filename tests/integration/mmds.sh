# shellcheck shell=sh
# MMDS tests, sourced by run.sh (its helpers and variables apply).
#
# The guest (guest-tests/mmds, with guest/tools/mmds-http.c as its client)
# talks to 169.254.169.254 through eth0 on tap-it0; ember answers ARP and
# HTTP for that address itself.  The host PATCHes the store while the
# guest polls, and the guest must see the new value.

MMDS_IP_ARG="ip=172.30.0.2::172.30.0.1:255.255.255.0::eth0:off"

mmds_tap_up() {
	[ "$(id -u)" = 0 ] || { fail "needs root (tap)"; return 1; }
	ip link del tap-it0 2>/dev/null
	tunctl -t tap-it0 >/dev/null && ip addr add 172.30.0.1/24 dev tap-it0 &&
		ip link set tap-it0 up || { fail "cannot create tap-it0"; return 1; }
}

# mmds_vm VERSION [TEST]: boots the guest with MMDS VERSION on eth0 and the
# document the guest expects, running guest-tests/TEST (mmds); leaves ember
# running as $API_PID.
mmds_vm() {
	mmds_tap_up || return 1
	_v=$(echo "$1" | tr v V)
	api_start || return 1
	api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE $MMDS_IP_ARG ember.test=${2:-mmds} ember.mmds=$1\"}" &&
		api_ok 204 PUT /network-interfaces/eth0 '{"iface_id":"eth0","host_dev_name":"tap-it0","guest_mac":"06:00:ac:1e:00:02"}' &&
		api_ok 400 PUT /mmds/config '{"network_interfaces":["nope"]}' &&
		api_ok 204 PUT /mmds/config "{\"version\":\"$_v\",\"network_interfaces\":[\"eth0\"]}" &&
		api_ok 204 PUT /mmds '{"latest":{"meta-data":{"id":"i-0123"}}}' &&
		api_ok 204 PATCH /mmds "{\"big\":\"$(head -c 30000 /dev/zero | tr '\0' x)\"}" &&
		api_ok 413 PATCH /mmds "{\"big2\":\"$(head -c 30000 /dev/zero | tr '\0' x)\"}" &&
		api_ok 204 PATCH /mmds '{"big":null}' &&
		api_ok 200 GET /vm/config && has_body "\"mmds-config\":{\"version\":\"$_v\"" &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' &&
		api_ok 400 PUT /mmds/config '{"network_interfaces":["eth0"]}'
}

# The guest reads the store, the host PATCHes it, the guest sees the change.
mmds_run() {
	_r=1
	if mmds_vm "$1" && wait_for 'EMBER_MMDS_READY\|EMBER_GUEST_RESULT' 150 &&
		has EMBER_MMDS_READY &&
		api_ok 204 PATCH /mmds '{"latest":{"meta-data":{"patched":"yes"}}}' &&
		wait_for 'EMBER_GUEST_RESULT' 150; then
		_r=0
	fi
	kill -9 "$API_PID" 2>/dev/null
	wait "$API_PID" 2>/dev/null
	ip link del tap-it0 2>/dev/null
	[ $_r = 0 ] || return 1
	has EMBER_MMDS_PATCHED && has 'EMBER_GUEST_RESULT rc=0'
}

# Malformed frames, 40 idle connections and an oversized request from the
# guest: the NIC still reaches the host, the API answers meanwhile, the
# MMDS serves again once idle connections can be evicted, and ember ends
# cleanly (exit 0) when the guest does.
t_mmds_flood() {
	_r=1
	if mmds_vm v1 mmds-flood && wait_for 'EMBER_MMDS_NIC_OK\|EMBER_GUEST_RESULT' 150 &&
		has EMBER_MMDS_NIC_OK && api_ok 200 GET /mmds; then
		_r=0
	fi
	if [ $_r = 0 ]; then
		api_wait_exit 150 || _r=1
	else
		kill -9 "$API_PID" 2>/dev/null
		wait "$API_PID" 2>/dev/null
	fi
	ip link del tap-it0 2>/dev/null
	[ $_r = 0 ] || return 1
	rc_is 0 && has EMBER_MMDS_FLOOD_OK && has 'EMBER_GUEST_RESULT rc=0'
}

t_mmds_v1() {
	mmds_run v1
}

# V2: a token from PUT /latest/api/token, 401 without one, with a wrong one
# and with an expired one, 400 for a token asked through a proxy.
t_mmds_v2() {
	mmds_run v2 && has EMBER_MMDS_TOKEN_OK
}

# As Firecracker: a snapshot keeps the MMDS version (and the NIC's MMDS
# address), not the data store.  The restored guest still needs a token
# (V2), finds nothing (404) until the host PUTs a new document, then reads it.
t_mmds_snapshot() {
	mmds_tap_up || return 1
	rm -f "$LOG".r*
	snap_ember "$LOG" "$LOGDIR/api.sock" || return 1
	API_PID=$SNAP_PID
	api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE $MMDS_IP_ARG ember.test=mmds-poll\"}" &&
		api_ok 204 PUT /network-interfaces/eth0 '{"iface_id":"eth0","host_dev_name":"tap-it0","guest_mac":"06:00:ac:1e:00:02"}' &&
		api_ok 204 PUT /mmds/config '{"version":"V2","network_interfaces":["eth0"]}' &&
		api_ok 204 PUT /mmds '{"latest":{"meta-data":{"id":"i-0123"}}}' &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' &&
		wait_in "$LOG" 'EMBER_MMDS_SAYS 200 i-0123 notoken=401' 150 &&
		snap_take Full "$LOGDIR/mmds.state" "$LOGDIR/mmds.mem"
	_r=$?
	snap_kill "$API_PID"
	if [ $_r = 0 ] &&
		snap_load "$LOG.r1" "$LOGDIR/api2.sock" "$LOGDIR/mmds.state" File "$LOGDIR/mmds.mem" true; then
		API_PID=$SNAP_PID
		wait_in "$LOG.r1" 'EMBER_MMDS_SAYS 404 .*notoken=401' 120 &&
			api_ok 200 GET /mmds && { [ "$BODY" = "{}" ] || fail "restored store: $BODY"; } &&
			api_ok 200 GET /vm/config && has_body '"mmds-config":{"version":"V2"' &&
			api_ok 204 PUT /mmds '{"latest":{"meta-data":{"id":"i-restored"}}}' &&
			wait_in "$LOG.r1" 'EMBER_MMDS_SAYS 200 i-restored notoken=401' 60
		_r=$?
		snap_kill "$API_PID"
	fi
	snap_logs
	ip link del tap-it0 2>/dev/null
	[ $_r = 0 ]
}
