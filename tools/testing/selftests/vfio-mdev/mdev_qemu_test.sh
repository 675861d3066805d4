#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Real VFIO clients end to end. Create an mtty-2 and an mdpy-vga instance,
# hand both to a nested QEMU (TCG) as -device vfio-pci,sysfsdev=... (the
# display with display=on, QEMU's monitor on a pipe) and boot a kernel whose
# own drivers bind them (mdev_qemu_init.sh is its /init). Checks:
#  - 8250_pci round-trips a short (< 16 bytes) and a long string through
#    each mtty port;
#  - upstream's mdpy-fb registers a 640x480, 32 bpp framebuffer;
#  - QEMU's display of the card (HMP screendump, PNG) shows mdpy's reset
#    picture before the guest draws, and exactly the pattern the guest
#    wrote to /dev/fb0 after (mdev_qemu_image.py compares every pixel).
# TAP on stdout.
#
# Environment:
#   MDEV_E2E_KERNEL     (required) the nested guest's kernel image, with
#                       8250_pci, fbdev and initramfs support
#   MDEV_E2E_FB_MODULE  (required) mdpy-fb.ko built for that kernel
#   MDEV_E2E_OUT        a directory to keep the two screendumps in
# Needs qemu-system-x86_64, a static busybox, cpio and python3.
set -u

here=$(dirname "$(readlink -f "$0")")
kernel=${MDEV_E2E_KERNEL:-}
fb_module=${MDEV_E2E_FB_MODULE:-}
keep=${MDEV_E2E_OUT:-}
tests="port0_short_string port0_long_string port1_short_string
       port1_long_string display_fb_bound display_reset_picture
       display_drawn_pattern"
# mdpy-vga: the picture's geometry, and the line the guest must report
width=640
height=480
fb_line="e2e: fb0 driver mdpy-fb size $width,$height bpp 32 stride $((width * 4))"
work=$(mktemp -d)
mtty_uuid=$(cat /proc/sys/kernel/random/uuid)
mdpy_uuid=$(cat /proc/sys/kernel/random/uuid)
qemu=
readers=
declare -A verdict

echo "TAP version 13"
echo "1..$(echo $tests | wc -w)"

# cleanup: stop what still runs, remove the instances, drop the work dir
cleanup() {
	[ -z "$qemu" ] || kill "$qemu" 2> /dev/null
	# shellcheck disable=SC2086
	[ -z "$readers" ] || kill $readers 2> /dev/null
	wait 2> /dev/null
	for u in "$mtty_uuid" "$mdpy_uuid"; do
		[ -e "/sys/bus/mdev/devices/$u" ] &&
			echo 1 > "/sys/bus/mdev/devices/$u/remove"
	done
	rm -rf "$work"
}

# report: one TAP line per test, "not ok" for any without a verdict
report() {
	local i=1 t
	for t in $tests; do
		echo "${verdict[$t]:-not ok} $i $t"
		i=$((i + 1))
	done
}

bail() {
	echo "# $*"
	cleanup
	report
	exit 1
}

[ -n "$kernel" ] && [ -r "$kernel" ] || bail "MDEV_E2E_KERNEL not set"
[ -n "$fb_module" ] && [ -r "$fb_module" ] || bail "MDEV_E2E_FB_MODULE not set"
command -v qemu-system-x86_64 > /dev/null || bail "no qemu-system-x86_64"

# the nested guest's initramfs: busybox, our init, mdpy-fb and the pattern
mkdir -p "$work/root/bin" "$work/root/proc" "$work/root/sys" \
	"$work/root/dev" "$work/root/tmp"
cp "$(command -v busybox)" "$work/root/bin/busybox" || bail "no busybox"
for a in sh mount cat readlink sed stty sleep kill printf echo insmod poweroff; do
	ln -s busybox "$work/root/bin/$a"
done
install -m 755 "$here/mdev_qemu_init.sh" "$work/root/init"
cp "$fb_module" "$work/root/mdpy-fb.ko"
python3 "$here/mdev_qemu_image.py" pattern $width $height \
	"$work/root/pattern.raw" || bail "cannot write the pattern"
(cd "$work/root" && find . | cpio -o -H newc --quiet) > "$work/initrd" ||
	bail "cpio failed"

echo "$mtty_uuid" > /sys/class/mdev_bus/mtty/mdev_supported_types/mtty-2/create ||
	bail "cannot create an mtty-2 instance"
echo "$mdpy_uuid" > /sys/class/mdev_bus/mdpy/mdev_supported_types/mdpy-vga/create ||
	bail "cannot create an mdpy-vga instance"

