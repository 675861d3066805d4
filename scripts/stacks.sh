# SPDX-License-Identifier: GPL-2.0
#
# The stacks a test run can load: which mdev core and which vendor sample
# modules, as paths relative to the kernel tree (scripts/kernel.sh --dir):
# obj/ holds the in-tree C modules, src/mdev-rs/ the project's modules. The
# one place that names them. Sourced, never run.
#
# A stack is "<core>+<samples>". Cores and sample sets are listed below;
# STACKS is the matrix that `make check` runs.

# mdev core modules, in load order
core_c="obj/drivers/vfio/mdev/mdev.ko"
core_rust="src/mdev-rs/drivers/vfio/mdev/mdev.ko"

# vendor samples: mtty, mdpy, mbochs (host side)
samples_c_mtty="obj/samples/vfio-mdev/mtty.ko"
samples_c_mdpy="obj/samples/vfio-mdev/mdpy.ko"
samples_c_mbochs="obj/samples/vfio-mdev/mbochs.ko"

STACKS_ALL="c+c rust+c"
# what `make run` shows: ours, as far as it goes
STACK_RUN="rust+c"

# stack_modules STACK: every module of STACK in load order, one per line
stack_modules() {
	local core=${1%%+*} samples=${1#*+} v
	for v in "core_$core" "samples_${samples}_mtty" \
		 "samples_${samples}_mdpy" "samples_${samples}_mbochs"; do
		[ -n "${!v:-}" ] || { echo "unknown stack $1 ($v)" >&2; return 1; }
		echo "${!v}"
	done
}

# modules_load KDIR MODULE...: insmod each, in order; stops at a failure
modules_load() {
	local kdir=$1 m
	shift
	for m in "$@"; do
		echo "\$ insmod $kdir/$m"
		insmod "$kdir/$m" || { echo "insmod $m failed" >&2; return 1; }
	done
}

# modules_unload MODULE...: rmmod each, in reverse order; names the ones
# that refuse on stdout and fails if any did
modules_unload() {
	local m rc=0
	for m in $(printf '%s\n' "$@" | tac); do
		rmmod "$(basename "$m" .ko)" || { echo "rmmod $m failed"; rc=1; }
	done
	return $rc
}
