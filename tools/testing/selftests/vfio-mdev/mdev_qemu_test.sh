#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Real VFIO clients end to end. Create an mtty-2, an mdpy-vga and an
# mbochs-medium instance, hand them to a nested QEMU (TCG) as
# -device vfio-pci,sysfsdev=... (mdpy's with display=on, QEMU's monitor on
# a pipe) and boot a small client kernel whose own drivers bind them
# (mdev_qemu_init.sh is its /init). Checks:
#  - 8250_pci round-trips a short (< 16 bytes) and a long string through
#    each mtty port;
#  - upstream's mdpy-fb registers a 640x480, 32 bpp framebuffer;
#  - QEMU's display of the card (HMP screendump) shows mdpy's reset
#    picture before the guest draws, and exactly the pattern the guest
#    wrote to mdpy-fb's framebuffer after (mdev_qemu_image.py compares
#    every pixel);
#  - bochs-drm binds the mbochs card and sets a 1024x768 mode, and the
#    pattern the guest writes to its framebuffer is what the host's display
#    path gets: QEMU shows a dma-buf plane only through OpenGL, so the test
#    takes QEMU's own device file (mdev_dmabuf_grab: pidfd_getfd, plane
#    query, GET_GFX_DMABUF, mmap) and compares the dma-buf's pixels.
# TAP on stdout. "-T TEST" leaves TEST out (as the kselftest harness does);
# for bochs_drawn_pattern, the grab is not made at all.
#
# Environment:
#   MDEV_E2E_KBUILD     (required) the build directory of the nested
#                       guest's kernel (8250_pci, fbdev and initramfs
#                       support, no fbcon; mdpy-fb, bochs-drm and its
#                       helpers as modules: the "client" flavor of
#                       scripts/kernel.sh)
#   MDEV_E2E_OUT        a directory to keep the pictures in
# Needs qemu-system-x86_64, a static busybox, cpio, pgrep (procps) and
# python3.
set -u

here=$(dirname "$(readlink -f "$0")")
kbuild=${MDEV_E2E_KBUILD:-}
kernel=$kbuild/arch/x86/boot/bzImage
keep=${MDEV_E2E_OUT:-}
tests="port0_short_string port0_long_string port1_short_string
       port1_long_string display_fb_bound display_reset_picture
       display_drawn_pattern bochs_fb_bound bochs_drawn_pattern"
while getopts T: opt; do
	case $opt in
	T) tests=$(echo $tests | tr ' ' '\n' | grep -vx "$OPTARG") ;;
	*) echo "usage: $0 [-T TEST]..." >&2; exit 2 ;;
	esac
done
# the nested guest's modules, in load order: mdpy's, then bochs-drm's
modules="samples/vfio-mdev/mdpy-fb.ko drivers/gpu/drm/ttm/ttm.ko
	 drivers/gpu/drm/drm_ttm_helper.ko drivers/gpu/drm/drm_vram_helper.ko
	 drivers/gpu/drm/tiny/bochs.ko"
# mdpy-vga and bochs-drm's default mode: the pictures' geometry, and the
# lines the guest must report
width=640
height=480
fb_line="e2e: mdpy fb driver mdpy-fb size $width,$height bpp 32 stride $((width * 4))"
bochs_width=1024
bochs_height=768
bochs_line="e2e: bochs fb driver bochs-drm size $bochs_width,$bochs_height bpp 32 stride $((bochs_width * 4))"
work=$(mktemp -d)
mtty_uuid=$(cat /proc/sys/kernel/random/uuid)
mdpy_uuid=$(cat /proc/sys/kernel/random/uuid)
bochs_uuid=$(cat /proc/sys/kernel/random/uuid)
qemu=
readers=
declare -A verdict

begin=$(date +%s)
echo "TAP version 13"
echo "1..$(echo $tests | wc -w)"

