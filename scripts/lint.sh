#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Style checks a reviewer runs first: rustfmt (with the kernel's
# .rustfmt.toml) on the project's Rust, checkpatch on its C. Clippy runs in
# the module build itself (scripts/kernel.sh). Fails on any finding.
set -uo pipefail

. "$(dirname "$0")/env.sh"

KDIR=$(kernel_dir)
cd "$TOP"
bad=0
mapfile -t rs < <(git ls-files '*.rs' 2>/dev/null || find . -name '*.rs')
mapfile -t cs < <(git ls-files 'drivers/*.[ch]' 'samples/*.[ch]' 'rust/*.[ch]' \
	'tools/testing/selftests/*.[ch]' 2>/dev/null)
if [ ${#rs[@]} -gt 0 ] && ! "$RUSTFMT" --check --config-path "$KDIR/src/.rustfmt.toml" \
	--edition 2021 "${rs[@]}"; then
	echo "lint: rustfmt would change the files above" >&2
	bad=1
fi
for f in "${cs[@]}"; do
	# *_exports.c export functions defined in Rust: nothing to follow
	ignore=
	case "$f" in *_exports.c) ignore="--ignore EXPORT_SYMBOL" ;; esac
	out=$(perl "$KDIR/src/scripts/checkpatch.pl" --no-tree -f -q --terse $ignore "$f" |
	      grep -v '^total: 0 errors, 0 warnings')
	if [ -n "$out" ]; then
		echo "$out" >&2
		bad=1
	fi
done
[ $bad = 0 ] && echo "lint: ok (${#rs[@]} Rust files, ${#cs[@]} C files)"
exit $bad
