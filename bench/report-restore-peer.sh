#!/usr/bin/env bash
# Turns DIR/restore-peer.tsv (bench/restore-peer-in-l1.sh) into
# DIR/restore-peer.md (percentiles, ember vs QEMU microvm) and
# DIR/restore-peer.png (the distributions).
set -euo pipefail
dir=${1:-$(dirname "$0")/results}
[ -s "$dir/restore-peer.tsv" ] || { echo "report-restore-peer: no $dir/restore-peer.tsv" >&2; exit 1; }

python3 - "$dir" <<'PY'
import csv, math, os, sys
out = sys.argv[1]
vmms = {"ember": "ember", "qemu-microvm": "QEMU microvm"}
ready, req, ans, start = {}, {}, {}, {}
# Rows that do not parse are dropped: the TSV comes off L1's serial console.
for r in csv.DictReader(open(os.path.join(out, "restore-peer.tsv")), delimiter="\t"):
    try:
        key, v = (r["vmm"], int(r["mem_mib"])), float(r["ready_ms"])
    except (KeyError, TypeError, ValueError):
        continue
    if key[0] == "qemu-startup":  # QEMU's start-up alone (-incoming defer, QMP greeting)
        start.setdefault(("qemu-microvm", key[1]), []).append(v)
        continue
    if key[0] not in vmms:
        continue
    ready.setdefault(key, []).append(v)
    try:
        start.setdefault(key, []).append(float(r["sent_ms"]))  # ember: its API socket accepts
        req.setdefault(key, []).append(v - float(r["sent_ms"]))
        ans.setdefault(key, []).append(float(r["answered_ms"]) - float(r["sent_ms"]))
    except (TypeError, ValueError):
        pass  # "-": QEMU has no request

def pct(v, p):  # nearest rank
    v = sorted(v)
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)]

def cells(v):
    return f"{pct(v, 50):.1f} | {pct(v, 90):.1f} | {pct(v, 99):.1f} | {min(v):.1f}–{max(v):.1f}"

mems = sorted({m for (_, m) in ready})
L = ["## Snapshot restore latency, ember vs QEMU microvm", "",
     "Process start (the VMM forked) to guest running: the first answer of the guest's "
     "serial-echo (guest-tests/serial-echo, from userspace) to the probe bytes bench/serialtime "
     "writes to the VMM's serial console from the start on (a new one whenever the last has left "
     "the pipe, 2 ms apart at least, so one always waits for the guest). One restore at a "
     "time, alternating ember and QEMU, 1 vCPU, a serial console and no other device, the same "
     "kernel, initramfs and command line, nested KVM, one L1 run.", "",
     "| guest RAM | VMM | loads | p50 (ms) | p90 (ms) | p99 (ms) | min–max (ms) |",
     "|---|---|---|---|---|---|---|"]
for mem in mems:
    for vmm, name in vmms.items():
        v = ready.get((vmm, mem))
        if v:
            L.append(f"| {mem} MiB | {name} | {len(v)} | {cells(v)} |")
L += [""]
for mem in mems:
    e, q = ready.get(("ember", mem)), ready.get(("qemu-microvm", mem))
    if e and q:
        L.append(f"- {mem} MiB: ember's p50 is {pct(e, 50) / pct(q, 50):.2f}x QEMU microvm's "
                 f"({pct(e, 50):.1f} vs {pct(q, 50):.1f} ms), p99 {pct(e, 99) / pct(q, 99):.2f}x.")
L += ["", "ember alone, from its `PUT /snapshot/load` request written to the same probe's answer "
      "(the density module's figure, there through the vsock echo), and to the request's 204:", "",
      "| guest RAM | loads | request → running p50 (ms) | p90 (ms) | p99 (ms) | min–max (ms) | request → 204, p50 (ms) |",
      "|---|---|---|---|---|---|---|"]
for mem in mems:
    v, a = req.get(("ember", mem)), ans.get(("ember", mem))
    if v and a:
        L.append(f"| {mem} MiB | {len(v)} | {cells(v)} | {pct(a, 50):.1f} |")
