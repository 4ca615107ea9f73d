#!/bin/sh
# Runs inside L1: live fork (PUT /vm/fork) against a snapshot restore of the
# same 128 MiB VM, side by side in one L1.  "Running" is the moment the
# guest's vsock echo listener (guest-tests/snap-counter) answers.  Both are
# timed by bench/restoretime.c the same way, from their request being
# written, to two end points: the 204 (api_ms) and the guest's echo
# (echo_ms):
#
#   restore   PUT /snapshot/load of a Full snapshot of the parent, into a
#             fresh ember (also from that ember's start: start_ms)
#   fork10    PUT /vm/fork of the running parent into 10 children; the echo
#             is the last child's (every child is checked to echo too)
#   fork1     PUT /vm/fork of another parent into 1 child: one new VM
#             made by fork against one made by restore
#   fork10pool  fork10 from a parent run with --fork-pool 10: its children
#             were started (each a process with an empty KVM VM, waiting)
#             while it booted, as the restore's ember was started before
#             its load; pooled: the PSS of each such waiting child
#   fork1pool fork1 from a parent run with --fork-pool 1
#   pss       each child's PSS and a restored clone's, with the guests up,
#             each with its process starter's (spawn.c: every ember with
#             an API has one, a child too, so that it can fork in turn);
#             ram_kb is the part of it that is guest RAM (the mapping of
#             the memfd or memory file: the pages the guest dirtied and its
#             share of the base), so pss_kb - ram_kb is ember's own
#   npf       KVM's guest page faults (pf_taken, from debugfs) of the
#             restored clone when it echoed and of each child when the last
#             one echoed: the guest's working set faulted into a new VM
#             page by page, each fault an exit to L1's KVM
#
# RUNS rounds (default 3), each with two parents: one snapshotted, restored
# and forked into 10, one forked into 1.  A round that fails is run again
# (RETRIES, below).  Writes $BENCH_OUT/fork.tsv.
# Needs: EMBER RESTORETIME CURL VMLINUX INITRD BENCH_OUT.
set -u
d=/tmp/forkbench N=10 RUNS=${RUNS:-3}
mkdir -p "$d" "$BENCH_OUT"
out=$BENCH_OUT/fork.tsv
echo "what run echo_ms api_ms start_ms pss_kb npf ram_kb" | tr ' ' '\t' >"$out"

# npf PID: KVM's pf_taken of that ember's VM ("-" without debugfs).
npf() {
	grep -q ' /sys/kernel/debug ' /proc/mounts || mount -t debugfs none /sys/kernel/debug 2>/dev/null
	cat /sys/kernel/debug/kvm/"$1"-*/pf_taken 2>/dev/null | head -n 1 | grep . || echo -
}
# pss1 PID: "PSS guest-RAM-PSS" of one process from its smaps; guest RAM is
# the mapping of the memfd (a booted parent's, which its children map
# privately) or of the snapshot's memory file.
pss1() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { ram = ($6 ~ /ember-ram|\/s\.mem$/) }
	     /^Pss:/ { s += $2; if (ram) r += $2 }
	     END { print s + 0, r + 0 }' "/proc/$1/smaps"
}
# pss PID: "PSS guest-RAM-PSS" of that ember with its process starter's
# (comm ember-starter).
pss() {
	[ -r "/proc/$1/smaps" ] || { echo "bench: fork: process $1 is gone (its PSS left blank)" >&2; echo " "; return; }
	set -- "$1" $(pss1 "$1")
	for _p in /proc/[0-9]*; do
		[ "$(cat "$_p/comm" 2>/dev/null)" = ember-starter ] &&
			[ "$(awk '/^PPid:/ { print $2 }' "$_p/status")" = "$1" ] &&
			set -- "$1" $(pss1 "${_p#/proc/}" | awk -v s="$2" -v r="$3" '{ print s + $1, r + $2 }')
	done
	echo "$2 $3"
}
# row WHAT RUN ECHO API START PSS-PAIR NPF
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "${6% *}" "$7" "${6#* }" >>"$out"; }
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }
# timed_row WHAT START PSS-PAIR NPF: the row of the request restoretime
# just timed ($line, from $sent): sets echo_ms and api_ms and writes them.
timed_row() {
	echo_ms=$(ms $(($(field ready_us "$line") - sent))) api_ms=$(ms $(($(field load_us "$line") - sent)))
	row "$1" "$run" "$echo_ms" "$api_ms" "$2" "$3" "$4"
}
stop() { kill -9 "$@" 2>/dev/null; for p in "$@"; do wait "$p" 2>/dev/null; done; return 0; }
api() { "$CURL" -s -f --unix-socket "$1" -X "$2" -H 'Content-Type: application/json' -d "$4" "http://localhost$3" >/dev/null; }
# The fork children: their command line is fixed ("ember fork-child"); their
# process starters, forked from them, have it too.
children() {
	for p in /proc/[0-9]*; do
		[ "$(tr '\0' ' ' 2>/dev/null <"$p/cmdline")" = "ember fork-child " ] &&
			[ "$(cat "$p/comm" 2>/dev/null)" != ember-starter ] && printf '%s ' "${p#/proc/}"
	done
}

