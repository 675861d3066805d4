// SPDX-License-Identifier: GPL-2.0

//! PCI configuration space of an mtty card: the identity upstream's mtty sample gives it (a
//! 16550-compatible serial controller, 4348:3253) with one 8-byte I/O BAR per port.
//!
//! Software may change the command register's I/O, bus-master and INTx-disable bits, the
//! interrupt line, and the address bits of the implemented BARs (so writing all ones sizes a
//! BAR); everything else is read-only (see `pci_config.rs`).
//!
//! Pure logic with no kernel calls: the host tests in `tools/testing/mdev-host` include this
//! file.

use super::pci_config::ConfigSpace;

/// Size of each port's I/O BAR.
pub(crate) const BAR_SIZE: u32 = 8;

/// Vendor and device ID, also the subsystem IDs.
pub(crate) const IDS: u32 = 0x3253_4348;

const COMMAND_IO: u16 = 0x0001;
const COMMAND_WRITABLE: u16 = 0x0405;
const BAR_IO: u32 = 0x1;
const BAR0: usize = 0x10;
const INTERRUPT_LINE: usize = 0x3c;

/// The configuration space of a card with `ports` ports (1 or 2) after power-on.
pub(crate) fn new(ports: usize) -> ConfigSpace {
    let mut config = ConfigSpace::new();
    config
        .init(0x00, &IDS.to_le_bytes())
        // command: I/O decoding on; status: nothing to report
        .init(0x04, &(u32::from(COMMAND_IO) | 0x0200 << 16).to_le_bytes())
        // revision 0x10, class 07 (communication) / 00 (serial) / 02 (16550)
        .init(0x08, &0x0700_0210u32.to_le_bytes())
        .init(0x2c, &IDS.to_le_bytes())
        // interrupt pin INTA#
        .init(0x3d, &[0x01])
        // vendor-specific bytes and the "PCI Serial/UART" signature upstream puts there
        .init(
            0x40,
            &[0x23, 0, 0, 0x80, 0x23, 0, 0, 0, 0x23, 0, 0, 0, 0x23],
        )
        .init(0x60, b"PCI Serial/UART")
        .writable(0x04, &COMMAND_WRITABLE.to_le_bytes())
        .writable(INTERRUPT_LINE, &[0xff]);
    for port in 0..ports.min(2) {
        let at = BAR0 + 4 * port;
        config
            .init(at, &BAR_IO.to_le_bytes())
            .writable(at, &(!(BAR_SIZE - 1)).to_le_bytes());
    }
    config
}
