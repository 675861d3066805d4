# SPDX-License-Identifier: GPL-2.0
#
# Shared settings of the build and test scripts: tool paths, pinned versions
# and the cache location. Sourced, never run.

CACHE_DIR=${MDEV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mdev-rs}
TOOLS_DIR=$CACHE_DIR/tools
VENV=$CACHE_DIR/venv

BINDGEN_VERSION=0.72.1
VNG_VERSION=1.42

# The kernel needs Debian's rustc-web (it ships rust-src); rustup's rustc on
# PATH has none. Every kernel make call gets these, config targets included.
RUSTC=/usr/bin/rustc
RUSTDOC=/usr/bin/rustdoc
RUSTFMT=/usr/bin/rustfmt
CLIPPY_DRIVER=/usr/bin/clippy-driver
BINDGEN=$TOOLS_DIR/bin/bindgen

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KSRC_TARBALL=/usr/src/linux-source-6.12.tar.xz
KSRC_PKG=linux-source-6.12

# Kernel flavors: "debug", the test kernel with every checker on
# (kernel/configs/debug.config; what `make check` and `make run` use),
# "bench", the same kernel without them, as users run it
# (kernel/configs/bench.config; what `make bench` uses), and "client", the
# nested guest's kernel of mdev_qemu_test.sh (kernel/configs/client.config:
# no Rust, no stack, no checkers). Each has its own build tree. MDEV_FLAVOR
# picks one; the scripts that need a given flavor set it themselves.
FLAVOR=${MDEV_FLAVOR:-debug}
case "$FLAVOR" in
debug|bench|client) ;;
*) echo "MDEV_FLAVOR must be debug, bench or client, not $FLAVOR" >&2; exit 2 ;;
esac
FLAVORS="debug bench client"
# the project's config fragments of a flavor, in merge order
flavor_fragments() {
	case "$1" in
	client) echo "$TOP/kernel/configs/client.config" ;;
	*) echo "$TOP/kernel/configs/mdev-rs.config $TOP/kernel/configs/$1.config" ;;
	esac
}

# QEMU options under which the guest clock counts executed instructions
# (1 ns each, on one vCPU): what `make bench` and `make profile` measure with.
ICOUNT_OPTS="-icount shift=0,sleep=off"

# A kernel build tree is keyed on everything that shapes it but is not
# rebuilt incrementally: the source package version, the flavor's config
# fragments, the patches, the scripts that unpack and configure, and the
# toolchain. Project sources (rust/, drivers/, samples/, selftests) are
# synced into the tree on every build instead, so editing one only
# rebuilds that part.
kernel_key() {
	# xtrace off inside: a `bash -x` run must not hash its own trace
	(
		{ set +x; } 2>/dev/null
		dpkg-query -W -f='${Version}\n' "$KSRC_PKG"
		# shellcheck disable=SC2046
		cat $(flavor_fragments "$FLAVOR") "$TOP"/patches/*.patch \
			"$TOP"/scripts/kernel-tree.sh "$TOP"/scripts/env.sh
		"$RUSTC" --version; "$BINDGEN" --version; clang --version | head -1
	) 2>&1 | sha256sum | cut -c1-12
}

# Where the kernel tree lives: KDIR overrides; $KDIR/src is the source with
# the overlay, $KDIR/obj the build output (O=). The name carries the flavor,
# then the key.
kernel_dir() {
	if [ -n "${KDIR:-}" ]; then
		echo "$KDIR"
	else
		echo "$CACHE_DIR/build/linux-$(dpkg-query -W -f='${Version}' "$KSRC_PKG")-$FLAVOR-$(kernel_key)"
	fi
}

# make for the kernel tree, with the toolchain every call needs.
kmake() {
	make -C "$KDIR/src" O="$KDIR/obj" LLVM=1 \
		RUSTC="$RUSTC" RUSTDOC="$RUSTDOC" HOSTRUSTC="$RUSTC" \
		RUSTFMT="$RUSTFMT" CLIPPY_DRIVER="$CLIPPY_DRIVER" \
		BINDGEN="$BINDGEN" "$@"
}
