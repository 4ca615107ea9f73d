#!/usr/bin/env bash
# Turns bench/results/boot.tsv (from bench/boot-in-l1.sh) into
# bench/results/boot.md (medians, ratio) and bench/results/boot.png, and
# restore.tsv (bench/snapshot-in-l1.sh) into restore.md and restore.png.
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

# Snapshot restore (bench/snapshot-in-l1.sh): restore.md and restore.dat.
rtsv = os.path.join(out, "restore.tsv")
if not os.path.exists(rtsv) or os.path.getsize(rtsv) == 0:
    print("report: no restore.tsv (restore figures skipped)")
    sys.exit(0)
rows = list(csv.DictReader(open(rtsv), delimiter="\t"))
g = {}
for r in rows:
    g.setdefault((r["what"], int(r["mem_mib"])), []).append(r)
med = lambda rs, k: statistics.median(float(r[k]) for r in rs)
lines = ["| guest RAM | cold boot to ready, median (ms) | restore to ready, median (ms) | load request answered, median (ms) | restore / cold | ember PSS after restore (KiB) |",
         "|---|---|---|---|---|---|"]
dat = []
for mem in sorted({m for (_, m) in g}):
    c, r = g.get(("cold", mem)), g.get(("restore", mem))
    if not c or not r:
        continue
    cm, rm = med(c, "ready_ms"), med(r, "ready_ms")
    lines.append(f"| {mem} MiB | {cm:.0f} | {rm:.1f} | {med(r, 'load_ms'):.1f} | {rm/cm:.3f} | {med(r, 'pss_kb'):.0f} |")
    dat.append(f'"{mem} MiB" {cm:.1f} {rm:.1f}')
clones, alone = g.get(("clones10", 128)), g.get(("restore", 128))
if clones and alone:
    total, one = float(clones[0]["pss_kb"]), med(alone, "pss_kb")
    lines += ["", f"- 10 clones of the 128 MiB snapshot running at once: PSS sum {total:.0f} KiB; "
              f"one restore alone {one:.0f} KiB; each extra clone adds {(total - one) / 9:.0f} KiB "
              f"(the memory file's page cache is shared, not copied)."]
open(os.path.join(out, "restore.md"), "w").write("\n".join(lines) + "\n")
open(os.path.join(out, "restore.dat"), "w").write("\n".join(dat) + "\n")
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

# hist_png: bench/plot.sh (the report-NAME.sh modules use it too).
. "$(dirname "$0")/plot.sh"

if [ -s "$dir/restore.dat" ] && command -v gnuplot >/dev/null; then
	hist_png "$dir/restore.dat" "$dir/restore.png" 700 \
		"ember: cold boot vs snapshot restore to a vsock echo (nested KVM, medians)" \
		"ms from ember start (log scale)" "cold boot" restore \
		"set logscale y" "set yrange [10:*]"
	echo "report: wrote $dir/restore.md and $dir/restore.png"
fi

# Network throughput (bench/net-in-l1.sh): net.tsv into net.md and net.png.
# Rows that do not parse are dropped: the TSV comes off L1's serial console,
# where a kernel message can land in the middle of it.
if [ -s "$dir/net.tsv" ]; then
	python3 - "$dir" <<'PY'
import csv, os, statistics, sys
out = sys.argv[1]
labels = {"tcp_to_guest": ("TCP", "L1 → guest"), "tcp_from_guest": ("TCP", "guest → L1"),
          "vsock_to_guest": ("vsock", "L1 → guest"), "vsock_from_guest": ("vsock", "guest → L1")}
vmms = ("ember", "qemu-microvm")
runs, ok, backend, mib = {}, {}, {}, set()
for r in csv.DictReader(open(os.path.join(out, "net.tsv")), delimiter="\t"):
    key = (r.get("vmm"), r.get("what"))
    if key[0] not in vmms or key[1] not in labels or not r.get("run"):
        continue
    runs[key] = runs.get(key, 0) + 1
    backend[key] = r.get("backend") or "?"
    mib.add(r.get("mbytes") or "?")
    try:
        v = float(r["mbit_s"])
    except (TypeError, ValueError):
        continue  # "-": failed or not measurable here; the bench log says why
    ok.setdefault(key, []).append(v)
def cell(key):
    v = ok.get(key)
    if not v:
        return "n/a" if key in runs else "-"
    return f"{statistics.median(v):.0f} ({min(v):.0f}–{max(v):.0f}, {len(v)}/{runs[key]})"
lines = ["| traffic | direction | ember, median Mbit/s (min–max, runs ok) | QEMU microvm, median Mbit/s (min–max, runs ok) | ember / QEMU |",
         "|---|---|---|---|---|"]
dat = []
for what, (kind, direction) in labels.items():
    e, q = ok.get(("ember", what)), ok.get(("qemu-microvm", what))
    ratio = f"{statistics.median(e) / statistics.median(q):.2f}" if e and q else "-"
    lines.append(f"| {kind} | {direction} | {cell(('ember', what))} | {cell(('qemu-microvm', what))} | {ratio} |")
    med = lambda v: f"{statistics.median(v):.1f}" if v else "-"
    dat.append(f'"{kind}\\n{direction}" {med(e)} {med(q)}')
lines += ["", f"Bulk transfers of {'/'.join(sorted(mib))} MiB, timed until the data reached the "
          "receiving application (guest/tools/netperf.c), one VMM at a time, 1 vCPU, 256 MiB, "
          "nested KVM: compare the columns, not the figures with bare metal. What moves the bytes:", ""]
for (vmm, what), b in sorted(backend.items()):
    if what.endswith("_to_guest"):
        lines.append(f"- {vmm}, {labels[what][0]}: {b}")
lines += ["", "The TCP rows compare like with like (both VMMs' virtio-net backends in userspace, "
          "on the same tap); the vsock rows do not: QEMU's vsock is vhost-vsock, a kernel backend."]
open(os.path.join(out, "net.md"), "w").write("\n".join(lines) + "\n")
# The plot's data only with a bar to draw: gnuplot fails on none.
open(os.path.join(out, "net.dat"), "w").write("\n".join(dat) + "\n" if ok else "")
print("\n".join(lines))
PY
	echo "report: wrote $dir/net.md"
	# Missing medians are "-": gnuplot leaves their bars out.
	if [ -s "$dir/net.dat" ] && command -v gnuplot >/dev/null; then
		hist_png "$dir/net.dat" "$dir/net.png" 800 \
			"ember vs QEMU microvm: throughput (nested KVM, 1 vCPU; medians; QEMU vsock is vhost-vsock)" \
			"Mbit/s" ember "QEMU microvm" 'set datafile missing "-"' "set yrange [0:*]" \
			"set bmargin 4" "set xrange [-0.6:3.6]"
		echo "report: wrote $dir/net.png"
	fi
fi

# The other modules' tables and plots: bench/report-NAME.sh DIR for each
# bench/NAME-in-l1.sh that has one (a module is its two files).
for r in "$(dirname "$0")"/report-*.sh; do
	[ -x "$r" ] || continue
	"$r" "$dir" || echo "report: $r failed" >&2
done
