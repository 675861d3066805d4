#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the VM for `make bench`, all in one boot: for each core, load
# it with the same C mtty and run the create/remove benchmark; then, on the
# C core, for each sample set (C mtty, Rust mtty) run the region-access
# benchmark. Each list alternates C and Rust.
#
# usage: guest-bench.sh KDIR TESTDIR OUTDIR SECONDS CORE...
set -u
KDIR=$1 TESTDIR=$2 OUTDIR=$3 SECONDS_PER_RUN=$4
shift 4

. "$(dirname "$0")/stacks.sh"

mkdir -p "$OUTDIR"
exec > "$OUTDIR/guest.log" 2>&1
for core in "$@"; do
	mods=$(stack_modules "$core+c" | head -2)	# the core and mtty
	modules_load "$KDIR" $mods || continue
	# one warm-up second, then the measured run
	"$TESTDIR/mdev_bench" mtty-1 1 > /dev/null
	echo "$core $("$TESTDIR/mdev_bench" mtty-1 "$SECONDS_PER_RUN")" >> "$OUTDIR/bench.txt"
	modules_unload $mods
done
for samples in "$@"; do
	mods=$(stack_modules "c+$samples")
	modules_load "$KDIR" $mods || continue
	"$TESTDIR/mtty_region_bench" 0.5 > /dev/null
	echo "$samples $("$TESTDIR/mtty_region_bench" "$SECONDS_PER_RUN")" >> "$OUTDIR/region.txt"
	modules_unload $mods
done
dmesg > "$OUTDIR/dmesg.log"
echo "status=done" > "$OUTDIR/status"
