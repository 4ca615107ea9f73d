#!/bin/sh
# Runs inside L1: issue 15's device figures, ember (and QEMU microvm where it
# does the same thing simply), same L1, same guest kernel and initramfs.
#
#   limiter  achieved / configured rate of Firecracker's token buckets:
#            virtio-blk bandwidth and ops (guest-tests/bench-io: O_DIRECT
#            reads with guest/tools/iorate.c, one VM, the limit PATCHed
#            from rate to rate), virtio-net rx and tx bandwidth (netperf
#            through a tap, rx and tx limits PATCHed before each transfer).
#            QEMU microvm: the same reads on a throttled drive
#            (throttling.bps-total / iops-total), one boot per rate; QEMU's
#            netdevs have no rate limit, so net is ember only.
#   noisy    VM A reads its disk (O_DIRECT) alone, then while VM B (two
#            vCPUs, two writers) writes its own disk flat out on the same L1
#            file system, B limited and B unlimited; A's throughput against
#            alone.
#   balloon  a 512 MiB guest touches 400 MiB and frees it; 256 MiB of
#            balloon inflated: ember's RSS sampled until the guest holds it.
#   clones   (opt-in: BENCH_PMEM_CLONES=1, or ember.pmem_clones=1 on L1's
#            command line) summed PSS of 10 clones of one snapshot whose root
#            is a read-only DAX ext4 on virtio-pmem, against a virtio-blk root.
#            Opt-in because tests/integration's pmem_clones_share_root has
#            panicked L1's kernel under nested TCG.
#
# Rates come from the guest's own samples (IORATE lines every 250 ms) as a
# slope over each phase, the first SKIP_MS left out: a limiter's bucket
# starts full, and that one-off burst is not the rate.  For net the
# transfers are of fixed size and the bucket's initial content is taken off
# the bytes before dividing by the time.
#
# Writes $BENCH_OUT/devices.tsv and devices-balloon.tsv (the RSS series); after
# each part they also go to the console between l1-init's markers, so a
# later part that wedges L1 does not lose the earlier figures.  A part whose
# tools are missing leaves an "n/a" row and the rest go on.  Needs: EMBER
# CURL NETPERF MKTAP VMLINUX INITRD ROOTFS BENCH_OUT; QEMU QEMU_DATA for
# QEMU's rows.  Root for the tap.
set -u
PHASE=${DEV_PHASE:-7}		 # seconds per limiter setting
SKIP_MS=${DEV_SKIP_MS:-2000}	 # left out of each phase (initial bucket)
BLK_BW_MIB=${DEV_BLK_BW:-"1 2 4"}	 # MiB/s
BLK_OPS=${DEV_BLK_OPS:-"25 50 100"} # requests/s (4 KiB each)
NET_MIB=${DEV_NET:-"2 4 8"}		 # MiB/s each way
NOISY_PHASE=${DEV_NOISY_PHASE:-8}
NOISY_CYCLES=${DEV_NOISY_CYCLES:-2}
NOISY_B_MIB=${DEV_NOISY_B:-2} # B's bandwidth limit, MiB/s
BALLOON_RUNS=${DEV_BALLOON_RUNS:-2}
BOOT_TIMEOUT=120
CMDLINE="console=ttyS0 reboot=k panic=-1 no_timer_check quiet ember.timeout=900"
MiB=1048576
d=/tmp/devbench
out=$BENCH_OUT/devices.tsv
series=$BENCH_OUT/devices-balloon.tsv
# The net part's tap (bench/net-in-l1.sh's addresses: the two never run at once).
TAP=tap-dev0 MAC=06:00:ac:1e:00:02 HOST_IP=172.30.0.1 GUEST_IP=172.30.0.2
mkdir -p "$d" "$BENCH_OUT"
printf 'part\tvmm\twhat\tconfigured\tachieved\tunit\trun\n' >"$out"
printf 'run\tt_s\trss_mib\n' >"$series"

