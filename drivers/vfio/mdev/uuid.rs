// SPDX-License-Identifier: GPL-2.0

//! UUIDs in the text form used by the mdev sysfs ABI.
//!
//! Instances are named by a GUID (`guid_t`, the little-endian variant of a UUID): the text
//! `00112233-4455-6677-8899-aabbccddeeff` is stored with its first three fields byte-swapped,
//! as `guid_parse()` does, and printed back in lower case like `%pUl`.
//!
//! Pure code with no kernel calls, so that it is unit-tested on the host.

/// Byte of the GUID that the `i`-th pair of hex digits of the text form goes to.
const GUID_INDEX: [usize; 16] = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];

/// Offset in the text form of the `i`-th pair of hex digits.
const TEXT_OFFSET: [usize; 16] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

/// Length of the text form.
pub(crate) const TEXT_LEN: usize = 36;

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Parses exactly the 36 characters of a UUID in either case into GUID bytes.
pub(crate) fn parse(text: &[u8]) -> Option<[u8; 16]> {
    if text.len() != TEXT_LEN || [8, 13, 18, 23].iter().any(|&i| text[i] != b'-') {
        return None;
    }
    let mut guid = [0u8; 16];
    for (i, &off) in TEXT_OFFSET.iter().enumerate() {
        guid[GUID_INDEX[i]] = hex_value(text[off])? << 4 | hex_value(text[off + 1])?;
    }
    Some(guid)
}

/// Formats GUID bytes as a NUL-terminated, lower-case UUID string.
pub(crate) fn format(guid: &[u8; 16]) -> [u8; TEXT_LEN + 1] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = [b'-'; TEXT_LEN + 1];
    text[TEXT_LEN] = 0;
    for (i, &off) in TEXT_OFFSET.iter().enumerate() {
        let b = guid[GUID_INDEX[i]];
        text[off] = DIGITS[usize::from(b >> 4)];
        text[off + 1] = DIGITS[usize::from(b & 0xf)];
    }
    text
}
