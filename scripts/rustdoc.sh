#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make rustdoc`: the kernel crate's API documentation (with the project's
# bindings under rust/kernel/), failing on any rustdoc warning.
set -euo pipefail

. "$(dirname "$0")/env.sh"

KDIR=$(kernel_dir)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
kmake -s rustdoc > "$log" 2>&1 || { cat "$log"; exit 1; }
if grep -q 'warning' "$log"; then
	cat "$log"
	echo "rustdoc: warnings" >&2
	exit 1
fi
echo "rustdoc: ok, file://$KDIR/obj/Documentation/output/rust/rustdoc/kernel/index.html"
