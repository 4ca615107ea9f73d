# shellcheck shell=sh
# virtio-balloon tests, sourced by run.sh (its helpers and variables apply).
#
# The guest runs guest-tests/balloon: it touches ember.hog MiB of its RAM and
# frees it again (so ember's RSS really holds those pages), then prints its
# MemAvailable (EMBER_MEMAVAIL kB) twice a second.  The host drives the
# balloon over the API, as Firecracker's clients do, with seccomp on, and
# reads ember's VmRSS from /proc.  The guests are 192 MiB and touch 150 MiB,
# so nearly all the free memory the balloon takes is backed on the host.

# rss_kb PID: ember's resident memory.
rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
# memavail [FILE]: the guest's last MemAvailable (kB).
memavail() { tr -d '\r' <"${1:-$LOG}" | sed -n 's/^EMBER_MEMAVAIL \([0-9]*\) .*/\1/p' | tail -n1; }
# now_cs: L1's uptime in centiseconds (for the inflation rate).
now_cs() { awk '{ printf "%d", $1 * 100 }' /proc/uptime; }
# field NAME: an integer field of $BODY.
field() { echo "$BODY" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }

# guest_wait PATTERN SECONDS: wait_in on $LOG, but a guest script that
# already ended (EMBER_GUEST_RESULT) fails at once.
guest_wait() {
	_n=0
	while ! tr -d '\r' <"$LOG" | grep -q -- "$1"; do
		! grep -q EMBER_GUEST_RESULT "$LOG" || { fail "the guest script ended before '$1'"; return 1; }
		[ "$_n" -lt "$2" ] || { fail "no '$1' after $2 s"; return 1; }
		sleep 1
		_n=$((_n + 1))
	done
}

# rss_verdict WHAT KB-GIVEN-BACK MIN-MIB: $NOTE into the log; fails below MIN-MIB.
rss_verdict() {
	echo "+ $NOTE" >>"$LOG.api"
	[ "$2" -ge $(($3 * 1024)) ] || fail "$1 gave back too little: $NOTE"
}

balloon_end() {
	kill -9 "$API_PID" 2>/dev/null
	wait "$API_PID" 2>/dev/null
}

# balloon_boot MIB BALLOON-JSON TEST [extra cmdline]: API mode, the balloon
# put before boot, started.
balloon_boot() {
	api_start || return 1
	api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE ember.timeout=400 ember.test=$3 ${4-}\"}" &&
		api_ok 204 PUT /machine-config "{\"vcpu_count\":1,\"mem_size_mib\":$1}" &&
		api_ok 204 PUT /balloon "$2" &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}'
}

# balloon_to MIB SECONDS: a new target (PATCH, retried while the guest's
# driver is not up yet: Firecracker refuses it then), and waits until the
# guest says it holds that much (actual_mib in the statistics).
balloon_to() {
	_n=0
	until api_ok 204 PATCH /balloon "{\"amount_mib\":$1}"; do
		[ $_n -lt 30 ] || return 1
		sleep 1
		_n=$((_n + 1))
	done
	_n=0
	while :; do
		api_ok 200 GET /balloon/statistics || return 1
		[ "$(field actual_mib)" = "$1" ] && return 0
		[ $_n -lt $(($2 * 5)) ] || { fail "actual_mib $(field actual_mib), not $1, after $2 s"; return 1; }
		sleep 0.2
		_n=$((_n + 1))
	done
}

# Inflating 128 MiB takes them from the guest (MemAvailable) and gives them
# back to the host (ember's RSS), at a rate the NOTE shows; the statistics
# appear and refresh (available_memory falls with it); deflating gives the
# guest its memory back.
t_balloon_inflate() {
	balloon_boot 192 '{"amount_mib":0,"deflate_on_oom":false,"stats_polling_interval_s":1}' \
		balloon ember.hog=150 &&
		guest_wait '^EMBER_BALLOON_READY' 150 &&
		guest_wait '^EMBER_MEMAVAIL [0-9]* 4$' 30 || { balloon_end; return 1; }
	_rss0=$(rss_kb "$API_PID") _av0=$(memavail)
	api_ok 200 GET /balloon/statistics && _sav0=$(field available_memory) &&
		[ -n "$_sav0" ] || { balloon_end; fail "no available_memory in $BODY"; return 1; }
	_t0=$(now_cs)
	balloon_to 128 120 || { balloon_end; return 1; }
	_t1=$(now_cs) _rss1=$(rss_kb "$API_PID")
	sleep 3 # fresh statistics (every 1 s) and MemAvailable lines
	_av1=$(memavail)
	api_ok 200 GET /balloon/statistics && _sav1=$(field available_memory)
	_freed=$(((_rss0 - _rss1) / 1024)) _cs=$((_t1 - _t0))
	[ "$_cs" -gt 0 ] || _cs=1
	NOTE="128 MiB inflated in $((_cs / 100)).$((_cs % 100 / 10)) s: RSS $((_rss0 / 1024)) -> $((_rss1 / 1024)) MiB ($((_freed * 100 / _cs)) MiB/s returned), MemAvailable -$(((_av0 - _av1) / 1024)) MiB"
	echo "+ $NOTE" >>"$LOG.api"
	[ "$_freed" -ge 110 ] && [ "$_freed" -le 160 ] ||
		{ balloon_end; fail "RSS fell by $_freed MiB for 128 MiB inflated"; return 1; }
	[ $((_av0 - _av1)) -ge $((110 * 1024)) ] ||
		{ balloon_end; fail "MemAvailable $_av0 -> $_av1 kB"; return 1; }
	[ $((_sav0 - _sav1)) -ge $((110 << 20)) ] ||
		{ balloon_end; fail "statistics' available_memory $_sav0 -> $_sav1: not refreshed"; return 1; }
	balloon_to 0 120 || { balloon_end; return 1; }
	sleep 2
	_av2=$(memavail)
	kill -0 "$API_PID" || { fail "ember died"; return 1; }
	balloon_end
	[ $((_av0 - _av2)) -le $((20 * 1024)) ] || fail "after deflating MemAvailable $_av2 kB, was $_av0"
}

