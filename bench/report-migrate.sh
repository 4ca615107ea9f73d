#!/usr/bin/env bash
# bench/results/migrate.tsv (bench/migrate-in-l1.sh) into migrate.md (medians,
# ember / QEMU ratios) and migrate.png (downtime, log scale).  Rows that do
# not parse are dropped: the TSV comes off L1's serial console.
set -euo pipefail
dir=${1:-$(dirname "$0")/results}
[ -s "$dir/migrate.tsv" ] || { echo "report-migrate: no $dir/migrate.tsv" >&2; exit 0; }
python3 - "$dir" <<'PY'
import csv, os, statistics, sys
out = sys.argv[1]
vmms = {"ember": "ember", "qemu-microvm": "QEMU microvm"}
v = {}
for r in csv.DictReader(open(os.path.join(out, "migrate.tsv")), delimiter="\t"):
    if r.get("vmm") not in vmms or r.get("guest") not in ("quiet", "busy"):
        continue
    try:
        row = [float(r[k]) for k in ("downtime_ms", "total_ms", "bytes")]
    except (TypeError, ValueError, KeyError):
        continue
    try:
        row.append(float(r.get("dest_ms") or "-"))
    except ValueError:
        row.append(None)
    v.setdefault((r["vmm"], r["guest"]), []).append(row)
def med(key, i):
    rs = v.get(key)
    return statistics.median(x[i] for x in rs) if rs else None
def cell(key, i, fmt):
    m = med(key, i)
    if m is None:
        return "-"
    xs = [x[i] for x in v[key]]
    return f"{fmt(m)} ({fmt(min(xs))}–{fmt(max(xs))})"
ms = lambda x: f"{x:.0f}"
mib = lambda x: f"{x / 1048576:.1f}"
lines = ["| guest | VMM | runs | downtime, median ms (min–max) | total time, median ms (min–max) | sent, median MiB (min–max) |",
         "|---|---|---|---|---|---|"]
dat, ratios = [], []
for g in ("quiet", "busy"):
    for vmm, name in vmms.items():
        k = (vmm, g)
        if k in v:
            lines.append(f"| {g} | {name} | {len(v[k])} | {cell(k, 0, ms)} | {cell(k, 1, ms)} | {cell(k, 2, mib)} |")
    e, q = med(("ember", g), 0), med(("qemu-microvm", g), 0)
    dm = [x[3] for x in v.get(("ember", g), []) if x[3] is not None]
    src = [x[0] - x[3] for x in v.get(("ember", g), []) if x[3] is not None]
    if dm:
        ratios.append(f"- {g} guest: of ember's downtime, a median {statistics.median(dm):.0f} ms "
                      "passed after its last byte was sent (the destination taking in the tail of the stream and building the VM).")
    if src and q:
        s = statistics.median(src)
        ratios.append(f"- {g} guest, counted as QEMU counts it (until the end of the stream at the source): "
                      f"ember {s:.0f} ms, {s / q:.2f}× QEMU's {q:.0f} ms.")
    if e is not None and q:
        ratios.append(f"- {g} guest: ember's downtime is {e / q:.2f}× QEMU's "
                      f"({e:.0f} vs {q:.0f} ms; target ≤ 0.1×); total time "
                      f"{med(('ember', g), 1) / med(('qemu-microvm', g), 1):.2f}×, bytes sent "
                      f"{med(('ember', g), 2) / med(('qemu-microvm', g), 2):.2f}×.")
    dat.append(f'"{g}" {e if e is not None else "-"} {q if q is not None else "-"}')
lines += [""] + ratios + ["",
    "Live migration of one guest (1 vCPU, 256 MiB, same kernel and initramfs) from one "
    "process to a fresh one in the same L1 over a Unix socket, both VMMs with a 300 ms "
    "downtime budget; nested KVM, so compare the rows, not the figures with bare metal. "
    "quiet: a count every half second; busy: the same while rewriting 32 MiB of RAM in a loop. "
    "Downtime as each VMM reports it: ember's from pausing the vCPUs at the source to the "
    "destination's answer that the VM runs there; QEMU's (query-migrate) from stopping the "
    "VM to the end of the stream at the source, without the destination's load and start, "
    "so the comparison favours QEMU. Sent: ember's whole stream; QEMU's ram.transferred."]
open(os.path.join(out, "migrate.md"), "w").write("\n".join(lines) + "\n")
open(os.path.join(out, "migrate.dat"), "w").write("\n".join(dat) + "\n" if v else "")
print("\n".join(lines))
PY
echo "report-migrate: wrote $dir/migrate.md"
if [ -s "$dir/migrate.dat" ] && command -v gnuplot >/dev/null; then
	. "$(dirname "$0")/plot.sh"
	hist_png "$dir/migrate.dat" "$dir/migrate.png" 700 \
		"Live migration downtime, ember vs QEMU microvm (nested KVM, 256 MiB, medians)" \
		"downtime (ms, log scale)" ember "QEMU microvm" 'set datafile missing "-"' "set logscale y"
	echo "report-migrate: wrote $dir/migrate.png"
fi
