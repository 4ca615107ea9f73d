#!/usr/bin/env bash
# bench/results/fork.tsv (bench/fork-in-l1.sh) into fork.md and fork.png:
# live fork into 10 children against one snapshot restore of the same VM,
# in the same L1 run.
set -euo pipefail
dir=${1:-$(dirname "$0")/results}
tsv=$dir/fork.tsv
[ -s "$tsv" ] || { echo "report: no $tsv (fork figures skipped)"; exit 0; }

python3 - "$tsv" "$dir" <<'PY'
import csv, statistics, sys, os
tsv, out = sys.argv[1], sys.argv[2]
rows = list(csv.DictReader(open(tsv), delimiter="\t"))
by = lambda w: [r for r in rows if r["what"] == w]
med = lambda rs, k: statistics.median(float(r[k]) for r in rs)
rest, fork, kids = by("restore"), by("fork10"), by("child")
if not rest or not fork:
    sys.exit("report: fork.tsv lacks restore or fork10 rows")
r_ms, f_ms, f204 = med(rest, "ready_ms"), med(fork, "ready_ms"), med(fork, "fork_ms")
r_pss = med(rest, "pss_kb")
k_pss = statistics.mean(float(r["pss_kb"]) for r in kids) if kids else float("nan")
lines = [
    f"Nested KVM (1 vCPU, 128 MiB guest, snap-counter), {len(fork)} run(s), medians; "
    "the peer is one snapshot restore of the same VM in the same L1 run.",
    "",
    "| | to running (ms) | VMs per second |",
    "|---|---|---|",
    f"| snapshot restore, 1 VM (ember start -> guest echoes) | {r_ms:.1f} | {1000 / r_ms:.2f} |",
    f"| live fork into 10 (request -> last child's guest echoes) | {f_ms:.1f} | {10000 / f_ms:.2f} |",
    f"| live fork into 10 (request -> 204) | {f204:.1f} | {10000 / f204:.2f} |",
    "",
    f"- fork of 10 / one restore: {f_ms / r_ms:.2f} (target: <= 1).",
    f"- PSS per child (its ember, guest up): {k_pss:.0f} KiB on average "
    f"over {len(kids)} children; a restored clone: {r_pss:.0f} KiB. Both include the guest "
    "pages the VM has dirtied since (its own copies) and its share of the base pages.",
]
open(os.path.join(out, "fork.md"), "w").write("\n".join(lines) + "\n")
open(os.path.join(out, "fork.dat"), "w").write(
    f'"restore (1 VM)" {r_ms:.1f}\n"fork (10 VMs)" {f_ms:.1f}\n')
print("\n".join(lines))
PY

if command -v gnuplot >/dev/null; then
	gnuplot <<GP
set terminal pngcairo size 600,400 font ",10"
set output "$dir/fork.png"
set title "live fork into 10 vs one snapshot restore (nested KVM, 128 MiB, medians)"
set style fill solid 0.6
set boxwidth 0.6
set yrange [0:*]
set ylabel "ms to running guest(s)"
plot "$dir/fork.dat" using 0:2:xtic(1) with boxes notitle lc rgb "#d9541e"
GP
	echo "report: wrote $dir/fork.md and $dir/fork.png"
fi
