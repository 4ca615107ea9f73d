#!/usr/bin/env bash
# Turns bench/results/devices.tsv and devices-balloon.tsv (from
# bench/devices-in-l1.sh) into bench/results/devices.md and devices.png.
# Rows that do not parse are dropped: the TSVs come off L1's serial console,
# where a kernel message can land in the middle of them.
set -euo pipefail
dir=${1:-$(dirname "$0")/results}
[ -s "$dir/devices.tsv" ] || { echo "report-devices: no $dir/devices.tsv" >&2; exit 0; }

python3 - "$dir" <<'PY'
import csv, os, statistics, sys
out = sys.argv[1]
MiB = 1048576
rows = [r for r in csv.DictReader(open(os.path.join(out, "devices.tsv")), delimiter="\t")
        if r.get("part") and r.get("run")]
def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None
def get(part, vmm=None, what=None):
    return [r for r in rows if r["part"] == part and (vmm is None or r["vmm"] == vmm)
            and (what is None or r["what"] == what)]

L = ["### Rate limiters: achieved / configured", "",
     "| device | bucket | VMM | configured | achieved | achieved / configured |",
     "|---|---|---|---|---|---|"]
dat = []
names = {"blk_bw": ("virtio-blk", "bandwidth"), "blk_ops": ("virtio-blk", "ops"),
         "net_rx": ("virtio-net", "rx bandwidth"), "net_tx": ("virtio-net", "tx bandwidth")}
def fmt(v, unit):
    if v is None:
        return "n/a"
    return f"{v / MiB:.2f} MiB/s" if unit == "B/s" else f"{v:.0f} ops/s"
for what, (dev, bucket) in names.items():
    for vmm in ("ember", "qemu-microvm"):
        for r in get("limiter", vmm, what):
            c, a = num(r["configured"]), num(r["achieved"])
            if c is None and r["configured"] != "-":
                L.append(f"| {dev} | {bucket} | {vmm} | n/a | n/a | n/a |")
                continue
            ratio = f"{a / c:.3f}" if c and a is not None else "-"
            L.append(f"| {dev} | {bucket} | {vmm} | {fmt(c, r['unit']) if c else 'unlimited'} "
                     f"| {fmt(a, r['unit'])} | {ratio} |")
            if c and a is not None:
                short = {"bandwidth": "bw", "ops": "ops", "rx bandwidth": "rx", "tx bandwidth": "tx"}[bucket]
                lab = f"{dev[7:]} {short}\\n{fmt(c, r['unit']).replace('.00', '').replace(' ops', '')}"
                e = a / c if vmm == "ember" else "-"
                q = a / c if vmm != "ember" else "-"
                dat.append((lab, e, q))
# One bar pair per configured rate: merge ember's and QEMU's ratios.
merged = {}
for lab, e, q in dat:
    m = merged.setdefault(lab, ["-", "-"])
    if e != "-":
        m[0] = f"{e:.3f}"
    if q != "-":
        m[1] = f"{q:.3f}"
L += ["", "Achieved rates are slopes of the guest's own progress samples over each phase "
      "(blk) or fixed-size transfers (net), with the bucket's initial full content left out "
      "(blk: the first 2 s of each phase; net: `size` bytes taken off the transfer); buckets refill "
      "in 1 s (`size` = the rate). QEMU microvm's column: the same guest reads on a drive with "
      "`throttling.bps-total` / `iops-total`; QEMU's netdevs have no limiter, so net is ember only. "
      "Net counts TCP payload, the limiter frames (the difference is the headers of 64 KiB TSO frames, <1%)."]

a = get("noisy", "ember")
if a:
    def vals(what):
        return [v for v in (num(r["achieved"]) for r in a if r["what"] == what) if v is not None]
    alone, lim, unl = vals("a_alone"), vals("a_b_limited"), vals("a_b_unlimited")
    blim, bunl = vals("b_of_b_limited"), vals("b_of_b_unlimited")
    cfg = next((num(r["configured"]) for r in a if r["what"] == "a_b_limited"), None)
    m = lambda v: statistics.mean(v) if v else None
    f = lambda v: "n/a" if v is None else f"{v / MiB:.1f} MiB/s"
    rt = lambda x: "n/a" if x is None or not m(alone) else f"{x / m(alone):.2f}"
    L += ["", "### Noisy neighbour (ember)", "",
          "| VM A's O_DIRECT reads | A's throughput (mean of phases) | A / A alone | B's writes |",
          "|---|---|---|---|",
          f"| alone ({len(alone)} phases) | {f(m(alone))} | 1.00 | - |",
          f"| B limited to {f(cfg)} ({len(lim)} phases) | {f(m(lim))} | {rt(m(lim))} | {f(m(blim))} |",
          f"| B unlimited ({len(unl)} phases) | {f(m(unl))} | {rt(m(unl))} | {f(m(bunl))} |",
          "", "Goal: A with a limited B ≥ 0.9 of A alone. A (1 vCPU) reads its image with 64 KiB "
          "O_DIRECT requests; B (2 vCPUs, two writers) writes 64 KiB O_DIRECT requests to its own; "
          "both ember VMs of 256 MiB with 64 MiB image files on L1's /tmp. L1 has no disk, so what "
          "they share is L1's tmpfs, page cache, memory bandwidth and 2 CPUs (under nested KVM a "
          "request costs mostly exits, i.e. CPU), not a disk's queue. Phases of 8 s, alone phases "
          "before, between and after B's. Ember only (a QEMU neighbour would measure QEMU's "
          "throttle, above)."]

