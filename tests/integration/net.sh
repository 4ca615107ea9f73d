# shellcheck shell=sh
# virtio-net and vsock tests, sourced by run.sh (its helpers and variables
# apply).

# virtio-net on a tap L1 set up: the guest (configured by ip= on its
# command line, MAC from --net) pings the host end, then 16 MiB go to the
# guest and back over TCP (the guest echoes), compared by checksum.
t_net_ping_tcp() {
	[ "$(id -u)" = 0 ] || { fail "needs root (tap)"; return 1; }
	ip link del tap-it0 2>/dev/null
	tunctl -t tap-it0 >/dev/null && ip addr add 172.30.0.1/24 dev tap-it0 &&
		ip link set tap-it0 up || { fail "cannot create tap-it0"; return 1; }
	echo "+ ember run ... --net tap=tap-it0,mac=06:00:ac:1e:00:02" >>"$LOG"
	"$EMBER" run --kernel "$VMLINUX" --initrd "$INITRD" --mem 256 \
		--net tap=tap-it0,mac=06:00:ac:1e:00:02 \
		--cmdline "$BASE_CMDLINE ip=172.30.0.2::172.30.0.1:255.255.255.0::eth0:off ember.test=net-ping" \
		</dev/null >>"$LOG" 2>&1 &
	_pid=$!
	_ok=0
	if wait_for 'EMBER_NET_READY\|EMBER_GUEST_RESULT' 150 && has EMBER_PING_OK; then
		head -c 16777216 /dev/urandom >"$LOGDIR/net-out.bin"
		# The guest's nc -e cat echoes; -w closes our side once idle.
		nc -w 5 172.30.0.2 5002 <"$LOGDIR/net-out.bin" >"$LOGDIR/net-back.bin" 2>>"$LOG"
		[ "$(md5sum <"$LOGDIR/net-out.bin")" = "$(md5sum <"$LOGDIR/net-back.bin")" ] && _ok=1
		echo "+ tcp echo: sent $(wc -c <"$LOGDIR/net-out.bin"), back $(wc -c <"$LOGDIR/net-back.bin")" >>"$LOG.api"
	fi
	kill -9 "$_pid" 2>/dev/null
	wait "$_pid"
	ip link del tap-it0 2>/dev/null
	has EMBER_PING_OK && { [ $_ok = 1 ] || fail "16 MiB TCP echo through the tap did not come back intact"; }
}

# echo_ms FILE: sends FILE through the guest's TCP echo; its round trip in ms,
# or nothing if it did not come back intact.
echo_ms() {
	_t0=$(cut -d' ' -f1 /proc/uptime)
	nc -w 5 172.30.0.2 5002 <"$1" >"$1.back" 2>>"$LOG"
	_t1=$(cut -d' ' -f1 /proc/uptime)
	[ "$(md5sum <"$1")" = "$(md5sum <"$1.back")" ] &&
		echo "$_t0 $_t1" | awk '{ printf "%d", ($2 - $1) * 1000 }'
}

# A NIC's rx and tx rate limiters: 256 KiB/s each way (256 KiB buckets)
# (and an mtu of 1400, which the guest's eth0 takes)
# make a 1 MiB TCP echo take about 3 s; a PATCH lifting both on the running
# VM makes the next one quick.
t_net_rate_limited() {
	[ "$(id -u)" = 0 ] || { fail "needs root (tap)"; return 1; }
	_lim='{"bandwidth":{"size":262144,"refill_time":1000}}'
	ip link del tap-it0 2>/dev/null
	tunctl -t tap-it0 >/dev/null && ip addr add 172.30.0.1/24 dev tap-it0 &&
		ip link set tap-it0 up || { fail "cannot create tap-it0"; return 1; }
	head -c 1048576 /dev/urandom >"$LOGDIR/net-1m.bin"
	api_start || return 1
	_ms1= _ms2=
	api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE ip=172.30.0.2::172.30.0.1:255.255.255.0::eth0:off ember.test=net-echo\"}" &&
		api_ok 204 PUT /machine-config '{"vcpu_count":1,"mem_size_mib":256}' &&
		api_ok 204 PUT /network-interfaces/eth0 "{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap-it0\",\"guest_mac\":\"06:00:ac:1e:00:02\",\"mtu\":1400,\"rx_rate_limiter\":$_lim,\"tx_rate_limiter\":$_lim}" &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' &&
		wait_for 'EMBER_NET_READY\|EMBER_GUEST_RESULT' 150 && has EMBER_PING_OK &&
		_ms1=$(echo_ms "$LOGDIR/net-1m.bin") &&
		api_ok 204 PATCH /network-interfaces/eth0 '{"iface_id":"eth0","rx_rate_limiter":{},"tx_rate_limiter":{}}' &&
		_ms2=$(echo_ms "$LOGDIR/net-1m.bin")
	_r=$?
	kill -9 "$API_PID" 2>/dev/null
	wait "$API_PID"
	ip link del tap-it0 2>/dev/null
	[ $_r = 0 ] || { [ -n "$WHY" ] || fail "1 MiB TCP echo did not come back intact"; return 1; }
	has 'EMBER_MTU 1400' || return 1 # the NIC's mtu, offered with VIRTIO_NET_F_MTU
	NOTE="1 MiB TCP echo: $_ms1 ms at 256 KiB/s each way, $_ms2 ms after PATCH lifted it"
	echo "+ $NOTE" >>"$LOG.api"
	[ "$_ms1" -ge 2000 ] || fail "limited to 256 KiB/s, 1 MiB went round in $_ms1 ms"
	[ "$_ms2" -lt $((_ms1 / 2)) ] || fail "after the PATCH: $_ms2 ms, before $_ms1 ms"
}

