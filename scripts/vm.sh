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
#
# VM_APPEND adds kernel command-line options, VM_QEMU_OPTS options of QEMU
# (e.g. -icount), VM_CPUS and VM_MEM size the guest. The guest's console (the
# kernel log as it happens, at notice level and above, so splats and
# panics but not the per-release chatter of DEBUG_KOBJECT_RELEASE) goes to
# stdout with the command's own output: callers keep it in a file, the
# only record of a guest that dies.
set -uo pipefail

. "$(dirname "$0")/env.sh"

KDIR=$(kernel_dir)
export PATH=$VENV/bin:$PATH
# KASAN takes an eighth of guest memory for its shadow
VM_MEM=${VM_MEM:-3G}
VM_CPUS=${VM_CPUS:-2}
VNG=("$VENV/bin/vng" --run "$KDIR/obj/arch/x86/boot/bzImage" --disable-kvm
     --memory "$VM_MEM" --cpus "$VM_CPUS" --user root --verbose)
# no5lvl: TCG's "-cpu max" has LA57, and with 5-level paging this KASAN
# kernel reports a wild access in the first interrupt of the boot
# (handle_edge_irq during identify_cpu), before any of our code runs.
[ -z "${VM_QEMU_OPTS:-}" ] || VNG+=(--qemu-opts="$VM_QEMU_OPTS")
for opt in loglevel=5 no5lvl ${VM_APPEND:-}; do
	VNG+=(--append "$opt")
done

if [ "${1:-}" = --shell ]; then
	exec "${VNG[@]}" --rwdir "$TOP"
fi
RWDIR=$1
shift
timeout "${VM_TIMEOUT:-900}" "${VNG[@]}" --rwdir "$RWDIR" --exec "$*" < /dev/null
