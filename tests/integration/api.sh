# shellcheck shell=sh
# Firecracker API tests (plain curl on the API socket), sourced by run.sh
# (its helpers and variables apply).

# Firecracker's getting-started sequence with plain curl: logger, metrics,
# boot-source, rootfs drive, machine-config, InstanceStart; GET / reports
# Running; Pause stops the guest (no new ticks), Resume lets it go on; the
# guest's reboot ends ember with 0 and removes the socket.  Metrics lines
# carry emit_id's instance id and the properties, where Firecracker puts them.
t_api_getting_started() {
	rootfs_copy && api_start --id it-getting-started || return 1
	api_ok 200 GET / && has_body '"state":"Not started"' &&
		api_ok 204 PUT /logger "{\"log_path\":\"$LOGDIR/api-fc.log\",\"level\":\"Info\"}" &&
		api_ok 204 PUT /metrics "{\"metrics_path\":\"$LOGDIR/api-metrics.json\",\"emit_id\":true,\"properties\":{\"team\":\"ember\"}}" &&
		api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"boot_args\":\"$BASE_CMDLINE ember.test=api-ticks\"}" &&
		api_ok 204 PUT /drives/rootfs "{\"drive_id\":\"rootfs\",\"path_on_host\":\"$LOGDIR/rootfs.ext4\",\"is_root_device\":true,\"is_read_only\":false}" &&
		api_ok 204 PUT /machine-config '{"vcpu_count":2,"mem_size_mib":256}' &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' &&
		api_ok 200 GET / && has_body '"state":"Running"' && has_body '"id":"it-getting-started"' ||
		{ kill -9 "$API_PID"; return 1; }
	wait_for 'EMBER_TICK 3' 150 || { kill -9 "$API_PID"; fail "guest never ticked"; return 1; }
	api_ok 204 PATCH /vm '{"state":"Paused"}' && api_ok 200 GET / &&
		has_body '"state":"Paused"' || { kill -9 "$API_PID"; return 1; }
	_t0=$(ticks)
	sleep 4
	_t1=$(ticks)
	api_ok 204 PATCH /vm '{"state":"Resumed"}' || { kill -9 "$API_PID"; return 1; }
	wait_for "EMBER_TICK $((_t1 + 2))" 60
	api_ok 204 PUT /actions '{"action_type":"FlushMetrics"}'
	api_wait_exit 150
	[ "$_t0" = "$_t1" ] || { fail "guest ticked while paused ($_t0 -> $_t1)"; return 1; }
	rc_is 0 && has 'EMBER_TICK 59' && has 'EMBER_GUEST_RESULT rc=0' &&
		{ grep -q 'guest init after' "$LOGDIR/api-fc.log" || fail "log_path has no log"; } &&
		{ grep -q '"api_server":{"requests":[1-9][0-9]*,"errors":[0-9]*,"latency_us_avg":[1-9]' "$LOGDIR/api-metrics.json" ||
			fail "no metrics line"; } &&
		{ grep -q '^{"utc_timestamp_ms":[0-9]*,"id":"it-getting-started","properties":{"team":"ember"},"api_server"' "$LOGDIR/api-metrics.json" ||
			fail "metrics lines lack emit_id's id or the properties"; } &&
		{ grep -q '"block":{"rootfs":{"read_count":[1-9]' "$LOGDIR/api-metrics.json" &&
			grep -Eq '"vcpu":\{"exit_io":([1-9]|[0-9]+,"exit_mmio":[1-9])' "$LOGDIR/api-metrics.json" ||
			fail "metrics lack block reads or vCPU exits"; }
}