# A guest running guest-tests/$1 with a vsock device on $_uds, the host's echo
# listener on ${_uds}_6000 ($_lpid); ember is $_pid.  True once the guest is
# ready for the host's CONNECTs.
vsock_vm_start() {
	_uds=$LOGDIR/v.sock
	rm -f "$_uds" "${_uds}_6000"
	"$VSOCK_HOST" listen "${_uds}_6000" >>"$LOG.api" 2>&1 &
	_lpid=$!
	echo "+ ember run ... --vsock cid=3,uds=$_uds" >>"$LOG"
	"$EMBER" run --kernel "$VMLINUX" --initrd "$INITRD" --vsock "cid=3,uds=$_uds" \
		--cmdline "$BASE_CMDLINE ember.test=$1" </dev/null >>"$LOG" 2>&1 &
	_pid=$!
	wait_for 'EMBER_VSOCK_GUEST_READY\|EMBER_GUEST_RESULT' 150
}

# Both stopped; false (with a failure) if ember had died before.
vsock_vm_stop() {
	kill -0 "$_pid" 2>/dev/null || { fail "ember died"; kill "$_lpid"; return 1; }
	kill -9 "$_pid" "$_lpid" 2>/dev/null
	wait "$_pid" "$_lpid" || true
}

# Firecracker's hybrid vsock: host -> guest with CONNECT <port> on uds_path
# (1 MiB echo, 100 sequential and 10 parallel connections), guest -> host
# through uds_path_<port> (1 MiB echo), garbage CONNECT lines closed while
# everything else keeps working.
t_vsock_hybrid() {
	if vsock_vm_start vsock-serve; then
		"$VSOCK_HOST" connect "$_uds" 5000 1048576 >>"$LOG.api" 2>&1
		"$VSOCK_HOST" garbage "$_uds" >>"$LOG.api" 2>&1
		"$VSOCK_HOST" many "$_uds" 5000 65536 100 1 >>"$LOG.api" 2>&1
		"$VSOCK_HOST" many "$_uds" 5000 262144 10 10 >>"$LOG.api" 2>&1
		"$VSOCK_HOST" connect "$_uds" 5000 4096 >>"$LOG.api" 2>&1
	fi
	vsock_vm_stop || return 1
	# The host side's verdicts are in $LOG.api, the guest's in $LOG.
	has 'VSOCK_OK n=1048576' && has_api 'HOST_OK n=1048576' && has_api 'HOST_OK garbage' &&
		lacks_api HOST_ERR && has_api 'HOST_OK many ok=100 failed=0' &&
		has_api 'HOST_OK many ok=10 failed=0' && has_api 'HOST_OK n=4096'
}

# A guest that drives the vsock device itself (guest-tests/vsock-poke): it
# opens a stream to the host's echo listener, then sends looped and
# out-of-range chains, short and lying headers, unknown ops and types from
# another port, an RST for its stream with a forged source CID.  ember stays
# up, each bad header the device can read is answered with RST, the stream
# is not touched and echoes, and once Linux's driver is back, 1 MiB goes
# each way intact.
t_vsock_malformed() {
	if vsock_vm_start vsock-poke; then
		"$VSOCK_HOST" connect "$_uds" 5000 1048576 >>"$LOG.api" 2>&1
	fi
	vsock_vm_stop || return 1
	has 'virtio-poke: tx looped chain: used idx 2' &&
		has 'virtio-poke: tx header outside guest memory: used idx 3' &&
		lacks "NOT RETURNED" && has "virtio-poke: 4 RSTs to the garbage, 0 to our stream, echo 'rogue hello', device status 0xf" &&
		has 'VSOCK_OK n=1048576' && has_api 'HOST_OK n=1048576' && lacks_api HOST_ERR
}
