# SPDX-License-Identifier: GPL-2.0
#
# Making a kernel tree: unpack Debian's linux-source-6.12 into the cache
# (never into the clone), apply patches/, configure from kernel/configs/ and
# check the configuration. Part of the tree's key (env.sh): a change here
# makes a new tree. Sourced by kernel.sh, which provides sync_overlay and
# sets KDIR.

FRAGMENT=$TOP/kernel/configs/mdev-rs.config

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

