#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the nested guest of mtty_qemu_test.sh: find the mtty card's
# serial ports (PCI 4348:3253, driven by the guest's own 8250_pci), send a
# short and a long string through each one's loopback and report what came
# back on the console, one "e2e:" line per check.

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

pci=
for d in /sys/bus/pci/devices/*; do
	if [ "$(cat "$d/vendor")" = 0x4348 ] && [ "$(cat "$d/device")" = 0x3253 ]; then
		pci=${d##*/}
	fi
done
ports=
for t in /sys/class/tty/ttyS*; do
	case "$(readlink -f "$t/device")" in
	*"/$pci/"*) ports="$ports ${t##*/}" ;;
	esac
done
echo "e2e: card $pci ports$ports"

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
echo "e2e: done"
poweroff -f