b = get("balloon", "ember")
if b:
    runs = sorted({r["run"] for r in b})
    L += ["", "### Balloon: memory returned to the host (ember)", "",
          "| run | ember RSS before (MiB) | inflated | RSS returned (MiB) | until the guest held it (s) | MiB/s returned |",
          "|---|---|---|---|---|---|"]
    for run in runs:
        g = {r["what"]: r["achieved"] for r in b if r["run"] == run}
        L.append(f"| {run} | {g.get('rss_before', 'n/a')} | 256 MiB | {g.get('returned_mib', 'n/a')} "
                 f"| {g.get('seconds', 'n/a')} | {g.get('rate', 'n/a')} |")
    L += ["", "A 512 MiB guest touched 400 MiB and freed it, then PATCH /balloon "
          "`amount_mib` 256; ember's VmRSS sampled every ~50 ms from /proc (devices.png). "
          "Ember only: driving QEMU's balloon needs a QMP client L1 does not have."]

c = get("clones", "ember")
if c:
    g = {r["what"]: r["achieved"] for r in c}
    if g.get("pmem_pss") == "not-run":
        L += ["", "### PSS of 10 clones: pmem root vs virtio-blk root", "",
              "Not run (opt-in, `BENCH_PMEM_CLONES=1`): its integration test has panicked L1's kernel."]
    else:
        k = lambda kind, f: g.get(f"{kind}_pss{f}", "n/a")
        L += ["", "### PSS of 10 clones: pmem root vs virtio-blk root (ember)", "",
              "| root | PSS sum (KiB) | of it anonymous | of it file pages | of it shmem (tmpfs files) |",
              "|---|---|---|---|---|",
              f"| virtio-pmem, DAX, read-only | {k('pmem', '')} | {k('pmem', '_anon')} | {k('pmem', '_file')} | {k('pmem', '_shmem')} |",
              f"| virtio-blk, read-only | {k('blk', '')} | {k('blk', '_anon')} | {k('blk', '_file')} | {k('blk', '_shmem')} |"]
        p, q = num(g.get("pmem_pss")), num(g.get("blk_pss"))
        if p and q:
            L.append(f"\npmem / blk: {p / q:.2f} ({(q - p) / 10 / 1024:.1f} MiB less per clone).")
        L += ["", "10 clones of one Full snapshot (128 MiB guest, File backend) each read the whole "
              "root once more; the sum of the ember processes' PSS from smaps_rollup. It counts the "
              "guest RAM each touched (pages of the shared snapshot memory file until written, "
              "then anonymous copies), the mapped pmem file's pages and ember's own heap; shared "
              "pages are divided among the processes mapping them. The memory file and the root "
              "image live on L1's tmpfs, so their pages count as shmem."]

open(os.path.join(out, "devices.md"), "w").write("\n".join(L) + "\n")
open(os.path.join(out, "devices.dat"), "w").write(
    "".join(f'"{lab}" {e} {q}\n' for lab, (e, q) in merged.items()))
print("\n".join(L))
PY

if command -v gnuplot >/dev/null && [ -s "$dir/devices.dat" ]; then
	bal=$dir/devices-balloon.tsv
	plot_bal="set title 'no balloon samples'; plot 0 notitle"
	runs=$(awk -F'\t' 'NR > 1 && $1 ~ /^[0-9]+$/ { print $1 }' "$bal" 2>/dev/null | sort -un | tr '\n' ' ')
	if [ -n "$runs" ]; then
		plot_bal="plot for [r in '$runs'] '$bal' using (\$1 == real(r) ? \$2 : 1/0):3 skip 1 with lines lw 2 title 'run '.r"
	fi
	gnuplot <<GP
set terminal pngcairo size 1200,440 font ",9"
set output "$dir/devices.png"
set multiplot layout 1,2
set title "rate limiters: achieved / configured (nested KVM)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.6
set datafile missing "-"
set yrange [0:1.3]
set xtics font ",7"
set bmargin 4
set ytics 0.1
set grid ytics
plot "$dir/devices.dat" using 2:xtic(1) title "ember" lc rgb "#d9541e", "" using 3 title "QEMU microvm" lc rgb "#3b6ea8"
unset style
set style data lines
set autoscale y
set xtics font ",9"
set ytics auto
set title "balloon: 256 MiB inflated, ember's RSS"
set xlabel "s since PATCH /balloon"
set ylabel "RSS (MiB)"
set datafile separator "\t"
$plot_bal
unset multiplot
GP
	echo "report: wrote $dir/devices.md and $dir/devices.png"
fi