# cleanup: stop what still runs, remove the instances, drop the work dir
cleanup() {
	[ -z "$qemu" ] || kill "$qemu" 2> /dev/null
	# shellcheck disable=SC2086
	[ -z "$readers" ] || kill $readers 2> /dev/null
	wait 2> /dev/null
	for u in "$mtty_uuid" "$mdpy_uuid" "$bochs_uuid"; do
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

[ -n "$kbuild" ] && [ -r "$kernel" ] || bail "MDEV_E2E_KBUILD not set"
command -v qemu-system-x86_64 > /dev/null || bail "no qemu-system-x86_64"
[ -x "$here/mdev_dmabuf_grab" ] || bail "no mdev_dmabuf_grab"

# the nested guest's initramfs: busybox, our init, the modules, the patterns
mkdir -p "$work/root/bin" "$work/root/proc" "$work/root/sys" \
	"$work/root/dev" "$work/root/tmp"
cp "$(command -v busybox)" "$work/root/bin/busybox" || bail "no busybox"
for a in sh mount cat readlink sed stty sleep kill printf echo insmod poweroff; do
	ln -s busybox "$work/root/bin/$a"
done
install -m 755 "$here/mdev_qemu_init.sh" "$work/root/init"
for m in $modules; do
	cp "$kbuild/$m" "$work/root/" || bail "no $m in $kbuild"
done
python3 "$here/mdev_qemu_image.py" pattern $width $height \
	"$work/root/mdpy.raw" || bail "cannot write the pattern"
python3 "$here/mdev_qemu_image.py" pattern $bochs_width $bochs_height \
	"$work/root/bochs.raw" || bail "cannot write the pattern"
(cd "$work/root" && find . | cpio -o -H newc --quiet) > "$work/initrd" ||
	bail "cpio failed"

echo "$mtty_uuid" > /sys/class/mdev_bus/mtty/mdev_supported_types/mtty-2/create ||
	bail "cannot create an mtty-2 instance"
echo "$mdpy_uuid" > /sys/class/mdev_bus/mdpy/mdev_supported_types/mdpy-vga/create ||
	bail "cannot create an mdpy-vga instance"
echo "$bochs_uuid" > /sys/class/mdev_bus/mbochs/mdev_supported_types/mbochs-medium/create ||
	bail "cannot create an mbochs-medium instance"

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
	-append "console=ttyS0 panic=-1 quiet" \
	-device "vfio-pci,sysfsdev=/sys/bus/mdev/devices/$mtty_uuid" \
	-device "vfio-pci,id=display0,sysfsdev=/sys/bus/mdev/devices/$mdpy_uuid,display=on" \
	-device "vfio-pci,sysfsdev=/sys/bus/mdev/devices/$bochs_uuid,display=off" \
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
	monitor "screendump $work/before.ppm -f ppm display0" ||
		echo "# the first screendump did not complete"
	echo draw >&3
	if wait_console "e2e: drawn" 120; then
		monitor "screendump $work/after.ppm -f ppm display0" ||
			echo "# the second screendump did not complete"
	fi
	echo next >&3
else
	echo "# the guest never got its display ready"
fi
# bochs: grab the plane until it shows the pattern (the guest's fbdev
# emulation copies its drawing to video memory from a worker)
if [[ " $(echo $tests) " != *" bochs_drawn_pattern "* ]]; then
	echo done >&3
elif wait_console "e2e: bochs drawn" 240; then
	# QEMU itself is the child of timeout, whose pid $qemu is
	qemu_pid=$(pgrep -P "$qemu")
	for try in 1 2 3 4 5; do
		if "$here/mdev_dmabuf_grab" "$qemu_pid" "$work/bochs.raw" \
			> "$work/grab.log" 2>&1 &&
		   grep -qx "plane $bochs_width $bochs_height $((bochs_width * 4))" \
			"$work/grab.log" &&
		   python3 "$here/mdev_qemu_image.py" check pattern $bochs_width \
			$bochs_height "$work/bochs.raw" \
			${keep:+"$keep/mbochs.after.png"} > "$work/check.log" 2>&1; then
			verdict[bochs_drawn_pattern]=ok
			break
		fi
		sleep 2
	done
	sed 's/^/# grab: /' "$work/grab.log"
	[ -e "$work/check.log" ] && sed 's/^/# /' "$work/check.log"
	echo done >&3
else
	echo "# the guest never drew on bochs"
fi
wait_console "e2e: done" 60
monitor quit
wait "$qemu"
rc=$?
qemu=
wait $readers
readers=
exec 3>&- 4>&-
echo "# set-up $((start - begin)) s, nested guest $(($(date +%s) - start)) s, qemu exit $rc"
sed 's/^/# /' "$work/qemu.log"
tr -d '\r' < "$work/console" | grep -a -e '^e2e:' -e 'Kernel panic' | sed 's/^/# /'

for t in port0_short port0_long port1_short port1_long; do
	grep -aq "^e2e: ok ${t%_*} ${t#*_}" "$work/console" &&
		verdict[${t}_string]=ok
done
tr -d '\r' < "$work/console" | grep -aqx "$fb_line" && verdict[display_fb_bound]=ok
tr -d '\r' < "$work/console" | grep -aqx "$bochs_line" && verdict[bochs_fb_bound]=ok
# check_picture TEST reset|pattern NAME: compare the screendump NAME.ppm,
# keep a PNG of it
check_picture() {
	python3 "$here/mdev_qemu_image.py" check "$2" $width $height \
		"$work/$3.ppm" ${keep:+"$keep/mdpy-vga.$3.png"} \
		> "$work/check.log" 2>&1 && verdict[$1]=ok
	sed 's/^/# /' "$work/check.log"
}
check_picture display_reset_picture reset before
grep -aq "^e2e: drawn" "$work/console" &&
	check_picture display_drawn_pattern pattern after

echo "# all in $(($(date +%s) - begin)) s"
cleanup
report