# 1000 malformed requests through one curl against a running VM: every one
# gets a 4xx, GET / still answers Running, and the guest keeps ticking.
t_api_malformed_requests() {
	api_start || return 1
	api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE ember.test=api-ticks\"}" &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' &&
		wait_for 'EMBER_TICK 2' 150 || { kill -9 "$API_PID"; fail "guest did not start"; return 1; }
	_cfg=$LOGDIR/bad-requests.curl
	: >"$_cfg"
	_i=0
	while [ $_i -lt 1000 ]; do
		case $((_i % 8)) in
		0) printf 'url = "http://localhost/machine-config"\nrequest = "PUT"\ndata = "{bad json"\n' ;;
		1) printf 'url = "http://localhost/machine-config"\nrequest = "PUT"\ndata = "{\\"vcpu_count\\":0,\\"mem_size_mib\\":128}"\n' ;;
		2) printf 'url = "http://localhost/no/such/path"\n' ;;
		3) printf 'url = "http://localhost/"\nrequest = "DELETE"\n' ;;
		4) printf 'url = "http://localhost/drives/a"\nrequest = "PUT"\ndata = "{\\"drive_id\\":\\"b\\"}"\n' ;;
		5) printf 'url = "http://localhost/boot-source"\nrequest = "PUT"\ndata = "{\\"kernel_image_path\\":42}"\n' ;;
		6) printf 'url = "http://localhost/actions"\nrequest = "PUT"\ndata = "{\\"action_type\\":\\"Explode\\"}"\n' ;;
		7) printf 'url = "http://localhost/machine-config"\nrequest = "PUT"\ndata = "{\\"vcpu_count\\":1,\\"mem_size_mib\\":128,\\"vcpu_count\\":2}"\n' ;;
		esac >>"$_cfg"
		# Each "next" starts afresh, so every request names the socket.
		printf 'unix-socket = "%s"\nheader = "Content-Type: application/json"\nwrite-out = "%%{http_code}\\n"\noutput = "/dev/null"\n' "$SOCK" >>"$_cfg"
		_i=$((_i + 1))
		[ $_i -lt 1000 ] && echo next >>"$_cfg"
	done
	"$CURL" -s -K "$_cfg" >"$LOGDIR/bad-codes.txt" 2>>"$LOG"
	_n4=$(grep -c '^4[0-9][0-9]$' "$LOGDIR/bad-codes.txt")
	echo "+ 1000 malformed requests: $_n4 answered 4xx" >>"$LOG.api"
	_t0=$(ticks)
	api_ok 200 GET / && has_body '"state":"Running"'
	_ok=$?
	api_wait_exit 150
	[ $_ok = 0 ] || return 1
	[ "$_n4" = 1000 ] || { fail "$_n4 of 1000 malformed requests got a 4xx"; return 1; }
	rc_is 0 && has 'EMBER_TICK 59' &&
		{ [ "$(ticks)" -gt "$_t0" ] || fail "guest stopped ticking"; }
}

# Pre-boot vs runtime: a start that fails (no boot source; a drive whose
# file went away, named in the message) leaves ember configurable; after
# InstanceStart, config PUTs and a second start are refused with 400 and a
# fault_message; the VM keeps running.
t_api_runtime_rules() {
	mkdisk "$LOGDIR/gone.img" 1 && api_start || return 1
	api_ok 400 PUT /actions '{"action_type":"InstanceStart"}' &&
		has_body 'fault_message' &&
		api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE ember.test=api-ticks\"}" &&
		api_ok 204 PUT /drives/gone "{\"drive_id\":\"gone\",\"path_on_host\":\"$LOGDIR/gone.img\",\"is_root_device\":false,\"is_read_only\":false}" &&
		rm "$LOGDIR/gone.img" &&
		api_ok 400 PUT /actions '{"action_type":"InstanceStart"}' &&
		has_body "drive gone: $LOGDIR/gone.img: No such file" &&
		mkdisk "$LOGDIR/gone.img" 1 &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' &&
		api_ok 400 PUT /actions '{"action_type":"InstanceStart"}' &&
		api_ok 400 PUT /machine-config '{"vcpu_count":2,"mem_size_mib":256}' &&
		api_ok 400 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\"}" &&
		has_body 'fault_message' &&
		api_ok 200 GET / && has_body '"state":"Running"' ||
		{ kill -9 "$API_PID"; return 1; }
	api_wait_exit 150
	rc_is 0 && has 'EMBER_TICK 59'
}