# The nested guest's kernel has the framebuffer console (DRM's fbdev
# emulation selects it), which would clear mdpy's picture and draw text as
# soon as mdpy-fb registers fb0: fbcon=map:1 maps every console to an fb1
# that never exists, so fbcon leaves fb0 alone.
#
# The guest's console and QEMU's monitor are pipe chardevs: QEMU opens
# <path>.in and <path>.out read-write, so neither side blocks on open.
mkfifo "$work/ser.in" "$work/ser.out" "$work/mon.in" "$work/mon.out" ||
	bail "mkfifo failed"
cat "$work/ser.out" > "$work/console" &
readers=$!
cat "$work/mon.out" > "$work/monitor" &
readers="$readers $!"
exec 3<> "$work/ser.in" 4<> "$work/mon.in"

start=$(date +%s)
timeout -k 10 540 qemu-system-x86_64 -machine pc -accel tcg -nodefaults \
	-display none -no-reboot -m 256M \
	-chardev "pipe,id=ser0,path=$work/ser" -serial chardev:ser0 \
	-chardev "pipe,id=mon0,path=$work/mon" -mon chardev=mon0,mode=readline \
	-kernel "$kernel" -initrd "$work/initrd" \
	-append "console=ttyS0 panic=-1 quiet fbcon=map:1" \
	-device "vfio-pci,sysfsdev=/sys/bus/mdev/devices/$mtty_uuid" \
	-device "vfio-pci,id=display0,sysfsdev=/sys/bus/mdev/devices/$mdpy_uuid,display=on" \
	> "$work/qemu.log" 2>&1 &
qemu=$!

# wait_console TEXT SECONDS: until the guest printed TEXT (fails when QEMU
# is gone or time is up)
wait_console() {
	local t=0
	until grep -aq "$1" "$work/console"; do
		kill -0 "$qemu" 2> /dev/null && [ $t -lt "$2" ] || return 1
		sleep 1
		t=$((t + 1))
	done
}

# prompts: how many monitor prompts QEMU has printed so far
prompts() { grep -ao '(qemu)' "$work/monitor" | wc -l; }

# monitor COMMAND: run an HMP command and wait until it has completed (the
# next prompt)
monitor() {
	local t=0 seen
	until [ "$(prompts)" -ge 1 ]; do
		kill -0 "$qemu" 2> /dev/null && [ $t -lt 60 ] || return 1
		sleep 1
		t=$((t + 1))
	done
	seen=$(prompts)
	echo "$1" >&4
	until [ "$(prompts)" -gt "$seen" ]; do
		kill -0 "$qemu" 2> /dev/null && [ $t -lt 120 ] || return 1
		sleep 1
		t=$((t + 1))
	done
}

if wait_console "e2e: display ready" 480; then
	monitor "screendump $work/before.png -f png display0" ||
		echo "# the first screendump did not complete"
	echo draw >&3
	if wait_console "e2e: drawn" 120; then
		monitor "screendump $work/after.png -f png display0" ||
			echo "# the second screendump did not complete"
	fi
	echo done >&3
else
	echo "# the guest never got its display ready"
fi
wait_console "e2e: done" 60
monitor quit
wait "$qemu"
rc=$?
qemu=
wait $readers
readers=
exec 3>&- 4>&-
echo "# nested guest ran $(($(date +%s) - start)) s, qemu exit $rc"
sed 's/^/# /' "$work/qemu.log"
tr -d '\r' < "$work/console" | grep -a -e '^e2e:' -e 'Kernel panic' | sed 's/^/# /'

for t in port0_short port0_long port1_short port1_long; do
	grep -aq "^e2e: ok ${t%_*} ${t#*_}" "$work/console" &&
		verdict[${t}_string]=ok
done
tr -d '\r' < "$work/console" | grep -aqx "$fb_line" && verdict[display_fb_bound]=ok
# check_picture TEST reset|pattern FILE: compare a screendump, keep it
check_picture() {
	if [ -n "$keep" ] && [ -e "$work/$3" ]; then
		cp "$work/$3" "$keep/mdpy-vga.$3"
	fi
	python3 "$here/mdev_qemu_image.py" check "$2" $width $height \
		"$work/$3" > "$work/check.log" 2>&1 && verdict[$1]=ok
	sed 's/^/# /' "$work/check.log"
}
check_picture display_reset_picture reset before.png
grep -aq "^e2e: drawn" "$work/console" &&
	check_picture display_drawn_pattern pattern after.png

cleanup
report
