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
# the mtty of the stack: the C sample or its Rust twin
export MDEV_MTTY_MODULE=$KDIR/$(mod_path mtty || mod_path mtty_rs)
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
# the nested guest of mtty_qemu_test.sh boots the kernel under test
export MDEV_E2E_KERNEL=$KDIR/obj/arch/x86/boot/bzImage

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