# The CLI's --balloon: settings it refuses, then a guest whose MemAvailable
# falls under the balloon it booted with (balloon-oom's first half, then a
# 1 MiB allocation that fits).
t_balloon_cli() {
	refused 'more than the guest' run --kernel "$VMLINUX" --mem 64 --balloon amount_mib=65 &&
		refused 'unknown balloon option' run --kernel "$VMLINUX" --balloon amount_mib=1,x &&
		refused 'only one balloon device' run --kernel "$VMLINUX" --balloon amount_mib=1 \
			--balloon amount_mib=2 || return 1
	boot "$VMLINUX" --mem 128 --balloon amount_mib=64 -- ember.test=balloon-oom \
		ember.below=60000 ember.hog=1 && rc_is 0 && has EMBER_BALLOON_FULL &&
		has EMBER_HOG_DONE && has 'EMBER_GUEST_RESULT rc=0'
}

# The rate, on a larger balloon: 800 MiB inflated in a 1 GiB guest that
# touched 900 MiB; the NOTE says how fast ember's RSS fell.
t_balloon_inflate_rate() {
	balloon_boot 1024 '{"amount_mib":0,"deflate_on_oom":false,"stats_polling_interval_s":1}' \
		balloon ember.hog=900 &&
		guest_wait '^EMBER_BALLOON_READY' 300 || { balloon_end; return 1; }
	_rss0=$(rss_kb "$API_PID") _t0=$(now_cs)
	balloon_to 800 300 || { balloon_end; return 1; }
	_t1=$(now_cs) _rss1=$(rss_kb "$API_PID")
	balloon_end
	_cs=$((_t1 - _t0))
	[ "$_cs" -gt 0 ] || _cs=1
	NOTE="800 MiB inflated in $((_cs / 100)).$((_cs % 100 / 10)) s: RSS $((_rss0 / 1024)) -> $((_rss1 / 1024)) MiB, $(((_rss0 - _rss1) / 1024 * 100 / _cs)) MiB/s returned"
	rss_verdict inflation $((_rss0 - _rss1)) 700
}

# deflate_on_oom: a balloon of 150 MiB in a 192 MiB guest, then the guest
# needs 100 MiB.  With the feature its OOM path deflates and the allocation
# succeeds; without it (the control) the OOM killer strikes.
balloon_oom() { # DEFLATE: boots, waits for the hog's outcome, ends ember
	balloon_boot 192 "{\"amount_mib\":150,\"deflate_on_oom\":$1}" balloon-oom \
		"ember.below=40000 ember.hog=100" || { balloon_end; return 1; }
	_n=0 _r=1
	while [ $_n -lt 240 ]; do
		grep -q -e EMBER_GUEST_RESULT -e 'Out of memory' "$LOG" && { _r=0; break; }
		sleep 1
		_n=$((_n + 1))
	done
	[ $_r = 0 ] || fail "neither the hog's end nor an OOM after 240 s"
	sleep 2 # the rest of the OOM report
	balloon_end
	[ $_r = 0 ] && has EMBER_BALLOON_FULL
}

t_balloon_deflate_on_oom() {
	balloon_oom true && has EMBER_HOG_DONE && lacks 'Out of memory' &&
		has 'EMBER_GUEST_RESULT rc=0' || return 1
	cat "$LOG" >"$LOG.deflate" && : >"$LOG"
	balloon_oom false && lacks EMBER_HOG_DONE && has 'Out of memory'
}