PIDS=
stop() { # PID...: killed, reaped and off the clean-up list
	for p in "$@"; do
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
		PIDS=$(echo " $PIDS " | sed "s/ $p / /; s/^ *//; s/ *$//")
	done
}
cleanup() {
	# shellcheck disable=SC2086 # a word per pid
	stop $PIDS
	ip link del "$TAP" 2>/dev/null
	rm -rf "$d"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

say() { echo "bench: devices: $*" >&2; }
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$out"; }
flush() {
	for t in "$out" "$series"; do
		echo "EMBER_TSV_BEGIN ${t##*/}"
		cat "$t"
		echo "EMBER_TSV_END"
	done
}

api() { # SOCK METHOD PATH JSON: true on a 2xx answer
	"$CURL" -s -f -m 10 --unix-socket "$1" -X "$2" -H 'Content-Type: application/json' \
		-d "$4" "http://localhost$3" >/dev/null
}
api_get() { "$CURL" -s -f -m 10 --unix-socket "$1" "http://localhost$2"; }

# vm NAME JSON-SECTIONS: ember with the API on $d/NAME.sock started from a
# config file (boot-source and machine-config are added), console into
# $d/NAME.log; sets VPID.
# (Every console log is emptied before its process starts: the redirection
# happens in the child, and wait_log must not find the previous VM's lines.)
vm() {
	rm -f "$d/$1.sock"
	printf '{%s}\n' "$2" >"$d/$1.json"
	: >"$d/$1.log"
	"$EMBER" --api-sock "$d/$1.sock" --config-file "$d/$1.json" </dev/null >"$d/$1.log" 2>&1 &
	VPID=$!
	PIDS="$PIDS $VPID"
}
boot_json() { # MEM_MIB VCPUS ARGS [INITRD]: boot-source and machine-config sections
	printf '"boot-source":{"kernel_image_path":"%s"%s,"boot_args":"%s %s"},' \
		"$VMLINUX" "${4+,\"initrd_path\":\"$4\"}" "$CMDLINE" "$3"
	printf '"machine-config":{"vcpu_count":%s,"mem_size_mib":%s}' "$2" "$1"
}
drive_json() { # ID PATH RO LIMITER-JSON
	printf '{"drive_id":"%s","path_on_host":"%s","is_root_device":false,"is_read_only":%s,"rate_limiter":%s}' \
		"$1" "$2" "$3" "$4"
}
bucket() { # SIZE: a bucket of SIZE tokens refilled in 1 s
	printf '{"size":%s,"refill_time":1000}' "$1"
}

# wait_log FILE PATTERN SECS PID: true once PATTERN is in FILE; false (with
# the console's end) when PID died or SECS passed.
wait_log() {
	n=0
	while ! tr -d '\r' <"$1" | grep -q -- "$2"; do
		if ! kill -0 "$4" 2>/dev/null || [ $n -ge $(($3 * 5)) ]; then
			say "no '$2' in ${1##*/} after $((n / 5)) s; its end:"
			tail -n 5 "$1" >&2
			return 1
		fi
		sleep 0.2
		n=$((n + 1))
	done
}
# mark FILE: its complete lines so far (a line being written is not one).
mark() { wc -l <"$1"; }

# slope FILE TAG FROM TO FIELD SKIP: the IORATE samples tagged TAG in lines
# FROM+1..TO of FILE, the first SKIP ms after the phase's first sample left
# out; FIELD 4 (bytes) or 5 (ops) per second over the rest, or "-".
slope() {
	[ "$4" -gt "$3" ] || { echo -; return; }
	sed -n "$(($3 + 1)),$4p" "$1" | tr -d '\r' |
		awk -v tag="$2" -v f="$5" -v skip="$6" '
		$1 == "IORATE" && $2 == tag && NF == 5 {
			if (t_first == "") t_first = $3
			if ($3 - t_first < skip) next
			if (t0 == "") { t0 = $3; v0 = $f }
			t1 = $3; v1 = $f
		}
		END {
			if (t0 == "" || t1 - t0 < 500) print "-"
			else printf "%.1f\n", (v1 - v0) * 1000 / (t1 - t0)
		}'
}

# ---------------------------------------------------------------- limiter
img=$d/disk.img
dd if=/dev/zero of="$img" bs=1M count=64 2>/dev/null

# ember, blk: one VM; bench-io reads 64 KiB requests (bandwidth phases) then
# 4 KiB ones (ops phases); the limit is PATCHed at each phase's start.
blk_ember() {
	nbw=$(echo "$BLK_BW_MIB" | wc -w) nops=$(echo "$BLK_OPS" | wc -w)
	t_bw=$(((nbw + 1) * (PHASE + 1) + 5)) t_ops=$(((nops + 1) * PHASE + 60))
	vm blk "$(boot_json 256 1 "ember.test=bench-io ember.io=read:65536:$t_bw:bw,read:4096:$t_ops:ops" "$INITRD"),\"drives\":[$(drive_json d "$img" true '{}')]"
	s=$d/blk.sock log=$d/blk.log
	wait_log "$log" '^IORATE bw ' $BOOT_TIMEOUT $VPID || { stop $VPID; return 1; }
	for kind in bw ops; do
		if [ $kind = bw ]; then rates=$BLK_BW_MIB field=4; else rates=$BLK_OPS field=5; fi
		[ $kind = bw ] || wait_log "$log" '^IORATE ops ' $((t_bw + 30)) $VPID || break
		for r in - $rates; do
			if [ "$r" = - ]; then
				lim='{}'
			elif [ $kind = bw ]; then
				lim="{\"bandwidth\":$(bucket $((r * MiB)))}"
			else
				lim="{\"ops\":$(bucket "$r")}"
			fi
			api "$s" PATCH /drives/d "{\"drive_id\":\"d\",\"rate_limiter\":$lim}" ||
				{ say "PATCH /drives/d failed"; break 2; }
			m0=$(mark "$log")
			sleep "$PHASE"
			v=$(slope "$log" $kind "$m0" "$(mark "$log")" $field "$SKIP_MS")
			if [ "$r" = - ]; then c=-; elif [ $kind = bw ]; then c=$((r * MiB)); else c=$r; fi
			[ $kind = bw ] && u=B/s || u=ops/s
			row limiter ember "blk_$kind" "$c" "$v" $u 1
			say "ember blk $kind configured $c: $v $u"
		done
	done
	stop $VPID
	return 0
}

# QEMU microvm, blk: one boot per setting (its throttle is set at start).
blk_qemu() {
	for kind in bw ops; do
		if [ $kind = bw ]; then rates=$BLK_BW_MIB bs=65536 field=4; else rates=$BLK_OPS bs=4096 field=5; fi
		for r in - $rates; do
			thr=
			if [ "$r" != - ]; then
				[ $kind = bw ] && thr=",throttling.bps-total=$((r * MiB))" c=$((r * MiB)) ||
					thr=",throttling.iops-total=$r" c=$r
			else
				c=-
			fi
			log=$d/qemu.log
			: >"$log"
			"$QEMU" -L "$QEMU_DATA" -accel kvm -M microvm,acpi=off,x-option-roms=off,rtc=off \
				-cpu host -nodefaults -no-reboot -display none -serial stdio -m 256 -smp 1 \
				-kernel "$VMLINUX" -initrd "$INITRD" \
				-drive "file=$img,if=none,id=d0,format=raw,readonly=on$thr" \
				-device virtio-blk-device,drive=d0 \
				-append "$CMDLINE ember.test=bench-io ember.io=read:$bs:$((PHASE + 1)):$kind" \
				</dev/null >"$log" 2>&1 &
			qp=$!
			PIDS="$PIDS $qp"
			v=-
			if wait_log "$log" "^IORATE_END $kind " $((BOOT_TIMEOUT + PHASE)) $qp; then
				v=$(slope "$log" $kind 0 "$(mark "$log")" $field "$SKIP_MS")
			fi
			stop $qp
			[ $kind = bw ] && u=B/s || u=ops/s
			row limiter qemu-microvm "blk_$kind" "$c" "$v" $u 1
			say "qemu blk $kind configured $c: $v $u"
		done
	done
}

# ember, net: netperf through the tap, rx (L1 -> guest) and tx (guest ->
# L1) limited alike, PATCHed before each transfer (buckets start full).
net_ember() {
	ip link del "$TAP" 2>/dev/null
	if ! { "$MKTAP" "$TAP" 0 || tunctl -t "$TAP"; } >/dev/null 2>&1 ||
		! ip addr add "$HOST_IP/24" dev "$TAP" || ! ip link set "$TAP" up; then
		say "cannot create $TAP (root?): net rows n/a"
		return 1
	fi
	nic="{\"iface_id\":\"eth0\",\"host_dev_name\":\"$TAP\",\"guest_mac\":\"$MAC\"}"
	vm net "$(boot_json 256 1 "ip=$GUEST_IP::$HOST_IP:255.255.255.0::eth0:off ember.test=net-bench" "$INITRD"),\"network-interfaces\":[$nic]"
	s=$d/net.sock
	wait_log "$d/net.log" NETPERF_READY $BOOT_TIMEOUT $VPID || { stop $VPID; return 1; }
	for r in - $NET_MIB; do
		if [ "$r" = - ]; then
			lim='{}' mib=64 c=-
		else
			lim="{\"bandwidth\":$(bucket $((r * MiB)))}" mib=$((r * (PHASE - 1))) c=$((r * MiB))
		fi
		for dir in to from; do
			[ $dir = to ] && what=net_rx || what=net_tx
			api "$s" PATCH /network-interfaces/eth0 "{\"iface_id\":\"eth0\",\"rx_rate_limiter\":$lim,\"tx_rate_limiter\":$lim}" ||
				{ say "PATCH /network-interfaces/eth0 failed"; break 2; }
			v=-
			if line=$("$NETPERF" tcp "$GUEST_IP" 5001 $dir "$mib" 120 2>"$d/netperf.err"); then
				# bytes=N us=N mbit_s=X; the bucket's initial content off the bytes
				v=$(echo "$line" | awk -F'[ =]' -v r="$r" -v M=$MiB '{
					b = $2; if (r != "-") b -= r * M; printf "%.1f", b * 1e6 / $4 }')
			else
				say "netperf $dir failed: $(tail -n 1 "$d/netperf.err")"
			fi
			row limiter ember "$what" "$c" "$v" B/s 1
			say "ember $what configured $c: $v B/s"
		done
	done
	stop $VPID
	ip link del "$TAP" 2>/dev/null
	return 0
}

blk_ember || { say "ember blk limiter rows incomplete"; row limiter ember blk_bw n/a - B/s 1; }
if [ -n "${QEMU:-}" ] && [ -x "$QEMU" ]; then
	blk_qemu
else
	say "QEMU not in L1: ember rows only"
	row limiter qemu-microvm blk_bw n/a - B/s 1
fi
net_ember || { say "ember net limiter rows incomplete"; row limiter ember net_rx n/a - B/s 1; }
flush

# ---------------------------------------------------------------- noisy
# A (1 vCPU) reads, B (2 vCPUs, two writers) writes, 64 KiB requests, each
# its own 64 MiB file in L1's /tmp (a tmpfs: L1 has no disk, so what A and
# B share is L1's file system, page cache, memory bandwidth and two CPUs;
# under nested KVM a request's cost is mostly its exits, i.e. CPU).  Phases of NOISY_PHASE s: alone, B limited, alone, B unlimited,
# NOISY_CYCLES times, then alone once more.
noisy() {
	dd if=/dev/zero of="$d/a.img" bs=1M count=64 2>/dev/null
	dd if=/dev/zero of="$d/b.img" bs=1M count=64 2>/dev/null
	vm a "$(boot_json 256 1 "ember.test=bench-io ember.io=read:65536:0:a" "$INITRD"),\"drives\":[$(drive_json a "$d/a.img" true '{}')]"
	apid=$VPID
	wait_log "$d/a.log" '^IORATE a ' $BOOT_TIMEOUT $apid || { stop $apid; return 1; }
	sleep 2
	blim="{\"bandwidth\":$(bucket $((NOISY_B_MIB * MiB)))}"
	phases=
	i=0
	while [ $i -lt "$NOISY_CYCLES" ]; do
		phases="$phases alone b_limited alone b_unlimited"
		i=$((i + 1))
	done
	for ph in $phases alone; do
		bpid=
		case $ph in
		b_*)
			[ $ph = b_limited ] && l=$blim || l='{}'
			vm b "$(boot_json 256 2 "ember.test=bench-io ember.iopar=2 ember.io=write:65536:0:b" "$INITRD"),\"drives\":[$(drive_json b "$d/b.img" false "$l")]"
			bpid=$VPID
			wait_log "$d/b.log" '^IORATE b2 ' $BOOT_TIMEOUT $bpid || { stop $bpid $apid; return 1; }
			sleep 2 # B's initial full bucket spent
			bm0=$(mark "$d/b.log")
			;;
		esac
		m0=$(mark "$d/a.log")
		sleep "$NOISY_PHASE"
		va=$(slope "$d/a.log" a "$m0" "$(mark "$d/a.log")" 4 1000)
		c=-
		[ $ph = b_limited ] && c=$((NOISY_B_MIB * MiB))
		row noisy ember "a_$ph" "$c" "$va" B/s 1
		if [ -n "$bpid" ]; then
			bm1=$(mark "$d/b.log")
			vb=$(printf '%s %s\n' "$(slope "$d/b.log" b1 "$bm0" "$bm1" 4 1000)" \
				"$(slope "$d/b.log" b2 "$bm0" "$bm1" 4 1000)" |
				awk '$1 == "-" || $2 == "-" { print "-"; next } { printf "%.1f\n", $1 + $2 }')
			row noisy ember "b_of_$ph" "$c" "$vb" B/s 1
			stop $bpid
			say "$ph: A $va B/s, B $vb B/s"
			sleep 1
		else
			say "$ph: A $va B/s"
		fi
	done
	stop $apid
	return 0
}
noisy || say "noisy neighbour rows incomplete"
flush

