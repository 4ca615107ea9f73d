#!/usr/bin/env bash
# Turns DIR/density.tsv (bench/density-in-l1.sh) into DIR/density.md and
# DIR/density.png (the restore latency's distribution).  Rows of an older
# ember (BENCH_BASELINE, tagged "before") become "before" columns.
set -euo pipefail
dir=${1:-$(dirname "$0")/results}
[ -s "$dir/density.tsv" ] || { echo "report-density: no $dir/density.tsv" >&2; exit 1; }

python3 - "$dir" <<'PY'
import csv, math, os, sys
out = sys.argv[1]

def load(name):
    """{(section, key, mem, run): value}; rows that do not parse are dropped
    (the TSV comes off L1's serial console)."""
    path = os.path.join(out, name)
    rows = {}
    for r in csv.DictReader(open(path), delimiter="\t"):
        if None in r.values() or not r.get("section"):
            continue
        if r["section"] in ("mapping", "task"):  # several rows per key
            raw.append((r["section"], r["key"], r["run"], r["value"]))
        else:
            rows[(r["section"], r["key"], r["mem_mib"], r["run"])] = r["value"]
    return rows

raw = []
now = load("density.tsv")

def pct(v, p):  # nearest rank
    v = sorted(v)
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)]

def series(rows, key, mem):
    return [float(v) for (s, k, m, _), v in rows.items() if s == "latency" and k == key and m == mem]

def one(rows, section, key, mem="128"):
    for (s, k, m, run), v in rows.items():
        if s == section and k == key and m == mem:
            return run, v
    return None

L = ["## Restore latency", "",
     "From the `PUT /snapshot/load` request written (File backend, `resume_vm: true`) to the guest "
     "running: the first one-byte echo answered by the guest's vsock listener (guest-tests/idle-echo) "
     "through the hybrid vsock socket. One restore at a time, 1 vCPU, nested KVM.", "",
     "| guest RAM | loads | p50 (ms) | p90 (ms) | p99 (ms) | min–max (ms) | load answered (204), p50 (ms) |",
     "|---|---|---|---|---|---|---|"]
cdf = []
for mem in ("128", "1024"):
    v = series(now, "ready_ms", mem)
    a = series(now, "answered_ms", mem)
    if not v:
        continue
    L.append(f"| {mem} MiB | {len(v)} | {pct(v, 50):.1f} | {pct(v, 90):.1f} | {pct(v, 99):.1f} | "
             f"{min(v):.1f}–{max(v):.1f} | {pct(a, 50):.1f} |")
    cdf.append((mem, sorted(v)))
L += ["", "QEMU microvm's restore, side by side with ember's: restore-peer.md (see the note at the end).", ""]

L += ["## Creation rate", "",
      "| how | VMs | until all run (ms) | VMs per second |", "|---|---|---|---|"]
for key, what in (("cold_ms", "cold boot, all started at once"),
                  ("restore_ms", "snapshot restore (128 MiB), all started at once"),
                  ("restore_seq_ms", "snapshot restore (128 MiB), one after another")):
    r = one(now, "rate", key)
    if r:
        n, ms = int(r[0]), float(r[1])
        L.append(f"| {what} | {n} | {ms:.0f} | {n / ms * 1000:.1f} |")
L += ["", "Fork's rate is in the fork module's results.", ""]

def density(rows, tag):
    """The density figures of one binary (rows whose run is TAG:...)."""
    def get(section, key):
        for (s, k, _, run), v in rows.items():
            if s == section and k == key and run.startswith(tag + ":"):
                return run.split(":", 1)[1], v
        return None
    t, g, gp = get("density", "pss_total_kb"), get("density", "guest_private_kb"), get("density", "guest_pss_kb")
    alone = [v for (s, k, _, run), v in rows.items() if s == "status" and k == "Pss" and run == tag + ":alone"]
    if not t or not g or not gp or not alone:
        return None
    n, total, guest, gpss, first = int(t[0]), float(t[1]), float(g[1]), float(gp[1]), float(alone[0])
    smaps, status, maps = {}, {}, {}
    for (s, k, _, run), v in rows.items():
        if not run.startswith(tag + ":"):
            continue
        phase = run.split(":", 1)[1]
        if s == "smaps":
            smaps.setdefault(phase, {})[k] = [float(x) for x in v.split()]
        elif s == "status":
            status.setdefault(phase, {})[k] = v
    # The alone clone's guest RAM PSS: the pages its guest touched (all its
    # own while it is alone); each extra clone adds its dirtied pages and
    # whatever of the memory file its guest touches first.
    ga = smaps.get("alone", {}).get("guest-ram", [0, 0, 0, 0])[1]
    return dict(n=n, total=total, guest=guest, gpss=gpss, first=first,
                inc=(total - first) / (n - 1), gper=(gpss - ga) / (n - 1),
                vmm=((total - gpss) - (first - ga)) / (n - 1), own=(total - gpss) / n,
                smaps=smaps, status=status)

