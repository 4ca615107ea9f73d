# shellcheck shell=sh
# ember under ember-jailer, sourced by run.sh (its helpers and variables
# apply).  All of these need root.

# ember-jailer runs ember (API mode) as uid/gid 4242 in a chroot with its
# own mount namespace and a cgroup; the guest boots from a disk copied into
# the jail.  From outside we check the process: ids, no capabilities,
# no_new_privs, its root, its cgroup and the limit set through --cgroup.
t_jailer_boots_guest() {
	[ "$(id -u)" = 0 ] || { fail "needs root"; return 1; }
	_base=$LOGDIR/jail
	rm -rf "$_base"
	mkdir -p "$_base"
	echo "+ ember-jailer ... -- --api-sock /api.sock" >>"$LOG"
	"$JAILER" --id it-jail --exec-file "$EMBER" --uid 4242 --gid 4242 \
		--chroot-base-dir "$_base" --cgroup-version 2 --cgroup pids.max=50 \
		-- --api-sock /api.sock </dev/null >>"$LOG" 2>&1 &
	API_PID=$!
	_root=$_base/$(basename "$EMBER")/it-jail/root
	SOCK=$_root/api.sock
	_n=0
	while [ ! -S "$SOCK" ]; do
		[ $_n -lt 100 ] || { kill -9 "$API_PID"; fail "no API socket in the jail"; return 1; }
		sleep 0.1
		_n=$((_n + 1))
	done
	# What the jailed process is, seen from outside.
	_st=/proc/$API_PID/status
	grep -q '^Uid:[[:space:]]*4242[[:space:]]*4242' "$_st" &&
		grep -q '^Gid:[[:space:]]*4242[[:space:]]*4242' "$_st" &&
		grep -q '^CapEff:[[:space:]]*0000000000000000' "$_st" &&
		grep -q '^CapPrm:[[:space:]]*0000000000000000' "$_st" &&
		grep -q '^NoNewPrivs:[[:space:]]*1' "$_st" ||
		{ cat "$_st" >>"$LOG"; kill -9 "$API_PID"; fail "jailed ember's status is wrong"; return 1; }
	ls "/proc/$API_PID/root/" >"$LOGDIR/jail-root.txt"
	grep -q "/$(basename "$EMBER")/it-jail\$" "/proc/$API_PID/cgroup" ||
		{ kill -9 "$API_PID"; fail "not in the jail's cgroup"; return 1; }
	# The guest's files go into the jail, owned by the jail user.
	cp "$VMLINUX" "$_root/vmlinux" && cp "$ROOTFS" "$_root/rootfs.ext4" &&
		chown 4242:4242 "$_root/vmlinux" "$_root/rootfs.ext4" ||
		{ kill -9 "$API_PID"; fail "cannot stage the guest"; return 1; }
	api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"/vmlinux\",\"boot_args\":\"$BASE_CMDLINE ember.test=api-ticks\"}" &&
		api_ok 204 PUT /drives/rootfs '{"drive_id":"rootfs","path_on_host":"/rootfs.ext4","is_root_device":true,"is_read_only":false}' &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' ||
		{ kill -9 "$API_PID"; return 1; }
	wait_for 'EMBER_TICK 2' 150
	# Running: every thread (VMM, vCPU, API) is under its seccomp filter.
	for _t in /proc/$API_PID/task/*; do
		grep -q '^Seccomp:[[:space:]]*2' "$_t/status" ||
			{ kill -9 "$API_PID"; fail "thread ${_t##*/} not filtered"; return 1; }
	done
	_threads=$(ls /proc/$API_PID/task | wc -l)
	# The cgroup is <parent = exec name>/<id>, as in Firecracker.
	_pids_max=$(cat "$CGROUP_ROOT/$(basename "$EMBER")/it-jail/pids.max" 2>&1)
	api_wait_exit 150
	rc_is 0 && has 'EMBER_TICK 59' && has 'EMBER_GUEST_RESULT rc=0' &&
		{ [ "$(sort "$LOGDIR/jail-root.txt" | tr '\n' ' ')" = "api.sock dev $(basename "$EMBER") run " ] ||
			fail "jail root shows: $(tr '\n' ' ' <"$LOGDIR/jail-root.txt")"; } &&
		{ [ "$_pids_max" = 50 ] || fail "pids.max in the jail's cgroup is '$_pids_max'"; } &&
		{ [ "$_threads" -ge 3 ] || fail "only $_threads threads checked"; }
}

