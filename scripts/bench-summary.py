#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# Summarise the raw output of `make bench` (scripts/guest-bench.sh): cost per
# operation for C and Rust, each with its spread over the rounds, the Rust/C
# ratio of every round, and the region path against the /dev/zero floor.
# With --previous, also the drift of every figure from the last run.
"""usage: bench-summary.py [options] BENCH_TXT REGION_TXT DISPLAY_TXT DMABUF_TXT"""

import argparse
import json
import os
import sys

REGION_OPS = ["cfg_read4", "bar_read1", "bar_write1"]
FLOOR = "zero_read1"
# mdpy_bench: bytes per second, then queries per second
DISPLAY_COPIES = ["fb_mmap_write", "anon_memcpy", "fb_pwrite"]
DISPLAY_FLOOR = "anon_memcpy"


def parse(path):
    """{impl: [{key: value}, ...]} from lines "impl round=N key=value ..."."""
    runs = {}
    with open(path) as f:
        for line in f:
            words = line.split()
            if not words:
                continue
            values = dict(w.split("=", 1) for w in words[1:])
            runs.setdefault(words[0], []).append(
                {k: float(v) for k, v in values.items()})
    for impl in ("c", "rust"):
        if not runs.get(impl):
            sys.exit(f"bench-summary: no {impl} figures in {path}")
    if len(runs["c"]) != len(runs["rust"]):
        sys.exit(f"bench-summary: C and Rust rounds differ in {path}")
    return runs


