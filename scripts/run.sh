#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make run`: boot the VM and show the stack working end to end.
set -euo pipefail

. "$(dirname "$0")/env.sh"
. "$(dirname "$0")/stacks.sh"

KDIR=$(kernel_dir)
STACK=${STACK:-$STACK_RUN}
OUT=${RESULTS:-$TOP/results}/run
rm -rf "$OUT"
mkdir -p "$OUT"
echo "run: booting $(cat "$KDIR/obj/include/config/kernel.release") under QEMU (TCG), stack $STACK"
"$TOP/scripts/vm.sh" "$OUT" "$TOP/scripts/guest-demo.sh" "$STACK" \
	"$KDIR" "$KDIR/selftests/vfio-mdev" "$OUT" > "$OUT/vm.log" 2>&1 || true
if [ -f "$OUT/demo.log" ]; then
	cat "$OUT/demo.log"
else
	cat "$OUT/vm.log"
fi
grep -qx 'demo_exit=0' "$OUT/demo.status" 2>/dev/null || {
	echo "run: the demo failed; VM log: $OUT/vm.log" >&2
	exit 1
}
python3 "$TOP/tools/testing/selftests/vfio-mdev/mdev_qemu_image.py" png \
	"$OUT/mdpy-xga.ppm" "$OUT/mdpy-xga.png"
echo "run: the display's picture, as its plane describes it: $OUT/mdpy-xga.png"
echo
echo "run: ok (log: $OUT/demo.log)"