# ember-jailer --daemonize returns at once and the VM keeps running in the
# jail, here with a virtio-net device on a tap the jail user owns: L1 pings
# the guest through it.
t_jailer_daemonize_net() {
	[ "$(id -u)" = 0 ] || { fail "needs root"; return 1; }
	_base=$LOGDIR/jail2
	rm -rf "$_base"
	mkdir -p "$_base"
	ip link del tap-jail0 2>/dev/null
	"$MKTAP" tap-jail0 4242 && ip addr add 172.31.0.1/24 dev tap-jail0 &&
		ip link set tap-jail0 up || { fail "cannot create tap-jail0"; return 1; }
	_t0=$(date +%s)
	echo "+ ember-jailer --daemonize ... -- --api-sock /api.sock" >>"$LOG"
	"$JAILER" --id it-jail2 --exec-file "$EMBER" --uid 4242 --gid 4242 \
		--chroot-base-dir "$_base" --daemonize -- --api-sock /api.sock </dev/null >>"$LOG" 2>&1
	RC=$?
	_dt=$(($(date +%s) - _t0))
	rc_is 0 || { ip link del tap-jail0; return 1; }
	[ "$_dt" -le 5 ] || { fail "--daemonize took ${_dt}s to return"; return 1; }
	_root=$_base/$(basename "$EMBER")/it-jail2/root
	SOCK=$_root/api.sock
	_n=0
	while [ ! -S "$SOCK" ] && [ $_n -lt 100 ]; do sleep 0.1; _n=$((_n + 1)); done
	_pid=$(cat "$_root/$(basename "$EMBER").pid" 2>/dev/null)
	[ -n "$_pid" ] && kill -0 "$_pid" 2>/dev/null || { fail "no daemonized ember (pid '$_pid')"; return 1; }
	cp "$VMLINUX" "$_root/vmlinux" && cp "$INITRD" "$_root/initrd" &&
		chown 4242:4242 "$_root/vmlinux" "$_root/initrd"
	api_ok 204 PUT /logger '{"log_path":"/ember.log","level":"Info"}' &&
		api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"/vmlinux\",\"initrd_path\":\"/initrd\",\"boot_args\":\"$BASE_CMDLINE ip=172.31.0.2::172.31.0.1:255.255.255.0::eth0:off ember.test=api-ticks\"}" &&
		api_ok 204 PUT /network-interfaces/eth0 '{"iface_id":"eth0","host_dev_name":"tap-jail0","guest_mac":"06:00:ac:1f:00:02"}' &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' ||
		{ kill -9 "$_pid"; ip link del tap-jail0; return 1; }
	# The guest is up when it answers pings (its console went to /dev/null).
	_ok=0
	for _i in $(seq 60); do
		ping -c 1 -W 2 172.31.0.2 >/dev/null 2>&1 && { _ok=1; break; }
	done
	api_ok 200 GET / && has_body '"state":"Running"'
	_r=$?
	# The kernel answers pings (ip= on its command line) before init runs
	# and fires the boot timer: wait for that line rather than race it.
	for _i in $(seq 60); do
		grep -q 'guest init after' "$_root/ember.log" 2>/dev/null && break
		sleep 1
	done
	cat "$_root/ember.log" >>"$LOG" 2>/dev/null
	kill -9 "$_pid" 2>/dev/null
	ip link del tap-jail0 2>/dev/null
	[ $_r = 0 ] || return 1
	[ $_ok = 1 ] || { fail "the jailed guest never answered a ping"; return 1; }
	has 'guest init after'
}

