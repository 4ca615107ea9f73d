# shellcheck shell=sh
# One snapshot of a VM with every device configured, sourced by run.sh (its
# helpers and those of snapshot.sh, balloon.sh and hotplug.sh apply).
#
# The guest (guest-tests/every-device) counts like snap-counter and, every
# step, reads the entropy device and the pmem device and writes the count to
# its disk.  Before the snapshot the host plugs 128 MiB of virtio-mem and
# inflates the balloon by 32 MiB; every device has a token bucket.  After the
# restore (console into a PUT /serial file, vsock on a new uds_path) each
# device must still work: the count goes on, the disk sees new counts, the
# entropy reads go on and differ, the pmem line is still there, vsock and TCP
# echo, the tap answers pings, the balloon deflates (MemTotal back to the
# plugged size: an inflated balloon takes its pages out of MemTotal) and
# virtio-mem unplugs,
# and GET /vm/config shows every device with its limiter.

EVERY_LIM='{"bandwidth":{"size":10485760,"one_time_burst":0,"refill_time":1000},"ops":{"size":4000,"one_time_burst":0,"refill_time":1000}}'

# every_boot DISK PMEM: the original VM on tap-ev0, counting, plugged and
# ballooned; _base is its MemTotal before the plug.
every_boot() {
	SNAP_UDS=$LOGDIR/every-v.sock
	rm -f "$SNAP_UDS"
	snap_ember "$LOG" "$LOGDIR/api.sock" || return 1
	API_PID=$SNAP_PID
	api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE ip=172.31.0.2::172.31.0.1:255.255.255.0::eth0:off memhp_default_state=online_movable ember.timeout=600 ember.test=every-device\"}" &&
		api_ok 204 PUT /machine-config '{"vcpu_count":1,"mem_size_mib":256}' &&
		api_ok 204 PUT /drives/scratch "{\"drive_id\":\"scratch\",\"path_on_host\":\"$1\",\"is_root_device\":false,\"is_read_only\":false,\"rate_limiter\":$EVERY_LIM}" &&
		api_ok 204 PUT /network-interfaces/eth0 "{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap-ev0\",\"guest_mac\":\"06:00:ac:1f:00:02\",\"rx_rate_limiter\":$EVERY_LIM,\"tx_rate_limiter\":$EVERY_LIM}" &&
		api_ok 204 PUT /vsock "{\"guest_cid\":3,\"uds_path\":\"$SNAP_UDS\"}" &&
		api_ok 204 PUT /entropy "{\"rate_limiter\":$EVERY_LIM}" &&
		api_ok 204 PUT /balloon '{"amount_mib":0,"deflate_on_oom":false,"stats_polling_interval_s":1}' &&
		api_ok 204 PUT /hotplug/memory '{"total_size_mib":256}' &&
		api_ok 204 PUT /pmem/data "{\"id\":\"data\",\"path_on_host\":\"$2\",\"root_device\":false,\"read_only\":true,\"rate_limiter\":$EVERY_LIM}" &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' &&
		wait_in "$LOG" '^EMBER_COUNT 4$' 150 || return 1
	_base=$(memkb)
	api_ok 204 PATCH /hotplug/memory '{"requested_size_mib":128}' &&
		wait_memkb -ge $((_base + 120000)) 150 && wait_plugged 128 60 &&
		balloon_to 32 120
}

# every_hwrng FILE: the entropy reads of FILE's whole lines, one a line.
every_hwrng() { tr -d '\r' <"$1" | sed -n 's/^EMBER_HWRNG [0-9]* \([0-9a-f]\{16\}\)$/\1/p'; }

t_snap_every_device() {
	[ "$(id -u)" = 0 ] || { fail "needs root (tap)"; return 1; }
	rm -f "$LOG".r*
	_disk=$LOGDIR/every.img _pm=$LOGDIR/every.pmem _out=$LOGDIR/every-restored.out
	rm -f "$_out"
	mkdisk "$_disk" 8 && echo ember-pmem-every | dd of="$_pm" bs=2097152 conv=sync 2>/dev/null &&
		snap_mktap tap-ev0 || return 1
	every_boot "$_disk" "$_pm" && snap_take Full "$LOGDIR/every.state" "$LOGDIR/every.mem"
	_r=$?
	snap_kill "$API_PID"
	[ $_r = 0 ] || { ip link del tap-ev0 2>/dev/null; return 1; }
	_at=$(stopped_at "$LOG")
	_log=$LOG
	snap_ember "$LOG.r1" "$LOGDIR/api.sock" &&
		api_ok 204 PUT /serial "{\"serial_out_path\":\"$_out\"}" &&
		api_ok 204 PUT /snapshot/load "{\"snapshot_path\":\"$LOGDIR/every.state\",\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":\"$LOGDIR/every.mem\"},\"resume_vm\":true,\"vsock_override\":{\"uds_path\":\"$LOGDIR/every-v2.sock\"}}" &&
		continues "$_out" "$_at" &&
		api_ok 200 GET /vm/config &&
		has_body "\"drives\":[{\"drive_id\":\"scratch\"" && has_body "\"rate_limiter\":$EVERY_LIM" &&
		has_body "\"rx_rate_limiter\":$EVERY_LIM,\"tx_rate_limiter\":$EVERY_LIM" &&
		has_body "\"entropy\":{\"rate_limiter\":$EVERY_LIM}" &&
		has_body '"balloon":{"amount_mib":32' && has_body '"pmem":[{"id":"data"' &&
		has_body '"memory-hotplug":{"total_size_mib":256' &&
		wait_disk_count "$_disk" $((_at + 3)) &&
		{ tr -d '\r' <"$_out" | grep -q '^EMBER_PMEM ember-pmem-every$' || fail "the restored guest lost its pmem"; } &&
		_rng=$(every_hwrng "$_out") &&
		{ [ "$(echo "$_rng" | wc -l)" -ge 3 ] && [ "$(echo "$_rng" | sort -u | wc -l)" = "$(echo "$_rng" | wc -l)" ] ||
			fail "entropy after the restore: '$_rng'"; } &&
		vsock_echo "$LOGDIR/every-v2.sock" &&
		{ ping -c 3 -W 5 172.31.0.2 >>"$LOG.api" 2>&1 || fail "the restored guest does not answer pings"; } &&
		{ [ "$(echo ember-every-tcp | nc -w 5 172.31.0.2 5002)" = ember-every-tcp ] ||
			fail "no TCP echo from the restored guest"; } &&
		balloon_to 0 120 &&
		LOG=$_out && wait_memkb -ge $((_base + 120000)) 60 &&
		api_ok 204 PATCH /hotplug/memory '{"requested_size_mib":0}' &&
		wait_memkb -le "$_base" 150 && wait_plugged 0 60 &&
		api_ok 200 GET / && has_body '"state":"Running"'
	_r=$?
	LOG=$_log
	snap_kill "$SNAP_PID"
	ip link del tap-ev0 2>/dev/null
	cat "$_out" >>"$LOG.r1" 2>/dev/null
	snap_logs
	return $_r
}
