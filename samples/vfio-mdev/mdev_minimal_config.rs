// SPDX-License-Identifier: GPL-2.0

//! PCI configuration space of the `mdev_minimal` sample device.
//!
//! A type-0 header with fixed identification and a command register; nothing else is
//! implemented, so the device has no BARs and no interrupts. Pure logic, no kernel calls: the
//! host tests in `tools/testing/mdev-host` include this file.

/// Size of the configuration space.
pub(crate) const SIZE: usize = 256;

/// PCI vendor ID (the Linux Foundation).
pub(crate) const VENDOR_ID: u16 = 0x1d6b;
/// PCI device ID.
pub(crate) const DEVICE_ID: u16 = 0x4d4d;
/// Revision.
pub(crate) const REVISION: u8 = 0x01;
/// Class code (base, sub, programming interface): "unassigned class".
pub(crate) const CLASS: [u8; 3] = [0xff, 0x00, 0x00];

/// Offset of the command register.
pub(crate) const COMMAND: usize = 0x04;
/// Bits of the command register the device implements: I/O, memory, bus master and
/// INTx disable.
pub(crate) const COMMAND_MASK: u16 = 0x0407;

/// Why an access was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct OutOfRange;

/// The configuration space of one device.
pub(crate) struct ConfigSpace {
    bytes: [u8; SIZE],
}

impl Default for ConfigSpace {
    fn default() -> Self {
        Self::new()
    }
}

impl ConfigSpace {
    /// The configuration space after reset.
    pub(crate) fn new() -> Self {
        let mut bytes = [0u8; SIZE];
        bytes[0x00..0x02].copy_from_slice(&VENDOR_ID.to_le_bytes());
        bytes[0x02..0x04].copy_from_slice(&DEVICE_ID.to_le_bytes());
        bytes[0x08] = REVISION;
        bytes[0x09] = CLASS[2];
        bytes[0x0a] = CLASS[1];
        bytes[0x0b] = CLASS[0];
        bytes[0x2c..0x2e].copy_from_slice(&VENDOR_ID.to_le_bytes());
        bytes[0x2e..0x30].copy_from_slice(&DEVICE_ID.to_le_bytes());
        Self { bytes }
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

    /// Writes `data` at `offset`; the whole access must lie in the space. Only the implemented
    /// bits of the command register change; writes elsewhere are ignored, as for read-only
    /// registers of a real device.
    pub(crate) fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), OutOfRange> {
        let range = Self::range(offset, data.len())?;
        let mask = COMMAND_MASK.to_le_bytes();
        for (at, value) in range.zip(data) {
            if let Some(bits) = at.checked_sub(COMMAND).and_then(|i| mask.get(i)) {
                self.bytes[at] = value & bits;
            }
        }
        Ok(())
    }
}
