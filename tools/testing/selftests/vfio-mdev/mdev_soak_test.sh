#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unload under load (mdev_soak) on each Rust vendor sample of the stack: one
# TAP test per sample, with 8 worker threads, while the sample's module,
# vfio_mdev and the core are unloaded and loaded again in a loop, for
# MDEV_SOAK_SECONDS (default 10; `make soak` runs 60) and at least twice
# down to the core. Needs the stack's module paths (guest-tests.sh exports
# them); "-T SAMPLE" leaves a sample out.
set -u

here=$(dirname "$(readlink -f "$0")")
secs=${MDEV_SOAK_SECONDS:-10}
samples="mtty_rs:mtty-2 mdev_minimal:mdev_minimal-1 mdpy_rs:mdpy-vga
	 mbochs_rs:mbochs-small"
skip=" "
while getopts T: opt; do
	case $opt in
	T) skip="$skip$OPTARG " ;;
	*) exit 2 ;;
	esac
done

status=0
set -- $samples
echo "TAP version 13"
echo "1..$#"
n=0
for s; do
	n=$((n + 1))
	mod=${s%%:*}
	type=${s#*:}
	ko=
	for m in ${MDEV_RUST_VENDOR_MODULES:-}; do
		[ "$(basename "$m" .ko)" = "$mod" ] && ko=$m
	done
	if [[ $skip == *" $mod "* ]]; then
		echo "ok $n $mod # SKIP left out"
		continue
	fi
	if [ -z "$ko" ]; then
		echo "# $mod is not a module of this stack (MDEV_RUST_VENDOR_MODULES)"
		echo "not ok $n $mod"
		status=1
		continue
	fi
	if "$here/mdev_soak" -t "$secs" -j 8 "$type" "$ko"; then
		echo "ok $n $mod"
	else
		echo "not ok $n $mod"
		status=1
	fi
done
exit $status
