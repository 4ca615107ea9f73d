# shellcheck shell=sh
# PUT /serial (Firecracker's SerialConfig), sourced by run.sh (its helpers
# and variables apply): guest console output into a file, into a FIFO that
# has no reader when it is configured, and through a rate limiter that drops
# and counts what is over its bucket.

# serial_boot TEST [SERIAL_JSON]: ember in API mode, PUT /serial, metrics to
# $LOGDIR/serial-metrics.json, boots the initramfs guest running TEST.
serial_boot() {
	rm -f "$LOGDIR/serial-metrics.json"
	api_start || return 1
	api_ok 204 PUT /serial "$2" &&
		api_ok 204 PUT /metrics "{\"metrics_path\":\"$LOGDIR/serial-metrics.json\"}" &&
		api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE ember.test=$1\"}" &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' || { kill -9 "$API_PID"; return 1; }
}

# The guest's console lands in serial_out_path (appended), not on stdout;
# GET /vm/config shows the setting; PUT /serial after boot is refused.
t_serial_file() {
	_out=$LOGDIR/serial.out
	echo "kept" >"$_out"
	serial_boot pass "{\"serial_out_path\":\"$_out\"}" || return 1
	api_ok 200 GET /vm/config && has_body "\"serial\":{\"serial_out_path\":\"$_out\"}" &&
		api PUT /serial '{}' && { [ "$STATUS" = 400 ] || fail "PUT /serial after boot: $STATUS"; } &&
		has_body 'not supported after starting' || { kill -9 "$API_PID"; return 1; }
	api_wait_exit 150
	cat "$_out" >>"$LOG.serial"
	rc_is 0 && lacks 'EMBER_GUEST_PASS_RAN' &&
		{ grep -q 'EMBER_GUEST_PASS_RAN' "$_out" || fail "the guest's output is not in $_out"; } &&
		{ grep -q 'EMBER_GUEST_RESULT rc=0' "$_out" || fail "no guest result in $_out"; } &&
		{ [ "$(head -n1 "$_out")" = kept ] || fail "$_out was truncated, not appended to"; }
}

# A FIFO nobody reads at PUT /serial nor at InstanceStart: the VM starts and
# runs; a reader that comes later gets the guest's output.
t_serial_fifo() {
	_fifo=$LOGDIR/serial.fifo
	rm -f "$_fifo" "$LOGDIR/serial-fifo.out"
	mkfifo "$_fifo" || { fail "mkfifo"; return 1; }
	serial_boot api-ticks "{\"serial_out_path\":\"$_fifo\"}" || return 1
	api_ok 200 GET / && has_body '"state":"Running"' || { kill -9 "$API_PID"; return 1; }
	cat "$_fifo" >"$LOGDIR/serial-fifo.out" &
	_cat=$!
	_n=0
	until grep -q 'EMBER_TICK [1-9]' "$LOGDIR/serial-fifo.out" 2>/dev/null; do
		[ $_n -lt 150 ] || break
		sleep 1
		_n=$((_n + 1))
	done
	api_wait_exit 150
	kill "$_cat" 2>/dev/null
	rc_is 0 && lacks 'EMBER_TICK' &&
		{ grep -q 'EMBER_TICK 59' "$LOGDIR/serial-fifo.out" ||
			fail "the reader got no ticks: $(tail -c 200 "$LOGDIR/serial-fifo.out")"; }
}

# A 2000-byte bucket that would take 1000 s to refill: the guest's boot
# log is about 10 KB, so what reaches the file stays within the bucket (plus
# the refill of the run, 2 bytes a second: 20% margin), and the rest (over
# 1000 bytes) is counted in uart.rate_limiter_dropped_bytes;
# console.output_bytes is exactly the file.
t_serial_rate_limit() {
	_out=$LOGDIR/serial-rl.out
	rm -f "$_out"
	serial_boot pass "{\"serial_out_path\":\"$_out\",\"rate_limiter\":{\"size\":2000,\"refill_time\":1000000}}" ||
		return 1
	api_wait_exit 150
	_size=$(stat -c %s "$_out")
	_line=$(tail -n1 "$LOGDIR/serial-metrics.json")
	echo "$_line" >>"$LOG"
	_dropped=$(echo "$_line" | sed -n 's/.*"uart":{"rate_limiter_dropped_bytes":\([0-9]*\)}.*/\1/p')
	_written=$(echo "$_line" | sed -n 's/.*"console":{"output_bytes":\([0-9]*\),.*/\1/p')
	rc_is 0 && { [ -n "$_dropped" ] && [ "$_dropped" -gt 1000 ] ||
		fail "rate_limiter_dropped_bytes '$_dropped'"; } &&
		{ [ "$_size" -le 2400 ] && [ "$_size" -ge 1000 ] || fail "$_out has $_size bytes"; } &&
		{ [ "$_written" = "$_size" ] || fail "output_bytes $_written, file $_size"; }
}

# PUT /serial is no boot resource: it may come before PUT /snapshot/load, and
# then the restored guest's console goes to serial_out_path (as in
# Firecracker), not to stdout; GET /vm/config still shows it after the load.
t_serial_snapshot_load() {
	_out=$LOGDIR/serial-restored.out
	rm -f "$_out"
	snap_full || return 1
	snap_ember "$LOG.r1" "$LOGDIR/api.sock" || return 1
	api_ok 204 PUT /serial "{\"serial_out_path\":\"$_out\"}" &&
		api_ok 204 PUT /snapshot/load "{\"snapshot_path\":\"$LOGDIR/snap.state\",\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":\"$LOGDIR/snap.mem\"},\"resume_vm\":true,\"vsock_override\":{\"uds_path\":\"$LOGDIR/snap-v2.sock\"}}" &&
		api_ok 200 GET /vm/config && has_body "\"serial_out_path\":\"$_out\"" &&
		continues "$_out" "$_at" &&
		{ ! grep -q EMBER_COUNT "$LOG.r1" || fail "the restored guest's console is on stdout too"; }
	_r=$?
	snap_kill "$SNAP_PID"
	cat "$_out" >>"$LOG.r1" 2>/dev/null
	snap_logs
	return $_r
}
