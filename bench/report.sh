#!/usr/bin/env bash
# Turns bench/results/boot.tsv (from bench/run-in-l1.sh) into
# bench/results/boot.md (medians, ratio) and bench/results/boot.png.
set -euo pipefail
dir=${1:-$(dirname "$0")/results}
tsv=$dir/boot.tsv
[ -s "$tsv" ] || { echo "report: no $tsv" >&2; exit 1; }

# Median per (vmm, kernel) of boot_ms, overhead_kb and reported_ms.
python3 - "$tsv" "$dir" <<'PY'
import csv, statistics, sys, os
tsv, out = sys.argv[1], sys.argv[2]
rows = list(csv.DictReader(open(tsv), delimiter="\t"))
groups = {}
for r in rows:
    groups.setdefault((r["vmm"], r["kernel"]), []).append(r)
def med(rs, k):
    v = [float(r[k]) for r in rs if r[k] not in ("", "-")]
    return statistics.median(v) if v else None
lines = ["| VMM | kernel | runs | boot to init, median (ms) | min–max (ms) | VMM memory overhead, median (KiB PSS) | ember's own boot timer (ms) |",
         "|---|---|---|---|---|---|---|"]
summary = {}
for (vmm, kern), rs in sorted(groups.items()):
    b = [float(r["boot_ms"]) for r in rs]
    m, o, rep = med(rs, "boot_ms"), med(rs, "overhead_kb"), med(rs, "reported_ms")
    summary[(vmm, kern)] = (m, o)
    lines.append(f"| {vmm} | {kern} | {len(rs)} | {m:.0f} | {min(b):.0f}–{max(b):.0f} | {o:.0f} | {'-' if rep is None else f'{rep:.0f}'} |")
lines.append("")
for kern in ("vmlinux", "bzImage"):
    e, q = summary.get(("ember", kern)), summary.get(("qemu-microvm", kern))
    if e and q:
        lines.append(f"- {kern}: ember boots in {e[0]/q[0]:.2f}x QEMU microvm's time; "
                     f"memory overhead {e[1]/q[1]:.2f}x ({e[1]:.0f} vs {q[1]:.0f} KiB).")
open(os.path.join(out, "boot.md"), "w").write("\n".join(lines) + "\n")
with open(os.path.join(out, "boot-medians.dat"), "w") as f:
    for (vmm, kern), (m, o) in sorted(summary.items()):
        f.write(f'"{vmm}\\n{kern}" {m:.1f} {o:.0f}\n')
print("\n".join(lines))
PY

if command -v gnuplot >/dev/null; then
	gnuplot <<GP
set terminal pngcairo size 900,450 font ",10"
set output "$dir/boot.png"
set multiplot layout 1,2 title "ember vs QEMU microvm (nested KVM, 1 vCPU, 128 MiB; medians)"
set style fill solid 0.6
set boxwidth 0.6
set yrange [0:*]
set ylabel "boot to guest init (ms)"
plot "$dir/boot-medians.dat" using 0:2:xtic(1) with boxes notitle lc rgb "#d9541e"
set ylabel "VMM memory overhead (KiB PSS)"
plot "$dir/boot-medians.dat" using 0:3:xtic(1) with boxes notitle lc rgb "#3b6ea8"
unset multiplot
GP
	echo "report: wrote $dir/boot.md and $dir/boot.png"
fi
