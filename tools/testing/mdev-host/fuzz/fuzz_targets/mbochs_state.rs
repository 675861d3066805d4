// SPDX-License-Identifier: GPL-2.0

//! libFuzzer target: `mdev_host_tests::fuzz::mbochs_state`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mdev_host_tests::fuzz::mbochs_state(data));