d, b = density(now, "now"), density(now, "before")
if d:
    n = d["n"]
    L += ["## Density", "",
          f"{n} clones of one 128 MiB snapshot running at once in one L1 (4 GiB, 2 vCPUs), "
          "each restored with `PUT /snapshot/load` (the memory file mapped `MAP_PRIVATE`, so "
          "the clones share its page cache until they write). PSS from /proc/PID/smaps. "
          "Guest RAM is the mapping of the memory file: its private part is what the guest "
          "dirtied, the rest its share of the page cache; everything else is ember's own. "
          "The guest is idle (guest-tests/idle-echo) after its vsock echo."
          + (" \"before\" is an older ember (`BENCH_BASELINE`) measured the same way in the "
             "same L1 run, on the same snapshot, just before." if b else ""), "",
          "| figure | " + ("before (KiB) | " if b else "") + "now (KiB) |",
          "|---|" + ("---|" if b else "") + "---|"]
    def line(label, key):
        L.append(f"| {label} | " + (f"{b[key]:.0f} | " if b else "") + f"{d[key]:.0f} |")
    line(f"PSS of all {n} clones", "total")
    line(f"of which guest RAM (page cache share and dirtied pages), all {n}", "gpss")
    line(f"of which pages the guests dirtied (private), all {n}", "guest")
    line("one clone alone (PSS)", "first")
    line("each extra clone adds (PSS)", "inc")
    line("of which guest RAM (pages its guest dirtied or first touched)", "gper")
    line("**each extra clone adds, beyond its guest's pages (ember's own)**", "vmm")
    line(f"ember's own PSS per clone with {n} running", "own")
    L += ["", "### Where one clone's memory goes", "",
          f"One clone's /proc/PID/smaps summed by kind of mapping, alone and with all {n} running "
          "(KiB; RSS / PSS / private; shared pages are split between the processes mapping them). "
          "Page tables (VmPTE) and KVM's own kernel memory are not in PSS: VmPTE is listed apart.", ""]
    cols = [(d, "alone"), (d, f"with{n}")] + ([(b, "alone"), (b, f"with{n}")] if b else [])
    names = ["now, alone", f"now, with {n}"] + (["before, alone", f"before, with {n}"] if b else [])
    L += ["| mapping | " + " | ".join(names) + " |", "|---|" + "---|" * len(cols)]
    kinds = sorted({k for x, ph in cols for k in x["smaps"].get(ph, {})},
                   key=lambda k: -max(x["smaps"].get(ph, {}).get(k, [0, 0])[1] for x, ph in cols))
    fmt = lambda x: "-" if x is None else f"{x[0]:.0f} / {x[1]:.0f} / {x[2]:.0f}"
    for k in kinds:
        L.append(f"| {k} | " + " | ".join(fmt(x["smaps"].get(ph, {}).get(k)) for x, ph in cols) + " |")
    for key, label in (("VmPTE", "page tables, VmPTE (KiB)"), ("Threads", "threads")):
        L.append(f"| {label} | " + " | ".join(x["status"].get(ph, {}).get(key, "-") for x, ph in cols) + " |")
    L += ["", "Kinds: guest-ram is the memory file's mapping; binary the executable's own pages "
          "(text, data); bss the anonymous pages right after it; heap the brk heap (malloc); "
          "thread-stack an anonymous mapping right above a guard page; malloc-arena a thread "
          "arena; kvm-vcpu the kvm_run page KVM shares; main-stack the main thread's. No "
          "io_uring rings or virtqueue buffers of ember's own appear: the guest has no disk "
          "(io_uring is per block device) and virtqueues live in guest RAM.", ""]
    for tag in ("before", "now") if b else ("now",):
        ms = [(k, v) for (sec, k, run, v) in raw if sec == "mapping" and run == f"{tag}:alone"]
        ts = [(k, v) for (sec, k, run, v) in raw if sec == "task" and run == f"{tag}:alone"]
        if ms:
            L += [f"{tag}, one clone alone: each anonymous mapping in use (start, perms, size / RSS / "
                  "PSS KiB), and each thread's stack pointer:", "",
                  "| kind | start | perms | size | RSS | PSS |", "|---|---|---|---|---|---|"]
            for k, v in ms:
                f = v.split()
                if len(f) == 5:
                    L.append(f"| {k} | {f[0]} | {f[1]} | {f[2]} | {f[3]} | {f[4]} |")
            L += ["", "threads (name: stack pointer): " + ", ".join(f"{k}: {v}" for k, v in ts), ""]

