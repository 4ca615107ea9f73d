#!/usr/bin/env bash
# The device model's structural rules, checked on the built tree:
#   1. virtio/ and api-socket/ include no KVM header (device code cannot
#      reach into the VMM);
#   2. outside virtio/ and tests/, no more than one file names a device's
#      symbols (its API schema end, api-socket/api_devs.c);
#   3. no call cycles among the object files of virtio/ (the vsock device,
#      its muxer and the muxer's parts call one way).
# Output: one ok/FAIL line per check, then "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
npass=0 nfail=0
ok() { echo "ok $1"; npass=$((npass + 1)); }
bad() { echo "FAIL $1: $2"; nfail=$((nfail + 1)); }

kvm=$(grep -lE '#include <linux/kvm\.h>|#include "(vm|vcpu|kvm[a-z_]*)\.h"' virtio/*.[ch] api-socket/*.[ch])
[ -z "$kvm" ] && ok no_kvm_headers || bad no_kvm_headers "$kvm"

[ -d build/virtio ] || { bad build "build/virtio missing: make first"; exit 1; }
# Each device module's own symbols (what its objects define, and its settings
# struct), named anywhere outside virtio/ and tests/?
for dev in blk net vsock rng balloon; do
	syms=$(for o in build/virtio/"$dev".o build/virtio/"$dev"_*.o; do
		[ -e "$o" ] && nm --defined-only "$o" | awk '$2 ~ /[TDRB]/ { print $3 }'
	done | sort -u)
	case $dev in blk) syms="$syms vblk_config vblk_engine" ;; net) syms="$syms vnet_config" ;;
	vsock) syms="$syms vsock_config" ;; rng) syms="$syms vrng_config" ;;
	balloon) syms="$syms vballoon_config" ;; esac
	pat=$(echo $syms | tr ' ' '|')
	files=$(grep -rlwE "($pat)" --include=*.c --include=*.h vmm snapshot api-socket jail)
	n=$(echo -n "$files" | grep -c . || true)
	[ "$n" -le 1 ] && ok "one_file_names_$dev" || bad "one_file_names_$dev" "$(echo $files)"
done

graph=$(for o in build/virtio/*.o; do
	f=$(basename "$o" .o)
	nm "$o" | awk -v f="$f" '$1 == "U" { print "U", f, $2 } NF == 3 && $2 ~ /[TDRB]/ { print "D", f, $3 }'
done)
cycle=$(awk '
	$1 == "D" { def[$3] = $2 }
	$1 == "U" { use[NR] = $2 " " $3 }
	END {
		for (i in use) {
			split(use[i], u, " ")
			if ((u[2] in def) && def[u[2]] != u[1]) edge[u[1] " " def[u[2]]] = 1
		}
		for (e in edge) { split(e, p, " "); out[p[1]] = out[p[1]] " " p[2] }
		# Depth-first search for a back edge.
		for (n in out) state[n] = 0
		for (n in out) if (!state[n] && dfs(n)) exit
	}
	function dfs(n,    k, m, list) {
		state[n] = 1
		split(out[n], list, " ")
		for (k in list) {
			m = list[k]
			if (state[m] == 1) { print n " -> " m; return 1 }
			if (!state[m] && dfs(m)) return 1
		}
		state[n] = 2
		return 0
	}' <<<"$graph")
[ -z "$cycle" ] && ok virtio_no_call_cycles || bad virtio_no_call_cycles "$cycle"

echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