cat >"$d/vm.json" <<JSON
{"boot-source": {"kernel_image_path": "$VMLINUX", "initrd_path": "$INITRD",
                 "boot_args": "console=ttyS0 reboot=k panic=-1 no_timer_check quiet ember.test=snap-counter"},
 "machine-config": {"vcpu_count": 1, "mem_size_mib": 128},
 "vsock": {"guest_cid": 3, "uds_path": "$d/p.vsock"}}
JSON

# boot_parent: a parent up and echoing on $d/p.vsock; sets parent.  POOL:
# more options for it (--fork-pool).
boot_parent() {
	rm -f "$d/p.sock" "$d/p.vsock"
	line=$("$RESTORETIME" "$d/p.vsock" 5000 120 -- "$EMBER" --api-sock "$d/p.sock" --config-file "$d/vm.json" ${POOL:-}) ||
		{ echo "bench: fork: the parent did not start" >&2; exit 1; }
	parent=$(field pid "$line")
}
# silent CONSOLE: what a child that does not echo was doing: its console's
# end and, twice a second apart, KVM's counters of every child's VM (a
# guest that spins, halts or faults without end looks different there).
silent() {
	echo "bench: its console ends:" >&2
	tail -n 20 "$1" >&2
	echo >&2 # the console may end mid-line
	for _t in 1 2; do
		for k in $kids; do
			for _f in exits halt_exits pf_taken io_exits mmio_exits irq_injections; do
				printf '%s=%s ' "$_f" "$(cat /sys/kernel/debug/kvm/"$k"-*/"$_f" 2>/dev/null | head -n 1)"
			done | sed "s/^/bench: child pid $k: /" >&2
			echo >&2
		done
		sleep 1
	done
}
# fork_into N: PUT /vm/fork of $parent into N children, timed by
# restoretime, which sends the request to the parent as it sends a load and
# waits for the last child's echo (its command is a stand-in); every other
# child must echo too.  Sets line, sent and kids.
fork_into() {
	j=
	i=1
	while [ $i -le "$1" ]; do
		j="$j${j:+,}{\"api_sock\":\"$d/c$i.sock\",\"serial_out_path\":\"$d/c$i.out\",\"vsock_override\":{\"uds_path\":\"$d/c$i.vsock\"}}"
		i=$((i + 1))
	done
	line=$(RESTORETIME_REQUEST="PUT /vm/fork" "$RESTORETIME" "$d/c$1.vsock" 5000 60 "$d/p.sock" \
		"{\"children\":[$j]}" -- sleep 600) ||
		{ echo "bench: fork: the fork failed or the children did not come up" >&2; stop "$parent" $(children); exit 1; }
	stop "$(field pid "$line")"
	sent=$(field sent_us "$line")
	kids=$(children)
	nfs=
	for k in $kids; do nfs="$nfs $k=$(npf "$k")"; done
	i=1
	while [ $i -lt "$1" ]; do
		"$RESTORETIME" "$d/c$i.vsock" 5000 30 -- true >/dev/null ||
			{ echo "bench: fork: child $i does not echo" >&2; silent "$d/c$i.out"; stop "$parent" $kids; exit 1; }
		i=$((i + 1))
	done
}

