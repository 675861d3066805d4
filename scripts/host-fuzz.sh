#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run every cargo fuzz (libFuzzer) target of tools/testing/mdev-host/fuzz
# for a fixed time, starting from its committed corpus, and write the
# results as TAP to OUTDIR/host_fuzz.tap for scripts/tap-summary.py: one
# test per target, failed by any crash (a panic: a broken invariant), with
# its executions, speed and coverage as comments. New corpus entries and
# crash inputs stay under OUTDIR/fuzz, never in the clone.
#
# usage: host-fuzz.sh OUTDIR [TARGET...]
# Environment: HOST_FUZZ_SECONDS  time per target (default 30)
set -uo pipefail

. "$(dirname "$0")/env.sh"

OUT=$1
shift
SECONDS_PER=${HOST_FUZZ_SECONDS:-30}
FUZZ_DIR=$TOP/tools/testing/mdev-host/fuzz
TARGETS=${*:-$(sed -n 's/^name = "\(.*\)"$/\1/p' "$FUZZ_DIR/Cargo.toml" | grep -v '^mdev-host-fuzz$')}
export CARGO_TARGET_DIR=$CACHE_DIR/fuzz-target
# cargo-fuzz, installed by deps.sh
export PATH=$TOOLS_DIR/bin:$PATH

mkdir -p "$OUT/fuzz"
tap=$OUT/host_fuzz.tap.part
echo "TAP version 13" > "$tap"
# Built once, up front: debug assertions on (integer overflow panics),
# no sanitizer (the models are safe Rust; ASan needs a nightly compiler).
if ! (cd "$FUZZ_DIR" && cargo fuzz build -s none -a) \
	> "$OUT/fuzz/build.log" 2>&1; then
	echo "not ok 1 build # see fuzz/build.log" >> "$tap"
	echo "1..1" >> "$tap"
	mv "$tap" "$OUT/host_fuzz.tap"
	exit 1
fi
# fuzz_target N TARGET: run TARGET, its TAP lines (test number N) to
# $OUT/fuzz/N.tap
fuzz_target() {
	local n=$1 t=$2 work log rc runs speed last cov ft corp
	local part=$OUT/fuzz/$1.tap
	work=$OUT/fuzz/corpus/$t
	mkdir -p "$work" "$OUT/fuzz/artifacts/$t"
	log=$OUT/fuzz/$t.log
	# new inputs go to the first corpus directory: the run's own
	(cd "$FUZZ_DIR" && timeout $((SECONDS_PER + 120)) \
		cargo fuzz run -s none -a "$t" "$work" "corpus/$t" -- \
		-max_total_time="$SECONDS_PER" -timeout=10 \
		-print_final_stats=1 \
		-artifact_prefix="$OUT/fuzz/artifacts/$t/") > "$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	last=$(grep -E '^#[0-9]+' "$log" | tail -1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
	echo "# $t: ${runs:-?} runs (${speed:-?}/s), coverage: ${cov:-?} edges, ${ft:-?} features, corpus ${corp:-?} inputs" > "$part"
	if [ "$rc" = 0 ] && [ -n "$runs" ]; then
		echo "ok $n $t" >> "$part"
	else
		grep -m1 -A3 "panicked at" "$log" | sed 's/^/# /' >> "$part"
		ls "$OUT/fuzz/artifacts/$t" | sed 's/^/# crash input: /' >> "$part"
		echo "not ok $n $t # exit $rc, see fuzz/$t.log" >> "$part"
	fi
}
# libFuzzer runs one thread: one target per core at a time
jobs=$(nproc)
names=()
n=0
running=0
rm -f "$OUT"/fuzz/[0-9]*.tap
for t in $TARGETS; do
	n=$((n + 1))
	names[n]=$t
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
	fuzz_target "$n" "$t" &
	running=$((running + 1))
done
wait
for i in $(seq "$n"); do
	cat "$OUT/fuzz/$i.tap" >> "$tap" 2> /dev/null ||
		echo "not ok $i ${names[i]} # no result" >> "$tap"
done
echo "1..$n" >> "$tap"
mv "$tap" "$OUT/host_fuzz.tap"
