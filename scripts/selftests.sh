#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the vfio-mdev kselftests with the kernel's selftests lib.mk against
# the uapi headers of our kernel tree. Output: $KDIR/selftests/vfio-mdev/.
set -euo pipefail

. "$(dirname "$0")/env.sh"

KDIR=$(kernel_dir)
OUT=$KDIR/selftests/vfio-mdev
SRC=$KDIR/src/tools/testing/selftests/vfio-mdev

rsync -rc --delete "$TOP/tools/testing/selftests/vfio-mdev/" "$SRC/"
mkdir -p "$OUT"
make -s -C "$SRC" OUTPUT="$OUT" KHDR_INCLUDES="-isystem $KDIR/obj/usr/include"
make -s -C "$SRC" OUTPUT="$OUT" KHDR_INCLUDES="-isystem $KDIR/obj/usr/include" \
	-f Makefile -f - print-tests > "$OUT/tests.list" <<'MK'
print-tests:
	@echo $(notdir $(TEST_GEN_PROGS)) $(TEST_PROGS)
MK
# scripts run from the output directory too
for f in $(make -s -C "$SRC" OUTPUT="$OUT" -f Makefile -f - print-files <<'MK'
print-files:
	@echo $(TEST_PROGS) $(TEST_FILES)
MK
); do
	install -m 755 "$SRC/$f" "$OUT/$f"
done
echo "selftests: $(cat "$OUT/tests.list")"
