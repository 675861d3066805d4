#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: in one VM boot, create+remove cycles through sysfs on the C
# and the Rust core with the same C mtty, then region accesses through a
# VFIO device fd with the C and the Rust mtty against the floor of a 1-byte
# read of /dev/zero, then the C and the Rust mdpy's framebuffer (copies
# into its mapping against the same copy into anonymous memory, pwrite)
# and plane queries. C and Rust alternate BENCH_ROUNDS times (default 3).
# Prints each figure with its spread over the rounds and the ratios; it
# never fails on a number.
#
# Environment:
#   BENCH_CLOCK    icount (default): the guest runs on one vCPU under QEMU
#                  -icount shift=0,sleep=off, so its clock advances 1 ns per
#                  instruction executed (kernel and user alike) and the
#                  figures are instruction counts; wall: two vCPUs and the
#                  host's clock, figures in seconds (noisy under TCG)
#   BENCH_KERNEL   bench (default): the kernel flavor without the checkers;
#                  debug: the test kernel
#   BENCH_SECONDS  guest seconds per figure and round (default 0.5 with
#                  icount, i.e. 5e8 instructions, 4 with wall)
#   BENCH_ROUNDS   alternations of C and Rust (default 3)
set -euo pipefail

export MDEV_FLAVOR=${BENCH_KERNEL:-bench}
. "$(dirname "$0")/env.sh"
. "$(dirname "$0")/stacks.sh"

CLOCK=${BENCH_CLOCK:-icount}
case "$CLOCK" in
icount)
	export VM_CPUS=1 VM_QEMU_OPTS="$ICOUNT_OPTS"
	SECONDS_PER_RUN=${BENCH_SECONDS:-0.5} ;;
wall)
	SECONDS_PER_RUN=${BENCH_SECONDS:-4} ;;
*)
	echo "bench: BENCH_CLOCK must be icount or wall" >&2
	exit 2 ;;
esac
ROUNDS=${BENCH_ROUNDS:-3}
"$TOP/scripts/kernel.sh"
"$TOP/scripts/selftests.sh"

KDIR=$(kernel_dir)
OUT=${RESULTS:-$TOP/results}/bench
rm -rf "$OUT"
mkdir -p "$OUT"
order=
for _ in $(seq "$ROUNDS"); do
	order="$order c rust"
done
# The benchmark loads upstream's C mtty, which does not survive delayed
# kobject releases (scripts/stacks.sh); a delay would be measured, too.
# shellcheck disable=SC2086
VM_APPEND=$(stack_cmdline c+c) \
"$TOP/scripts/vm.sh" "$OUT" "$TOP/scripts/guest-bench.sh" "$KDIR" \
	"$KDIR/selftests/vfio-mdev" "$OUT" "$SECONDS_PER_RUN" $order \
	> "$OUT/vm.log" 2>&1 || true
if ! grep -q status=done "$OUT/status" 2>/dev/null; then
	echo "bench: the benchmark did not run; see $OUT/guest.log and $OUT/vm.log" >&2
	exit 1
fi
# The previous run's figures, kept in the cache, give the drift between two
# runs; the summary says which kernel and commit they came from.
mkdir -p "$CACHE_DIR/bench"
last=$CACHE_DIR/bench/last-$CLOCK.json
python3 "$TOP/scripts/bench-summary.py" --clock "$CLOCK" \
	--kernel "$FLAVOR $(cat "$KDIR/obj/include/config/kernel.release")" \
	--commit "$(git -C "$TOP" describe --always --dirty 2>/dev/null || echo unknown)" \
	--seconds "$SECONDS_PER_RUN" --previous "$last" --save "$OUT/figures.json" \
	"$OUT/bench.txt" "$OUT/region.txt" "$OUT/display.txt" "$OUT/dmabuf.txt" |
	tee "$OUT/summary.txt"
cp "$OUT/figures.json" "$last"
