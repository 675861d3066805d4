// SPDX-License-Identifier: GPL-2.0

//! The layout of a VFIO capability chain, on plain bytes.
//!
//! A chain is a run of records, each a `struct vfio_info_cap_header` (`id: u16`,
//! `version: u16`, `next: u32`) followed by its body and padded to a multiple of 8 bytes; `next`
//! is the offset of the following record from the start of the ioctl's answer, 0 for the last.
//! While a chain is built its offsets count from the chain's own start; [`shift`] moves them to
//! where the chain lands after the answer's fixed part, as upstream's `vfio_info_cap_shift`
//! does.
//!
//! No kernel calls: the host tests in `tools/testing/mdev-host` include this file.

/// Size of `struct vfio_info_cap_header`.
pub(crate) const HEADER_SIZE: usize = 8;

/// Bytes a record with a body of `body_len` bytes takes in a chain; `None` on overflow.
pub(crate) fn record_size(body_len: usize) -> Option<usize> {
    HEADER_SIZE
        .checked_add(body_len)?
        .checked_next_multiple_of(8)
}

/// Fills in the record that `record` holds (its length from [`record_size`], zeroed): its
/// header, with no record after it, and its body.
pub(crate) fn write_record(record: &mut [u8], id: u16, version: u16, body: &[u8]) {
    record[0..2].copy_from_slice(&id.to_ne_bytes());
    record[2..4].copy_from_slice(&version.to_ne_bytes());
    record[4..8].copy_from_slice(&0u32.to_ne_bytes());
    record[HEADER_SIZE..HEADER_SIZE + body.len()].copy_from_slice(body);
}

/// The `next` field of the record at `at`.
fn next(chain: &[u8], at: usize) -> u32 {
    let mut bytes = [0u8; 4];
    bytes.copy_from_slice(&chain[at + 4..at + 8]);
    u32::from_ne_bytes(bytes)
}

/// Makes the record at `at` point to the one at `to`.
pub(crate) fn link(chain: &mut [u8], at: usize, to: u32) {
    chain[at + 4..at + 8].copy_from_slice(&to.to_ne_bytes());
}

/// Adds `offset` to every `next` of a non-empty chain whose first record is at 0, so that the
/// offsets count from a point `offset` bytes before the chain. `None` if an offset overflows or
/// a link does not lead forward within the chain.
pub(crate) fn shift(chain: &mut [u8], offset: u32) -> Option<()> {
    let mut at = 0;
    loop {
        let to = next(chain, at);
        if to == 0 {
            return Some(());
        }
        let following = usize::try_from(to).ok()?;
        if following <= at || following + HEADER_SIZE > chain.len() {
            return None;
        }
        link(chain, at, to.checked_add(offset)?);
        at = following;
    }
}
