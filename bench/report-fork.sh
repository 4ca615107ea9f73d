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
# A column's numbers: "-" is a figure not measured, "" one whose process
# was gone when it was read (fork-in-l1.sh says which, on stderr).
num = lambda rs, k: [float(r[k]) for r in rs if r.get(k) not in (None, "-", "")]
med = lambda rs, k: statistics.median(num(rs, k))
rest, fork, kids, one = by("restore"), by("fork10"), by("child"), by("fork1")
pool, pooled, pool1 = by("fork10pool"), by("pooled"), by("fork1pool")
if not rest or not fork or "api_ms" not in rows[0]:
    sys.exit("report: fork.tsv lacks restore or fork10 rows (or is of an older bench)")
r_echo, r_api, r_start = med(rest, "echo_ms"), med(rest, "api_ms"), med(rest, "start_ms")
f_echo, f_api = med(fork, "echo_ms"), med(fork, "api_ms")
r_pss = med(rest, "pss_kb")
k_pss_all = num(kids, "pss_kb")
k_pss = statistics.mean(k_pss_all) if k_pss_all else float("nan")
k_gone = len(kids) - len(k_pss_all)
r_npf, k_npf = num(rest, "npf"), num(kids, "npf")
lines = [
    f"Nested KVM (1 vCPU, 128 MiB guest, snap-counter), {len(fork)} run(s), medians; "
    "the peer is one snapshot restore of the same VM in the same L1 run. Both are timed "
    "by bench/restoretime.c from their request being written, to the 204 and to the "
    "guest's vsock echo (the fork: its last child's).",
    "",
    "| | request -> 204 (ms) | request -> guest echoes (ms) | VMs per second (echo) |",
    "|---|---|---|---|",
    f"| snapshot restore, 1 VM (PUT /snapshot/load) | {r_api:.1f} | {r_echo:.1f} | {1000 / r_echo:.2f} |",
    f"| live fork into 10 (PUT /vm/fork) | {f_api:.1f} | {f_echo:.1f} | {10000 / f_echo:.2f} |",
] + ([
    f"| live fork into 1 (another parent) | {med(one, 'api_ms'):.1f} | {med(one, 'echo_ms'):.1f} | "
    f"{1000 / med(one, 'echo_ms'):.2f} |"] if one else []) + ([
    f"| live fork into 10, children pooled (--fork-pool 10) | {med(pool, 'api_ms'):.1f} | "
    f"{med(pool, 'echo_ms'):.1f} | {10000 / med(pool, 'echo_ms'):.2f} |"] if pool else []) + ([
    f"| live fork into 1, child pooled (--fork-pool 1) | {med(pool1, 'api_ms'):.1f} | "
    f"{med(pool1, 'echo_ms'):.1f} | {1000 / med(pool1, 'echo_ms'):.2f} |"] if pool1 else []) + [
    "",
    f"- fork of 10 / one restore (target: <= 1): {f_api / r_api:.2f} to the 204, "
    f"{f_echo / r_echo:.2f} to the guest's echo.",
] + ([
    f"- fork of 10 from a pool of started children / one restore (target: <= 1): "
    f"{med(pool, 'api_ms') / r_api:.2f} to the 204 (per run: "
    + ", ".join(f"{float(p['api_ms']) / float(r['api_ms']):.2f}" for p, r in zip(pool, rest))
    + f"), {med(pool, 'echo_ms') / r_echo:.2f} to the guest's echo. Each pooled child "
    "was an ember process with its own process starter and an empty KVM VM (created, with its "
    "irqchip and PIT), started while its parent "
    "booted, as the restore's ember was started before its load request; "
    f"waiting, one costs {statistics.mean(num(pooled, 'pss_kb')):.0f} KiB PSS "
    f"on average over {len(num(pooled, 'pss_kb'))} (KVM's kernel memory for the empty VM not counted)."]
    if pool and pooled else []) + ([
    f"- One new VM from a pool of 1 / one restore: {med(pool1, 'api_ms') / r_api:.2f} to the 204, "
    f"{med(pool1, 'echo_ms') / r_echo:.2f} to the guest's echo: a child's own latency with no "
    "sibling on the CPUs. Ten pooled children take about ten children's CPU time on the L1's "
    "two CPUs, hence the fork of 10's ratio above."] if pool1 else []) + ([
    f"- One new VM, fork into 1 / one restore: {med(one, 'api_ms') / r_api:.2f} to the 204, "
    f"{med(one, 'echo_ms') / r_echo:.2f} to the guest's echo."] if one else []) + [
    f"- The restore from its ember's start (process start, API socket, load) to the echo: "
    f"{r_start:.1f} ms; the fork's children start inside the 204.",
]
if r_npf and k_npf:
    lines.append(
        f"- Guest page faults KVM took (pf_taken): a restored clone {statistics.median(r_npf):.0f} "
        f"by its echo, a fork child {statistics.median(k_npf):.0f} by the last child's echo "
        f"(median of {len(k_npf)}). Each new VM faults its guest's working set in page by "
        "page, an exit to L1's KVM each: ten children do that ten times, with their guests "
        "running, on L1's 2 CPUs; the restore does it once.")
