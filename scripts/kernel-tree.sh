# SPDX-License-Identifier: GPL-2.0
#
# Making a kernel tree: unpack Debian's linux-source-6.12 into the cache
# (never into the clone), apply patches/, configure from kernel/configs/ and
# check the configuration. Part of the tree's key (env.sh): a change here
# makes a new tree. Sourced by kernel.sh, which provides sync_overlay and
# sets KDIR.

FRAGMENTS=$(flavor_fragments "$FLAVOR")

# Every line of the flavor's fragments must have survived olddefconfig.
check_config() {
	local bad=0 line sym
	# shellcheck disable=SC2086
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
	done < <(cat $FRAGMENTS)
	return $bad
}

prepare_tree() {
	local p old f keep base
	echo "kernel: new tree $KDIR"
	rm -rf "$KDIR"
	mkdir -p "$KDIR/obj"
	# One tree per flavor in the cache: older keys are stale by
	# definition, and so is a tree whose name has no flavor.
	for old in "$CACHE_DIR"/build/linux-*; do
		[ -e "$old" ] && [ "$old" != "$KDIR" ] || continue
		keep=
		for f in $FLAVORS; do
			[ "$f" != "$FLAVOR" ] &&
				[[ "$old" =~ -$f-[0-9a-f]{12}$ ]] && keep=1
		done
		[ -n "$keep" ] || rm -rf "$old"
	done
	tar -C "$KDIR" -xf "$KSRC_TARBALL"
	mv "$KDIR/$KSRC_PKG" "$KDIR/src"
	for p in "$TOP"/patches/*.patch; do
		echo "kernel: apply $(basename "$p")"
		patch -d "$KDIR/src" -p1 -s --no-backup-if-mismatch < "$p"
	done
	sync_overlay
	kmake -s tinyconfig
	# the kernels that run the stack boot under virtme-ng, on top of
	# the kernel's own kvm_guest.config; the nested guest's client
	# kernel has only its fragment
	base=$KDIR/src/kernel/configs/kvm_guest.config
	[ "$FLAVOR" != client ] || base=
	"$KDIR/src/scripts/kconfig/merge_config.sh" -m -O "$KDIR/obj" \
		"$KDIR/obj/.config" $base $FRAGMENTS >/dev/null
	kmake -s olddefconfig
	check_config
	touch "$KDIR/.configured"
}

