#!/bin/sh
# Runs inside L1: how many snapshot clones fit, how fast VMs are made, and
# how long a restore takes, as a distribution.  The guest is our initramfs
# with guest-tests/idle-echo (a vsock echo listener on port 5000, then
# sleep), 1 vCPU.  "Guest running" means, everywhere here, the first
# one-byte echo through that listener answered after the VM started or was
# resumed (bench/restoretime.c): the guest's kernel and userland both run.
#
#   snapshots  one cold boot per size (128 MiB, 1 GiB), paused, Full snapshot
#   latency    LOADS restores per size, one at a time: PUT /snapshot/load
#              (File backend, resume_vm) written -> guest running
#   rate       RATE_K cold boots, then RATE_K restores, all started at once:
#              VMs per second = RATE_K / (start -> the last one running)
#   smaps      one clone alone, then the same clone with CLONES running: its
#              /proc/PID/smaps summed by kind of mapping (guest RAM, binary,
#              heap, thread stacks, malloc arenas, KVM's vcpu page, io_uring
#              rings...), plus VmPTE and the thread count from status
#   density    CLONES clones of the 128 MiB snapshot running at once: PSS
#              sum, and of it their guest RAM's (the memory file's page
#              cache, shared, and the private pages: what the guests
#              dirtied) apart from the rest, ember's own
#
# Writes $BENCH_OUT/density.tsv (section key mem_mib run value).  Needs:
# EMBER RESTORETIME CURL VMLINUX INITRD BENCH_OUT; EMBER_BASELINE if set.
set -u
: "${CLONES:=50}" "${LOADS:=30}" "${RATE_K:=10}"
VMM=$EMBER d=/tmp/densbench out=$BENCH_OUT/density.tsv
CMDLINE="console=ttyS0 reboot=k panic=-1 no_timer_check quiet ember.test=idle-echo"

row() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$out"; }
mkdir -p "$d" "$BENCH_OUT"
: >"$out"
row section key mem_mib run value
pss() { awk '/^Pss:/ { s += $2 } END { print s + 0 }' "/proc/$1/smaps_rollup"; }
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }
uptime_ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }
stop() { kill -9 "$@" 2>/dev/null; for p in "$@"; do wait "$p" 2>/dev/null; done; }
api() { # SOCK METHOD PATH JSON
	"$CURL" -s -f --unix-socket "$1" -X "$2" -H 'Content-Type: application/json' -d "$4" \
		"http://localhost$3" >/dev/null
}
vm_json() { # MEM VSOCK: a --config-file for a cold boot
	printf '{"boot-source": {"kernel_image_path": "%s", "initrd_path": "%s", "boot_args": "%s"}, ' \
		"$VMLINUX" "$INITRD" "$CMDLINE"
	printf '"machine-config": {"vcpu_count": 1, "mem_size_mib": %s}, ' "$1"
	printf '"vsock": {"guest_cid": 3, "uds_path": "%s"}}\n' "$2"
}
load_json() { # MEM VSOCK
	echo "{\"snapshot_path\":\"$d/s$1.state\",\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":\"$d/s$1.mem\"},\"resume_vm\":true,\"vsock_override\":{\"uds_path\":\"$2\"}}"
}
# restore NAME MEM: one restore through restoretime; sets R (its output
# line) and PID (the ember, left running).
restore() {
	rm -f "$d/$1.vsock"
	R=$("$RESTORETIME" "$d/$1.vsock" 5000 120 "$d/$1.sock" "$(load_json "$2" "$d/$1.vsock")" \
		-- "$VMM" --api-sock "$d/$1.sock") || return 1
	PID=$(echo "$R" | sed 's/.* pid=\([0-9]*\).*/\1/')
}
field() { echo "$R" | sed "s/.*$1=\([0-9]*\).*/\1/"; }

