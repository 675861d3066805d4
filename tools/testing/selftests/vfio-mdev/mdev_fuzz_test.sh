#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The operation fuzzer (mdev_fuzz) on each vendor sample loaded: one TAP
# test per sample, MDEV_FUZZ_OPS operations each (default a million) over
# three worker processes, one of them killed at random points and restarted.
# A failing seed is printed; "mdev_fuzz -w 1 -s SEED -n OPS TYPE" replays it.
# "-T SAMPLE" leaves a sample out.
#
# Environment:
#   MDEV_FUZZ_OPS       operations per sample (default 1000000)
#   MDEV_FUZZ_SEED      the first seed (default: from the clock)
#   MDEV_FUZZ_SAMPLES   the samples, as "name:type,type,..." words (the
#                       first type is fuzzed, creates land in all)
set -u

here=$(dirname "$(readlink -f "$0")")
ops=${MDEV_FUZZ_OPS:-1000000}
samples=${MDEV_FUZZ_SAMPLES:-"mtty:mtty-1,mtty-2
	mdev_minimal:mdev_minimal-1
	mdpy:mdpy-xga,mdpy-vga,mdpy-hd
	mbochs:mbochs-small,mbochs-medium,mbochs-large"}
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
	name=${s%%:*}
	types=${s#*:}
	if [[ $skip == *" $name "* ]]; then
		echo "ok $n $name # SKIP left out"
		continue
	fi
	seed=${MDEV_FUZZ_SEED:+-s $((MDEV_FUZZ_SEED + 100 * n))}
	# shellcheck disable=SC2086
	if "$here/mdev_fuzz" -n "$ops" $seed ${types//,/ }; then
		echo "ok $n $name"
	else
		echo "not ok $n $name"
		status=1
	fi
done
exit $status
