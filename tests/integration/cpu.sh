# shellcheck shell=sh
# CPU templates and Firecracker's command-line flags, sourced by run.sh (its
# helpers and variables apply).

# The template the tests boot with: AES (CPUID 1 ECX bit 25) and BMI1
# (CPUID 7.0 EBX bit 3, in the short bitmap form) masked.  Leaf 7 keeps
# KVM's flag 1 (significant index): a template replaces the flags.
CPU_MASK='{"cpuid_modifiers":[{"leaf":"0x1","subleaf":"0x0","flags":0,"modifiers":[{"register":"ecx","bitmap":"0bxxxxxx0xxxxxxxxxxxxxxxxxxxxxxxxx"}]},{"leaf":"0x7","subleaf":"0x0","flags":1,"modifiers":[{"register":"ebx","bitmap":"0b0xxx"}]}]}'

# L1's own /proc/cpuinfo field $1 (the host ember runs on).
host_cpu() { sed -n "s/^$1[[:space:]]*: //p" /proc/cpuinfo | head -n1; }

# start_fails NEEDLE: InstanceStart is a 400 naming NEEDLE and the API goes
# on serving (state Not started).
start_fails() {
	api PUT /actions '{"action_type":"InstanceStart"}'
	[ "$STATUS" = 400 ] || { fail "InstanceStart: $STATUS, expected 400 with '$1'"; return 1; }
	has_body "$1" && api_ok 200 GET / && has_body '"state":"Not started"'
}

# A custom template through the API: refused at InstanceStart where KVM
# lacks what it names (a CPUID leaf, an MSR, a capability) or refuses a
# value (a reserved bit of MTRRdefType), Firecracker's
# static templates refused on a host they do not fit, then a boot with
# CPU_MASK whose guest lacks aes and bmi1 but keeps sse2.
t_cpu_template_custom() {
	for _f in aes bmi1 sse2; do
		grep -q "^flags.* $_f\( \|$\)" /proc/cpuinfo || { skip "host CPU lacks $_f"; return 1; }
	done
	api_start --id it-cpu || return 1
	api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE ember.test=cpu-flags\"}" &&
		api_ok 204 PUT /cpu-config '{"cpuid_modifiers":[{"leaf":"0x4fffffff","subleaf":"0x0","flags":0,"modifiers":[]}]}' &&
		start_fails 'Template changes a CPUID entry not supported by KVM: Leaf: 0x4fffffff, Subleaf: 0x0' &&
		api_ok 204 PUT /cpu-config '{"msr_modifiers":[{"addr":"0xdeadbeef","bitmap":"0b1"}]}' &&
		start_fails 'Template changes an MSR entry not supported by KVM: Register Address: 0xdeadbeef' &&
		api_ok 204 PUT /cpu-config '{"msr_modifiers":[{"addr":"0x2ff","bitmap":"0b1xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}]}' &&
		start_fails 'KVM refuses the CPU template' &&
		api_ok 204 PUT /cpu-config '{"kvm_capabilities":["99999"]}' &&
		start_fails 'Missing KVM capabilities: [99999]' &&
		api_ok 400 PUT /cpu-config '{"msr_modifiers":[{"addr":"0x10","bitmap":"0b12"}]}' &&
		has_body 'unknown character' ||
		{ kill -9 "$API_PID"; return 1; }
	# The static templates: Intel's on AMD and the other way round, and T2A
	# only on Milan (family 25 model 1 stepping 1), as Firecracker decides.
	case "$(host_cpu vendor_id)" in
	AuthenticAMD) _other=T2 _mine=T2A ;;
	*) _other=T2A _mine=T2CL ;;
	esac
	api_ok 204 PATCH /machine-config "{\"cpu_template\":\"$_other\"}" &&
		start_fails 'Failed to start the microVM: Failed to get CPU template: CPU vendor mismatched between actual CPU and CPU template.' ||
		{ kill -9 "$API_PID"; return 1; }
	if [ "$_mine" = T2A ] && [ "$(host_cpu 'cpu family')/$(host_cpu model)/$(host_cpu stepping)" != 25/1/1 ]; then
		api_ok 204 PATCH /machine-config '{"cpu_template":"T2A"}' &&
			start_fails 'The current CPU model is not permitted to apply the CPU template.' ||
			{ kill -9 "$API_PID"; return 1; }
	fi
	api_ok 204 PUT /cpu-config "$CPU_MASK" && api_ok 200 GET /vm/config &&
		has_body '"cpu-config":{"kvm_capabilities":[],"cpuid_modifiers":[{"leaf":"0x1"' &&
		has_body '"bitmap":"0bxxxxxxxxxxxxxxxxxxxxxxxxxxxx0xxx"' &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' || { kill -9 "$API_PID"; return 1; }
	api_wait_exit 150
	rc_is 0 && has 'EMBER_CPU_FLAGS .* sse2 ' && lacks 'EMBER_CPU_FLAGS.* aes ' &&
		lacks 'EMBER_CPU_FLAGS.* bmi1 ' && has 'EMBER_GUEST_RESULT rc=0'
}