# round: one run of every row, into $d/round.tsv, which joins $out only
# whole.  Run in a subshell, so that a failure above (its "exit 1") ends the
# round, not the bench.
round() {
	out=$d/round.tsv
	: >"$out"
	rm -f "$d"/*.sock "$d"/*.vsock "$d"/*.out
	boot_parent
	# A Full snapshot of it, and one restore of that, as the peer.
	api "$d/p.sock" PATCH /vm '{"state":"Paused"}' &&
		api "$d/p.sock" PUT /snapshot/create "{\"snapshot_type\":\"Full\",\"snapshot_path\":\"$d/s.state\",\"mem_file_path\":\"$d/s.mem\"}" &&
		api "$d/p.sock" PATCH /vm '{"state":"Resumed"}' || { echo "bench: fork: snapshot failed" >&2; stop "$parent"; exit 1; }
	line=$("$RESTORETIME" "$d/r.vsock" 5000 60 "$d/r.sock" \
		"{\"snapshot_path\":\"$d/s.state\",\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":\"$d/s.mem\"},\"resume_vm\":true,\"vsock_override\":{\"uds_path\":\"$d/r.vsock\"}}" \
		-- "$EMBER" --api-sock "$d/r.sock") || { echo "bench: fork: restore failed" >&2; stop "$parent"; exit 1; }
	clone=$(field pid "$line") sent=$(field sent_us "$line")
	nf=$(npf "$clone")
	sleep 2
	timed_row restore "$(ms "$(field ready_us "$line")")" "$(pss "$clone")" "$nf"
	stop "$clone"
	rm -f "$d/s.mem" "$d/s.state"
	fork_into $N
	sleep 2
	timed_row fork10 - "$(pss "$parent")" -
	for k in $kids; do
		row child "$run" - - - "$(pss "$k")" "$(echo "$nfs" | tr ' ' '\n' | sed -n "s/^$k=//p")"
	done
	echo "bench: fork run $run: 204 after $api_ms ms, last child echoes after $echo_ms ms"
	stop "$parent" $kids
	# One new VM by fork, from a parent that has not forked before, as the
	# restore above is one new VM from a snapshot.
	rm -f "$d"/c*.sock "$d"/c*.vsock "$d"/c*.out
	boot_parent
	fork_into 1
	timed_row fork1 - "$(pss "$parent")" "${nfs#* *=}"
	stop "$parent" $kids
	# The fork into 10 again, its children started ahead (--fork-pool):
	# all ten are waiting once the parent echoes (it boots for seconds).
	rm -f "$d"/c*.sock "$d"/c*.vsock "$d"/c*.out
	POOL="--fork-pool $N" boot_parent
	pooled=$(children)
	[ "$(echo $pooled | wc -w)" = "$N" ] ||
		{ echo "bench: fork: not $N pooled children: $pooled" >&2; stop "$parent" $pooled; exit 1; }
	for k in $pooled; do row pooled "$run" - - - "$(pss "$k")" -; done
	fork_into $N
	timed_row fork10pool - "$(pss "$parent")" -
	echo "bench: fork run $run, pooled: 204 after $api_ms ms"
	stop "$parent" $kids
	# And into 1 from a pool of 1: one child's own latency, with no
	# sibling on the CPUs.
	rm -f "$d"/c*.sock "$d"/c*.vsock "$d"/c*.out
	POOL="--fork-pool 1" boot_parent
	fork_into 1
	timed_row fork1pool - "$(pss "$parent")" -
	stop "$parent" $kids
}

# Every ember process of ours: what a failed round may have left running.
stop_all() {
	for p in /proc/[0-9]*; do
		case "$(cat "$p/comm" 2>/dev/null)" in ember | ember-starter) kill -9 "${p#/proc/}" 2>/dev/null ;; esac
	done
	sleep 1
}

# A round that fails is run again, up to RETRIES (2) times in all: on the
# nested harness a guest now and then dies of a triple fault, a forked one
# as much as one that only boots (seen in api_runtime_rules and jailer_oom
# too), which says nothing of a fork's speed; each retry is said on stderr.
run=1 failed=0
while [ $run -le "$RUNS" ]; do
	if (round); then
		cat "$d/round.tsv" >>"$out"
		run=$((run + 1))
		continue
	fi
	stop_all
	failed=$((failed + 1))
	[ $failed -le "${RETRIES:-2}" ] || { echo "bench: fork: $failed rounds failed; giving up" >&2; exit 1; }
	echo "bench: fork run $run failed (above); running it again ($failed of ${RETRIES:-2} retries)" >&2
done
rm -rf "$d"
exit 0
