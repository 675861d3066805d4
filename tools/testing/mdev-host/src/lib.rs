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

#[path = "../../../../samples/vfio-mdev/mdev_minimal_config.rs"]
#[allow(dead_code)]
mod minimal_config;

#[cfg(test)]
mod minimal_config_tests {
    use super::minimal_config::{ConfigSpace, OutOfRange, COMMAND, COMMAND_MASK, SIZE};

    fn read32(c: &ConfigSpace, off: u64) -> u32 {
        let mut b = [0u8; 4];
        c.read(off, &mut b).unwrap();
        u32::from_le_bytes(b)
    }

    #[test]
    fn identification_after_reset() {
        let c = ConfigSpace::new();
        assert_eq!(read32(&c, 0x00), 0x4d4d_1d6b);
        assert_eq!(read32(&c, 0x08), 0xff00_0001);
        assert_eq!(read32(&c, 0x2c), 0x4d4d_1d6b);
        // no BARs, no interrupt pin, command and status clear
        for off in (0x10..0x28).step_by(4).chain([0x04, 0x3c]) {
            assert_eq!(read32(&c, off), 0, "offset {off:#x}");
        }
    }

    #[test]
    fn command_keeps_implemented_bits_only() {
        let mut c = ConfigSpace::new();
        c.write(COMMAND as u64, &[0xff, 0xff]).unwrap();
        assert_eq!(read32(&c, 0x04) as u16, COMMAND_MASK);
        // byte writes to each half, and a dword write spanning status
        c.write(COMMAND as u64 + 1, &[0x00]).unwrap();
        assert_eq!(read32(&c, 0x04), 0x0007);
        c.write(COMMAND as u64, &0xffff_0002u32.to_le_bytes())
            .unwrap();
        assert_eq!(read32(&c, 0x04), 0x0000_0002);
    }

    #[test]
    fn read_only_registers_ignore_writes() {
        let mut c = ConfigSpace::new();
        let before: Vec<u32> = (0..SIZE as u64).step_by(4).map(|o| read32(&c, o)).collect();
        for off in 0..SIZE as u64 {
            if !(COMMAND as u64..COMMAND as u64 + 2).contains(&off) {
                c.write(off, &[0xa5]).unwrap();
            }
        }
        let after: Vec<u32> = (0..SIZE as u64).step_by(4).map(|o| read32(&c, o)).collect();
        assert_eq!(before, after);
    }

    #[test]
    fn accesses_must_lie_inside() {
        let mut c = ConfigSpace::new();
        let mut b = [0u8; 4];
        assert_eq!(c.read(SIZE as u64 - 2, &mut b), Err(OutOfRange));
        assert_eq!(c.read(SIZE as u64, &mut b[..1]), Err(OutOfRange));
        assert_eq!(c.read(u64::MAX, &mut b), Err(OutOfRange));
        assert_eq!(c.read(0, &mut []), Err(OutOfRange));
        assert_eq!(c.write(SIZE as u64 - 1, &[0, 0]), Err(OutOfRange));
        assert_eq!(c.write(u64::MAX - 1, &[0, 0, 0, 0]), Err(OutOfRange));
        let mut all = [0u8; SIZE];
        assert_eq!(c.read(0, &mut all), Ok(()));
    }

    #[test]
    fn every_aligned_width_agrees_with_bytes() {
        let mut c = ConfigSpace::new();
        c.write(COMMAND as u64, &[0x06]).unwrap();
        let mut all = [0u8; SIZE];
        c.read(0, &mut all).unwrap();
        for width in [1usize, 2, 4] {
            for off in (0..SIZE).step_by(width) {
                let mut b = vec![0u8; width];
                c.read(off as u64, &mut b).unwrap();
                assert_eq!(b, &all[off..off + width]);
            }
        }
    }
}