# jail_start ID [jailer options...]: ember (API mode) under the jailer in
# the background as uid/gid 4242, base $LOGDIR/ID; sets API_PID, SOCK and
# JROOT (the jail's root seen from outside) and waits for the socket.
jail_start() {
	_id=$1
	shift
	rm -rf "${LOGDIR:?}/$_id"
	mkdir -p "$LOGDIR/$_id"
	echo "+ ember-jailer --id $_id $* -- --api-sock /api.sock ${JAIL_EMBER_ARGS-}" >>"$LOG"
	# shellcheck disable=SC2086 # JAIL_EMBER_ARGS: more options for ember, split
	"$JAILER" --id "$_id" --exec-file "$EMBER" --uid 4242 --gid 4242 \
		--chroot-base-dir "$LOGDIR/$_id" "$@" \
		-- --api-sock /api.sock ${JAIL_EMBER_ARGS-} </dev/null >>"$LOG" 2>&1 &
	API_PID=$!
	JROOT=$LOGDIR/$_id/$(basename "$EMBER")/$_id/root
	SOCK=$JROOT/api.sock
	wait_sock "$SOCK" || { kill -9 "$API_PID"; return 1; }
	cp "$VMLINUX" "$JROOT/vmlinux" && cp "$INITRD" "$JROOT/initrd" &&
		chown 4242:4242 "$JROOT/vmlinux" "$JROOT/initrd" ||
		{ kill -9 "$API_PID"; fail "cannot stage the guest in the jail"; return 1; }
}

# jail_boot TEST MEM_MIB: boots the jailed guest from the staged initrd.
jail_boot() {
	api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"/vmlinux\",\"initrd_path\":\"/initrd\",\"boot_args\":\"$BASE_CMDLINE ember.test=$1\"}" &&
		api_ok 204 PUT /machine-config "{\"vcpu_count\":1,\"mem_size_mib\":$2}" &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' || { kill -9 "$API_PID"; return 1; }
}

# Limits set through the jailer are in force.  --resource-limit fsize:
# a snapshot larger than it fails with a 400 naming the cause, leaves no
# partial file, and the VM stays Paused and resumes (a directory the jailed
# uid cannot write to is refused the same way, EACCES, first).
t_jailer_fsize() {
	[ "$(id -u)" = 0 ] || { fail "needs root"; return 1; }
	jail_start it-fsize --resource-limit fsize=1048576 || return 1
	grep -q '^Max file size[[:space:]]*1048576[[:space:]]*1048576' "/proc/$API_PID/limits" ||
		{ kill -9 "$API_PID"; fail "fsize limit not set on ember"; return 1; }
	jail_boot snap-counter 128 && wait_in "$LOG" '^EMBER_COUNT 3$' 150 &&
		api_ok 204 PATCH /vm '{"state":"Paused"}' &&
		mkdir -m 0755 "$JROOT/rootonly" &&
		api PUT /snapshot/create '{"snapshot_type":"Full","snapshot_path":"/rootonly/s.state","mem_file_path":"/rootonly/s.mem"}' &&
		{ [ "$STATUS" = 400 ] || fail "snapshot into a root-owned directory: status $STATUS"; } &&
		has_body 'Permission denied' &&
		api PUT /snapshot/create '{"snapshot_type":"Full","snapshot_path":"/s.state","mem_file_path":"/s.mem"}' &&
		{ [ "$STATUS" = 400 ] || fail "snapshot over fsize: status $STATUS"; } &&
		has_body 'File too large' &&
		{ [ ! -e "$JROOT/s.mem" ] && [ ! -e "$JROOT/s.state" ] || fail "partial snapshot files left"; } &&
		api_ok 200 GET / && has_body '"state":"Paused"' &&
		api_ok 204 PATCH /vm '{"state":"Resumed"}' && wait_in "$LOG" '^EMBER_COUNT 7$' 60 ||
		{ kill -9 "$API_PID"; return 1; }
	kill -9 "$API_PID"
	wait "$API_PID" 2>/dev/null
	return 0 # not wait's 137: the checks above passed
}

