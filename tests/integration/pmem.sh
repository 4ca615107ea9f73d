# shellcheck shell=sh
# virtio-pmem tests, sourced by run.sh (its helpers, and snapshot.sh's, apply).

# The guest boots from the ext4 image on a read-only pmem device, mounted
# with DAX (guest-tests/pmem-root checks the mount, /dev/pmem0's DAX and
# that writes fail); the host file does not change.
t_pmem_root_dax() {
	_before=$(md5sum <"$ROOTFS")
	vm run --kernel "$VMLINUX" --pmem "$ROOTFS,ro,root" \
		--cmdline "$BASE_CMDLINE rootflags=dax ember.test=pmem-root" </dev/null
	rc_is 0 && reached_init && has 'root=/dev/pmem0 ro' && has EMBER_PMEM_ROOT_OK &&
		has 'EMBER_GUEST_RESULT rc=0' &&
		{ [ "$(md5sum <"$ROOTFS")" = "$_before" ] || fail "the read-only pmem file changed"; }
}

# Through the API: a read-write pmem device (5 MiB file, which the guest sees
# as 6 MiB); the guest writes a pattern to /dev/pmem0 and fsyncs it, which
# reaches ember as a flush (metrics); the host file holds the pattern even
# after ember is SIGKILLed, and nothing else.
t_pmem_write_flush() {
	_img=$LOGDIR/pmem.img _m=$LOGDIR/pmem-metrics.json
	rm -f "$_m"
	mkdisk "$_img" 5 && api_start --id it-pmem || return 1
	api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE ember.test=pmem-write\"}" &&
		api_ok 204 PUT /pmem/scratch "{\"id\":\"scratch\",\"path_on_host\":\"$_img\",\"root_device\":false,\"read_only\":false}" &&
		api_ok 204 PUT /metrics "{\"metrics_path\":\"$_m\"}" &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' ||
		{ snap_kill "$API_PID"; return 1; }
	wait_for 'EMBER_PMEM_WRITTEN\|EMBER_GUEST_RESULT' 150
	api_ok 204 PUT /actions '{"action_type":"FlushMetrics"}' &&
		api_ok 200 GET /vm/config && has_body '"pmem":[{"id":"scratch"'
	_r=$?
	snap_kill "$API_PID"
	[ $_r = 0 ] && has EMBER_PMEM_WRITTEN || return 1
	yes ember-pmem-pattern | head -c 4194304 >"$LOGDIR/expect.bin"
	head -c 4194304 "$_img" >"$LOGDIR/got.bin"
	cmp -s "$LOGDIR/expect.bin" "$LOGDIR/got.bin" || { fail "host file lacks the pattern"; return 1; }
	[ "$(tail -c +4194305 "$_img" | tr -d '\000' | wc -c)" = 0 ] ||
		{ fail "bytes after the pattern are not zero"; return 1; }
	[ "$(stat -c %s "$_img")" = 5242880 ] || { fail "the file changed size"; return 1; }
	grep -q '"pmem":{"scratch":{"flush_count":[1-9][0-9]*,"flush_fails":0' "$_m" ||
		fail "metrics show no flush"
}

# Files a pmem device cannot use are a 400 at PUT /pmem naming the problem
# (as a drive's image), the device is not added, and ember goes on answering.
t_pmem_bad_files() {
	: >"$LOGDIR/empty.img"
	for _bad in "$LOGDIR/empty.img:is empty" "$LOGDIR/nonexistent.img:No such file" \
		"$LOGDIR:Is a directory"; do
		api_start || return 1
		api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\"}" &&
			api_ok 400 PUT /pmem/p "{\"id\":\"p\",\"path_on_host\":\"${_bad%%:*}\"}" &&
			has_body "${_bad#*:}" && api_ok 200 GET /vm/config && has_body '"pmem":[]' &&
			api_ok 200 GET / && has_body '"state":"Not started"'
		_r=$?
		snap_kill "$API_PID"
		[ $_r = 0 ] || return 1
	done
}

# pss PID: the process's proportional set size, kB.
pss_kb() { awk '/^Pss:/ { s += $2 } END { print s + 0 }' "/proc/$1/smaps_rollup"; }