# smaps PHASE PID: the clone's memory by kind of mapping.  Kinds: the guest
# RAM (the snapshot's memory file, mapped privately: its Private pages are
# what the guest dirtied), the binary (text, data), bss (anonymous right
# after it), heap (brk: the main thread's malloc), thread stacks (an
# anonymous rw mapping right after its guard, at most 1 MiB of ---p),
# malloc arenas (other threads' malloc: the rw start of a 64 MiB
# reservation whose rest is ---p), kvm-vcpu (the kvm_run
# page, KVM's), io_uring (its rings), [stack], vdso, other anonymous.
smaps() {
	awk -v phase="$1" -v mem="$d/s128.mem" -v bin="$VMM" '
	function kb(s) { return s + 0 }
	/^[0-9a-f]+-[0-9a-f]+ / {
		n++; split($1, a, "-"); lo[n] = a[1]; hi[n] = a[2]; perm[n] = $2; path[n] = $6
		next
	}
	/^Size:/ { size[n] = kb($2) } /^Rss:/ { rss[n] = kb($2) } /^Pss:/ { pss[n] = kb($2) }
	/^Private_(Clean|Dirty):/ { priv[n] += kb($2) }
	END {
		for (i = 1; i <= n; i++) {
			p = path[i]
			if (p == mem) k = "guest-ram"
			else if (p == bin) k = "binary"
			else if (p == "[heap]") k = "heap"
			else if (p == "[stack]") k = "main-stack"
			else if (p ~ /^\[(vdso|vvar|vsyscall)/) k = "vdso"
			else if (p ~ /kvm-vcpu/) k = "kvm-vcpu"
			else if (p ~ /io_uring/) k = "io_uring"
			else if (p != "") k = "other-file:" p
			else if (perm[i] ~ /^---/) k = "guard/reserved"
			else if (i > 1 && path[i-1] == bin && hi[i-1] == lo[i]) k = "bss"
			else if (i > 1 && perm[i-1] ~ /^---/ && hi[i-1] == lo[i] && size[i-1] <= 1024)
				k = "thread-stack"
			else if (i < n && perm[i+1] ~ /^---/ && hi[i] == lo[i+1]) k = "malloc-arena"
			else k = "anon-other"
			R[k] += rss[i]; P[k] += pss[i]; V[k] += priv[i]; C[k]++
			# Every anonymous mapping of ember in use, for the record.
			if (rss[i] && k != "guest-ram" && k != "binary" && k != "vdso")
				printf "mapping\t%s\t128\t%s\t%s %s %d %d %d\n", k, phase, \
					lo[i], perm[i], size[i], rss[i], pss[i]
		}
		for (k in R)
			printf "smaps\t%s\t128\t%s\t%d %d %d %d\n", k, phase, R[k], P[k], V[k], C[k]
	}' "/proc/$2/smaps" >>"$out"
	# Each thread's name and stack pointer (the second last field of
	# syscall, when it is blocked in one), to tell whose stack is whose.
	for t in /proc/"$2"/task/*; do
		row task "$(cat "$t/comm")" 128 "$1" "$(awk '{ print $(NF - 1) }' "$t/syscall")"
	done
	row status VmPTE 128 "$1" "$(awk '/^VmPTE:/ { print $2 }' "/proc/$2/status")"
	row status Threads 128 "$1" "$(awk '/^Threads:/ { print $2 }' "/proc/$2/status")"
	row status Pss 128 "$1" "$(pss "$2")"
}

# guest PID: "PSS PRIVATE" KiB of the clone's guest RAM mapping (private:
# the pages its guest dirtied; PSS adds its share of the memory file's
# page cache, which all clones map).
guest() {
	awk -v mem="$d/s128.mem" '/^[0-9a-f]+-/ { g = ($6 == mem) }
		g && /^Pss:/ { p += $2 } g && /^Private_(Clean|Dirty):/ { s += $2 }
		END { print p + 0, s + 0 }' "/proc/$1/smaps"
}

# ---------------------------------------------------------------- snapshots
for mem in 128 1024; do
	vm_json $mem "$d/cold.vsock" >"$d/vm$mem.json"
	rm -f "$d/cold.vsock"
	R=$("$RESTORETIME" "$d/cold.vsock" 5000 120 -- \
		"$EMBER" --api-sock "$d/cold.sock" --config-file "$d/vm$mem.json") ||
		{ echo "bench: cold boot of $mem MiB failed" >&2; exit 1; }
	PID=$(field pid)
	api "$d/cold.sock" PATCH /vm '{"state":"Paused"}' &&
		api "$d/cold.sock" PUT /snapshot/create "{\"snapshot_type\":\"Full\",\"snapshot_path\":\"$d/s$mem.state\",\"mem_file_path\":\"$d/s$mem.mem\"}" ||
		{ echo "bench: snapshot of the $mem MiB VM failed" >&2; stop "$PID"; exit 1; }
	stop "$PID"
	rm -f "$d/cold.sock"
done

# ---------------------------------------------------------------- latency
for mem in 128 1024; do
	run=1
	while [ $run -le "$LOADS" ]; do
		restore lat "$mem" || { echo "bench: restore $mem MiB run $run failed" >&2; exit 1; }
		stop "$PID"
		sent=$(field sent_us)
		row latency ready_ms "$mem" $run "$(ms $(($(field ready_us) - sent)))"
		row latency answered_ms "$mem" $run "$(ms $(($(field load_us) - sent)))"
		run=$((run + 1))
	done
	echo "bench: $LOADS restores of $mem MiB timed"
done

# ---------------------------------------------------------------- rate
# burst KIND: RATE_K VMs started at once, each through its restoretime in
# the background; the time until the last one runs.
burst() {
	t0=$(uptime_ms)
	pids= i=1
	while [ $i -le "$RATE_K" ]; do
		rm -f "$d/b$i.vsock" "$d/b$i.sock"
		if [ "$1" = cold ]; then
			vm_json 128 "$d/b$i.vsock" >"$d/b$i.json"
			"$RESTORETIME" "$d/b$i.vsock" 5000 300 -- \
				"$EMBER" --api-sock "$d/b$i.sock" --config-file "$d/b$i.json" >"$d/b$i.out" &
		else
			"$RESTORETIME" "$d/b$i.vsock" 5000 300 "$d/b$i.sock" \
				"$(load_json 128 "$d/b$i.vsock")" -- "$EMBER" --api-sock "$d/b$i.sock" >"$d/b$i.out" &
		fi
		pids="$pids $!"
		i=$((i + 1))
	done
	ok=1
	for p in $pids; do wait "$p" || ok=0; done
	t1=$(uptime_ms)
	for f in "$d"/b*.out; do
		R=$(cat "$f")
		[ -z "$R" ] || stop "$(field pid)"
	done
	rm -f "$d"/b*.out
	[ $ok = 1 ] || { echo "bench: a $1 VM of the burst failed" >&2; return 1; }
	row rate "${1}_ms" 128 "$RATE_K" $((t1 - t0))
	echo "bench: $RATE_K $1 VMs running after $((t1 - t0)) ms"
}
burst cold || exit 1
burst restore || exit 1

# ---------------------------------------------------------------- density
# density TAG BINARY: the smaps and density figures for one ember binary,
# in rows whose run is TAG:PHASE.  With EMBER_BASELINE (an older ember,
# staged by tests/nested/run.sh from BENCH_BASELINE) the same figures come
# for it first, "before", in the same L1 with the same snapshot.
density() {
	tag=$1 VMM=$2
	restore c1 128 || { echo "bench: $tag: clone 1 failed" >&2; return 1; }
	pids=$PID first=$PID
	sleep 2
	smaps "$tag:alone" "$first"
	t0=$(uptime_ms)
	i=2
	while [ $i -le "$CLONES" ]; do
		restore "c$i" 128 || { echo "bench: $tag: clone $i failed" >&2; stop $pids; return 1; }
		pids="$pids $PID"
		i=$((i + 1))
	done
	t1=$(uptime_ms)
	[ "$tag" != now ] || row rate restore_seq_ms 128 $((CLONES - 1)) $((t1 - t0))
	sleep 3
	total=0 gpss=0 guest=0
	for p in $pids; do
		total=$((total + $(pss "$p")))
		set -- $(guest "$p")
		gpss=$((gpss + $1)) guest=$((guest + $2))
	done
	smaps "$tag:with$CLONES" "$first"
	row density pss_total_kb 128 "$tag:$CLONES" "$total"
	row density guest_private_kb 128 "$tag:$CLONES" "$guest"
	row density guest_pss_kb 128 "$tag:$CLONES" "$gpss"
	row density mem_available_kb 128 "$tag:$CLONES" "$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)"
	echo "bench: $tag: $CLONES clones at once: PSS sum $total KiB, guest RAM $gpss KiB"
	stop $pids
	return 0 # not stop's status: a killed process's wait is 137
}
if [ -n "${EMBER_BASELINE:-}" ]; then
	density before "$EMBER_BASELINE" || exit 1
fi
density now "$EMBER" || exit 1
rm -rf "$d"
exit 0
