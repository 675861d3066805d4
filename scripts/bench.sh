#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`, in one VM boot: create+remove cycles per second through sysfs
# on the C core and on the Rust core with the same C mtty; then region-access
# operations per second through a VFIO device fd for the C mtty and the Rust
# mtty, against the floor of a 1-byte read of /dev/zero. Prints the figures
# and the Rust/C ratios; it never fails on a number.
set -euo pipefail

. "$(dirname "$0")/env.sh"
. "$(dirname "$0")/stacks.sh"

KDIR=$(kernel_dir)
OUT=${RESULTS:-$TOP/results}/bench
SECONDS_PER_RUN=${BENCH_SECONDS:-8}
rm -rf "$OUT"
mkdir -p "$OUT"
# The benchmark loads upstream's C mtty, which does not survive delayed
# kobject releases (scripts/stacks.sh), and a delay would be measured too:
# the boot turns it off. The other checkers of the test kernel stay on, so
# the figures are those of a debug kernel, for C and Rust alike.
VM_APPEND=$(stack_cmdline c+c) \
"$TOP/scripts/vm.sh" "$OUT" "$TOP/scripts/guest-bench.sh" "$KDIR" \
	"$KDIR/selftests/vfio-mdev" "$OUT" "$SECONDS_PER_RUN" c rust c rust \
	> "$OUT/vm.log" 2>&1 || true
if ! grep -q status=done "$OUT/status" 2>/dev/null || [ ! -s "$OUT/bench.txt" ] ||
	[ ! -s "$OUT/region.txt" ]; then
	echo "bench: the benchmark did not run; see $OUT/guest.log" >&2
	exit 1
fi
echo "mdev create+remove through sysfs, mtty-1 (C sample), QEMU TCG;"
echo "cores alternate C, Rust, C, Rust in one boot, ${SECONDS_PER_RUN} s each:"
awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
       printf "  %-5s core: %8.1f cycles/s  (%7.1f us/cycle, %d cycles)\n", $1,
	      v["per_second"], v["us_per_cycle"], v["cycles"]
       sum[$1] += v["per_second"]; n[$1]++ }
     END {
	for (c in sum)
		printf "  %-5s mean: %8.1f cycles/s\n", c, sum[c] / n[c]
	if (sum["c"] > 0)
		printf "  Rust/C ratio: %.3f\n", (sum["rust"] / n["rust"]) / (sum["c"] / n["c"])
     }' "$OUT/bench.txt"
echo
echo "region accesses through the device fd of an mtty-1 instance (C core),"
echo "C mtty and Rust mtty alternating, ${SECONDS_PER_RUN} s per operation:"
awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[$1, kv[1]] += kv[2]; ops[kv[1]] = 1 }
       n[$1]++ }
     END {
	printf "  %-11s %12s %12s %8s %14s\n", "operation", "C ops/s", "Rust ops/s",
	       "Rust/C", "floor/Rust"
	floor = (v["c", "zero_read1"] + v["rust", "zero_read1"]) / (n["c"] + n["rust"])
	split("cfg_read4 bar_read1 bar_write1 zero_read1", order, " ")
	for (k = 1; k <= 4; k++) {
		o = order[k]
		c = v["c", o] / n["c"]; r = v["rust", o] / n["rust"]
		printf "  %-11s %12.0f %12.0f %8.3f %14.3f\n", o, c, r,
		       (c > 0 ? r / c : 0), (r > 0 ? floor / r : 0)
	}
     }' "$OUT/region.txt"
