#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the VM for `make bench`, all in one boot. For each entry of
# the list (c or rust, alternating): load that core with the C mtty and run
# the create/remove benchmark; load the C core with that sample set and run
# the region-access benchmark (mtty) and the display benchmarks (mdpy,
# mbochs). A failed run stops the benchmark: its figures would not alternate any more.
#
# usage: guest-bench.sh KDIR TESTDIR OUTDIR SECONDS IMPL...
set -u
KDIR=$1 TESTDIR=$2 OUTDIR=$3 SECONDS_PER_RUN=$4
shift 4

. "$(dirname "$0")/stacks.sh"

mkdir -p "$OUTDIR"
exec > "$OUTDIR/guest.log" 2>&1
fail() {
	echo "guest-bench: $*"
	dmesg > "$OUTDIR/dmesg.log"
	exit 1
}
round=0
for impl in "$@"; do
	round=$((round + 1))
	mods=$(stack_modules "$impl+c" | head -2)	# the core and mtty
	modules_load "$KDIR" $mods || fail "loading the $impl core"
	# a short warm-up, then the measured run
	"$TESTDIR/mdev_bench" mtty-1 0.1 > /dev/null || fail "mdev_bench on $impl"
	out=$("$TESTDIR/mdev_bench" mtty-1 "$SECONDS_PER_RUN") || fail "mdev_bench on $impl"
	echo "$impl round=$round $out" >> "$OUTDIR/bench.txt"
	modules_unload $mods || fail "unloading the $impl core"

	mods=$(stack_modules "c+$impl")
	modules_load "$KDIR" $mods || fail "loading the $impl samples"
	"$TESTDIR/mtty_region_bench" 0.1 > /dev/null || fail "mtty_region_bench on $impl"
	out=$("$TESTDIR/mtty_region_bench" "$SECONDS_PER_RUN") ||
		fail "mtty_region_bench on $impl"
	echo "$impl round=$round $out" >> "$OUTDIR/region.txt"
	"$TESTDIR/mdpy_bench" 0.1 > /dev/null || fail "mdpy_bench on $impl"
	out=$("$TESTDIR/mdpy_bench" "$SECONDS_PER_RUN") || fail "mdpy_bench on $impl"
	echo "$impl round=$round $out" >> "$OUTDIR/display.txt"
	# Upstream's mbochs cannot map its dma-bufs, and its GET_GFX_DMABUF
	# hands out a descriptor without taking a reference: closing it frees
	# the dma-buf (KASAN use-after-free on the debug kernel, in the loop
	# and with a first descriptor held open alike). No export figure.
	ops=
	[ "$impl" = c ] && ops="first_touch dmabuf_read anon_read"
	# shellcheck disable=SC2086
	"$TESTDIR/mbochs_bench" 0.1 $ops > /dev/null || fail "mbochs_bench on $impl"
	# shellcheck disable=SC2086
	out=$("$TESTDIR/mbochs_bench" "$SECONDS_PER_RUN" $ops) || fail "mbochs_bench on $impl"
	echo "$impl round=$round $out" >> "$OUTDIR/dmabuf.txt"
	modules_unload $mods || fail "unloading the $impl samples"
done
dmesg > "$OUTDIR/dmesg.log"
echo "status=done" > "$OUTDIR/status"
