#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the host unit tests (tools/testing/mdev-host) and write their results
# as TAP to OUTDIR/host_tests.tap for scripts/tap-summary.py.
#
# usage: host-tests.sh OUTDIR
set -uo pipefail

. "$(dirname "$0")/env.sh"

OUT=$1
mkdir -p "$OUT"
CARGO_TARGET_DIR=$CACHE_DIR/host-target cargo test --offline \
	--manifest-path "$TOP/tools/testing/mdev-host/Cargo.toml" \
	> "$OUT/cargo-test.log" 2>&1
echo "exit=$?" > "$OUT/status"
awk 'BEGIN { print "TAP version 13" }
     /^test .* \.\.\. ok$/     { n++; print "ok " n " " $2 }
     /^test .* \.\.\. FAILED$/ { n++; print "not ok " n " " $2 }
     /^test .* \.\.\. ignored/ { n++; print "ok " n " " $2 " # SKIP" }
     END { print "1.." n }' "$OUT/cargo-test.log" > "$OUT/host_tests.tap"
