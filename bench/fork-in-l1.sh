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
#   pss       each child's PSS and a restored clone's, with the guests up,
#             each with its process starter's (spawn.c: every ember with
#             an API has one, a child too, so that it can fork in turn)
#   npf       KVM's guest page faults (pf_taken, from debugfs) of the
#             restored clone when it echoed and of each child when the last
#             one echoed: the guest's working set faulted into a new VM
#             page by page, each fault an exit to L1's KVM
#
# RUNS parents (default 3), each forked once.  Writes $BENCH_OUT/fork.tsv.
# Needs: EMBER RESTORETIME CURL VMLINUX INITRD BENCH_OUT.
set -u
d=/tmp/forkbench N=10 RUNS=${RUNS:-3}
mkdir -p "$d" "$BENCH_OUT"
out=$BENCH_OUT/fork.tsv
echo "what run echo_ms api_ms start_ms pss_kb npf" | tr ' ' '\t' >"$out"

# npf PID: KVM's pf_taken of that ember's VM ("-" without debugfs).
npf() {
	grep -q ' /sys/kernel/debug ' /proc/mounts || mount -t debugfs none /sys/kernel/debug 2>/dev/null
	cat /sys/kernel/debug/kvm/"$1"-*/pf_taken 2>/dev/null | head -n 1 | grep . || echo -
}
pss1() { awk '/^Pss:/ { s += $2 } END { print s + 0 }' "/proc/$1/smaps_rollup"; }
# pss PID: that ember's PSS and its process starter's (comm ember-starter).
pss() {
	_s=$(pss1 "$1")
	for _p in /proc/[0-9]*; do
		[ "$(cat "$_p/comm" 2>/dev/null)" = ember-starter ] &&
			[ "$(awk '/^PPid:/ { print $2 }' "$_p/status")" = "$1" ] && _s=$((_s + $(pss1 "${_p#/proc/}")))
	done
	echo "$_s"
}
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }
stop() { kill -9 "$@" 2>/dev/null; for p in "$@"; do wait "$p" 2>/dev/null; done; }
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

run=1
while [ $run -le "$RUNS" ]; do
	rm -f "$d"/*.sock "$d"/*.vsock "$d"/*.out
	# The parent, up and echoing.
	line=$("$RESTORETIME" "$d/p.vsock" 5000 120 -- "$EMBER" --api-sock "$d/p.sock" --config-file "$d/vm.json") ||
		{ echo "bench: fork: the parent did not start" >&2; exit 1; }
	parent=$(field pid "$line")
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
	printf 'restore\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$(ms $(($(field ready_us "$line") - sent)))" \
		"$(ms $(($(field load_us "$line") - sent)))" "$(ms "$(field ready_us "$line")")" "$(pss "$clone")" "$nf" >>"$out"
	stop "$clone"
	rm -f "$d/s.mem" "$d/s.state"
	# The fork: restoretime sends the request to the parent, as it sends a
	# load, and waits for the last child's echo; its command is a stand-in.
	j=
	i=1
	while [ $i -le $N ]; do
		j="$j${j:+,}{\"api_sock\":\"$d/c$i.sock\",\"serial_out_path\":\"$d/c$i.out\",\"vsock_override\":{\"uds_path\":\"$d/c$i.vsock\"}}"
		i=$((i + 1))
	done
	line=$(RESTORETIME_REQUEST="PUT /vm/fork" "$RESTORETIME" "$d/c$N.vsock" 5000 60 "$d/p.sock" \
		"{\"children\":[$j]}" -- sleep 600) ||
		{ echo "bench: fork: the fork failed or the children did not come up" >&2; stop "$parent" $(children); exit 1; }
	stop "$(field pid "$line")"
	sent=$(field sent_us "$line")
	kids=$(children)
	nfs=
	for k in $kids; do nfs="$nfs $k=$(npf "$k")"; done
	i=1
	while [ $i -lt $N ]; do
		"$RESTORETIME" "$d/c$i.vsock" 5000 30 -- true >/dev/null ||
			{ echo "bench: fork: child $i does not echo" >&2; stop "$parent" $kids; exit 1; }
		i=$((i + 1))
	done
	sleep 2
	echo_ms=$(ms $(($(field ready_us "$line") - sent))) api_ms=$(ms $(($(field load_us "$line") - sent)))
	printf 'fork10\t%s\t%s\t%s\t-\t%s\t-\n' "$run" "$echo_ms" "$api_ms" "$(pss "$parent")" >>"$out"
	for k in $kids; do
		printf 'child\t%s\t-\t-\t-\t%s\t%s\n' "$run" "$(pss "$k")" "$(echo "$nfs" | tr ' ' '\n' | sed -n "s/^$k=//p")" >>"$out"
	done
	echo "bench: fork run $run: 204 after $api_ms ms, last child echoes after $echo_ms ms"
	stop "$parent" $kids
	run=$((run + 1))
done
rm -rf "$d"
exit 0