# clones_pss KIND: boots from the root image on KIND (pmem, with DAX, or
# blk), snapshots it while guest-tests/root-reader reads the whole root over
# and over, restores 10 clones and lets each read the root twice; _pss is
# their summed PSS in kB.
clones_pss() {
	rm -f "$LOG".r*
	_root=$LOGDIR/root-$1.ext4
	cp "$ROOTFS" "$_root" || { fail "cannot copy $ROOTFS"; return 1; }
	snap_ember "$LOG" "$LOGDIR/api.sock" || return 1
	API_PID=$SNAP_PID
	if [ "$1" = pmem ]; then
		_flags=rootflags=dax
		_dev="/pmem/root {\"id\":\"root\",\"path_on_host\":\"$_root\",\"root_device\":true,\"read_only\":true}"
	else
		_flags=
		_dev="/drives/root {\"drive_id\":\"root\",\"path_on_host\":\"$_root\",\"is_root_device\":true,\"is_read_only\":true}"
	fi
	api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"boot_args\":\"$BASE_CMDLINE $_flags ember.test=root-reader\"}" &&
		api_ok 204 PUT "${_dev%% *}" "${_dev#* }" &&
		api_ok 204 PUT /machine-config '{"vcpu_count":1,"mem_size_mib":128}' &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' &&
		wait_in "$LOG" '^EMBER_READ 2$' 150 &&
		snap_take Full "$LOGDIR/snap-$1.state" "$LOGDIR/snap-$1.mem"
	_r=$?
	snap_kill "$API_PID"
	[ $_r = 0 ] || return 1
	_pids= _pss=0
	for i in 1 2 3 4 5 6 7 8 9 10; do
		snap_load "$LOG.r$i" "$LOGDIR/clone$i.sock" "$LOGDIR/snap-$1.state" File \
			"$LOGDIR/snap-$1.mem" true || _r=1
		_pids="$_pids $SNAP_PID"
		[ $_r = 0 ] || break
	done
	for i in 1 2 3 4 5 6 7 8 9 10; do
		[ $_r = 0 ] || break
		# The pass cut by the snapshot, then a whole one.
		wait_in "$LOG.r$i" '^EMBER_READ' 150 || _r=1
		_n=$(tr -d '\r' <"$LOG.r$i" | sed -n 's/^EMBER_READ \([0-9]*\)$/\1/p' | head -n 1)
		[ $_r = 0 ] && wait_in "$LOG.r$i" "^EMBER_READ $((_n + 1))\$" 150 || _r=1
	done
	for p in $_pids; do
		[ $_r = 0 ] || break
		kill -0 "$p" 2>/dev/null || { fail "a clone died"; _r=1; }
		_pss=$((_pss + $(pss_kb "$p")))
	done
	for p in $_pids; do snap_kill "$p"; done
	snap_logs
	echo "+ $1 root: 10 clones, PSS $_pss kB in all" >>"$LOG.api"
	return $_r
}

# 10 clones of one snapshot booted from a DAX root on virtio-pmem share the
# root's data in the host's page cache; from a virtio-blk root each clone
# reads it into its own guest RAM.  The pmem clones' summed PSS must be the
# smaller (both figures go into the PASS line).
t_pmem_clones_share_root() {
	# L1's own kernel (Debian's, running KVM under QEMU's TCG) panicked in 5
	# of the last 6 runs of this test ("TASK stack guard page was hit" in an
	# ember process), also on the tree where it had passed: the harness, not
	# ember, goes down, and every later test with it.  Opt in until that is
	# understood.
	[ -n "${EMBER_IT_PMEM_CLONES-}" ] ||
		{ skip "crashes L1's kernel under nested TCG; EMBER_IT_PMEM_CLONES=1 runs it"; return 1; }
	clones_pss pmem || return 1
	_pmem=$_pss
	clones_pss blk || return 1
	_blk=$_pss
	NOTE="10 clones' PSS: pmem root $((_pmem / 1024)) MiB, virtio-blk root $((_blk / 1024)) MiB"
	[ "$_pmem" -lt "$_blk" ] || fail "pmem clones use $_pmem kB, blk clones $_blk kB"
}
