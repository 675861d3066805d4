// SPDX-License-Identifier: GPL-2.0

//! PCI configuration space of the `mdev_minimal` sample device.
//!
//! A type-0 header with fixed identification and a command register; nothing else is
//! implemented, so the device has no BARs and no interrupts. Pure logic, no kernel calls: the
//! host tests in `tools/testing/mdev-host` include this file.

use super::pci_config::ConfigSpace;

/// PCI vendor ID (the Linux Foundation).
pub(crate) const VENDOR_ID: u16 = 0x1d6b;
/// PCI device ID.
pub(crate) const DEVICE_ID: u16 = 0x4d4d;
/// Revision and class code (programming interface, sub-class, base class): "unassigned".
pub(crate) const CLASS_REVISION: u32 = 0xff00_0001;

/// Offset of the command register.
pub(crate) const COMMAND: usize = 0x04;
/// Bits of the command register the device implements: I/O, memory, bus master and
/// INTx disable.
pub(crate) const COMMAND_MASK: u16 = 0x0407;

/// The configuration space after reset.
pub(crate) fn new() -> ConfigSpace {
    let ids = u32::from(DEVICE_ID) << 16 | u32::from(VENDOR_ID);
    let mut config = ConfigSpace::new();
    config
        .init(0x00, &ids.to_le_bytes())
        .init(0x08, &CLASS_REVISION.to_le_bytes())
        .init(0x2c, &ids.to_le_bytes())
        .writable(COMMAND, &COMMAND_MASK.to_le_bytes());
    config
}
