// SPDX-License-Identifier: GPL-2.0

//! A PCI configuration space as the Rust samples emulate it: 256 bytes and, for each byte, the
//! bits software may change. Reads return the bytes; writes change only the writable bits, so
//! read-only registers ignore writes and writing all ones to a BAR reads back its size.
//!
//! Pure logic with no kernel calls, shared by the samples' configuration spaces
//! (`mdev_minimal_config.rs`, `mtty_config.rs`) and included by the host tests in
//! `tools/testing/mdev-host`.

/// Size of the configuration space.
pub(crate) const SIZE: usize = 256;

/// Why an access was refused: it does not lie inside the space.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct OutOfRange;

/// A configuration space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ConfigSpace {
    bytes: [u8; SIZE],
    writable: [u8; SIZE],
}

impl ConfigSpace {
    /// All zero, nothing writable.
    pub(crate) const fn new() -> Self {
        Self {
            bytes: [0; SIZE],
            writable: [0; SIZE],
        }
    }

    /// Sets the initial value of the registers at `at` to `value` (little-endian bytes).
    pub(crate) fn init(&mut self, at: usize, value: &[u8]) -> &mut Self {
        self.bytes[at..at + value.len()].copy_from_slice(value);
        self
    }

    /// Lets software change the bits of `mask` (little-endian bytes) at `at`.
    pub(crate) fn writable(&mut self, at: usize, mask: &[u8]) -> &mut Self {
        self.writable[at..at + mask.len()].copy_from_slice(mask);
        self
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
    #[allow(dead_code)] // not every sample migrates
    pub(crate) fn bytes(&self) -> &[u8; SIZE] {
        &self.bytes
    }

    /// Takes the writable bits of `saved`, a space saved by [`ConfigSpace::bytes`] from a
    /// device of the same kind; refuses one whose read-only bits differ from this one's.
    #[allow(dead_code)] // not every sample migrates
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
