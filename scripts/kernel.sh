#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the kernel the stack runs on: unpack Debian's linux-source-6.12 into
# the cache (never into the clone), apply patches/, configure from
# kernel/configs/, check the configuration, sync the project's sources in
# and build bzImage, modules, the uapi headers and the project's modules.
#
# usage: kernel.sh            build (incrementally when the tree exists)
#        kernel.sh --dir      print the tree's directory
set -euo pipefail

. "$(dirname "$0")/env.sh"

KDIR=$(kernel_dir)
if [ "${1:-}" = --dir ]; then
	echo "$KDIR"
	exit 0
fi

FRAGMENT=$TOP/kernel/configs/mdev-rs.config
# What kbuild writes next to the sources of an external module.
KBUILD_PRODUCTS=('*.o' '*.ko' '*.mod' '*.mod.c' '*.a' '*.rmeta' '.*.cmd' '.*.d'
		 'modules.order' 'Module.symvers' '.tmp_*')
JOBS=${JOBS:-$(nproc)}

# Every line of the fragment must have survived olddefconfig.
check_config() {
	local bad=0 line sym
	while read -r line; do
		case "$line" in
		CONFIG_*=*)
			grep -qx -- "$line" "$KDIR/obj/.config" || {
				echo "kernel: config lost: $line (have: $(grep "^${line%%=*}=" "$KDIR/obj/.config" || echo unset))" >&2
				bad=1
			} ;;
		"# CONFIG_"*" is not set")
			sym=${line#\# }; sym=${sym%% *}
			if grep -q "^$sym=" "$KDIR/obj/.config"; then
				echo "kernel: config must be unset: $(grep "^$sym=" "$KDIR/obj/.config")" >&2
				bad=1
			fi ;;
		esac
	done < "$FRAGMENT"
	return $bad
}

prepare_tree() {
	local p
	echo "kernel: new tree $KDIR"
	rm -rf "$KDIR"
	mkdir -p "$KDIR/obj"
	# One tree at a time in the cache: older keys are stale by definition.
	find "$CACHE_DIR/build" -mindepth 1 -maxdepth 1 -name 'linux-*' \
		! -path "$KDIR" -exec rm -rf {} + 2>/dev/null || true
	tar -C "$KDIR" -xf "$KSRC_TARBALL"
	mv "$KDIR/$KSRC_PKG" "$KDIR/src"
	for p in "$TOP"/patches/*.patch; do
		echo "kernel: apply $(basename "$p")"
		patch -d "$KDIR/src" -p1 -s --no-backup-if-mismatch < "$p"
	done
	sync_overlay
	kmake -s tinyconfig
	"$KDIR/src/scripts/kconfig/merge_config.sh" -m -O "$KDIR/obj" \
		"$KDIR/obj/.config" "$KDIR/src/kernel/configs/kvm_guest.config" \
		"$FRAGMENT" >/dev/null
	kmake -s olddefconfig
	check_config
	touch "$KDIR/.configured"
}

# Copy the project's kernel sources into the tree. rsync -c rewrites only
# files whose content changed, so make rebuilds only what depends on them.
# mdev-rs/ is also the output directory of its external-module build: the
# build products are excluded from the sync, so --delete leaves them alone.
sync_overlay() {
	local f d
	mkdir -p "$KDIR/src/mdev-rs"
	rsync -rc --delete "${KBUILD_PRODUCTS[@]/#/--exclude=}" \
		--include='/Kbuild' --include='/Kconfig' \
		--include='/drivers/***' --include='/samples/***' --exclude='/*' \
		"$TOP/" "$KDIR/src/mdev-rs/"
	# rust/ adds files to the kernel crate: remove the ones that left the
	# project since the last sync, then copy the current ones.
	if [ -f "$KDIR/rust-overlay.list" ]; then
		while read -r f; do
			[ -e "$TOP/rust/$f" ] || rm -f "$KDIR/src/rust/$f"
		done < "$KDIR/rust-overlay.list"
	fi
	(cd "$TOP/rust" && find . -type f) > "$KDIR/rust-overlay.list"
	rsync -rc "$TOP/rust/" "$KDIR/src/rust/"
	rsync -rc --delete "$TOP/tools/testing/selftests/vfio-mdev/" \
		"$KDIR/src/tools/testing/selftests/vfio-mdev/"
}

[ -f "$KDIR/.configured" ] || prepare_tree
sync_overlay
echo "kernel: building in $KDIR/obj"
kmake -s -j"$JOBS" bzImage modules
kmake -s headers
# The project's modules are external ones: the Rust mdev core shares its
# module name and exports with the in-tree C core, which kbuild refuses
# within one build.
kmake -s -j"$JOBS" M="$KDIR/src/mdev-rs" modules
check_config
echo "kernel: ok $(cat "$KDIR/obj/include/config/kernel.release")"