# ---------------------------------------------------------------- balloon
rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
now_cs() { awk '{ printf "%d", $1 * 100 }' /proc/uptime; }
balloon() { # RUN
	vm bal "$(boot_json 512 1 "ember.test=balloon ember.hog=400" "$INITRD"),\"balloon\":{\"amount_mib\":0,\"deflate_on_oom\":false,\"stats_polling_interval_s\":1}"
	s=$d/bal.sock bpid=$VPID
	wait_log "$d/bal.log" '^EMBER_BALLOON_READY' $BOOT_TIMEOUT $bpid || { stop $bpid; return 1; }
	sleep 2
	rss0=$(rss_kb $bpid) t0=$(now_cs)
	# The sampler: L1 uptime (cs) since the PATCH and ember's RSS, ~20 a second.
	(
		while kill -0 $bpid 2>/dev/null; do
			printf '%s\t%s\t%s\n' "$1" "$(($(now_cs) - t0))" "$(rss_kb $bpid)"
			sleep 0.05
		done
	) >"$d/samples" 2>/dev/null &
	spid=$!
	api "$s" PATCH /balloon '{"amount_mib":256}' || { say "PATCH /balloon failed"; stop $spid $bpid; return 1; }
	n=0 done_cs=
	while [ $n -lt 600 ]; do
		if api_get "$s" /balloon/statistics | grep -q '"actual_mib":256[,}]'; then
			done_cs=$(($(now_cs) - t0))
			break
		fi
		sleep 0.2
		n=$((n + 1))
	done
	sleep 2
	stop $spid
	rss1=$(rss_kb $bpid)
	stop $bpid
	awk -F'\t' '{ printf "%s\t%.2f\t%.1f\n", $1, $2 / 100, $3 / 1024 }' "$d/samples" >>"$series"
	[ -n "$done_cs" ] || { say "balloon: actual_mib never reached 256"; return 1; }
	ret=$(((rss0 - rss1) / 1024))
	row balloon ember returned_mib 256 "$ret" MiB "$1"
	row balloon ember seconds 256 "$(awk -v c="$done_cs" 'BEGIN { printf "%.2f", c / 100 }')" s "$1"
	# The rate: 95% of the fall over the time RSS took to get there (the
	# statistics poll above only bounds when the guest held the balloon).
	row balloon ember rate 256 "$(awk -F'\t' -v r0="$rss0" -v r1="$rss1" '
		!done && $3 <= r0 - 0.95 * (r0 - r1) { done = 1; t = $2 }
		END { if (!done || r0 <= r1) print "-"; else printf "%.1f", 0.95 * (r0 - r1) / 1024 * 100 / (t > 0 ? t : 1) }' "$d/samples")" MiB/s "$1"
	row balloon ember rss_before 256 $((rss0 / 1024)) MiB "$1"
	say "balloon run $1: RSS $((rss0 / 1024)) -> $((rss1 / 1024)) MiB, 256 MiB inflated in $done_cs cs"
}
i=1
while [ $i -le "$BALLOON_RUNS" ]; do
	balloon $i || row balloon ember returned_mib 256 n/a MiB $i
	i=$((i + 1))
