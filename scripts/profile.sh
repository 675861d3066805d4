#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make profile`: where the instructions of one region access go, for the C
# and the Rust mtty, next to the /dev/zero floor. The bench kernel boots on
# one vCPU under -icount with QEMU's gdb stub open; for each operation the
# guest keeps a process repeating it, and gdb (scripts/insn-trace.py)
# single-steps whole system calls of that process, from the syscall entry
# back to user space, with interrupts held off by QEMU while it steps.
# Prints instructions per kernel function, C next to Rust.
#
# Environment: PROFILE_KERNEL  bench (default) or debug
#              PROFILE_CALLS   system calls traced per operation (default 3)
set -euo pipefail

export MDEV_FLAVOR=${PROFILE_KERNEL:-bench}
. "$(dirname "$0")/env.sh"

"$TOP/scripts/kernel.sh"
"$TOP/scripts/selftests.sh"
KDIR=$(kernel_dir)
OUT=${RESULTS:-$TOP/results}/profile
rm -rf "$OUT"
mkdir -p "$OUT"
# a free TCP port for the gdb stub
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
VM_CPUS=1 VM_QEMU_OPTS="$ICOUNT_OPTS -gdb tcp:127.0.0.1:$PORT" \
	"$TOP/scripts/vm.sh" "$OUT" "$TOP/scripts/guest-profile.sh" "$KDIR" \
	"$KDIR/selftests/vfio-mdev" "$OUT" c rust > "$OUT/vm.log" 2>&1 &
vm=$!
trap 'kill $vm 2>/dev/null || true' EXIT
for impl in c rust; do
	for op in cfg_read4 bar_read1 bar_write1 zero_read1 plane_query; do
		until [ -e "$OUT/ready-$impl-$op" ]; do
			kill -0 $vm 2>/dev/null || {
				echo "profile: the VM stopped; see $OUT/vm.log and $OUT/guest.log" >&2
				exit 1
			}
			sleep 1
		done
		gdb -q -nx -batch -x "$TOP/scripts/insn-trace.py" \
			-ex "python trace(port=$PORT, calls=${PROFILE_CALLS:-3}, kallsyms='$OUT/kallsyms-$impl', out='$OUT/trace-$impl-$op.txt', op='$op')" \
			> "$OUT/gdb-$impl-$op.log" 2>&1 || {
			echo "profile: gdb failed; see $OUT/gdb-$impl-$op.log" >&2
			exit 1
		}
		touch "$OUT/done-$impl-$op"
	done
done
wait $vm || true
trap - EXIT
grep -q status=done "$OUT/status" 2>/dev/null || {
	echo "profile: the guest did not finish; see $OUT/guest.log" >&2
	exit 1
}
python3 "$TOP/scripts/insn-trace.py" "$OUT" | tee "$OUT/summary.txt"