# --config-file takes GET /vm/config's JSON and starts at once; --no-api
# means no socket at all; --log-path sends ember's log to a file.
t_api_config_file() {
	cat >"$LOGDIR/vm.json" <<EOF
{
  "boot-source": {"kernel_image_path": "$VMLINUX", "initrd_path": "$INITRD",
                  "boot_args": "$BASE_CMDLINE ember.test=pass"},
  "machine-config": {"vcpu_count": 2, "mem_size_mib": 192},
  "drives": []
}
EOF
	rm -f "$LOGDIR/cf.log"
	vm --config-file "$LOGDIR/vm.json" --no-api --log-path "$LOGDIR/cf.log" --level Info </dev/null
	rc_is 0 && has 'EMBER_GUEST_INIT cpus=2 ' && has EMBER_GUEST_PASS_RAN &&
		memkb_between 150000 196608 &&
		{ grep -q 'guest init after' "$LOGDIR/cf.log" || fail "--log-path file has no log"; } &&
		lacks 'ember: guest init after' &&
		printf '{"boot-source": {"kernel_image_path": 7}}' >"$LOGDIR/bad.json" &&
		refused 'kernel_image_path' --config-file "$LOGDIR/bad.json" --no-api &&
		refused 'no-api needs --config-file' --no-api
}

# A socket path that is a regular file is refused, not clobbered.
t_api_bad_socket() {
	echo precious >"$LOGDIR/not-a-socket"
	refused 'not-a-socket' --api-sock "$LOGDIR/not-a-socket" &&
		{ grep -q precious "$LOGDIR/not-a-socket" || fail "file clobbered"; }
}

# SendCtrlAltDel: the keys reach the guest's keyboard driver (atkbd with
# i8042.dumbkbd, as Firecracker's guests boot), the guest kernel reboots,
# ember exits 0 well before the guest's own script would have ended.
t_api_ctrl_alt_del() {
	api_start || return 1
	api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE i8042.dumbkbd ember.test=api-ticks\"}" &&
		api_ok 400 PUT /actions '{"action_type":"SendCtrlAltDel"}' &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' ||
		{ kill -9 "$API_PID"; return 1; }
	wait_for 'EMBER_TICK 3' 150 &&
		api_ok 204 PUT /actions '{"action_type":"SendCtrlAltDel"}' ||
		{ kill -9 "$API_PID"; return 1; }
	api_wait_exit 60
	rc_is 0 && has 'ember: guest reset via i8042' && lacks 'EMBER_TICK 59'
}

# PATCH /drives/{id} after start: the guest reads the new file (and its
# new size) from the same /dev/vdX; a bad path is refused and changes
# nothing.
# A FIFO as the kernel (PUT /boot-source) or as a running drive's new file
# (PATCH) is refused at once with "not a regular file"; the guest goes on.
t_api_fifo_files() {
	rm -f "$LOGDIR/k.fifo" && mkfifo "$LOGDIR/k.fifo" && mkdisk "$LOGDIR/f.img" 1 || return 1
	api_start || return 1
	api_ok 400 PUT /boot-source "{\"kernel_image_path\":\"$LOGDIR/k.fifo\"}" &&
		has_body 'not a regular file' &&
		api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE ember.test=api-ticks\"}" &&
		api_ok 204 PUT /drives/scratch "{\"drive_id\":\"scratch\",\"path_on_host\":\"$LOGDIR/f.img\",\"is_root_device\":false,\"is_read_only\":true}" &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' &&
		wait_for 'EMBER_TICK 2' 150 &&
		api_ok 400 PATCH /drives/scratch "{\"drive_id\":\"scratch\",\"path_on_host\":\"$LOGDIR/k.fifo\"}" &&
		has_body 'not a regular file' &&
		wait_for 'EMBER_TICK 4' 60 && api_ok 200 GET / && has_body '"state":"Running"'
	_r=$?
	kill -9 "$API_PID" 2>/dev/null
	wait "$API_PID" 2>/dev/null
	rm -f "$LOGDIR/k.fifo"
	return $_r
}

