#!/usr/bin/env python3
# dump-l1-cpus.py MONITOR-SOCKET OUT: what a wedged L1's CPUs were doing,
# from QEMU's human monitor, into OUT.  tests/nested/run.sh (dump_l1_cpus)
# calls it before it stops such an L1, so the next one to debug the wedge
# has the registers (nokaslr there maps them onto /proc/kallsyms).
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
out = b""
for cmd in (b"info status\n", b"info registers -a\n", b"info cpus\n"):
    s.sendall(cmd)
    end = time.time() + 2
    while time.time() < end:
        try:
            out += s.recv(65536)
        except socket.timeout:
            break
# The monitor echoes what it is sent, redrawing the line with escapes.
import re
out = re.sub(rb"\x1b\[[0-9;]*[A-Za-z]", b"", out)
out = b"\n".join(l for l in out.split(b"\n") if not l.startswith(b"(qemu)"))
open(sys.argv[2], "wb").write(out + b"\n")
