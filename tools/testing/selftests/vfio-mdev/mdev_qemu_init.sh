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
#    /mdpy.raw drawn into it. The host reads a line on the console before
#    the drawing (to take its first screendump) and after it;
#  - mbochs (PCI 1234:1111, driven by bochs-drm, /bochs.ko and its helper
#    modules): the framebuffer of bochs-drm's fbdev emulation, then the
#    picture /bochs.raw drawn into it. The host takes the picture and says
#    when it is done.

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

# fb_of PCI: the framebuffer (fbN) of PCI function PCI, waiting up to 30 s
fb_of() {
	n=0
	while [ $n -lt 30 ]; do
		for fb in /sys/class/graphics/fb*; do
			case "$(readlink -f "$fb/device")" in
			*"/$1") [ -e "/dev/${fb##*/}" ] && echo "${fb##*/}" && return ;;
			esac
		done
		sleep 1
		n=$((n + 1))
	done
}

# fb_report NAME FB: the framebuffer's driver and geometry
fb_report() {
	f=/sys/class/graphics/$2
	echo "e2e: $1 fb driver $(readlink -f "$f/device/driver" | sed 's,.*/,,')" \
		"size $(cat "$f/virtual_size") bpp $(cat "$f/bits_per_pixel")" \
		"stride $(cat "$f/stride")"
}

pci=$(pci_find 0x1b36 0x000f)
echo "e2e: mdpy card '$pci'"
if [ -n "$pci" ] && insmod /mdpy-fb.ko; then
	fb=$(fb_of "$pci")
	[ -n "$fb" ] && fb_report mdpy "$fb"
	echo "e2e: display ready"
	read -r word
	if [ -n "$fb" ] && cat /mdpy.raw > "/dev/$fb"; then
		echo "e2e: drawn"
	else
		echo "e2e: drawing failed"
	fi
	read -r word
fi

pci=$(pci_find 0x1234 0x1111)
echo "e2e: bochs card '$pci'"
if [ -n "$pci" ] && insmod /ttm.ko && insmod /drm_ttm_helper.ko &&
   insmod /drm_vram_helper.ko && insmod /bochs.ko; then
	fb=$(fb_of "$pci")
	[ -n "$fb" ] && fb_report bochs "$fb"
	# Without fbcon on it, the fbdev emulation never sets its mode: an
	# unblank commits it (DPMS on).
	if [ -n "$fb" ] && echo 0 > "/sys/class/graphics/$fb/blank" &&
	   cat /bochs.raw > "/dev/$fb"; then
		# the fbdev emulation copies the drawing to video memory from
		# a worker: give it time before the host looks
		sleep 2
		echo "e2e: bochs drawn"
	else
		echo "e2e: bochs drawing failed"
	fi
	read -r word
fi
echo "e2e: done"
poweroff -f