# Firecracker opens what a PUT names when it is PUT: a missing kernel, a
# FIFO as initrd or drive, a missing image, a tap that does not exist, a
# vsock uds_path that is a regular file are
# each a 400 naming the file (sent with the PUT, not at InstanceStart), and
# none of them is kept: GET /vm/config shows nothing configured, and the good
# configuration PUT after them boots.  A deprecated vsock_id gets
# Firecracker's Deprecation header.
t_api_put_checks() {
	rm -f "$LOGDIR/pc.fifo" && mkfifo "$LOGDIR/pc.fifo" && mkdisk "$LOGDIR/pc.img" 1 || return 1
	api_start || return 1
	api_ok 400 PUT /boot-source "{\"kernel_image_path\":\"$LOGDIR/no-vmlinux\"}" &&
		has_body 'The kernel file cannot be opened' && has_body 'no-vmlinux: No such file' &&
		api_ok 400 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$LOGDIR/pc.fifo\"}" &&
		has_body 'The initrd file cannot be opened' && has_body 'pc.fifo: not a regular file' &&
		api_ok 400 PUT /drives/scratch "{\"drive_id\":\"scratch\",\"path_on_host\":\"$LOGDIR/no-disk.img\",\"is_root_device\":false}" &&
		has_body 'Unable to create the virtio block device' && has_body 'no-disk.img' &&
		api_ok 400 PUT /drives/scratch "{\"drive_id\":\"scratch\",\"path_on_host\":\"$LOGDIR/pc.fifo\",\"is_root_device\":false,\"is_read_only\":true}" &&
		has_body 'not a regular file' &&
		api_ok 400 PUT /network-interfaces/eth0 '{"iface_id":"eth0","host_dev_name":"tap-nosuch9"}' &&
		has_body 'Cannot open/create the tap device' && has_body 'tap-nosuch9' &&
		api_ok 400 PUT /vsock "{\"guest_cid\":3,\"uds_path\":\"$LOGDIR/pc.img\"}" &&
		has_body 'pc.img exists and is not a socket' &&
		api_ok 200 GET /vm/config && has_body '"vsock":null' && has_body '"kernel_image_path":""' &&
		has_body '"drives":[]' && has_body '"network-interfaces":[]' ||
		{ kill -9 "$API_PID"; return 1; }
	_hdr=$("$CURL" -s -i --unix-socket "$SOCK" -X PUT -d "{\"guest_cid\":3,\"uds_path\":\"$LOGDIR/pc.vsock\",\"vsock_id\":\"v\"}" http://localhost/vsock)
	echo "+ PUT /vsock with vsock_id -> $_hdr" >>"$LOG.api"
	case "$_hdr" in *"Deprecation: true"*) ;; *) fail "no Deprecation header for vsock_id" ;; esac &&
		api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE ember.test=api-ticks\"}" &&
		api_ok 204 PUT /drives/scratch "{\"drive_id\":\"scratch\",\"path_on_host\":\"$LOGDIR/pc.img\",\"is_root_device\":false,\"is_read_only\":true}" &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' &&
		wait_for 'EMBER_TICK 2' 150
	_r=$?
	kill -9 "$API_PID" 2>/dev/null
	wait "$API_PID" 2>/dev/null
	rm -f "$LOGDIR/pc.fifo"
	return $_r
}

