# shellcheck shell=sh
# Memory hotplug (virtio-mem) tests, sourced by run.sh (its helpers apply).

# memkb: the guest's last MemTotal (guest-tests/mem-watch).
memkb() { tr -d '\r' <"$LOG" | sed -n 's/^EMBER_MEMKB \([0-9]*\)$/\1/p' | tail -n 1; }

# wait_memkb OP KB SECONDS: until the guest's MemTotal is OP (-ge, -le) KB.
wait_memkb() {
	_n=0
	while :; do
		_kb=$(memkb)
		[ -n "$_kb" ] && [ "$_kb" "$1" "$2" ] && return 0
		[ "$_n" -lt "$3" ] || { fail "MemTotal ${_kb:-?} kB, waited for $1 $2 kB"; return 1; }
		sleep 1
		_n=$((_n + 1))
	done
}

# rss_kb PID: resident memory of a process (kB).
rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB$/\1/p' "/proc/$1/status"; }

# wait_plugged MIB SECONDS: until GET /hotplug/memory says MIB are plugged.
wait_plugged() {
	_n=0
	while :; do
		api GET /hotplug/memory
		case "$BODY" in *"\"plugged_size_mib\":$1,"*) return 0 ;; esac
		[ "$_n" -lt "$2" ] || { fail "plugged: $BODY, waited for $1 MiB"; return 1; }
		sleep 1
		_n=$((_n + 1))
	done
}

# hp_boot_plug [MACHINE-JSON]: a 256 MiB guest (mem-watch) with 512 MiB of
# hotpluggable memory boots and 256 MiB are plugged; _base: MemTotal before.
hp_boot_plug() {
	api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE memhp_default_state=online_movable ember.timeout=600 ember.test=mem-watch\"}" &&
		api_ok 204 PUT /machine-config "{\"vcpu_count\":1,\"mem_size_mib\":256${1:+,$1}}" &&
		api_ok 204 PUT /hotplug/memory '{"total_size_mib":512}' &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' &&
		wait_memkb -gt 0 150 || return 1
	_base=$(memkb)
	api_ok 204 PATCH /hotplug/memory '{"requested_size_mib":256}' &&
		wait_memkb -ge $((_base + 240000)) 150 && wait_plugged 256 60
}

# A 256 MiB guest with 512 MiB of hotpluggable memory: PATCH requested_size_mib
# 256 and its MemTotal grows by about 256 MiB, GET shows it plugged; back to 0
# and it shrinks again.  Sizes the device cannot take are a 400, a Diff
# snapshot is refused, and the VM keeps running.  The guest uses 200 MiB of the new
# memory; unplugged, it goes back to the host (ember's RSS drops by more
# than 64 MiB, not a timing).  The guest onlines hotplugged memory
# as movable (memhp_default_state=online_movable, as Firecracker's docs
# advise), so it can always give all of it back.
t_mem_hotplug() {
	api_start --id it-hotplug || return 1
	hp_boot_plug '"track_dirty_pages":true' || { snap_kill "$API_PID"; return 1; }
	{ wait_for EMBER_HOG_DONE 120 || fail "the guest did not use its new memory"; } &&
		_rss_plugged=$(rss_kb "$API_PID") &&
		has_body '"requested_size_mib":256' && has_body '"total_size_mib":512' &&
		api_ok 400 PATCH /hotplug/memory '{"requested_size_mib":1024}' &&
		api_ok 400 PATCH /hotplug/memory '{"requested_size_mib":3}' &&
		api_ok 204 PATCH /vm '{"state":"Paused"}' &&
		api_ok 400 PUT /snapshot/create "{\"snapshot_type\":\"Diff\",\"snapshot_path\":\"$LOGDIR/hp.state\",\"mem_file_path\":\"$LOGDIR/hp.mem\"}" &&
		has_body 'Diff snapshots of a microVM with memory hotplug' &&
		api_ok 204 PATCH /vm '{"state":"Resumed"}' &&
		api_ok 204 PATCH /hotplug/memory '{"requested_size_mib":0}' &&
		wait_memkb -le "$_base" 150 && wait_plugged 0 60 &&
		api_ok 200 GET / && has_body '"state":"Running"' &&
		_rss_unplugged=$(rss_kb "$API_PID") &&
		{ [ "$_rss_unplugged" -lt $((_rss_plugged - 65536)) ] ||
			fail "ember's RSS $_rss_plugged kB plugged, $_rss_unplugged kB unplugged"; }
	_r=$?
	NOTE="MemTotal $_base kB, +256 MiB plugged, back to $(memkb) kB; ember RSS ${_rss_plugged:-?} kB with the guest's 200 MiB file written, ${_rss_unplugged:-?} kB unplugged"
	snap_kill "$API_PID"
	return $_r
}

# A Full snapshot keeps plugged memory: 256 MiB plugged (the guest has used
# 200 MiB of it), snapshot, a fresh ember restores it; MemTotal is still
# grown, GET shows 256 MiB plugged and unplugging works.  (Corrupt
# virtio-mem state: tests/unit/test_vmem.c.)
t_mem_hotplug_snapshot() {
	rm -f "$LOG".r*
	api_start --id it-hpsnap || return 1
	hp_boot_plug || { snap_kill "$API_PID"; return 1; }
	{ wait_for EMBER_HOG_DONE 120 || fail "the guest did not use its new memory"; } &&
		api_ok 204 PATCH /vm '{"state":"Paused"}' &&
		api_ok 204 PUT /snapshot/create "{\"snapshot_type\":\"Full\",\"snapshot_path\":\"$LOGDIR/hp.state\",\"mem_file_path\":\"$LOGDIR/hp.mem\"}" ||
		{ snap_kill "$API_PID"; return 1; }
	snap_kill "$API_PID"
	_log=$LOG
	snap_load "$LOG.r1" "$LOGDIR/api.sock" "$LOGDIR/hp.state" File "$LOGDIR/hp.mem" true &&
		api_ok 200 GET / && has_body '"state":"Running"' &&
		wait_plugged 256 10 && has_body '"requested_size_mib":256' &&
		LOG=$LOG.r1 && wait_memkb -ge $((_base + 240000)) 60 &&
		api_ok 204 PATCH /hotplug/memory '{"requested_size_mib":0}' &&
		wait_memkb -le "$_base" 150 && wait_plugged 0 60 &&
		api_ok 200 GET / && has_body '"state":"Running"'
	_r=$?
	LOG=$_log
	NOTE="MemTotal $_base kB before plugging; restored with 256 MiB plugged, unplugged to $(LOG=$LOG.r1 memkb) kB"
	snap_kill "$SNAP_PID"
	return $_r
}

# A hotplug region the host cannot give: InstanceStart is a 400 naming it.
t_mem_hotplug_too_big() {
	api_start || return 1
	api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\"}" &&
		api_ok 204 PUT /hotplug/memory '{"total_size_mib":1048576}' &&
		api_ok 400 PUT /actions '{"action_type":"InstanceStart"}' &&
		has_body 'more than this host has' && api_ok 200 GET / &&
		has_body '"state":"Not started"'
	_r=$?
	snap_kill "$API_PID"
	return $_r
}
