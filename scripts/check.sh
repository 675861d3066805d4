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
for s in $STACKS; do
	# shellcheck disable=SC2086
	stack_tests "$s" $TESTS > "$RESULTS/$s.tests"
done
# The nested guest of mdev_qemu_test.sh is a client of the stack, not the
# kernel under test: it boots the bench flavor, which has no checkers (the
# debug kernel, run under TCG inside TCG, had not finished the test after
# 13 minutes). Built here, after the debug tree, never beside it.
CLIENT_KDIR=$(MDEV_FLAVOR=bench "$TOP/scripts/kernel.sh" --dir)
if grep -qx mdev_qemu_test.sh "$RESULTS"/*.tests; then
	echo "check: the nested guest's kernel (bench flavor)"
	MDEV_FLAVOR=bench "$TOP/scripts/kernel.sh"
fi
# The guest does not inherit this environment: the test knobs it honours
# are handed over in a file beside the results.
: > "$RESULTS/guest.env"
for v in MDEV_FUZZ_OPS MDEV_FUZZ_SEED MDEV_FUZZ_SAMPLES MDEV_RACE_SECONDS; do
	[ -n "${!v:-}" ] && printf 'export %s=%q\n' "$v" "${!v}" >> "$RESULTS/guest.env"
done
for s in $STACKS; do
	echo "check: stack $s: booting VM"
	start=$(date +%s)
	for boot in 1 2; do
		# a stack's boot runs 10 to 15 minutes (the nested QEMU alone
		# takes 3 to 4); vm.sh's default limit is 15
		VM_TIMEOUT=${VM_TIMEOUT:-1800} \
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
done
echo "check: TAP and guest logs in $RESULTS"
python3 "$TOP/scripts/tap-summary.py" "$RESULTS" \
	"$TOP/tools/testing/selftests/vfio-mdev/oracle-deviations" \
	"host $STACKS"
