#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: create+remove cycles per second through sysfs on the C core
# and on the Rust core, with the same C mtty, in one VM boot. Prints the
# figures and the Rust/C ratio; it never fails on a number.
set -euo pipefail

. "$(dirname "$0")/env.sh"

KDIR=$(kernel_dir)
OUT=${RESULTS:-$TOP/results}/bench
SECONDS_PER_RUN=${BENCH_SECONDS:-8}
rm -rf "$OUT"
mkdir -p "$OUT"
"$TOP/scripts/vm.sh" "$OUT" "$TOP/scripts/guest-bench.sh" "$KDIR" \
	"$KDIR/selftests/vfio-mdev" "$OUT" "$SECONDS_PER_RUN" c rust c rust \
	> "$OUT/vm.log" 2>&1 || true
if ! grep -q status=done "$OUT/status" 2>/dev/null || [ ! -s "$OUT/bench.txt" ]; then
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
