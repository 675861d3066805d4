#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the test VM: load one stack, run the kselftests against it,
# unload it, and leave everything the host needs to judge the run in OUTDIR
# (TAP per test binary, dmesg, a status line). The host decides pass/fail;
# this script's exit code is not trusted (see DESIGN.md).
#
# usage: guest-tests.sh STACK KDIR CLIENT_KDIR TESTDIR OUTDIR [TEST...]
# CLIENT_KDIR: the kernel tree of the nested guest of mdev_qemu_test.sh
set -u

STACK=$1 KDIR=$2 CLIENT_KDIR=$3 TESTDIR=$4 OUTDIR=$5
shift 5

. "$(dirname "$0")/stacks.sh"
TESTS=${*:-$(stack_tests "$STACK")}

mkdir -p "$OUTDIR"
exec > "$OUTDIR/guest.log" 2>&1
set -x

# The kernel log is cut per test binary (<binary>.dmesg), so the host can
# name the binary a splat came from. kmemleak scans once, after the stack
# is unloaded, and its report goes to kmemleak: a leaked object stays
# unreferenced until then, and the report names the task that allocated
# it (a test binary's comm). A scan costs about 17 s here; one per binary
# was a quarter of a stack's run. The boot's own leak suspects (nothing of
# ours is loaded yet) are cleared first.
KMEMLEAK=/sys/kernel/debug/kmemleak
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
if [ -w "$KMEMLEAK" ]; then
	echo scan > "$KMEMLEAK"
	echo clear > "$KMEMLEAK"
fi
# fail-nth (mdev_failnth_test) may fail any allocation of the task that
# armed it, GFP_KERNEL and single pages included, without a backtrace each
for f in /sys/kernel/debug/failslab /sys/kernel/debug/fail_page_alloc; do
	[ -d "$f" ] || continue
	echo N > "$f/ignore-gfp-wait"
	echo 0 > "$f/verbose"
done
[ -d /sys/kernel/debug/fail_page_alloc ] &&
	echo 0 > /sys/kernel/debug/fail_page_alloc/min-order
# knobs a test may turn for a while (mdev_failnth_test: the release delay,
# the injection filters): each binary must leave them as they were
KNOBS="/sys/module/kernel/parameters/kobject_release_delay
	/sys/kernel/debug/failslab/require-start
	/sys/kernel/debug/failslab/require-end
	/sys/kernel/debug/fail_page_alloc/require-start
	/sys/kernel/debug/fail_page_alloc/require-end"
knobs() { for k in $KNOBS; do [ -e "$k" ] && echo "$k=$(cat "$k")"; done; }
KNOBS_BOOT=$(knobs)
dmesg > "$OUTDIR/boot.dmesg"
dmesg -C
mods=$(stack_modules "$STACK") || { echo "status=bad-stack" > "$OUTDIR/status"; exit 1; }
if ! modules_load "$KDIR" $mods; then
	echo "status=load-failed" > "$OUTDIR/status"
	dmesg > "$OUTDIR/load.dmesg"
	exit 1
fi

mod_path() { echo "$mods" | grep "/$1.ko\$"; }
export MDEV_STACK=$STACK
export MDEV_CORE_MODULE=$KDIR/$(echo "$mods" | head -1)
# the mtty of the stack: the C sample or its Rust twin
export MDEV_MTTY_MODULE=$KDIR/$(mod_path mtty || mod_path mtty_rs)
export MDEV_MBOCHS_MODULE=$KDIR/$(mod_path mbochs || mod_path mbochs_rs)
export MDEV_MDPY_MODULE=$KDIR/$(mod_path mdpy || mod_path mdpy_rs)
# a dma-buf importer for the mbochs tests (built in the tree, never loaded by a stack)
export MDEV_VGEM_MODULE=$KDIR/obj/drivers/gpu/drm/vgem/vgem.ko
export MDEV_VFIO_MDEV_MODULE=$KDIR/$(mod_path vfio_mdev)
# the Rust vendor modules that sit on vfio_mdev, in load order
MDEV_RUST_VENDOR_MODULES=
if [ -n "$(mod_path vfio_mdev)" ]; then
	for m in $(echo "$mods" | sed -n '/\/vfio_mdev.ko$/,$p' | tail -n +2); do
		MDEV_RUST_VENDOR_MODULES="$MDEV_RUST_VENDOR_MODULES $KDIR/$m"
	done