lines.append(
    f"- PSS per child (its ember and its process starter, guest up): {k_pss:.0f} KiB on average over {len(k_pss_all)} "
    f"children; a restored clone: {r_pss:.0f} KiB. Both include the guest pages the VM has "
    "dirtied since (its own copies) and its share of the base pages."
    + (f" {k_gone} child(ren) had exited by the time their PSS was read." if k_gone else ""))
own = lambda rs: [float(r["pss_kb"]) - float(r["ram_kb"]) for r in rs
                  if r.get("ram_kb") not in (None, "-", "") and r.get("pss_kb") not in (None, "-", "")]
k_own, r_own = own(kids), own(rest)
if k_own and r_own:
    lines.append(
        f"- **Beyond its guest's pages** (PSS minus the PSS of its guest-RAM mapping: ember's own, "
        f"with its process starter; target <= 512 KiB): a child {statistics.mean(k_own):.0f} KiB on "
        f"average over {len(k_own)} children (min {min(k_own):.0f}, max {max(k_own):.0f}), ten of them "
        f"running beside their parent; a restored clone alone {statistics.median(r_own):.0f} KiB. "
        "The binary's pages are shared by every ember process, so the more run, the less each one's "
        "share. Not in PSS: page tables and KVM's kernel memory for the VM.")
open(os.path.join(out, "fork.md"), "w").write("\n".join(lines) + "\n")
open(os.path.join(out, "fork.dat"), "w").write(
    f'"restore (1 VM)" {r_api:.1f} {r_echo:.1f}\n"fork (10 VMs)" {f_api:.1f} {f_echo:.1f}\n'
    + (f'"fork (1 VM)" {med(one, "api_ms"):.1f} {med(one, "echo_ms"):.1f}\n' if one else "")
    + (f'"fork (10, pooled)" {med(pool, "api_ms"):.1f} {med(pool, "echo_ms"):.1f}\n' if pool else "")
    + (f'"fork (1, pooled)" {med(pool1, "api_ms"):.1f} {med(pool1, "echo_ms"):.1f}\n' if pool1 else ""))
print("\n".join(lines))
PY

if command -v gnuplot >/dev/null; then
	gnuplot <<GP
set terminal pngcairo size 600,400 font ",10"
set output "$dir/fork.png"
set title "live fork into 10 and into 1 vs one snapshot restore (nested KVM, 128 MiB, medians)"
set style fill solid 0.6
set yrange [0:*]
set ylabel "ms from the request"
set style data histograms
set style histogram clustered gap 1
set key top left
plot "$dir/fork.dat" using 2:xtic(1) title "to the 204" lc rgb "#4a7ab5", \
	'' using 3 title "to the guest's echo" lc rgb "#d9541e"
GP
	echo "report: wrote $dir/fork.md and $dir/fork.png"
fi
