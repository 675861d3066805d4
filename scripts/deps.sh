#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install every build and test dependency of the project, by package name,
# from Debian (apt), crates.io (cargo install --locked) and PyPI (pip).
# Idempotent: a second run only checks and returns in seconds.
set -euo pipefail

. "$(dirname "$0")/env.sh"

# here, not in env.sh: a change of env.sh is a new kernel tree
CARGO_FUZZ_VERSION=0.13.2

APT_PKGS="linux-source-6.12 rustc-web rust-web-src rustfmt-web rust-web-clippy
	clang lld llvm libclang-dev busybox-static flex bison bc libelf-dev
	libssl-dev cpio kmod python3-venv rsync zstd xz-utils make gcc libc6-dev
	gdb procps"
# QEMU comes from bookworm-backports so it matches the preinstalled
# qemu-utils 10.x instead of replacing it.
BPO_PKGS="qemu-system-x86"

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

missing=
for p in $APT_PKGS $BPO_PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "deps: installing Debian packages:$missing"
	bpo=/etc/apt/sources.list.d/mdev-rs-backports.list
	if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d; then
		echo 'deb http://deb.debian.org/debian bookworm-backports main' | $SUDO tee $bpo >/dev/null
	fi
	$SUDO apt-get update -q
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get install -y -q --no-install-recommends $APT_PKGS
	$SUDO apt-get install -y -q --no-install-recommends -t bookworm-backports $BPO_PKGS
fi

# bindgen, pinned, into the project's cache (never into the clone).
if ! "$BINDGEN" --version 2>/dev/null | grep -q " $BINDGEN_VERSION\$"; then
	echo "deps: cargo install bindgen-cli $BINDGEN_VERSION"
	cargo install --locked --root "$TOOLS_DIR" --version "$BINDGEN_VERSION" bindgen-cli
fi

# cargo-fuzz, pinned, beside it (scripts/host-fuzz.sh), and the crates the
# fuzz targets build with (libFuzzer's, by Cargo.lock), fetched once so the
# runs themselves need no network.
if ! "$TOOLS_DIR/bin/cargo-fuzz" --version 2>/dev/null | grep -q " $CARGO_FUZZ_VERSION\$"; then
	echo "deps: cargo install cargo-fuzz $CARGO_FUZZ_VERSION"
	cargo install --locked --root "$TOOLS_DIR" --version "$CARGO_FUZZ_VERSION" cargo-fuzz
fi
cargo fetch --locked -q --manifest-path "$TOP/tools/testing/mdev-host/fuzz/Cargo.toml"

# virtme-ng, pinned, into a venv in the cache.
if ! "$VENV/bin/vng" --version 2>/dev/null | grep -q "$VNG_VERSION"; then
	echo "deps: pip install virtme-ng==$VNG_VERSION"
	/usr/bin/python3 -m venv "$VENV"
	"$VENV/bin/pip" install -q "virtme-ng==$VNG_VERSION"
fi
# mdevctl (mdev_mdevctl_test.sh), Debian's package unpacked into the cache
# rather than installed: it depends on udev, and with udev installed every
# virtme-ng guest starts systemd-udevd and waits for it to settle (about a
# minute of each boot of the test kernel). The tests run it from there.
MDEVCTL_DIR=$TOOLS_DIR/mdevctl
if ! [ -x "$MDEVCTL_DIR/usr/bin/mdevctl" ]; then
	echo "deps: unpacking Debian's mdevctl into $MDEVCTL_DIR"
	tmp=$(mktemp -d)
	# as the caller, into its own temporary directory, not as apt's sandbox user
	get="apt-get download -q -o APT::Sandbox::User=$(id -un) mdevctl"
	(cd "$tmp" && $get) || { $SUDO apt-get update -q && (cd "$tmp" && $get); }
	rm -rf "$MDEVCTL_DIR.new"
	dpkg-deb -x "$tmp"/mdevctl_*.deb "$MDEVCTL_DIR.new"
	dpkg-deb -f "$tmp"/mdevctl_*.deb Version > "$MDEVCTL_DIR.new/VERSION"
	rm -rf "$tmp" "$MDEVCTL_DIR"
	mv "$MDEVCTL_DIR.new" "$MDEVCTL_DIR"
fi

echo "deps: ok (rustc $("$RUSTC" --version | cut -d' ' -f2), bindgen $BINDGEN_VERSION, cargo-fuzz $CARGO_FUZZ_VERSION, virtme-ng $VNG_VERSION, mdevctl $(cat "$MDEVCTL_DIR/VERSION"))"