fi
export MDEV_RUST_VENDOR_MODULES
export MDEV_MINIMAL_MODULE=$KDIR/$(mod_path mdev_minimal)
# the nested guest of mdev_qemu_test.sh: a client kernel and its mdpy-fb
export MDEV_E2E_KBUILD=$CLIENT_KDIR/obj
export MDEV_E2E_OUT=$OUTDIR

# Tests that the oracle-deviations list marks "notrun" for this stack are
# left out of its run (the oracle corrupts memory in them, which the
# checkers report); the host counts them as expected deviations.
DEVIATIONS=$(dirname "$0")/../tools/testing/selftests/vfio-mdev/oracle-deviations
notrun() {
	local glob bin test flag rest
	while read -r glob bin test flag rest; do
		[ "$flag" = notrun ] && [ "$bin" = "$1" ] || continue
		# shellcheck disable=SC2053
		[[ $STACK == $glob ]] && printf -- '-T %s ' "${test##*.}"
	done < <(sed 's/#.*//' "$DEVIATIONS")
}

# the test knobs the host was given (scripts/check.sh)
# shellcheck disable=SC1091
[ -f "$(dirname "$OUTDIR")/guest.env" ] && . "$(dirname "$OUTDIR")/guest.env"
# `make check` is CI-sized: on 2 cores it has 90 minutes, and on the
# machine measured last the full runs (`make check-full`) took two hours.
# So, unless MDEV_CHECK_FULL: the long races run 10 s, not 30; the fuzzer
# makes 100,000 operations a sample, not a million; the allocation-failure
# walk of a module's load (about three minutes a sample) covers one sample
# on our core and none on upstream's (each is still reloaded once). A knob
# the host set wins.
if [ -z "${MDEV_CHECK_FULL:-}" ]; then
	export MDEV_RACE_SECONDS=${MDEV_RACE_SECONDS:-10}
	export MDEV_FUZZ_OPS=${MDEV_FUZZ_OPS:-100000}
	case $STACK in
	rust+rust) export MDEV_FAILNTH_LOAD=${MDEV_FAILNTH_LOAD:-mtty_rs} ;;
	*) export MDEV_FAILNTH_LOAD=${MDEV_FAILNTH_LOAD:-none} ;;
	esac
fi

for t in $TESTS; do
	# alone on the test kernel, the fuzzer's four samples of a million
	# operations take about 8 minutes, the allocation-failure walks with
	# every module's load about 5; beside a second VM, twice that
	limit=600
	[ "$t" = mdev_fuzz_test.sh ] && limit=2400
	[ "$t" = mdev_failnth_test ] && limit=1800
	start=$(date +%s)
	# shellcheck disable=SC2046
	timeout $limit "$TESTDIR/$t" $(notrun "$t") > "$OUTDIR/$t.tap" 2>&1
	echo "$t exit=$? seconds=$(( $(date +%s) - start ))" >> "$OUTDIR/exit-codes"
	# a test binary must clean up after itself: report and remove leftovers
	for d in /sys/bus/mdev/devices/*; do
		[ -e "$d" ] || continue
		echo "$t left instance $(basename "$d") ($(basename "$(readlink "$d/mdev_type")"))" >> "$OUTDIR/leaks"
		echo 1 > "$d/remove"
	done
	if [ "$(knobs)" != "$KNOBS_BOOT" ]; then
		diff <(echo "$KNOBS_BOOT") <(knobs) | sed -n "s/^> /$t left /p" >> "$OUTDIR/leaks"
		echo "$KNOBS_BOOT" | while IFS='=' read -r k v; do echo "$v" > "$k"; done
	fi
	dmesg -c > "$OUTDIR/$t.dmesg"
done

# a module that refuses to unload is a finding, not a crash
errs=$(modules_unload $mods) || echo "$errs" > "$OUTDIR/unload-errors"
if [ -w "$KMEMLEAK" ]; then
	# kmemleak reports an object only once it is 5 s old, and only
	# from its second scan on: a first scan takes an object whose
	# contents changed since the last one (a new one's always have) as
	# still in use
	sleep 6
	echo scan > "$KMEMLEAK"
	echo scan > "$KMEMLEAK"
	cat "$KMEMLEAK" > "$OUTDIR/kmemleak"
	[ -s "$OUTDIR/kmemleak" ] || rm "$OUTDIR/kmemleak"
else
	echo "no kmemleak in this kernel" > "$OUTDIR/kmemleak"
fi
dmesg -c > "$OUTDIR/unload.dmesg"
echo "status=done" > "$OUTDIR/status"
