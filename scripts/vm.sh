#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot our kernel under virtme-ng (QEMU TCG; KVM here is unusable) with the
# host's root file system read-only and RWDIR shared read-write, and run a
# command in it. vng's exit status is not trusted (DESIGN.md): callers read
# what the guest wrote to RWDIR.
#
# usage: vm.sh RWDIR COMMAND...     (COMMAND runs as root in the guest)
#        vm.sh --shell              (interactive, for debugging by hand)
set -uo pipefail

. "$(dirname "$0")/env.sh"

KDIR=$(kernel_dir)
export PATH=$VENV/bin:$PATH
VM_MEM=${VM_MEM:-2G}
VM_CPUS=${VM_CPUS:-2}
VNG=("$VENV/bin/vng" --run "$KDIR/obj/arch/x86/boot/bzImage" --disable-kvm
     --memory "$VM_MEM" --cpus "$VM_CPUS" --user root)

if [ "${1:-}" = --shell ]; then
	exec "${VNG[@]}" --rwdir "$TOP"
fi
RWDIR=$1
shift
timeout "${VM_TIMEOUT:-900}" "${VNG[@]}" --rwdir "$RWDIR" --exec "$*" < /dev/null
