#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the nested guest of mdev_qemu_test.sh. It drives the cards the
# host handed over with the guest's own drivers and reports on the console,
# one "e2e:" line per fact:
#  - mtty (PCI 4348:3253, driven by 8250_pci): a short and a long string
#    through each port's loopback;
#  - mdpy (PCI 1b36:000f, driven by upstream's mdpy-fb, /mdpy-fb.ko): the
#    framebuffer mdpy-fb registers, then, on the host's word, the picture
#    /pattern.raw drawn into /dev/fb0. The host reads a line on the console
#    before the drawing (to take its first screendump) and after it.

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

# pci_find VENDOR DEVICE: the address of the first such PCI function
pci_find() {
	for d in /sys/bus/pci/devices/*; do
		if [ "$(cat "$d/vendor")" = "$1" ] && [ "$(cat "$d/device")" = "$2" ]; then
			echo "${d##*/}"
			return
		fi
	done
}

pci=$(pci_find 0x4348 0x3253)
ports=
for t in /sys/class/tty/ttyS*; do
	[ -n "$pci" ] || break
	case "$(readlink -f "$t/device")" in
	*"/$pci/"*) ports="$ports ${t##*/}" ;;
	esac
done
echo "e2e: mtty card '$pci' ports$ports"

n=0
for p in $ports; do
	for kind in short long; do
		if [ $kind = short ]; then
			msg="hello-mtty-$n"
		else
			msg="the quick brown fox jumps over the lazy mtty $n"
		fi
		stty -F "/dev/$p" raw -echo -echoe -echok 115200
		cat "/dev/$p" > "/tmp/$p.$kind" &
		reader=$!
		sleep 1
		printf '%s' "$msg" > "/dev/$p"
		sleep 2
		kill $reader
		got=$(cat "/tmp/$p.$kind")
		if [ "$got" = "$msg" ]; then
			echo "e2e: ok port$n $kind"
		else
			echo "e2e: fail port$n $kind: sent '$msg' got '$got'"
		fi
	done
	n=$((n + 1))
done

pci=$(pci_find 0x1b36 0x000f)
echo "e2e: mdpy card '$pci'"
if [ -n "$pci" ] && insmod /mdpy-fb.ko; then
	fb=/sys/class/graphics/fb0
	n=0
	while [ ! -e $fb ] || [ ! -e /dev/fb0 ]; do
		[ $n -lt 30 ] || break
		sleep 1
		n=$((n + 1))
	done
	if [ -e $fb ]; then
		echo "e2e: fb0 driver $(readlink -f $fb/device/driver | sed 's,.*/,,')" \
			"size $(cat $fb/virtual_size) bpp $(cat $fb/bits_per_pixel)" \
			"stride $(cat $fb/stride)"
	fi
	echo "e2e: display ready"
	read -r word
	if cat /pattern.raw > /dev/fb0; then
		echo "e2e: drawn"
	else
		echo "e2e: drawing failed"
	fi
	read -r word
fi
echo "e2e: done"
poweroff -f