L += ["", "How much of that is the process's start-up: ember from its fork to its API socket "
      "accepting (the load request is written then); QEMU from its fork to its QMP greeting, "
      "started the same way but with `-incoming defer` (nothing to load), timed beside each "
      "restore. The last columns take each VMM's start-up p50 from its restore p50 (an estimate: "
      "a difference of medians).", "",
      "| guest RAM | ember start-up p50 (ms) | QEMU start-up p50 (ms) | ember restore p50 beyond start-up (ms) | QEMU restore p50 beyond start-up (ms) |",
      "|---|---|---|---|---|"]
for mem in mems:
    e, q = ready.get(("ember", mem)), ready.get(("qemu-microvm", mem))
    es, qs = start.get(("ember", mem)), start.get(("qemu-microvm", mem))
    if e and q and es and qs:
        L.append(f"| {mem} MiB | {pct(es, 50):.1f} | {pct(qs, 50):.1f} | "
                 f"{pct(e, 50) - pct(es, 50):.1f} | {pct(q, 50) - pct(qs, 50):.1f} |")
L += ["", "### What is compared", "",
      "- Both rows run from the VMM's fork to the guest's first answer; neither VMM has its "
      "process, KVM VM or guest memory before. ember: `ember --api-sock`, then `PUT "
      "/snapshot/load` (File backend, `resume_vm: true`) as soon as the socket accepts, so the "
      "row holds ember's start-up, the API round trip and the load. QEMU: `qemu-system-x86_64 "
      "-M microvm ... -incoming fd:3`, fd 3 the migration stream in a regular file; QEMU starts "
      "the guest itself when the stream is in (saved with `migration.store-global-state=off`, "
      "so no `cont` is needed, as after any incoming migration).",
      "- How memory comes back differs: ember maps the snapshot's memory file `MAP_PRIVATE` "
      "(pages fault in from the page cache as the guest touches them, after the guest runs); "
      "QEMU reads the whole stream (zero pages as markers) and copies every page into fresh "
      "anonymous memory before the guest runs.",
      "- The snapshots: ember's `PATCH /vm` Paused + Full `PUT /snapshot/create`; QEMU's QMP "
      "`stop` + `migrate \"exec:cat > FILE\"` (QEMU 7.2 in L1 has no `file:` URI), one pass "
      "since the VM is stopped. Both files on L1's tmpfs, so neither restore reads a disk.",
      "- Both VMMs resume the guest's clock where it stopped, so the guest's timers behave "
      "alike; the probe has no timer in it (a byte is always waiting at the UART).",
      "- Nested KVM (QEMU/TCG L1 with emulated SVM): absolute times are far from bare metal; "
      "compare the rows of one run."]
open(os.path.join(out, "restore-peer.md"), "w").write("\n".join(L) + "\n")
# The plot's bars: each percentile per size, ember next to QEMU ("-": none).
with open(os.path.join(out, "restore-peer.dat"), "w") as f:
    for mem in mems:
        for p in (50, 90, 99):
            e, q = ready.get(("ember", mem)), ready.get(("qemu-microvm", mem))
            f.write(f'"p{p}\\n{mem} MiB" ' + " ".join(f"{pct(v, p):.1f}" if v else "-" for v in (e, q)) + "\n")
print("\n".join(L))
PY

# hist_png: bench/plot.sh.
. "$(dirname "$0")/plot.sh"
if [ -s "$dir/restore-peer.dat" ] && command -v gnuplot >/dev/null; then
	hist_png "$dir/restore-peer.dat" "$dir/restore-peer.png" 800 \
		"snapshot restore, process start to guest running, percentiles (nested KVM, 1 vCPU)" \
		"ms" ember "QEMU microvm" 'set datafile missing "-"' "set yrange [0:*]" "set bmargin 4" \
		"set key top left"
	echo "report-restore-peer: wrote $dir/restore-peer.md and $dir/restore-peer.png"
fi