# The go-sdk's default logging: the log and metrics are FIFOs nobody reads
# yet when they are PUT; its readers come later and get the lines.
# FlushMetrics is for a running VM (400 before), and without metrics it has
# nothing to do (204).
t_api_fifo_logger_metrics() {
	rm -f "$LOGDIR/log.fifo" "$LOGDIR/met.fifo" && mkfifo "$LOGDIR/log.fifo" "$LOGDIR/met.fifo" &&
		: >"$LOGDIR/log.out" && : >"$LOGDIR/met.out" || return 1
	api_start || return 1
	api_ok 204 PUT /logger "{\"log_path\":\"$LOGDIR/log.fifo\",\"level\":\"Info\"}" &&
		api_ok 204 PUT /metrics "{\"metrics_path\":\"$LOGDIR/met.fifo\"}" &&
		api_ok 400 PUT /actions '{"action_type":"FlushMetrics"}' && has_body 'before starting' ||
		{ kill -9 "$API_PID"; return 1; }
	cat "$LOGDIR/log.fifo" >"$LOGDIR/log.out" &
	_lc=$!
	cat "$LOGDIR/met.fifo" >"$LOGDIR/met.out" &
	_mc=$!
	api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE ember.test=api-ticks\"}" &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' &&
		wait_for 'EMBER_TICK 2' 150 &&
		api_ok 204 PUT /actions '{"action_type":"FlushMetrics"}'
	_r=$?
	sleep 1
	kill -9 "$API_PID" 2>/dev/null
	wait "$API_PID" 2>/dev/null
	kill "$_lc" "$_mc" 2>/dev/null
	wait "$_lc" "$_mc" 2>/dev/null
	cat "$LOGDIR/log.out" "$LOGDIR/met.out" >>"$LOG.api"
	rm -f "$LOGDIR/log.fifo" "$LOGDIR/met.fifo"
	[ $_r = 0 ] || return 1
	grep -q 'guest init after' "$LOGDIR/log.out" || { fail "no log line through the FIFO"; return 1; }
	grep -q '"utc_timestamp_ms"' "$LOGDIR/met.out" || { fail "no metrics line through the FIFO"; return 1; }
	: >"$LOG"
	api_start || return 1
	api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE ember.test=api-ticks\"}" &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' &&
		api_ok 204 PUT /actions '{"action_type":"FlushMetrics"}'
	_r=$?
	kill -9 "$API_PID" 2>/dev/null
	wait "$API_PID" 2>/dev/null
	return $_r
}

t_api_patch_drive() {
	{ printf 'first-disk.'; head -c 1048565 /dev/zero; } >"$LOGDIR/first.img"
	{ printf 'second-disk'; head -c 2097141 /dev/zero; } >"$LOGDIR/second.img"
	api_start || return 1
	api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE ember.test=disk-watch\"}" &&
		api_ok 204 PUT /drives/scratch "{\"drive_id\":\"scratch\",\"path_on_host\":\"$LOGDIR/first.img\",\"is_root_device\":false,\"is_read_only\":false}" &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' ||
		{ kill -9 "$API_PID"; return 1; }
	wait_for 'EMBER_DISK_SAYS first-disk. size 2048' 150 &&
		api_ok 400 PATCH /drives/scratch "{\"drive_id\":\"scratch\",\"path_on_host\":\"$LOGDIR/no-such.img\"}" &&
		api_ok 400 PATCH /drives/nosuch "{\"drive_id\":\"nosuch\",\"path_on_host\":\"$LOGDIR/second.img\"}" &&
		api_ok 204 PATCH /drives/scratch "{\"drive_id\":\"scratch\",\"path_on_host\":\"$LOGDIR/second.img\"}" ||
		{ kill -9 "$API_PID"; return 1; }
	api_wait_exit 120
	rc_is 0 && has 'EMBER_DISK_SAYS second-disk size 4096' && has 'EMBER_GUEST_RESULT rc=0'
}