# --cgroup memory.max: a guest filling more RAM than that gets ember
# OOM-killed in its cgroup (memory.events counts it), while the same guest
# finishes without it.
t_jailer_oom() {
	[ "$(id -u)" = 0 ] || { fail "needs root"; return 1; }
	_cg=$CGROUP_ROOT/$(basename "$EMBER")/it-oom
	jail_start it-oom --cgroup-version 2 --cgroup memory.max=100663296 || return 1
	_max=$(cat "$_cg/memory.max")
	[ "$_max" = 100663296 ] || { kill -9 "$API_PID"; fail "memory.max is '$_max'"; return 1; }
	jail_boot memhog 256 || return 1
	api_wait_exit 150
	_ooms=$(sed -n 's/^oom_kill \([0-9]*\)/\1/p' "$_cg/memory.events" 2>/dev/null)
	lacks EMBER_HOG_DONE && { [ "${_ooms:-0}" -ge 1 ] || fail "memory.events oom_kill '${_ooms}'"; } &&
		{ [ "$RC" = 137 ] || fail "ember exit status $RC, expected 137 (SIGKILL)"; }
}

# firecracker-go-sdk's jailer command line, exactly as its
# JailerCommandBuilder.Args builds it (jailer.go) for NumaNode 0, a
# ChrootBaseDir and seccomp on: the NUMA node's cpus as cpuset cgroups, and
# no --cgroup-version, so cgroup v1 as in Firecracker.  L1 is cgroup v2
# only; the v1 cpuset hierarchy is mounted beside it, as hybrid hosts have
# it.  ember must end up in <v1 cpuset>/<exec name>/<id> with those values
# (its parent level inherited the root's), serve the API on the go-sdk's
# socket path and boot the guest.
t_jailer_gosdk_v1() {
	[ "$(id -u)" = 0 ] || { fail "needs root"; return 1; }
	_v1=$LOGDIR/cpuset-v1
	_id=551e7604-e35c-42b3-b825-416853441234
	_base=$LOGDIR/gosdk
	_exe=$(basename "$EMBER")
	rm -rf "$_base"
	mkdir -p "$_v1" "$_base"
	mount -t cgroup -o cpuset cgroup "$_v1" 2>>"$LOG" ||
		{ fail "cannot mount the v1 cpuset hierarchy (cpuset in use in v2?)"; return 1; }
	_cpus=$(cat /sys/devices/system/node/node0/cpulist 2>/dev/null)
	[ -n "$_cpus" ] || _cpus=$(cat "$_v1/cpuset.cpus")
	echo "+ ember-jailer --id $_id ... --cgroup cpuset.mems=0 --cgroup cpuset.cpus=$_cpus ..." >>"$LOG"
	"$JAILER" --id "$_id" --uid 4242 --gid 4242 --exec-file "$EMBER" \
		--cgroup cpuset.mems=0 --cgroup "cpuset.cpus=$_cpus" --chroot-base-dir "$_base" \
		-- --api-sock /run/firecracker.socket </dev/null >>"$LOG" 2>&1 &
	API_PID=$!
	JROOT=$_base/$_exe/$_id/root
	SOCK=$JROOT/run/firecracker.socket
	_cg=$_v1/$_exe/$_id
	_r=0
	wait_sock "$SOCK" || _r=1
	[ $_r = 0 ] && { grep -q ":cpuset:/$_exe/$_id\$" "/proc/$API_PID/cgroup" ||
		fail "not in the v1 cpuset group: $(grep cpuset "/proc/$API_PID/cgroup")"; } || _r=1
	[ $_r = 0 ] && _got="$(cat "$_cg/cpuset.cpus") $(cat "$_cg/cpuset.mems") $(cat "$_v1/$_exe/cpuset.mems")" &&
		{ [ "$_got" = "$_cpus 0 $(cat "$_v1/cpuset.mems")" ] ||
			fail "cpuset.cpus, cpuset.mems, parent's mems: '$_got'"; } || _r=1
	if [ $_r = 0 ]; then
		cp "$VMLINUX" "$JROOT/vmlinux" && cp "$INITRD" "$JROOT/initrd" &&
			chown 4242:4242 "$JROOT/vmlinux" "$JROOT/initrd" &&
			jail_boot api-ticks 128 && wait_for 'EMBER_TICK 2' 150 || _r=1
	fi
	kill -9 "$API_PID" 2>/dev/null
	wait "$API_PID" 2>/dev/null
	rmdir "$_cg" "$_v1/$_exe" 2>>"$LOG"
	umount "$_v1" 2>>"$LOG"
	[ $_r = 0 ] || return 1
	has 'EMBER_TICK 2'
}