# Free page reporting: memory the guest touched and freed goes back to the
# host without any inflation (ember's RSS falls by most of it).
t_balloon_free_page_reporting() {
	balloon_boot 192 '{"amount_mib":0,"deflate_on_oom":false,"free_page_reporting":true}' \
		balloon ember.hog=150 &&
		guest_wait '^EMBER_HOG_WRITTEN' 150 || { balloon_end; return 1; }
	_peak=$(rss_kb "$API_PID")
	guest_wait '^EMBER_BALLOON_READY' 30 || { balloon_end; return 1; }
	_n=0
	while _now=$(rss_kb "$API_PID") && [ $((_peak - _now)) -lt $((100 * 1024)) ]; do
		[ $_n -lt 60 ] || break
		sleep 1
		_n=$((_n + 1))
	done
	balloon_end
	NOTE="RSS $((_peak / 1024)) MiB with 150 MiB touched, $((_now / 1024)) MiB ${_n} s after the guest freed it"
	rss_verdict reporting $((_peak - _now)) 100
}

# Free page hinting: a run the host starts (PATCH /balloon/hinting/start)
# makes the guest hint its free blocks, which go back to the host (RSS
# falls); the guest's STOP is acknowledged with DONE (acknowledge_on_stop's
# default), after which the guest may use those pages again.
t_balloon_free_page_hinting() {
	balloon_boot 192 '{"amount_mib":0,"deflate_on_oom":false,"free_page_hinting":true}' \
		balloon ember.hog=150 &&
		guest_wait '^EMBER_BALLOON_READY' 150 &&
		api_ok 200 GET /balloon/hinting/status && has_body '"host_cmd":0' ||
		{ balloon_end; return 1; }
	_rss0=$(rss_kb "$API_PID")
	api_ok 204 PATCH /balloon/hinting/start || { balloon_end; return 1; }
	_n=0
	until api_ok 200 GET /balloon/hinting/status && [ "$(field host_cmd)" = 1 ] &&
		[ "$(field guest_cmd)" = 0 ]; do
		[ $_n -lt 120 ] || { balloon_end; fail "hinting run not done: $BODY"; return 1; }
		sleep 1
		_n=$((_n + 1))
	done
	_rss1=$(rss_kb "$API_PID")
	# The guest takes its hinted pages back after DONE and carries on.
	_last=$(tr -d '\r' <"$LOG" | sed -n 's/^EMBER_MEMAVAIL [0-9]* \([0-9]*\)$/\1/p' | tail -n1)
	guest_wait "^EMBER_MEMAVAIL [0-9]* $((${_last:-0} + 4))\$" 30 &&
		api_ok 204 PATCH /balloon/hinting/stop && kill -0 "$API_PID" || { balloon_end; return 1; }
	balloon_end
	NOTE="hinting run over in ${_n} s: RSS $((_rss0 / 1024)) -> $((_rss1 / 1024)) MiB"
	rss_verdict hinting $((_rss0 - _rss1)) 80
}

# A snapshot of a VM with an inflated balloon restores, and the restored
# balloon still works: its settings come back, it inflates further (the
# guest's MemAvailable falls, the statistics refresh) and deflates.
t_balloon_snapshot() {
	balloon_boot 192 '{"amount_mib":0,"deflate_on_oom":false,"stats_polling_interval_s":1}' \
		balloon ember.hog=100 &&
		guest_wait '^EMBER_BALLOON_READY' 150 && balloon_to 64 120 &&
		snap_take Full "$LOGDIR/snap.state" "$LOGDIR/snap.mem" || { balloon_end; return 1; }
	balloon_end
	rm -f "$LOG".r*
	snap_load "$LOG.r1" "$LOGDIR/api-r.sock" "$LOGDIR/snap.state" File "$LOGDIR/snap.mem" true ||
		{ snap_kill "$SNAP_PID"; snap_logs; return 1; }
	API_PID=$SNAP_PID
	_ok=0
	api_ok 200 GET /balloon && has_body '"amount_mib":64' && has_body '"stats_polling_interval_s":1' &&
		api_ok 200 GET /vm/config && has_body '"balloon":{"amount_mib":64' &&
		wait_in "$LOG.r1" '^EMBER_MEMAVAIL' 60 && sleep 3 &&
		api_ok 200 GET /balloon/statistics && _sav0=$(field available_memory) &&
		_av0=$(memavail "$LOG.r1") && balloon_to 128 120 && sleep 3 &&
		api_ok 200 GET /balloon/statistics && _sav1=$(field available_memory) &&
		_av1=$(memavail "$LOG.r1") && _ok=1
	if [ $_ok = 1 ]; then
		[ $((_av0 - _av1)) -ge $((50 * 1024)) ] || { fail "restored: MemAvailable $_av0 -> $_av1"; _ok=0; }
		[ $((_sav0 - _sav1)) -ge $((50 << 20)) ] || { fail "restored: statistics not refreshed ($_sav0 -> $_sav1)"; _ok=0; }
	fi
	[ $_ok = 1 ] && balloon_to 0 120 && kill -0 "$API_PID" || _ok=0
	snap_kill "$API_PID"
	snap_logs
	[ $_ok = 1 ]
}
