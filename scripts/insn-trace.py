#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# Instruction traces of system calls in a QEMU guest, for `make profile`
# (scripts/profile.sh). Two uses:
#
# - inside gdb (gdb -x insn-trace.py -ex "python trace(...)"): attach to
#   QEMU's gdb stub, wait for the next system call of the operation's kind
#   (pread64/pwrite64 for a region access, ioctl for a plane query), and
#   single-step it from the syscall entry until the CPU is back in user
#   space, CALLS times; write each call's instruction addresses, named from
#   the guest's /proc/kallsyms, to OUT.
# - as a script (insn-trace.py DIR): read DIR/trace-IMPL-OP.txt and print,
#   per operation, the instructions of one call per kernel function for the
#   C and the Rust sample side by side.
"""usage: insn-trace.py RESULTS_DIR"""

import bisect
import os
import subprocess
import sys

SYSCALLS = {16: "ioctl", 17: "pread64", 18: "pwrite64"}
USER_TOP = 0xFFFF800000000000
OPS = ["cfg_read4", "bar_read1", "bar_write1", "zero_read1", "plane_query"]


def op_syscalls(op):
    """The system calls operation OP makes."""
    return {16} if op == "plane_query" else {17, 18}


class Symbols:
    """Address to function name, from a copy of /proc/kallsyms."""

    def __init__(self, path):
        entries = []
        with open(path) as f:
            for line in f:
                words = line.split()
                if len(words) < 3 or words[1].lower() not in "tw":
                    continue
                name = words[2]
                if len(words) > 3:
                    name += " " + words[3]
                entries.append((int(words[0], 16), name))
        entries.sort()
        self.addrs = [a for a, _ in entries]
        self.names = [n for _, n in entries]
        self.by_name = {n.split()[0]: a for a, n in entries}

    def name(self, addr):
        i = bisect.bisect_right(self.addrs, addr) - 1
        return self.names[i] if i >= 0 else "?"


def trace(port, calls, kallsyms, out, op):
    import gdb  # only inside gdb

    syms = Symbols(kallsyms)
    entry = syms.by_name["entry_SYSCALL_64"]
    gdb.execute("set pagination off")
    gdb.execute(f"target remote 127.0.0.1:{port}")
    gdb.execute(f"hbreak *{entry:#x}")
    with open(out, "w") as f:
        for n in range(calls):
            while True:
                gdb.execute("continue", to_string=True)
                nr = int(gdb.parse_and_eval("$rax")) & 0xFFFFFFFF
                if nr in op_syscalls(op):
                    break
            pcs = []
            while True:
                pc = int(gdb.parse_and_eval("$pc")) & 0xFFFFFFFFFFFFFFFF
                if pc < USER_TOP:
                    break
                pcs.append(pc)
                gdb.execute("stepi", to_string=True)
            f.write(f"call {n} {SYSCALLS[nr]} insns={len(pcs)}\n")
            for pc in pcs:
                f.write(f"{pc:x} {syms.name(pc)}\n")
    gdb.execute("delete")
    gdb.execute("detach")


def read_trace(path):
    """[(syscall, [function of each instruction])] of one trace file."""
    calls = []
    with open(path) as f:
        for line in f:
            if line.startswith("call "):
                calls.append((line.split()[2], []))
            else:
                calls[-1][1].append(line.split(None, 1)[1].strip())
    return calls


def per_function(funcs):
    counts = {}
    for fn in funcs:
        counts[fn] = counts.get(fn, 0) + 1
    return counts


def demangle(names):
    """Rust symbols in readable form, by LLVM's demangler when it is there."""
    words = [n.split(" ", 1) for n in names]
    try:
        out = subprocess.run(["llvm-cxxfilt"], input="\n".join(w[0] for w in words),
                             capture_output=True, text=True, check=True).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        return dict(zip(names, names))
    return {n: " ".join([d] + w[1:]) for n, d, w in zip(names, out, words)}


def summary(results):
    for op in OPS:
        traced = {}
        for impl in ("c", "rust"):
            calls = read_trace(os.path.join(results, f"trace-{impl}-{op}.txt"))
            lengths = sorted({len(c[1]) for c in calls})
            traced[impl] = (calls[0][0], calls[-1][1], lengths)
        print(f"{op} ({traced['c'][0]}): instructions of one call, by function")
        for impl in ("c", "rust"):
            lengths = traced[impl][2]
            note = "all calls alike" if len(lengths) == 1 else f"calls differ: {lengths}"
            print(f"  {impl:5} total {len(traced[impl][1]):5d}  ({note})")
        c = per_function(traced["c"][1])
        r = per_function(traced["rust"][1])
        order = []
        for fn in traced["c"][1] + traced["rust"][1]:
            if fn not in order:
                order.append(fn)
        readable = demangle(order)
        width = max(len(readable[fn]) for fn in order)
        print(f"  {'function':{width}} {'C':>6} {'Rust':>6}")
        for fn in order:
            print(f"  {readable[fn]:{width}} {c.get(fn, 0):6d} {r.get(fn, 0):6d}")
        print()


if __name__ == "__main__" and "gdb" not in sys.modules:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    summary(sys.argv[1])
