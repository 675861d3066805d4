# SPDX-License-Identifier: GPL-2.0
#
# The stacks a test run can load: which mdev core and which vendor sample
# modules, as paths relative to the kernel tree (scripts/kernel.sh --dir):
# obj/ holds the in-tree C modules, src/mdev-rs/ the project's modules. The
# one place that names them. Sourced, never run.
#
# A stack is "<core>+<samples>". Cores and sample sets are listed below;
# STACKS is the matrix that `make check` runs.

# mdev core modules
core_c="obj/drivers/vfio/mdev/mdev.ko"
core_rust="src/mdev-rs/drivers/vfio/mdev/mdev.ko"

# vendor sample sets, in load order, and the test binaries that apply to them
samples_c="obj/samples/vfio-mdev/mtty.ko obj/samples/vfio-mdev/mdpy.ko
	   obj/samples/vfio-mdev/mbochs.ko"
tests_c="mdev_sysfs_test mdev_sysfs_mdpy_test mdev_vfio_test mtty_test
	 mdev_lifecycle_test mtty_migration_test mdev_race_test mdpy_test
	 mbochs_test mdev_caps_test mdev_mdevctl_test.sh mdev_qemu_test.sh"
samples_rust="src/mdev-rs/drivers/vfio/mdev/vfio_mdev.ko
	      src/mdev-rs/samples/vfio-mdev/mtty_rs.ko
	      src/mdev-rs/samples/vfio-mdev/mdev_minimal.ko
	      src/mdev-rs/samples/vfio-mdev/mdpy_rs.ko
	      src/mdev-rs/samples/vfio-mdev/mbochs_rs.ko"
tests_rust="mdev_sysfs_test mdev_sysfs_mdpy_test mdev_vfio_test mtty_test
	    mdev_lifecycle_test mdev_minimal_test mtty_migration_test
	    display_migration_test
	    mdev_race_test mdpy_test mbochs_test mdev_caps_test
	    mdev_mdevctl_test.sh mdev_fuzz_test.sh
	    mdev_failnth_test mdev_soak_test.sh
	    mdev_qemu_test.sh"

STACKS_ALL="c+c rust+c c+rust rust+rust"
# test binaries that run only where core and samples are the same side's:
# upstream's stack (the oracle) and ours, not the mixed ones. The nested
# QEMU guest takes about five minutes a boot under TCG inside TCG, and the
# mixed stacks run every other test.
tests_unmixed="mdev_qemu_test.sh"
# What `make check` leaves out to stay inside CI's 90 minutes on 2 cores
# and `make check-full` (CHECK_FULL=1) runs: the nested QEMU test (with a
# second VM beside it, under single-threaded TCG, upstream's run took 22
# minutes and ours did not end within 27) and the unload soak (`make soak`
# runs it alone). Named in TESTS, they run anyway.
tests_full_only="c+c:mdev_qemu_test.sh rust+rust:mdev_qemu_test.sh c+rust:mdev_soak_test.sh rust+rust:mdev_soak_test.sh"

# stack_cmdline STACK: kernel command-line options of STACK's VM boot.
# The test kernel delays every kobject release (DEBUG_KOBJECT_RELEASE), which
# upstream's C samples do not survive: they keep their types and parent in
# static module storage, freed at rmmod while the delayed release callbacks
# still read them. Stacks that load them turn the delay off for their boot
# (patches/0004-*), with every other checker on; ours keep it.
stack_cmdline() {
	case "$1" in
	*+c) echo "kobject_release_delay=0" ;;
	esac
}
# what `make run` shows: ours, as far as it goes
STACK_RUN="rust+rust"

# stacks_longest_first STACK...: the same stacks, those of the Rust samples
# (more test binaries, the fuzzer among them) first
stacks_longest_first() {
	local s
	for s; do [[ $s == *+rust ]] && echo "$s"; done
	for s; do [[ $s == *+rust ]] || echo "$s"; done
}

# stack_modules STACK: every module of STACK in load order, one per line
stack_modules() {
	local core="core_${1%%+*}" samples="samples_${1#*+}"
	[ -n "${!core:-}" ] && [ -n "${!samples:-}" ] ||
		{ echo "unknown stack $1" >&2; return 1; }
	printf '%s\n' ${!core} ${!samples}
}

# stack_tests STACK [TEST...]: the test binaries for STACK's samples, or
# those of TEST... that apply to them
stack_tests() {
	local stack=$1 samples="tests_${1#*+}" mixed= t
	[ "${1%%+*}" = "${1#*+}" ] || mixed=1
	shift
	for t in ${!samples}; do
		[ -n "$mixed" ] && [[ " $tests_unmixed " == *" $t "* ]] && continue
		if [ $# -gt 0 ]; then
			if [[ " $* " == *" $t "* ]]; then echo "$t"; fi
		elif [ -n "${CHECK_FULL:-}" ] ||
		     [[ " $tests_full_only " != *" $stack:$t "* ]]; then
			echo "$t"
		fi
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