L += ["## Notes", "",
      "- \"Each extra clone adds, beyond its guest's pages\" is ((PSS of all − their guest RAM "
      "PSS) − (one clone alone − its guest RAM PSS)) / (clones − 1): ember's own memory. Not in "
      "PSS and not counted: each clone's page tables (VmPTE, listed) and KVM's kernel memory "
      "for the VM and its vCPU.",
      "- What the changes removed (ember's commits on wt-dense): glibc's 8 MiB thread stacks "
      "are 1 MiB stacks ember maps, trimmed when idle (`vmm/thread.c`); a restore no longer "
      "writes every page of the ~164 KiB API config and the ~68 KiB VMM config "
      "(`vmm/sparse.h`); one malloc arena, trimmed after a restore; no transparent huge "
      "pages in a restored ember. In the before columns the API thread's 8 MiB glibc stack "
      "shows merged with the API state next to it (8624 KiB): its RSS is mostly that state "
      "being written whole by the restore.",
      "- THP: L1's kernel (Debian's) has transparent huge pages \"always\"; khugepaged turns a "
      "2 MiB-aligned stretch of anonymous memory with a page in use into a 2 MiB page. In an "
      "earlier run of this module (the same before binary) its clone's stack mapping grew from "
      "288 KiB to 2144 KiB RSS in the ~20 s it took to start the others; whether it is "
      "caught depends on when khugepaged passes, so before-figures vary between runs. A "
      "restored ember now sets PR_SET_THP_DISABLE (its guest RAM never uses THP).",
      "- Nested KVM (QEMU/TCG L1 with emulated SVM): absolute times are far from bare metal; "
      "compare rows of one run.",
      "- QEMU microvm, the restore peer, is measured by the restore-peer module "
      "(bench/restore-peer-in-l1.sh, restore-peer.md), not here: its vsock is vhost-vsock "
      "without Firecracker's hybrid socket, so that module probes \"guest running\" on the "
      "serial console instead, the same way for both VMMs, from process start (QEMU's "
      "`-incoming` has no request to time from) and, for ember, also from the load request."]
open(os.path.join(out, "density.md"), "w").write("\n".join(L) + "\n")
with open(os.path.join(out, "density.dat"), "w") as f:
    for mem, v in cdf:
        f.write(f'# {mem} MiB\n')
        for i, x in enumerate(v):
            f.write(f"{x:.2f} {(i + 1) / len(v):.4f}\n")
        f.write("\n\n")
print("\n".join(L))
PY

if [ -s "$dir/density.dat" ] && command -v gnuplot >/dev/null; then
	gnuplot <<GP
set terminal pngcairo size 700,420 font ",10"
set output "$dir/density.png"
set title "ember: snapshot restore, load request to guest running (nested KVM)"
set xlabel "ms"
set ylabel "fraction of restores"
set yrange [0:1]
set key bottom right
plot "$dir/density.dat" index 0 using 1:2 with steps lw 2 title "128 MiB", \
     "" index 1 using 1:2 with steps lw 2 title "1 GiB"
GP
	echo "report-density: wrote $dir/density.md and $dir/density.png"
fi
