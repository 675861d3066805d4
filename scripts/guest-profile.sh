#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the VM for `make profile`: for each sample set (C or Rust
# samples) on the C core, and each operation (mtty region accesses, an mdpy
# plane query), keep one process repeating the operation, announce it with
# OUTDIR/ready-IMPL-OP and wait for the host (scripts/profile.sh) to trace
# it and write OUTDIR/done-IMPL-OP.
#
# usage: guest-profile.sh KDIR TESTDIR OUTDIR IMPL...
set -u
KDIR=$1 TESTDIR=$2 OUTDIR=$3
shift 3

. "$(dirname "$0")/stacks.sh"

mkdir -p "$OUTDIR"
exec > "$OUTDIR/guest.log" 2>&1
for impl in "$@"; do
	mods=$(stack_modules "c+$impl")
	modules_load "$KDIR" $mods || exit 1
	cat /proc/kallsyms > "$OUTDIR/kallsyms-$impl"
	for op in cfg_read4 bar_read1 bar_write1 zero_read1 plane_query; do
		bench=mtty_region_bench
		[ "$op" = plane_query ] && bench=mdpy_bench
		"$TESTDIR/$bench" --loop "$op" > "$OUTDIR/loop.out" &
		pid=$!
		until grep -q ready "$OUTDIR/loop.out"; do
			sleep 0.1
			kill -0 $pid || exit 1
		done
		touch "$OUTDIR/ready-$impl-$op"
		until [ -e "$OUTDIR/done-$impl-$op" ]; do
			sleep 0.2
		done
		kill $pid
		wait $pid
	done
	modules_unload $mods || exit 1
done
echo "status=done" > "$OUTDIR/status"
