#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the VM for `make run`: load a stack, create an mtty instance
# through sysfs, drive it from a VFIO client, remove it; then the same with
# an mdpy-xga display, whose picture the client draws and saves
# (OUTDIR/mdpy-xga.ppm).
#
# usage: guest-demo.sh STACK KDIR TESTDIR OUTDIR
set -u
STACK=$1 KDIR=$2 TESTDIR=$3 OUTDIR=$4

. "$(dirname "$0")/stacks.sh"

step() { printf '\n==> %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

{
step "kernel $(uname -r); loading stack $STACK"
modules_load "$KDIR" $(stack_modules "$STACK") || exit 1

step "parents and their supported types"
run ls /sys/class/mdev_bus/
for t in /sys/class/mdev_bus/mtty/mdev_supported_types/*; do
	printf '  %s: name="%s" device_api=%s available_instances=%s\n' \
		"$(basename "$t")" "$(cat "$t/name")" "$(cat "$t/device_api")" \
		"$(cat "$t/available_instances")"
done

step "what each type offers, before any instance exists (capabilities/)"
for c in /sys/class/mdev_bus/*/mdev_supported_types/*/capabilities; do
	[ -d "$c" ] || continue
	printf '  %s:' "$(basename "$(dirname "$c")")"
	for f in display display_max_resolution migration migration_stream \
		 migration_version; do
		[ -e "$c/$f" ] && printf ' %s=%s' "$f" "$(tr ' ' , < "$c/$f")"
	done
	echo
done

uuid=$(cat /proc/sys/kernel/random/uuid)
types=/sys/class/mdev_bus/mtty/mdev_supported_types
step "create an mtty-2 instance"
echo "\$ echo $uuid > $types/mtty-2/create"
echo "$uuid" > "$types/mtty-2/create" || exit 1
run ls /sys/bus/mdev/devices/
printf '  mdev_type -> %s, iommu_group -> %s\n' \
	"$(basename "$(readlink /sys/bus/mdev/devices/$uuid/mdev_type)")" \
	"$(basename "$(readlink /sys/bus/mdev/devices/$uuid/iommu_group)") (/dev/vfio/$(basename "$(readlink /sys/bus/mdev/devices/$uuid/iommu_group)"))"
printf '  mtty-2 available_instances now %s\n' \
	"$(cat "$types/mtty-2/available_instances")"

step "open it through VFIO"
run "$TESTDIR/mtty_demo" "$uuid"
demo=$?

step "remove the instance"
echo "\$ echo 1 > /sys/bus/mdev/devices/$uuid/remove"
echo 1 > "/sys/bus/mdev/devices/$uuid/remove"
run ls /sys/bus/mdev/devices/
printf '  mtty-2 available_instances back to %s\n' \
	"$(cat "$types/mtty-2/available_instances")"

dtypes=/sys/class/mdev_bus/mdpy/mdev_supported_types
step "a display: create an mdpy-xga instance"
for t in "$dtypes"/*; do
	printf '  %s: %s (%s)\n' "$(basename "$t")" "$(cat "$t/description")" \
		"available_instances=$(cat "$t/available_instances")"
done
uuid=$(cat /proc/sys/kernel/random/uuid)
echo "\$ echo $uuid > $dtypes/mdpy-xga/create"
if echo "$uuid" > "$dtypes/mdpy-xga/create"; then
	printf '  vendor/resolution: %s\n' \
		"$(cat /sys/bus/mdev/devices/$uuid/vendor/resolution)"
	step "draw through the mapped framebuffer, query the plane, save it"
	run "$TESTDIR/mdpy_demo" "$uuid" "$OUTDIR/mdpy-xga.ppm" || demo=1
	echo 1 > "/sys/bus/mdev/devices/$uuid/remove" || demo=1
else
	demo=1
fi
modules_unload $(stack_modules "$STACK")
echo "demo_exit=$demo" > "$OUTDIR/demo.status"
} 2>&1 | tee "$OUTDIR/demo.log"