def stats(values):
    mean = sum(values) / len(values)
    half = (max(values) - min(values)) / 2
    return mean, (100.0 * half / mean if mean else 0.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clock", required=True, choices=["icount", "wall"])
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--commit", required=True)
    ap.add_argument("--seconds", required=True)
    ap.add_argument("--previous")
    ap.add_argument("--save", required=True)
    ap.add_argument("bench")
    ap.add_argument("region")
    ap.add_argument("display")
    ap.add_argument("dmabuf")
    a = ap.parse_args()

    # cost of one operation: under icount (shift=0) a guest nanosecond is
    # one executed instruction
    unit = "insns" if a.clock == "icount" else "ns"
    cycles = parse(a.bench)
    region = parse(a.region)
    display = parse(a.display)
    dmabuf = parse(a.dmabuf)
    rounds = len(cycles["c"])
    figures = {}

    def cost(rate):
        return 1e9 / rate

    print(f"kernel {a.kernel}, commit {a.commit}, clock {a.clock}, "
          f"{rounds} rounds of {a.seconds} guest s per figure, C and Rust alternating")
    if a.clock == "icount":
        print("figures: instructions the guest executed (kernel and user) per "
              "operation; ± is half the range over the rounds")
    else:
        print("figures: nanoseconds per operation, host clock; ± is half the "
              "range over the rounds")
    print()
    print(f"create+remove of an mtty-1 instance through sysfs, C mtty, by core:")
    print(f"  {'core':6} {unit + '/cycle':>16} {'±':>7}")
    per = {}
    for impl in ("c", "rust"):
        per[impl] = [cost(r["per_second"]) for r in cycles[impl]]
        m, s = stats(per[impl])
        figures[f"create_remove.{impl}"] = m
        print(f"  {impl:6} {m:16.0f} {s:6.2f}%")
    ratios = [c / r for c, r in zip(per["c"], per["rust"])]
    m, s = stats(ratios)
    print(f"  Rust/C (speed, C {unit} / Rust {unit}): {m:.3f} "
          f"[{min(ratios):.3f} .. {max(ratios):.3f}]")
    print()
    print("region accesses through the device fd of an mtty-1 instance (C core),")
    print("by sample; floor: a 1-byte pread of /dev/zero in the same process:")
    print(f"  {'operation':11} {'C ' + unit:>10} {'±':>7} {'Rust ' + unit:>11} {'±':>7} "
          f"{'Rust/C':>7} {'[range]':>15} {'Rust/floor':>10}")
    floor_all = [cost(r[FLOOR]) for i in ("c", "rust") for r in region[i]]
    floor, _ = stats(floor_all)
    for op in REGION_OPS + [FLOOR]:
        c = [cost(r[op]) for r in region["c"]]
        r = [cost(r[op]) for r in region["rust"]]
        cm, cs = stats(c)
        rm, rs = stats(r)
        figures[f"region.{op}.c"] = cm
        figures[f"region.{op}.rust"] = rm
        ratios = [x / y for x, y in zip(c, r)]
        m, _ = stats(ratios)
        print(f"  {op:11} {cm:10.0f} {cs:6.2f}% {rm:11.0f} {rs:6.2f}% {m:7.3f} "
              f"[{min(ratios):.3f} .. {max(ratios):.3f}] {rm / floor:10.3f}")
    print("  Rust/C is speed (C cost / Rust cost, above 1: Rust is cheaper); "
          "Rust/floor is cost")
    print()
    print("framebuffer of an mdpy-xga instance (C core), a 3 MiB frame per copy, by sample;")
    print("floor: the same memcpy into anonymous memory; plane: QUERY_GFX_PLANE")
    per_kib = unit + "/KiB"
    print(f"  {'operation':13} {'C ' + per_kib:>11} {'±':>7} {'Rust ' + per_kib:>13} {'±':>7} "
          f"{'Rust/C':>7} {'[range]':>15} {'floor/Rust':>10}")
    floor_all = [1024 * cost(r[DISPLAY_FLOOR]) for i in ("c", "rust") for r in display[i]]
    floor, _ = stats(floor_all)
    for op in DISPLAY_COPIES + ["plane_query"]:
        scale = 1 if op == "plane_query" else 1024
        c = [scale * cost(r[op]) for r in display["c"]]
        r = [scale * cost(r[op]) for r in display["rust"]]
        cm, cs = stats(c)
        rm, rs = stats(r)
        figures[f"display.{op}.c"] = cm
        figures[f"display.{op}.rust"] = rm
        ratios = [x / y for x, y in zip(c, r)]
        m, _ = stats(ratios)
        name = op if scale > 1 else f"{op} (/op)"
        rel = f"{floor / rm:10.3f}" if scale > 1 else ""
        print(f"  {name:13} {cm:11.1f} {cs:6.2f}% {rm:13.1f} {rs:6.2f}% {m:7.3f} "
              f"[{min(ratios):.3f} .. {max(ratios):.3f}] {rel}")
    print("  floor/Rust is bandwidth against the floor (memcpy into anonymous memory = 1)")
    print()
    print("video memory and dma-bufs of an mbochs-large instance (C core), by sample:")
    print(f"  {'operation':17} {'C ' + unit:>11} {'±':>7} {'Rust ' + unit:>13} {'±':>7} "
          f"{'Rust/C':>7} {'[range]':>15} {'floor/Rust':>10}")
    floor_all = [1024 * cost(r["anon_read"]) for i in ("c", "rust") for r in dmabuf[i]]
    floor, _ = stats(floor_all)
    for op, label, scale in (("first_touch", "first_touch /page", 1),
                             ("export", "export /op", 1),
                             ("dmabuf_read", "dmabuf_read /KiB", 1024),
                             ("anon_read", "anon_read /KiB", 1024)):
        cols = {}
        for impl in ("c", "rust"):
            rates = [r[op] for r in dmabuf[impl]]
            cols[impl] = [scale * cost(x) for x in rates] if all(rates) else None
        line = f"  {label:17}"
        for impl, width in (("c", 11), ("rust", 13)):
            if cols[impl] is None:
                line += f" {'n/a':>{width}} {'':>7}"
                continue
            m, s = stats(cols[impl])
            figures[f"dmabuf.{op}.{impl}"] = m
            line += f" {m:{width}.1f} {s:6.2f}%"
        if cols["c"] and cols["rust"]:
            ratios = [x / y for x, y in zip(cols["c"], cols["rust"])]
            m, _ = stats(ratios)
            line += f" {m:7.3f} [{min(ratios):.3f} .. {max(ratios):.3f}]"
        else:
            line += f" {'':7} {'':15}"
        if scale > 1 and cols["rust"]:
            line += f" {floor / stats(cols['rust'])[0]:10.3f}"
        print(line)
    print("  n/a: not measured: upstream's mbochs refuses to map its dma-bufs, and each of its")
    print("  GET_GFX_DMABUF descriptors lacks a reference, so a close frees the dma-buf (KASAN);")
    print("  export is query + GET_GFX_DMABUF + close; floor: memcpy out of anonymous memory")

    saved = {"clock": a.clock, "kernel": a.kernel, "commit": a.commit,
             "seconds": a.seconds, "rounds": rounds, "figures": figures}
    with open(a.save, "w") as f:
        json.dump(saved, f, indent=1)
    if a.previous and os.path.exists(a.previous):
        with open(a.previous) as f:
            prev = json.load(f)
        print()
        print(f"drift from the previous run (kernel {prev['kernel']}, commit "
              f"{prev['commit']}, {prev['rounds']} rounds of {prev['seconds']} s):")
        worst = 0.0
        for k, v in figures.items():
            p = prev["figures"].get(k)
            if not p:
                continue
            d = 100.0 * (v / p - 1)
            worst = max(worst, abs(d))
            print(f"  {k:24} {p:12.0f} -> {v:12.0f}  {d:+7.2f}%")
        print(f"  largest drift: {worst:.2f}%")


if __name__ == "__main__":
    main()