done
flush

# ---------------------------------------------------------------- clones
pss_fields() { # PID: Pss Pss_Anon Pss_File Pss_Shmem (kB)
	awk '$1 == "Pss:" { p = $2 } $1 == "Pss_Anon:" { a = $2 } $1 == "Pss_File:" { f = $2 }
		$1 == "Pss_Shmem:" { m = $2 } END { print p + 0, a + 0, f + 0, m + 0 }' "/proc/$1/smaps_rollup"
}
# clones KIND: the root image on KIND (pmem with DAX, or blk, read-only);
# guest-tests/root-reader reads all of it every second; snapshot after two
# passes, 10 clones restored at once, each reads it once more; PSS summed.
clones() {
	root=$d/root-$1.ext4
	cp "$ROOTFS" "$root" || return 1
	if [ "$1" = pmem ]; then
		dev="\"pmem\":[{\"id\":\"root\",\"path_on_host\":\"$root\",\"root_device\":true,\"read_only\":true}]"
		flags=rootflags=dax
	else
		dev="\"drives\":[{\"drive_id\":\"root\",\"path_on_host\":\"$root\",\"is_root_device\":true,\"is_read_only\":true}]"
		flags=
	fi
	vm orig "$(boot_json 128 1 "$flags ember.test=root-reader"),$dev"
	opid=$VPID
	wait_log "$d/orig.log" '^EMBER_READ 2$' $BOOT_TIMEOUT $opid &&
		api "$d/orig.sock" PATCH /vm '{"state":"Paused"}' &&
		api "$d/orig.sock" PUT /snapshot/create "{\"snapshot_type\":\"Full\",\"snapshot_path\":\"$d/$1.state\",\"mem_file_path\":\"$d/$1.mem\"}"
	r=$?
	stop $opid
	[ $r = 0 ] || return 1
	cpids=
	i=1
	while [ $i -le 10 ]; do
		rm -f "$d/c$i.sock"
		: >"$d/c$i.log"
		"$EMBER" --api-sock "$d/c$i.sock" </dev/null >"$d/c$i.log" 2>&1 &
		cpids="$cpids $!"
		PIDS="$PIDS $!"
		n=0
		while [ ! -S "$d/c$i.sock" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
		api "$d/c$i.sock" PUT /snapshot/load "{\"snapshot_path\":\"$d/$1.state\",\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":\"$d/$1.mem\"},\"resume_vm\":true}" ||
			{ say "clone $i of the $1 snapshot did not load"; stop $cpids; return 1; }
		i=$((i + 1))
	done
	i=1
	for p in $cpids; do
		# The pass the snapshot cut, then a whole one.
		wait_log "$d/c$i.log" '^EMBER_READ' 60 "$p" &&
			k=$(tr -d '\r' <"$d/c$i.log" | sed -n 's/^EMBER_READ \([0-9]*\)$/\1/p' | head -n 1) &&
			wait_log "$d/c$i.log" "^EMBER_READ $((k + 1))\$" 60 "$p" || { stop $cpids; return 1; }
		i=$((i + 1))
	done
	kind=$1 sp=0 sa=0 sf=0 sm=0
	# Where the first clone's anonymous memory is (for the log, not the
	# table): each mapping with more than 1 MiB of it.
	p=${cpids# }
	p=${p%% *}
	awk -v k="$kind" '/^[0-9a-f]+-[0-9a-f]+ / { m = $1 " " $6 } $1 == "Size:" { sz = $2 }
		$1 == "Anonymous:" && $2 > 1024 { printf "bench: devices: %s clone 1: %s size %d kB anon %d kB\n", k, m, sz, $2 }' \
		"/proc/$p/smaps" >&2
	for p in $cpids; do
		# shellcheck disable=SC2046 # four numbers
		set -- $(pss_fields "$p")
		sp=$((sp + $1)) sa=$((sa + $2)) sf=$((sf + $3)) sm=$((sm + $4))
	done
	stop $cpids
	row clones ember "${kind}_pss" 10 $sp KiB 1
	row clones ember "${kind}_pss_anon" 10 $sa KiB 1
	row clones ember "${kind}_pss_file" 10 $sf KiB 1
	row clones ember "${kind}_pss_shmem" 10 $sm KiB 1
	say "10 clones, $kind root: PSS $sp KiB (anon $sa, file $sf, shmem $sm)"
	rm -f "$d/$kind.mem" "$root"
	return 0
}
if [ "${BENCH_PMEM_CLONES:-}" = 1 ] || grep -q 'ember\.pmem_clones=1' /proc/cmdline; then
	clones blk || row clones ember blk_pss 10 n/a KiB 1
	flush
	clones pmem || row clones ember pmem_pss 10 n/a KiB 1
else
	say "pmem clones not run (opt-in: BENCH_PMEM_CLONES=1; it has panicked L1 under nested TCG)"
	row clones ember pmem_pss 10 not-run KiB 1
fi
exit 0