# The template survives a snapshot: the restored ember shows it in GET
# /vm/config, and --describe-snapshot reads the state file's version.
t_cpu_template_snapshot() {
	rm -f "$LOG".r*
	snap_ember "$LOG" "$LOGDIR/api.sock" || return 1
	API_PID=$SNAP_PID
	api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE ember.test=snap-counter\"}" &&
		api_ok 204 PUT /cpu-config "$CPU_MASK" &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' &&
		wait_in "$LOG" '^EMBER_COUNT 4$' 150 &&
		snap_take Full "$LOGDIR/snap.state" "$LOGDIR/snap.mem" || { snap_kill "$API_PID"; return 1; }
	snap_kill "$API_PID"
	_at=$(stopped_at "$LOG")
	_v=$("$EMBER" --describe-snapshot "$LOGDIR/snap.state" 2>&1)
	echo "+ ember --describe-snapshot: $_v; --snapshot-version: $("$EMBER" --snapshot-version)" >>"$LOG.api"
	[ "$_v" = "$("$EMBER" --snapshot-version)" ] && [ "$_v" = v2.0.0 ] ||
		{ fail "--describe-snapshot said '$_v'"; return 1; }
	snap_load "$LOG.r1" "$LOGDIR/api.sock" "$LOGDIR/snap.state" File "$LOGDIR/snap.mem" true &&
		api_ok 200 GET /vm/config && has_body '"cpu-config":{"kvm_capabilities":[],"cpuid_modifiers":[{"leaf":"0x1"' &&
		has_body '"bitmap":"0bxxxxxx0xxxxxxxxxxxxxxxxxxxxxxxxx"' &&
		continues "$LOG.r1" "$_at"
	_r=$?
	snap_kill "$SNAP_PID"
	snap_logs
	return $_r
}

# What Firecracker's jailer passes (start times) and the logger flags: the
# metrics line has the startup times counted from them, log lines show their
# level and origin, and a bad flag value is refused with exit status 1.
t_fc_flags() {
	_m=$LOGDIR/fc-metrics.json
	rm -f "$_m"
	api_start --id it-fc-flags --start-time-us 1 --start-time-cpu-us 0 \
		--parent-cpu-time-us 5000000 --show-level --show-log-origin --boot-timer \
		--mmds-size-limit 4096 --metrics-path "$_m" || return 1
	api_ok 204 PUT /boot-source "{\"kernel_image_path\":\"$VMLINUX\",\"initrd_path\":\"$INITRD\",\"boot_args\":\"$BASE_CMDLINE ember.test=pass\"}" &&
		api_ok 204 PUT /actions '{"action_type":"InstanceStart"}' || { kill -9 "$API_PID"; return 1; }
	api_wait_exit 150
	cat "$_m" >>"$LOG.api"
	rc_is 0 && has 'EMBER_GUEST_RESULT rc=0' && has 'ember: INFO: \[api_mode.c:[0-9]*\] API socket ready' || return 1
	_us=$(sed -n 's/.*"process_startup_time_us":\([0-9]*\).*/\1/p' "$_m" | tail -n1)
	_cpu=$(sed -n 's/.*"process_startup_time_cpu_us":\([0-9]*\).*/\1/p' "$_m" | tail -n1)
	[ -n "$_us" ] && [ "$_us" -gt 0 ] || { fail "process_startup_time_us '$_us'"; return 1; }
	# The parent's 5 s are in it; our own CPU time to the socket is far below 5 s more.
	[ -n "$_cpu" ] && [ "$_cpu" -ge 5000000 ] && [ "$_cpu" -lt 10000000 ] ||
		{ fail "process_startup_time_cpu_us '$_cpu'"; return 1; }
	refused "is not a number of microseconds" --start-time-us soon --api-sock "$LOGDIR/x.sock" &&
		refused "exclude each other" --seccomp-filter /nonexistent --no-seccomp
}

