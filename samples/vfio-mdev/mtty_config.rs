// SPDX-License-Identifier: GPL-2.0

//! PCI configuration space of an mtty card: the identity upstream's mtty sample gives it (a
//! 16550-compatible serial controller, 4348:3253) with one 8-byte I/O BAR per port.
//!
//! Writes go through a per-byte mask of the bits software may change: the command register's
//! I/O, bus-master and INTx-disable bits, the interrupt line, and the address bits of the
//! implemented BARs (so writing all ones sizes a BAR). Everything else is read-only.
//!
//! Pure logic with no kernel calls: the host tests in `tools/testing/mdev-host` include this
//! file.

/// Size of the configuration space.
pub(crate) const SIZE: usize = 256;
/// Size of each port's I/O BAR.
pub(crate) const BAR_SIZE: u32 = 8;

/// Vendor and device ID, also the subsystem IDs.
pub(crate) const IDS: u32 = 0x3253_4348;

const COMMAND_IO: u16 = 0x0001;
const COMMAND_WRITABLE: u16 = 0x0405;
const BAR_IO: u32 = 0x1;
const BAR0: usize = 0x10;
const INTERRUPT_LINE: usize = 0x3c;

/// Why an access was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct OutOfRange;

/// The configuration space of one card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ConfigSpace {
    bytes: [u8; SIZE],
    writable: [u8; SIZE],
}

impl ConfigSpace {
    /// The configuration space of a card with `ports` ports (1 or 2) after power-on.
    pub(crate) fn new(ports: usize) -> Self {
        let mut bytes = [0u8; SIZE];
        let mut writable = [0u8; SIZE];
        let mut put32 = |at: usize, v: u32| bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
        put32(0x00, IDS);
        // command: I/O decoding on; status: nothing to report
        put32(0x04, u32::from(COMMAND_IO) | 0x0200 << 16);
        // revision 0x10, class 07 (communication) / 00 (serial) / 02 (16550)
        put32(0x08, 0x0700_0210);
        put32(0x2c, IDS);
        for port in 0..ports.min(2) {
            put32(BAR0 + 4 * port, BAR_IO);
        }
        // interrupt pin INTA#
        bytes[0x3d] = 0x01;
        // vendor-specific bytes and the "PCI Serial/UART" signature upstream puts there
        bytes[0x40] = 0x23;
        bytes[0x43] = 0x80;
        bytes[0x44] = 0x23;
        bytes[0x48] = 0x23;
        bytes[0x4c] = 0x23;
        bytes[0x60..0x6f].copy_from_slice(b"PCI Serial/UART");

        writable[0x04..0x06].copy_from_slice(&COMMAND_WRITABLE.to_le_bytes());
        writable[INTERRUPT_LINE] = 0xff;
        for port in 0..ports.min(2) {
            let at = BAR0 + 4 * port;
            writable[at..at + 4].copy_from_slice(&(!(BAR_SIZE - 1)).to_le_bytes());
        }
        Self { bytes, writable }
    }

    fn range(offset: u64, len: usize) -> Result<core::ops::Range<usize>, OutOfRange> {
        let start = usize::try_from(offset).map_err(|_| OutOfRange)?;
        let end = start.checked_add(len).ok_or(OutOfRange)?;
        if len == 0 || end > SIZE {
            return Err(OutOfRange);
        }
        Ok(start..end)
    }

    /// Reads `buf.len()` bytes at `offset`; the whole access must lie in the space.
    pub(crate) fn read(&self, offset: u64, buf: &mut [u8]) -> Result<(), OutOfRange> {
        let range = Self::range(offset, buf.len())?;
        buf.copy_from_slice(&self.bytes[range]);
        Ok(())
    }

    /// Writes `data` at `offset`; the whole access must lie in the space. Bits software may not
    /// change keep their value.
    pub(crate) fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), OutOfRange> {
        let range = Self::range(offset, data.len())?;
        for (at, value) in range.zip(data) {
            let mask = self.writable[at];
            self.bytes[at] = (self.bytes[at] & !mask) | (value & mask);
        }
        Ok(())
    }

    /// The whole space, for a migration stream.
    pub(crate) fn bytes(&self) -> &[u8; SIZE] {
        &self.bytes
    }

    /// Takes the writable bits of `saved` (a space saved by [`ConfigSpace::bytes`] of a card
    /// with as many ports); refuses a space whose read-only bits differ.
    pub(crate) fn restore(&mut self, saved: &[u8]) -> Result<(), OutOfRange> {
        if saved.len() != SIZE {
            return Err(OutOfRange);
        }
        let differs = (0..SIZE).any(|i| (saved[i] ^ self.bytes[i]) & !self.writable[i] != 0);
        if differs {
            return Err(OutOfRange);
        }
        self.bytes.copy_from_slice(saved);
        Ok(())
    }
}
