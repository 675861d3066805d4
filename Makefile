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

.PHONY: all deps kernel selftests check run bench profile rustdoc vm-shell kdir clean help

all: kernel

help:
	@sed -n '3,9p' Makefile | sed 's/^# \{0,1\}//'
	@echo "Other targets: bench profile rustdoc deps kernel selftests vm-shell kdir clean"
	@echo "Variables: STACK=<core>+<samples> (e.g. c+c), TESTS=<binaries>"

deps:
	@$(S)/deps.sh

kernel: deps
	@$(S)/kernel.sh

selftests: kernel
	@$(S)/selftests.sh

check: selftests
	@$(S)/check.sh

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
