#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the kernel the stack runs on: make the tree when its key is new
# (scripts/kernel-tree.sh), sync the project's sources in and build
# bzImage, modules, the uapi headers and the project's modules. Changes to
# this file rebuild incrementally (kbuild tracks command lines); changes to
# kernel-tree.sh make a new tree.
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

. "$(dirname "$0")/kernel-tree.sh"

# What kbuild writes next to the sources of an external module.
KBUILD_PRODUCTS=('*.o' '*.ko' '*.mod' '*.mod.c' '*.a' '*.rmeta' '.*.cmd' '.*.d'
		 'modules.order' 'Module.symvers' '.tmp_*')
JOBS=${JOBS:-$(nproc)}

# Copy the project's kernel sources into the tree. rsync -c rewrites only
# files whose content changed, so make rebuilds only what depends on them.
# mdev-rs/ is also the output directory of its external-module build: the
# build products are excluded from the sync, so --delete leaves them alone.
sync_overlay() {
	local f
	mkdir -p "$KDIR/src/mdev-rs"
	rsync -rc --delete "${KBUILD_PRODUCTS[@]/#/--exclude=}" \
		--include='/Kbuild' --include='/Kconfig' \
		--include='/drivers/***' --include='/samples/***' --exclude='/*' \
		"$TOP/" "$KDIR/src/mdev-rs/"
	# rust/ adds files to the kernel crate (it never replaces upstream
	# ones): remove the ones that left the project since the last sync,
	# then copy the current ones.
	if [ -f "$KDIR/rust-overlay.list" ]; then
		while read -r f; do
			[ -e "$TOP/rust/$f" ] || rm -f "$KDIR/src/rust/$f"
		done < "$KDIR/rust-overlay.list"
	fi
	(cd "$TOP/rust" && find . -type f) > "$KDIR/rust-overlay.list"
	rsync -rc "$TOP/rust/" "$KDIR/src/rust/"
}

[ -f "$KDIR/.configured" ] || prepare_tree
sync_overlay
echo "kernel: building in $KDIR/obj"
# The kernel crate carries the project's bindings (rust/): clippy, and any
# Rust warning is an error, in the tree as in the project's modules.
kmake -s -j"$JOBS" CLIPPY=1 KRUSTFLAGS=-Dwarnings bzImage modules
if [ "$FLAVOR" = client ]; then
	# the nested guest's kernel has neither Rust nor the stack
	check_config
	echo "kernel: ok $(cat "$KDIR/obj/include/config/kernel.release") (client)"
	exit 0
fi
kmake -s headers
# The project's modules are external ones: the Rust mdev core shares its
# module name and exports with the in-tree C core, which kbuild refuses
# within one build. They build with clippy, and any warning is an error.
kmake -s -j"$JOBS" M="$KDIR/src/mdev-rs" CLIPPY=1 KRUSTFLAGS=-Dwarnings \
	KCFLAGS=-Werror modules
check_config

# Type-check Rust code of the project as if an option were off, without a
# second kernel build: rerun its compile command (from kbuild's .cmd file)
# with that option dropped from the Rust cfg list and only metadata out, to
# a scratch directory, by rustc (clippy-driver misjudges lint expectations
# without code generation). It checks the code's own cfg branches, against
# the bindings of this kernel. usage: check_cfg_off DIR OBJECT CONFIG_OPTION,
# DIR relative to the build output (the kernel crate: rust) or absolute.
check_cfg_off() {
	local dir=$1 obj=$2 opt=$3 tmp cmd
	tmp=$(mktemp -d)
	grep -v "^--cfg=$opt\(\b\|=\)" "$KDIR/obj/include/generated/rustc_cfg" > "$tmp/rustc_cfg"
	if grep -q -e "^--cfg=$opt\$" -e "^--cfg=$opt=" "$tmp/rustc_cfg"; then
		echo "kernel: cannot drop $opt" >&2
		return 1
	fi
	cmd=$(cd "$KDIR/obj" && sed -n "s/^savedcmd_[^ ]* := //p" "$dir/.$obj.o.cmd" |
	      sed -e "s|@./include/generated/rustc_cfg|@$tmp/rustc_cfg|" \
		  -e "s|^\(OBJTREE=[^ ]* \)\?[^ ]*clippy-driver |\1$RUSTC |" \
		  -e "s|--emit=dep-info=[^ ]*||" \
		  -e "s|--emit=metadata=[^ ]*||" \
		  -e "s|--emit=obj=[^ ]*|--emit=metadata=$tmp/$obj.rmeta|" \
		  -e "s|--out-dir [^ ]*|--out-dir $tmp|")
	(cd "$KDIR/obj" && RUSTC_BOOTSTRAP=1 eval "$cmd") || { rm -rf "$tmp"; echo "kernel: $obj does not build without $opt" >&2; return 1; }
	rm -rf "$tmp"
	echo "kernel: $obj type-checks without $opt"
}
# The iommufd slots of the mdev binding's vfio_device_ops.
check_cfg_off rust kernel CONFIG_IOMMUFD
echo "kernel: ok $(cat "$KDIR/obj/include/config/kernel.release")"
