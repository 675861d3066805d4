#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the host unit tests, then the kselftests on every stack of the matrix,
# one VM boot per stack, and judge the results on the host from the TAP
# files left behind.
#
# Environment: STACK   stacks to run (default: all of STACKS_ALL)
#              TESTS   test binaries to run (default: all that apply)
#              RESULTS where TAP files and logs go (default: $TOP/results)
#              CHECK_JOBS  stack VMs at once (default 2)
#              HOST_FUZZ_SECONDS  time per host fuzz target (default 30;
#                                 0 leaves host fuzzing out: a skip)
#              CHECK_FULL  1: also what stacks.sh's tests_full_only and
#                          guest-tests.sh leave out of a CI-sized run
set -euo pipefail

. "$(dirname "$0")/env.sh"
. "$(dirname "$0")/stacks.sh"

KDIR=$(kernel_dir)
STACKS=${STACK:-$STACKS_ALL}
RESULTS=${RESULTS:-$TOP/results}
TESTDIR=$KDIR/selftests/vfio-mdev
TESTS=${TESTS:-}

rm -rf "$RESULTS"
mkdir -p "$RESULTS"
"$TOP/scripts/lint.sh"
echo "check: host unit tests"
"$TOP/scripts/host-tests.sh" "$RESULTS/host"
if [ "${HOST_FUZZ_SECONDS:-30}" != 0 ]; then
	echo "check: host fuzzing, ${HOST_FUZZ_SECONDS:-30} s per target"
	"$TOP/scripts/host-fuzz.sh" "$RESULTS/host" || true
else
	printf 'TAP version 13\nok 1 host_fuzz # SKIP HOST_FUZZ_SECONDS=0\n1..1\n' \
		> "$RESULTS/host/host_fuzz.tap"
fi
for s in $STACKS; do
	# shellcheck disable=SC2086
	stack_tests "$s" $TESTS > "$RESULTS/$s.tests"
done
# The nested guest of mdev_qemu_test.sh is a client of the stack, not the
# kernel under test: it boots the client flavor, a tinyconfig kernel with
# the guest drivers and nothing else (the debug kernel, run under TCG
# inside TCG, had not finished the test after 13 minutes; the bench one
# spent 4 of its 7 minutes decompressing and booting). Built here, after
# the debug tree, never beside it.
CLIENT_KDIR=$(MDEV_FLAVOR=client "$TOP/scripts/kernel.sh" --dir)
if grep -qx mdev_qemu_test.sh "$RESULTS"/*.tests; then
	echo "check: the nested guest's kernel (client flavor)"
	MDEV_FLAVOR=client "$TOP/scripts/kernel.sh"
fi
# The guest does not inherit this environment: the test knobs it honours
# are handed over in a file beside the results.
: > "$RESULTS/guest.env"
# mdevctl as scripts/deps.sh unpacked it (or the caller's)
printf 'export MDEVCTL=%q\n' "${MDEVCTL:-$TOOLS_DIR/mdevctl/usr/bin/mdevctl}" \
	>> "$RESULTS/guest.env"
[ -n "${CHECK_FULL:-}" ] && echo "export MDEV_CHECK_FULL=1" >> "$RESULTS/guest.env"
for v in MDEV_FUZZ_OPS MDEV_FUZZ_SEED MDEV_FUZZ_SAMPLES MDEV_RACE_SECONDS \
	 MDEV_SOAK_SECONDS MDEV_FAILNTH_LOAD; do
	[ -n "${!v:-}" ] && printf 'export %s=%q\n' "$v" "${!v}" >> "$RESULTS/guest.env"
done
# One stack's VM; its messages say which stack they are about.
run_stack() {
	local s=$1 start boot
	echo "check: stack $s: booting VM"
	start=$(date +%s)
	# a stack's boot runs up to an hour with a second VM beside it,
	# two in check-full (the fuzzer, the load walks and the nested QEMU
	# are most of it); vm.sh's default limit is 15 minutes
	local limit=3600
	[ -n "${CHECK_FULL:-}" ] && limit=7200
	for boot in 1 2; do
		VM_TIMEOUT=${VM_TIMEOUT:-$limit} \
		VM_APPEND=$(stack_cmdline "$s") "$TOP/scripts/vm.sh" "$RESULTS" \
			"$TOP/scripts/guest-tests.sh" "$s" "$KDIR" "$CLIENT_KDIR" "$TESTDIR" \
			"$RESULTS/$s" $(cat "$RESULTS/$s.tests") \
			> "$RESULTS/$s.console.log" 2>&1 || true
		# A guest that never started its script (no guest.log) is a
		# boot failure, not a test result: boot once more. Anything
		# the script started is judged as it is.
		[ -e "$RESULTS/$s/guest.log" ] && break
		echo "check: stack $s: the guest never ran its script (boot $boot)"
	done
	echo "check: stack $s: VM done in $(( $(date +%s) - start )) s"
}
# Most of a stack's run is one busy vCPU (one test binary at a time), so
# CHECK_JOBS VMs (default 2, one per core here) run side by side, the
# longest stacks first.
jobs=${CHECK_JOBS:-2}
# Side by side, each VM runs its two vCPUs on one host thread, taking
# turns (QEMU's single-threaded TCG). With a host thread per vCPU, four
# threads share two cores, and a vCPU that spins or waits for an IPI
# while the other one's thread is descheduled burns its slice: measured
# with two VMs side by side, each booting, fuzzing 180k operations and
# unloading, 688 s a VM with a thread per vCPU, 471 s with one thread
# (the boot: 208 s and 86 s). The guest still has two CPUs for the race
# tests.
if [ "$jobs" -gt 1 ]; then
	export VM_QEMU_OPTS=${VM_QEMU_OPTS:-"-accel tcg,thread=single"}
fi
running=0
for s in $(stacks_longest_first $STACKS); do
	if [ "$running" -ge "$jobs" ]; then
		wait -n || true
		running=$((running - 1))
	fi
	run_stack "$s" &
	running=$((running + 1))
done
wait
echo "check: TAP and guest logs in $RESULTS"
python3 "$TOP/scripts/tap-summary.py" "$RESULTS" \
	"$TOP/tools/testing/selftests/vfio-mdev/oracle-deviations" \
	"host $STACKS"
