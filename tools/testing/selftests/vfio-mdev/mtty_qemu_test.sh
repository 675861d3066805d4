#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A real VFIO client end to end: create an mtty-2 instance, hand it to a
# nested QEMU (TCG) as -device vfio-pci,sysfsdev=..., boot a kernel with a
# tiny busybox initramfs (mtty_qemu_init.sh) whose own 8250_pci driver binds
# the card, and check that a short (< 16 bytes) and a long string written
# to each port's tty come back. TAP on stdout.
#
# Needs an mdev stack with mtty loaded, qemu-system-x86_64, busybox and
# cpio. MDEV_E2E_KERNEL (required) names the nested guest's kernel image,
# which needs 8250_pci and initramfs support.
set -u

here=$(dirname "$(readlink -f "$0")")
kernel=${MDEV_E2E_KERNEL:-}
tests="port0_short_string port0_long_string port1_short_string port1_long_string"
work=$(mktemp -d)
uuid=$(cat /proc/sys/kernel/random/uuid)
types=/sys/class/mdev_bus/mtty/mdev_supported_types

echo "TAP version 13"
echo "1..4"

bail() {
	local i=1 t
	echo "# $*"
	for t in $tests; do
		echo "not ok $i $t # $*"
		i=$((i + 1))
	done
	rm -rf "$work"
	exit 1
}

[ -n "$kernel" ] && [ -r "$kernel" ] || bail "MDEV_E2E_KERNEL not set"
command -v qemu-system-x86_64 > /dev/null || bail "no qemu-system-x86_64"

# the nested guest's initramfs: busybox and our init
mkdir -p "$work/root/bin"
cp "$(command -v busybox)" "$work/root/bin/busybox" || bail "no busybox"
for a in sh mount cat readlink stty sleep kill printf echo poweroff; do
	ln -s busybox "$work/root/bin/$a"
done
mkdir -p "$work/root/proc" "$work/root/sys" "$work/root/dev" "$work/root/tmp"
install -m 755 "$here/mtty_qemu_init.sh" "$work/root/init"
(cd "$work/root" && find . | cpio -o -H newc --quiet) > "$work/initrd" ||
	bail "cpio failed"

# The nested guest is only the client: when it boots the memory-debugging
# kernel under test, turn off what that kernel can turn off at boot, or it
# takes minutes under TCG in TCG (KASAN itself stays).
nested_debug_off="kmemleak=off slub_debug=- no_debug_objects"
nested_debug_off="$nested_debug_off lockdep.prove_locking=0 kobject_release_delay=0"

echo "$uuid" > "$types/mtty-2/create" || bail "cannot create an mtty-2 instance"
start=$(date +%s)
timeout -k 10 300 qemu-system-x86_64 -machine pc -accel tcg -nodefaults -nographic \
	-no-reboot -m 256M -serial stdio -kernel "$kernel" -initrd "$work/initrd" \
	-append "console=ttyS0 panic=-1 quiet $nested_debug_off" \
	-device "vfio-pci,sysfsdev=/sys/bus/mdev/devices/$uuid" \
	< /dev/null > "$work/console" 2>&1
rc=$?
echo "# nested guest ran $(($(date +%s) - start)) s, qemu exit $rc"
sed 's/^/# /' "$work/console" | grep -a -e '# e2e:' -e 'vfio' -e 'Kernel panic' || true
echo 1 > "/sys/bus/mdev/devices/$uuid/remove"

i=1
for t in $tests; do
	port=${t%%_*}
	kind=${t#*_}
	kind=${kind%_string}
	if grep -aq "^e2e: ok $port $kind" "$work/console"; then
		echo "ok $i $t"
	else
		echo "not ok $i $t"
	fi
	i=$((i + 1))
done
rm -rf "$work"
