// SPDX-License-Identifier: GPL-2.0

//! Host tests of kernel-free mdev-rs code, included by path.

#[path = "../../../../drivers/vfio/mdev/uuid.rs"]
#[allow(dead_code)]
mod uuid;

#[cfg(test)]
mod uuid_tests {
    use super::uuid::{format, parse, TEXT_LEN};

    const TEXT: &[u8] = b"00112233-4455-6677-8899-aabbccddeeff";

    #[test]
    fn parse_stores_guid_byte_order() {
        let g = parse(TEXT).unwrap();
        // The first three fields are little-endian, as guid_parse() stores them.
        assert_eq!(
            g,
            [
                0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
                0xee, 0xff
            ]
        );
    }

    #[test]
    fn format_round_trips_in_lower_case() {
        let upper = TEXT.to_ascii_uppercase();
        let g = parse(&upper).unwrap();
        let text = format(&g);
        assert_eq!(&text[..TEXT_LEN], TEXT);
        assert_eq!(text[TEXT_LEN], 0);
    }

    #[test]
    fn rejects_malformed_text() {
        let bad: &[&[u8]] = &[
            b"",
            b"1234",
            b"00112233-4455-6677-8899-aabbccddeef",
            b"00112233-4455-6677-8899-aabbccddeeff0",
            b"0011223g-4455-6677-8899-aabbccddeeff",
            b"00112233_4455-6677-8899-aabbccddeeff",
            b"001122334-455-6677-8899-aabbccddeeff",
            b"00112233-4455-6677-8899-aabbccddeef\n",
            b" 0112233-4455-6677-8899-aabbccddeeff",
        ];
        for b in bad {
            assert_eq!(parse(b), None, "{:?}", core::str::from_utf8(b));
        }
    }

    #[test]
    fn every_byte_value_round_trips() {
        // Walk each byte position through all 256 values.
        for pos in 0..16 {
            for v in 0..=255u8 {
                let mut g = [0u8; 16];
                g[pos] = v;
                let text = format(&g);
                assert_eq!(parse(&text[..TEXT_LEN]), Some(g));
            }
        }
    }
}
