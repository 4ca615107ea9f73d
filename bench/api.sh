#!/usr/bin/env bash
# API figures that need no KVM, so they run on the host itself:
#  - time from `ember --api-sock` starting to the socket accepting (wall and
#    CPU, as ember logs it), RUNS starts;
#  - request latency of GET / and PUT /machine-config, N requests each over
#    one keep-alive connection (curl's time_total per request), p50 and p99.
# Writes bench/results/api.md.  Usage: bench/api.sh [EMBER] [OUTDIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ember=${1:-$here/../build/ember}
out=${2:-$here/results}
runs=${RUNS:-20}
n=${REQUESTS:-1000}
tmp=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir -p "$out"

wait_sock() { for _ in $(seq 200); do [ -S "$1" ] && return 0; sleep 0.01; done; return 1; }

# Start-up: ember's own line "API socket ready after N us (N CPU us)".
: >"$tmp/ready.txt"
for i in $(seq "$runs"); do
	sock=$tmp/s$i.sock
	"$ember" --api-sock "$sock" 2>"$tmp/log" &
	pid=$!
	wait_sock "$sock"
	sleep 0.05
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	sed -n 's/.*ready after \([0-9]*\) us (\([0-9]*\) CPU us).*/\1 \2/p' "$tmp/log" >>"$tmp/ready.txt"
done

# Latency: one curl, N requests on one connection.
sock=$tmp/lat.sock
"$ember" --api-sock "$sock" 2>/dev/null &
pid=$!
wait_sock "$sock"
mk() { # METHOD PATH [DATA]
	for i in $(seq "$n"); do
		printf 'url = "http://localhost%s"\nrequest = "%s"\nunix-socket = "%s"\n' "$2" "$1" "$sock"
		[ $# -lt 3 ] || printf 'data = "%s"\nheader = "Content-Type: application/json"\n' "$3"
		printf 'write-out = "%%{http_code} %%{time_total}\\n"\noutput = "/dev/null"\n'
		[ "$i" = "$n" ] || echo next
	done
}
mk GET / >"$tmp/get.curl"
mk PUT /machine-config '{\"vcpu_count\":2,\"mem_size_mib\":256}' >"$tmp/put.curl"
curl -s -K "$tmp/get.curl" >"$tmp/get.txt"
curl -s -K "$tmp/put.curl" >"$tmp/put.txt"

python3 - "$tmp" "$out/api.md" "$n" <<'PY'
import statistics, sys
tmp, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]
ready = [tuple(map(int, l.split())) for l in open(f"{tmp}/ready.txt") if l.strip()]
lines = ["| measure | runs | p50 | p99 |", "|---|---|---|---|"]
wall = [w / 1000 for w, c in ready]
cpu = [c / 1000 for w, c in ready]
lines.append(f"| start to API socket ready, wall (ms) | {len(wall)} | {pct(wall,50):.2f} | {pct(wall,99):.2f} |")
lines.append(f"| start to API socket ready, process CPU (ms) | {len(cpu)} | {pct(cpu,50):.2f} | {pct(cpu,99):.2f} |")
for name, f, want in (("GET /", "get", "200"), ("PUT /machine-config", "put", "204")):
    rows = [l.split() for l in open(f"{tmp}/{f}.txt") if l.strip()]
    bad = sum(1 for r in rows if r[0] != want)
    t = [float(r[1]) * 1e6 for r in rows]
    lines.append(f"| {name} latency (us, curl time_total) | {len(t)} | {pct(t,50):.0f} | {pct(t,99):.0f} |")
    if bad or len(rows) != n:
        lines.append(f"\n**{name}: {bad} of {len(rows)} answers were not {want}**")
lines.append("")
lines.append("Measured on the host (no KVM needed): the API thread answers before any VM exists. "
             "Process CPU includes the API thread compiling its seccomp filter, which runs "
             "alongside the socket becoming ready.")
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