# Firecracker's --metadata FILE: the MMDS store's first document, bounded by
# --mmds-size-limit; a missing, oversized or non-object file stops ember at start.
t_fc_metadata() {
	_md=$LOGDIR/metadata.json
	printf '{"latest":{"meta-data":{"ami-id":"ami-it"}}}' >"$_md"
	api_start --metadata "$_md" || return 1
	api_ok 200 GET /mmds && has_body '"ami-id":"ami-it"'
	_ok=$?
	kill "$API_PID"
	wait "$API_PID" 2>/dev/null
	[ $_ok = 0 ] || return 1
	refused "No such file" --api-sock "$LOGDIR/x.sock" --metadata "$LOGDIR/none.json" &&
		refused "larger than the limit of 16 bytes (the MMDS size limit)" --api-sock "$LOGDIR/x.sock" \
			--mmds-size-limit 16 --metadata "$_md" &&
		{ printf '[1]' >"$_md"; refused "not a JSON object" --api-sock "$LOGDIR/x.sock" \
			--metadata "$_md"; }
}

# --- Firecracker's --seccomp-filter FILE ---------------------------------------

# le64 N: N as 8 little-endian bytes (busybox printf, octal escapes).
le64() {
	_n=$1 _i=0
	while [ $_i -lt 8 ]; do
		# shellcheck disable=SC2059 # the format is the byte
		printf "\\$(printf %o $((_n & 255)))"
		_n=$((_n >> 8)) _i=$((_i + 1))
	done
}
# insn CODE JT JF K: one struct sock_filter, as the file stores it.
insn() { le64 $(($1 | $2 << 16 | $3 << 24 | $4 << 32)); }
# prog allow|forbid: RET ALLOW; or write and exit_group allowed (the SIGSYS
# handler's calls, by the numbers of ember's ABI), the rest trapped.
prog() {
	if [ "$GUEST_ARCH" = aarch64 ]; then _nr_write=64 _nr_exit_group=94; else _nr_write=1 _nr_exit_group=231; fi
	case $1 in
	allow) le64 1 && insn 6 0 0 $((0x7fff0000)) ;;
	forbid)
		le64 5 && insn $((0x20)) 0 0 0 && insn $((0x15)) 2 0 $_nr_write &&
			insn $((0x15)) 1 0 $_nr_exit_group &&
			insn 6 0 0 $((0x30000)) && insn 6 0 0 $((0x7fff0000))
		;;
	esac
}
# fc_filter_file OUT API VCPU VMM: a filter file as Firecracker's seccompiler-bin writes it.
fc_filter_file() {
	{
		le64 3
		le64 3 && printf api && prog "$2"
		le64 4 && printf vcpu && prog "$3"
		le64 3 && printf vmm && prog "$4"
	} >"$1"
}

# The file's filters replace ember's on each thread: all-allowing ones
# boot the guest; a forbidding vCPU (or API) filter ends ember with 148
# naming the thread; a damaged file is refused at start with exit 1.
t_seccomp_filter_file() {
	_f=$LOGDIR/fc-filter.bpf
	fc_filter_file "$_f" allow allow allow &&
		[ "$(wc -c <"$_f")" = 90 ] || { fail "filter file of $(wc -c <"$_f") bytes, expected 90"; return 1; }
	boot "$VMLINUX" --seccomp-filter "$_f"
	reached_init || return 1
	: >"$LOG" # what follows must not see the first guest's lines
	fc_filter_file "$_f" allow forbid allow
	boot "$VMLINUX" --seccomp-filter "$_f"
	rc_is 148 && has 'ember: seccomp: thread vcpu made forbidden syscall' && lacks 'EMBER_GUEST_INIT' || return 1
	fc_filter_file "$_f" forbid allow allow
	rm -f "$LOGDIR/fc.sock"
	vm --seccomp-filter "$_f" --api-sock "$LOGDIR/fc.sock"
	rc_is 148 && has 'ember: seccomp: thread api made forbidden syscall' || return 1
	head -c 50 "$_f" >"$_f.cut"
	refused 'Filter deserialization failed: .*truncated' run --kernel "$VMLINUX" --seccomp-filter "$_f.cut"
}
