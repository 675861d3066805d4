#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the test VM: load one stack, run the kselftests against it,
# unload it, and leave everything the host needs to judge the run in OUTDIR
# (TAP per test binary, dmesg, a status line). The host decides pass/fail;
# this script's exit code is not trusted (see DESIGN.md).
#
# usage: guest-tests.sh STACK KDIR TESTDIR OUTDIR [TEST...]
set -u

STACK=$1 KDIR=$2 TESTDIR=$3 OUTDIR=$4
shift 4

. "$(dirname "$0")/stacks.sh"
TESTS=${*:-$(stack_tests "$STACK")}

mkdir -p "$OUTDIR"
exec > "$OUTDIR/guest.log" 2>&1
set -x

dmesg -C
mods=$(stack_modules "$STACK") || { echo "status=bad-stack" > "$OUTDIR/status"; exit 1; }
if ! modules_load "$KDIR" $mods; then
	echo "status=load-failed" > "$OUTDIR/status"
	dmesg > "$OUTDIR/dmesg.log"
	exit 1
fi

mod_path() { echo "$mods" | grep "/$1.ko\$"; }
export MDEV_STACK=$STACK
export MDEV_CORE_MODULE=$KDIR/$(echo "$mods" | head -1)
export MDEV_MTTY_MODULE=$KDIR/$(mod_path mtty)
export MDEV_VFIO_MDEV_MODULE=$KDIR/$(mod_path vfio_mdev)
export MDEV_MINIMAL_MODULE=$KDIR/$(mod_path mdev_minimal)
# the race test runs on each sample set's first type
case $STACK in
*+rust) export MDEV_RACE_TYPE=mdev_minimal-1 MDEV_RACE_ID=0x4d4d1d6b \
		MDEV_RACE_MODULE=$MDEV_MINIMAL_MODULE ;;
esac

for t in $TESTS; do
	timeout 300 "$TESTDIR/$t" > "$OUTDIR/$t.tap" 2>&1
	echo "$t exit=$?" >> "$OUTDIR/exit-codes"
	# a test binary must clean up after itself: report and remove leftovers
	for d in /sys/bus/mdev/devices/*; do
		[ -e "$d" ] || continue
		echo "$t left instance $(basename "$d") ($(basename "$(readlink "$d/mdev_type")"))" >> "$OUTDIR/leaks"
		echo 1 > "$d/remove"
	done
done

# a module that refuses to unload is a finding, not a crash
errs=$(modules_unload $mods) || echo "$errs" > "$OUTDIR/unload-errors"
dmesg > "$OUTDIR/dmesg.log"
echo "status=done" > "$OUTDIR/status"
