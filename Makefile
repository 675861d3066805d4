# SPDX-License-Identifier: GPL-2.0
#
# mdev-rs: the VFIO mediated device stack in Rust, for Linux 6.12.
#
#   make run      build, boot the VM, show an mtty instance working
#   make check    build and run every test on every stack
#
# See README.md. Build trees and tools live in ~/.cache/mdev-rs
# (MDEV_CACHE overrides), never in this directory.

SHELL := /bin/bash
S := scripts

.PHONY: all deps kernel selftests check check-full soak run bench profile rustdoc vm-shell kdir clean help

all: kernel

help:
	@sed -n '3,9p' Makefile | sed 's/^# \{0,1\}//'
	@echo "Other targets: check-full soak bench profile rustdoc deps kernel selftests vm-shell kdir clean"
	@echo "Variables: STACK=<core>+<samples> (e.g. c+c), TESTS=<binaries>"

deps:
	@$(S)/deps.sh

kernel: deps
	@$(S)/kernel.sh

selftests: kernel
	@$(S)/selftests.sh

check: selftests
	@$(S)/check.sh

# make check without its CI-sized cuts (scripts/stacks.sh, guest-tests.sh):
# upstream's nested-QEMU run, the soak and the full fuzzer and load walks on
# upstream's core as well
check-full: selftests
	@CHECK_FULL=1 $(S)/check.sh

# unload under load, 60 s per sample (make check-full runs 10) on the stacks of
# the Rust samples; results in results/soak
soak: selftests
	@STACK="$${STACK:-c+rust rust+rust}" TESTS=mdev_soak_test.sh \
		MDEV_SOAK_SECONDS=$${MDEV_SOAK_SECONDS:-60} HOST_FUZZ_SECONDS=0 \
		RESULTS=$${RESULTS:-$(CURDIR)/results/soak} $(S)/check.sh

run: selftests
	@$(S)/run.sh

bench: deps
	@$(S)/bench.sh

profile: deps
	@$(S)/profile.sh

rustdoc: kernel
	@$(S)/rustdoc.sh

vm-shell: kernel
	@$(S)/vm.sh --shell

# print the kernel build tree in use
kdir:
	@$(S)/kernel.sh --dir

clean:
	rm -rf results
	rm -rf "$$($(S)/kernel.sh --dir)"
