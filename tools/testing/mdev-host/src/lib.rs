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

#[path = "../../../../samples/vfio-mdev/pci_config.rs"]
#[allow(dead_code)]
mod pci_config;

#[path = "../../../../samples/vfio-mdev/mdev_minimal_config.rs"]
#[allow(dead_code)]
mod minimal_config;

#[cfg(test)]
mod minimal_config_tests {
    use super::minimal_config::{new, COMMAND, COMMAND_MASK};
    use super::pci_config::{OutOfRange, SIZE};
    use super::read32;

    #[test]
    fn identification_after_reset() {
        let c = new();
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
        let mut c = new();
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
        let mut c = new();
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
        let mut c = new();
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
        let mut c = new();
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

#[path = "../../../../samples/vfio-mdev/mtty_uart.rs"]
#[allow(dead_code)]
mod mtty_uart;

#[path = "../../../../samples/vfio-mdev/mtty_config.rs"]
#[allow(dead_code)]
mod mtty_config;

/// The dword at `off` of a configuration space.
#[cfg(test)]
fn read32(c: &pci_config::ConfigSpace, off: u64) -> u32 {
    let mut b = [0u8; 4];
    c.read(off, &mut b).unwrap();
    u32::from_le_bytes(b)
}

/// A small deterministic generator for randomized tests (xorshift64*).
#[cfg(test)]
struct Rng(u64);

#[cfg(test)]
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[cfg(test)]
mod mtty_uart_tests {
    use super::mtty_uart::*;
    use super::Rng;
    use std::collections::VecDeque;

    fn rd(u: &mut Uart, r: u8) -> u8 {
        u.read(r)
    }

    #[test]
    fn power_on_state() {
        let mut u = Uart::new();
        assert_eq!(rd(&mut u, reg::LSR), LSR_THRE | LSR_TEMT);
        assert_eq!(rd(&mut u, reg::IIR_FCR), IIR_NO_INT | IIR_FIFO_BITS);
        assert_eq!(rd(&mut u, reg::IER), 0);
        assert_eq!(rd(&mut u, reg::LCR), 0);
        assert!(!u.interrupt_pending());
    }

    #[test]
    fn full_fifo_reads_back_in_order() {
        let mut u = Uart::new();
        for b in 0..FIFO_SIZE as u8 {
            u.write(reg::RX_TX, b'a' + b);
        }
        assert_eq!(rd(&mut u, reg::LSR) & (LSR_DR | LSR_OE), LSR_DR);
        for b in 0..FIFO_SIZE as u8 {
            assert_eq!(rd(&mut u, reg::RX_TX), b'a' + b);
        }
        assert_eq!(rd(&mut u, reg::LSR), LSR_THRE | LSR_TEMT);
    }

    #[test]
    fn overrun_is_reported_once_and_keeps_data() {
        let mut u = Uart::new();
        for b in 0..FIFO_SIZE as u8 + 3 {
            u.write(reg::RX_TX, b);
        }
        assert_eq!(rd(&mut u, reg::LSR) & (LSR_DR | LSR_OE), LSR_DR | LSR_OE);
        assert_eq!(rd(&mut u, reg::LSR) & LSR_OE, 0);
        assert_eq!(u.rx_count(), FIFO_SIZE);
        assert_eq!(rd(&mut u, reg::RX_TX), 0);
    }

    #[test]
    fn iir_reports_the_highest_priority_only() {
        let mut u = Uart::new();
        u.write(reg::IER, IER_RDI | IER_THRI | IER_RLSI | IER_MSI);
        u.write(reg::MCR, MCR_DTR);
        // THR empty pending (enabled just now), modem status too
        assert_eq!(rd(&mut u, reg::IIR_FCR) & 0x0f, IIR_THRI);
        // reading IIR cleared THRE: modem status remains
        assert_eq!(rd(&mut u, reg::IIR_FCR) & 0x0f, IIR_MSI);
        u.write(reg::IIR_FCR, 0); // one-byte holding register
        u.write(reg::RX_TX, b'x');
        assert_eq!(rd(&mut u, reg::IIR_FCR) & 0x0f, IIR_RDI);
        u.write(reg::RX_TX, b'y');
        assert_eq!(rd(&mut u, reg::IIR_FCR) & 0x0f, IIR_RLSI);
        rd(&mut u, reg::LSR);
        assert_eq!(rd(&mut u, reg::IIR_FCR) & 0x0f, IIR_RDI);
    }

    #[test]
    fn interrupts_are_raised_on_new_events_only() {
        let mut u = Uart::new();
        assert!(!u.write(reg::RX_TX, b'a')); // nothing enabled
                                             // enabling a source whose condition holds asserts the line
        assert!(u.write(reg::IER, IER_RDI));
        assert!(u.interrupt_pending());
        // no new event while it is asserted
        assert!(!u.write(reg::SCR, 1));
        assert_eq!(rd(&mut u, reg::RX_TX), b'a');
        assert!(!u.interrupt_pending());
        assert!(u.write(reg::RX_TX, b'b'));
        // THR empty: enabling raises at once
        let mut v = Uart::new();
        assert!(v.write(reg::IER, IER_THRI));
    }

    /// The interrupt contract on random register traffic: a read never raises the line; a write
    /// reports a raise exactly when the line goes up, or when a byte arrives (a write to RX/TX
    /// outside the divisor latch) while it is up.
    #[test]
    fn raise_reports_follow_the_line() {
        let mut rng = Rng(7);
        let mut u = Uart::new();
        let (mut raised, mut reads) = (0, 0);
        for _ in 0..200_000 {
            let r = rng.below(8) as u8;
            let before = u.interrupt_pending();
            if rng.below(2) == 0 {
                let data = r == reg::RX_TX && rd(&mut u, reg::LCR) & LCR_DLAB == 0;
                let v = rng.next() as u8;
                let got = u.write(r, v);
                let after = u.interrupt_pending();
                assert_eq!(got, after && (!before || data), "write {r} {v:#x}");
                raised += usize::from(got);
            } else {
                u.read(r);
                assert!(before || !u.interrupt_pending(), "read {r} raised the line");
                reads += 1;
            }
        }
        assert!(raised > 1000 && reads > 1000);
    }

    #[test]
    fn divisor_latch_hides_data_registers() {
        let mut u = Uart::new();
        u.write(reg::LCR, LCR_DLAB | 0x03);
        u.write(reg::RX_TX, 0x0c);
        u.write(reg::IER, 0x01);
        assert_eq!(rd(&mut u, reg::RX_TX), 0x0c);
        assert_eq!(rd(&mut u, reg::IER), 0x01);
        assert_eq!(u.rx_count(), 0);
        u.write(reg::LCR, 0x03);
        assert_eq!(rd(&mut u, reg::IER), 0);
    }

    #[test]
    fn save_restore_round_trips() {
        let mut u = Uart::new();
        u.write(reg::IER, IER_RDI | IER_THRI);
        u.write(reg::LCR, 0x1b);
        u.write(reg::SCR, 0x5a);
        for b in b"hello" {
            u.write(reg::RX_TX, *b);
        }
        rd(&mut u, reg::RX_TX);
        let saved = u.save();
        let mut back = Uart::restore(&saved).unwrap();
        assert_eq!(back, u);
        assert_eq!(rd(&mut back, reg::RX_TX), b'e');
    }

    #[test]
    fn restore_rejects_impossible_state() {
        let good = Uart::new().save();
        assert!(Uart::restore(&good[..SAVED_SIZE - 1]).is_err());
        for (at, value) in [
            (0, FIFO_SIZE as u8),
            (1, FIFO_SIZE as u8 + 1),
            (2, 0x10),
            (6, 0x02),
            (9, 2),
            (10, 7),
            (11, 1),
        ] {
            let mut bad = good;
            bad[at] = value;
            assert_eq!(Uart::restore(&bad), Err(BadState), "byte {at} = {value}");
        }
    }

    /// Random register sequences against a reference FIFO: bytes come back in order, DR and OE
    /// tell the truth, nothing panics, and save/restore anywhere changes nothing.
    #[test]
    fn random_sequences_match_a_reference_fifo() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..200 {
            let mut u = Uart::new();
            let mut fifo: VecDeque<u8> = VecDeque::new();
            let mut overrun = false;
            let mut fifo_on = true;
            let mut dlab = false;
            for _ in 0..500 {
                // data-path heavy: transmit, receive and line status most of the time
                let (write, r) = match rng.below(10) {
                    0..=3 => (true, reg::RX_TX),
                    4 | 5 => (false, reg::RX_TX),
                    6 | 7 => (false, reg::LSR),
                    _ => (rng.below(2) == 0, rng.below(8) as u8),
                };
                let v = match (write, r) {
                    // FIFO control, LCR: mostly the values drivers write, sometimes anything
                    (true, reg::IIR_FCR) if rng.below(4) != 0 => FCR_ENABLE_FIFO,
                    (true, reg::LCR) if rng.below(4) != 0 => 0x03,
                    _ => rng.next() as u8,
                };
                if write {
                    u.write(r, v);
                    match r {
                        reg::RX_TX if !dlab => {
                            if fifo.len() < if fifo_on { FIFO_SIZE } else { 1 } {
                                fifo.push_back(v);
                            } else {
                                overrun = true;
                            }
                        }
                        reg::IIR_FCR => {
                            let on = v & FCR_ENABLE_FIFO != 0;
                            if v & FCR_CLEAR_RCVR != 0 || on != fifo_on {
                                fifo.clear();
                            }
                            fifo_on = on;
                        }
                        reg::LCR => dlab = v & LCR_DLAB != 0,
                        _ => {}
                    }
                } else {
                    let got = rd(&mut u, r);
                    match r {
                        reg::RX_TX if !dlab => assert_eq!(got, fifo.pop_front().unwrap_or(0)),
                        reg::LSR => {
                            assert_eq!(got & LSR_DR != 0, !fifo.is_empty());
                            assert_eq!(got & LSR_OE != 0, overrun);
                            assert_eq!(got & (LSR_THRE | LSR_TEMT), LSR_THRE | LSR_TEMT);
                            overrun = false;
                        }
                        reg::IER if !dlab => assert_eq!(got & 0xf0, 0),
                        reg::IIR_FCR => {
                            let id = got & 0x0f;
                            assert!(
                                [IIR_NO_INT, IIR_MSI, IIR_THRI, IIR_RDI, IIR_RLSI].contains(&id)
                            );
                            assert_eq!(got & 0xf0, IIR_FIFO_BITS);
                        }
                        _ => {}
                    }
                }
                assert_eq!(u.rx_count(), fifo.len());
                if rng.below(50) == 0 {
                    let saved = u.save();
                    u = Uart::restore(&saved).expect("saved state restores");
                }
            }
        }
    }

    #[test]
    fn random_bytes_never_panic_restore() {
        let mut rng = Rng(42);
        let mut accepted = 0;
        for _ in 0..20_000 {
            let mut data = [0u8; SAVED_SIZE];
            for b in data.iter_mut() {
                *b = rng.next() as u8;
            }
            // bias towards plausible headers so validation paths past the first are reached
            if rng.below(2) == 0 {
                data[0] %= FIFO_SIZE as u8;
                data[1] %= FIFO_SIZE as u8 + 1;
                data[2] &= 0x0f;
                data[6] &= !0x06;
                data[9] &= 1;
                data[10] &= 1;
                data[11] = 0;
            }
            if let Ok(mut u) = Uart::restore(&data) {
                accepted += 1;
                for r in 0..8 {
                    u.read(r);
                }
            }
        }
        assert!(accepted > 0);
    }
}

#[cfg(test)]
mod mtty_config_tests {
    use super::mtty_config::*;
    use super::pci_config::{OutOfRange, SIZE};
    use super::read32;

    #[test]
    fn identity_as_upstream() {
        let c = new(2);
        assert_eq!(read32(&c, 0x00), IDS);
        assert_eq!(read32(&c, 0x2c), IDS);
        assert_eq!(read32(&c, 0x08), 0x0700_0210);
        assert_eq!(read32(&c, 0x04), 0x0200_0001);
        assert_eq!(read32(&c, 0x3c) >> 8 & 0xff, 1);
        assert_eq!(read32(&c, 0x10), 1);
        assert_eq!(read32(&c, 0x14), 1);
        assert_eq!(read32(&new(1), 0x14), 0);
        let mut sig = [0u8; 15];
        c.read(0x60, &mut sig).unwrap();
        assert_eq!(&sig, b"PCI Serial/UART");
    }

    #[test]
    fn bars_size_as_eight_byte_io() {
        for ports in [1usize, 2] {
            let mut c = new(ports);
            for bar in 0..6u64 {
                let off = 0x10 + 4 * bar;
                c.write(off, &u32::MAX.to_le_bytes()).unwrap();
                let v = read32(&c, off);
                if (bar as usize) < ports {
                    assert_eq!(v & 1, 1);
                    assert_eq!((!(v & !3)).wrapping_add(1), BAR_SIZE);
                    c.write(off, &(0xc000 + 0x10 * bar as u32).to_le_bytes())
                        .unwrap();
                    assert_eq!(read32(&c, off), (0xc000 + 0x10 * bar as u32) | 1);
                } else {
                    assert_eq!(v, 0, "BAR{bar} with {ports} ports");
                }
            }
        }
    }

    #[test]
    fn read_only_fields_stay() {
        let mut c = new(2);
        let before = c.clone();
        for off in [
            0x00u64, 0x02, 0x08, 0x0c, 0x2c, 0x34, 0x3d, 0x40, 0x60, 0xfc,
        ] {
            c.write(off, &[0xff]).unwrap();
        }
        assert_eq!(c, before);
        c.write(0x04, &[0xff, 0xff]).unwrap();
        assert_eq!(read32(&c, 0x04) & 0xffff, 0x0405);
        c.write(0x3c, &[0x0b]).unwrap();
        assert_eq!(read32(&c, 0x3c) & 0xffff, 0x010b);
    }

    #[test]
    fn bounds_and_restore() {
        let mut c = new(1);
        let mut b = [0u8; 4];
        assert_eq!(c.read(SIZE as u64 - 2, &mut b), Err(OutOfRange));
        assert_eq!(c.write(SIZE as u64, &[0]), Err(OutOfRange));
        assert_eq!(c.read(u64::MAX, &mut b[..1]), Err(OutOfRange));
        c.write(0x10, &0xc010u32.to_le_bytes()).unwrap();
        let saved = *c.bytes();
        let mut fresh = new(1);
        fresh.restore(&saved).unwrap();
        assert_eq!(fresh, c);
        let mut forged = saved;
        forged[0] ^= 1;
        assert_eq!(new(1).restore(&forged), Err(OutOfRange));
        assert_eq!(new(2).restore(&saved), Err(OutOfRange));
        assert_eq!(new(1).restore(&saved[1..]), Err(OutOfRange));
    }
}

#[path = "../../../../samples/vfio-mdev/mdpy_model.rs"]
#[allow(dead_code)]
mod mdpy_model;

#[cfg(test)]
mod mdpy_model_tests {
    use super::mdpy_model::*;
    use super::read32;

    #[test]
    fn modes_and_geometry() {
        let sizes: Vec<_> = MODES
            .iter()
            .map(|m| (m.width, m.height, m.stride(), m.framebuffer_size()))
            .collect();
        assert_eq!(
            sizes,
            [
                (640, 480, 2560, 2 << 20),
                (1024, 768, 4096, 4 << 20),
                (1920, 1080, 7680, 8 << 20)
            ]
        );
        for m in MODES {
            let size = m.framebuffer_size();
            assert!(size.is_power_of_two() && size >= m.picture_size());
            assert!(
                size / 2 < m.picture_size(),
                "{m:?}: not the smallest power of two"
            );
        }
    }

    #[test]
    fn identity_and_vendor_capability_as_mdpy_defs() {
        for m in MODES {
            let c = m.config();
            assert_eq!(read32(&c, 0x00), 0x000f_1b36);
            assert_eq!(read32(&c, 0x2c), 0x1100_1af4);
            assert_eq!(read32(&c, 0x08), 0x0380_0001);
            assert_eq!(read32(&c, 0x04) >> 16, 0x0010, "status: capability list");
            assert_eq!(read32(&c, 0x34) & 0xff, 0x40);
            assert_eq!(read32(&c, 0x40), 0x0010_0009, "vendor cap, last, 16 bytes");
            assert_eq!(read32(&c, FORMAT_OFFSET as u64), FORMAT_XRGB8888);
            assert_eq!(FORMAT_XRGB8888, 0x3432_5258);
            assert_eq!(read32(&c, WIDTH_OFFSET as u64), m.width);
            assert_eq!(read32(&c, HEIGHT_OFFSET as u64), m.height);
            assert_eq!(read32(&c, BAR0 as u64), 0x8, "32-bit prefetchable memory");
            for bar in 1..6 {
                assert_eq!(read32(&c, BAR0 as u64 + 4 * bar), 0);
            }
        }
    }

    #[test]
    fn bar0_sizes_as_the_framebuffer() {
        for m in MODES {
            let mut c = m.config();
            c.write(BAR0 as u64, &u32::MAX.to_le_bytes()).unwrap();
            let size = m.framebuffer_size();
            assert_eq!(read32(&c, BAR0 as u64), !(size - 1) | 0x8);
            c.write(BAR0 as u64, &0xe000_0000u32.to_le_bytes()).unwrap();
            assert_eq!(read32(&c, BAR0 as u64), 0xe000_0008);
            // the identity and the capability ignore writes
            c.write(0, &[0; 4]).unwrap();
            c.write(WIDTH_OFFSET as u64, &[0; 4]).unwrap();
            assert_eq!(read32(&c, 0), 0x000f_1b36);
            assert_eq!(read32(&c, WIDTH_OFFSET as u64), m.width);
            c.write(COMMAND as u64, &[0xff, 0xff]).unwrap();
            assert_eq!(read32(&c, COMMAND as u64) & 0xffff, u32::from(COMMAND_MASK));
        }
    }

    #[test]
    fn reset_picture_is_a_gradient() {
        for m in MODES {
            assert_eq!(m.reset_shade(0), 0);
            assert_eq!(
                m.reset_shade(m.height - 1),
                ((m.height - 1) * 255 / m.height) as u8
            );
            assert!((1..m.height).all(|r| m.reset_shade(r) >= m.reset_shade(r - 1)));
        }
        assert_eq!(MODES[0].reset_shade(240), 127);
    }
}

#[path = "../../../../samples/vfio-mdev/display_stream.rs"]
#[allow(dead_code)]
pub(crate) mod display_stream;

/// A saving stream in a vector, as the display samples' save functions write it.
pub(crate) struct VecSink {
    pub(crate) data: Vec<u8>,
    /// Where the phase being written began.
    pub(crate) phase: usize,
}

impl display_stream::Sink for VecSink {
    type Error = ();

    fn stream(&self) -> &[u8] {
        &self.data
    }

    fn append(&mut self, len: usize, fill: &mut display_stream::Fill<'_, ()>) -> Result<(), ()> {
        let old = self.data.len();
        self.data.resize(old + len, 0);
        fill(&mut self.data[old..]).inspect_err(|_| self.data.truncate(old))
    }

    fn rewind(&mut self, len: usize) {
        self.data.truncate(len.max(self.phase));
    }
}

#[cfg(test)]
mod display_stream_tests {
    use super::display_stream::*;
    use super::VecSink;

    const HEADER: Header = Header {
        magic: *b"TESTDS01",
        version: 1,
        type_index: 2,
        memory_size: 8 * PAGE_SIZE as u32,
    };
    const STATE_LEN: usize = 40;

    /// Saves `before` in the initial phase and `after` with `state` in the stop-copy phase.
    fn save(before: &[u8], after: &[u8], state: &[u8]) -> Vec<u8> {
        let mut out = VecSink {
            data: Vec::new(),
            phase: 0,
        };
        let read = |mem: &[u8]| {
            let mem = mem.to_vec();
            move |i: usize, buf: &mut [u8]| {
                buf.copy_from_slice(&mem[i * PAGE_SIZE..][..PAGE_SIZE]);
                Ok(())
            }
        };
        save_initial(&mut out, &HEADER, read(before)).unwrap();
        out.phase = out.data.len();
        save_final(&mut out, &HEADER, state, read(after)).unwrap();
        out.data
    }

    /// What a resuming device holds after loading `stream`: its memory and state.
    fn load(stream: &[u8]) -> Result<(Vec<u8>, Vec<u8>), Refused> {
        let state = check(stream, &HEADER, STATE_LEN)?.to_vec();
        let mut mem = vec![0u8; HEADER.memory_size as usize];
        for (i, page) in pages(stream, &HEADER) {
            mem[i * PAGE_SIZE..][..PAGE_SIZE].copy_from_slice(page);
        }
        Ok((mem, state))
    }

    fn memory(seed: u8, zero_pages: &[usize]) -> Vec<u8> {
        let mut mem: Vec<u8> = (0..HEADER.memory_size as usize)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) | 1)
            .collect();
        for &p in zero_pages {
            mem[p * PAGE_SIZE..][..PAGE_SIZE].fill(0);
        }
        mem
    }

    #[test]
    fn round_trip_sends_only_what_changed() {
        let before = memory(1, &[0, 3, 4]);
        let mut after = before.clone();
        after[2 * PAGE_SIZE + 17] ^= 0xff; // changed
        after[3 * PAGE_SIZE] = 9; // was zero, is not now
        after[5 * PAGE_SIZE..][..PAGE_SIZE].fill(0); // is zero now
        let state: Vec<u8> = (0..STATE_LEN as u8).collect();
        let stream = save(&before, &after, &state);
        assert_eq!(load(&stream), Ok((after, state)));
        // five pages initially, three again: 2, 3 and 5
        let records = HEADER_SIZE + 8 * PAGE_RECORD + RECORD_HEAD + STATE_LEN + RECORD_HEAD;
        assert_eq!(stream.len(), records);
        assert!(stream.len() <= HEADER.max_stream_size(STATE_LEN));
    }

    #[test]
    fn unchanged_memory_is_sent_once() {
        let mem = memory(7, &[6]);
        let stream = save(&mem, &mem, &[0; STATE_LEN]);
        let sent: Vec<usize> = pages(&stream, &HEADER).map(|(i, _)| i).collect();
        assert_eq!(sent, [0, 1, 2, 3, 4, 5, 7]);
        assert_eq!(load(&stream).unwrap().0, mem);
    }

    #[test]
    fn worst_case_fits_the_declared_size() {
        let before = memory(1, &[]);
        let after = memory(2, &[]);
        let stream = save(&before, &after, &[0; STATE_LEN]);
        assert_eq!(stream.len(), HEADER.max_stream_size(STATE_LEN));
        assert_eq!(load(&stream).unwrap().0, after);
    }

    #[test]
    fn stopped_save_fits_the_stop_copy_estimate() {
        // a device stopped without pre-copy sends everything in the stop-copy part
        let mem = memory(3, &[]);
        let stream = save(&mem, &mem, &[0; STATE_LEN]);
        assert_eq!(stream.len(), HEADER.stop_copy_size(STATE_LEN));
        // after pre-copy, the stop-copy part is the state, what changed and the end
        let before = memory(4, &[]);
        let after = memory(5, &[]);
        let stream = save(&before, &after, &[0; STATE_LEN]);
        // every page changed: the stop-copy part is all but the header of the estimate
        let initial = HEADER_SIZE + 8 * PAGE_RECORD;
        assert_eq!(
            stream.len() - initial,
            HEADER.stop_copy_size(STATE_LEN) - HEADER_SIZE
        );
    }

    #[test]
    fn refuses_another_header() {
        let stream = save(&memory(1, &[]), &memory(1, &[]), &[0; STATE_LEN]);
        for at in 0..20 {
            let mut bad = stream.clone();
            bad[at] ^= 1;
            assert_eq!(
                check(&bad, &HEADER, STATE_LEN),
                Err(Refused::Header),
                "byte {at}"
            );
            assert_eq!(check_prefix(&bad, &HEADER), Err(Refused::Header));
            // a prefix too short to judge is let through
            assert_eq!(check_prefix(&bad[..at], &HEADER), Ok(()));
        }
    }

    #[test]
    fn refuses_every_truncation() {
        let stream = save(&memory(1, &[1, 2, 5]), &memory(3, &[2]), &[0; STATE_LEN]);
        for len in 0..stream.len() {
            assert!(
                check(&stream[..len], &HEADER, STATE_LEN).is_err(),
                "length {len}"
            );
        }
        assert!(check(&stream, &HEADER, STATE_LEN).is_ok());
    }

    #[test]
    fn refuses_malformed_records() {
        let state = [0u8; STATE_LEN];
        let mem = memory(1, &[]);
        let good = save(&mem, &mem, &state);
        let end = good.len() - RECORD_HEAD;
        let with = |tail: &[u8]| [&good[..end], tail].concat();
        let page = |index: u32| [&record_head(TAG_PAGE, index)[..], &[0; PAGE_SIZE]].concat();
        let state_rec =
            |len: u32| [&record_head(TAG_STATE, len)[..], &vec![0; len as usize]].concat();
        let end_rec = record_head(TAG_END, 0);
        let cases: Vec<(Vec<u8>, Refused)> = vec![
            (with(&[&page(8)[..], &end_rec].concat()), Refused::PageIndex),
            (
                with(&[&page(u32::MAX)[..], &end_rec].concat()),
                Refused::PageIndex,
            ),
            (
                with(&[&record_head(9, 0)[..], &end_rec].concat()),
                Refused::Tag,
            ),
            (with(&record_head(TAG_END, 1)), Refused::Tag),
            (
                with(&[&state_rec(STATE_LEN as u32)[..], &end_rec].concat()),
                Refused::StateCount,
            ),
            (with(&[&end_rec[..], &[0]].concat()), Refused::AfterEnd),
            (good[..end].to_vec(), Refused::NoEnd),
            (
                [&good[..HEADER_SIZE], &end_rec[..]].concat(),
                Refused::StateCount,
            ),
            (
                [&good[..HEADER_SIZE], &state_rec(3)[..], &end_rec[..]].concat(),
                Refused::StateLength,
            ),
            (
                [&good[..HEADER_SIZE], &record_head(TAG_STATE, u32::MAX)[..]].concat(),
                Refused::Truncated,
            ),
        ];
        for (stream, why) in cases {
            assert_eq!(check(&stream, &HEADER, STATE_LEN), Err(why));
        }
    }
}

#[path = "../../../../samples/vfio-mdev/mbochs_model.rs"]
#[allow(dead_code)]
mod mbochs_model;

#[cfg(test)]
mod mbochs_model_tests {
    use super::mbochs_model::*;
    use super::{read32, Rng};

    fn edid_block() -> [u8; 128] {
        let mut b = [0u8; 128];
        b[..8].copy_from_slice(&[0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0]);
        for (i, x) in b.iter_mut().enumerate().take(127).skip(8) {
            *x = (i * 3) as u8;
        }
        b[127] = b[..127]
            .iter()
            .fold(0u8, |s, x| s.wrapping_add(*x))
            .wrapping_neg();
        b
    }

    fn reg(e: &Edid, at: u64) -> u32 {
        let mut b = [0u8; 4];
        e.read(at, &mut b).unwrap();
        u32::from_le_bytes(b)
    }

    fn set(e: &mut Edid, at: u64, v: u32) -> Result<(), Refused> {
        e.write(at, &v.to_le_bytes())
    }

    #[test]
    fn types_as_upstream() {
        let t: Vec<_> = TYPES.iter().map(|t| (t.mbytes, t.max_x, t.max_y)).collect();
        assert_eq!(t, [(4, 800, 600), (16, 1920, 1440), (64, 0, 0)]);
    }

    #[test]
    fn identity_and_bar_sizing() {
        for ty in &TYPES {
            let mut c = config(ty);
            assert_eq!(read32(&c, 0), 0x1111_1234);
            assert_eq!(read32(&c, 0x2c), 0x1100_1af4);
            assert_eq!(read32(&c, 0x08), 0x0380_0001);
            assert_eq!(read32(&c, BAR0 as u64), 0x8);
            assert_eq!(read32(&c, BAR2 as u64), 0);
            c.write(BAR0 as u64, &u32::MAX.to_le_bytes()).unwrap();
            c.write(BAR2 as u64, &u32::MAX.to_le_bytes()).unwrap();
            assert_eq!(read32(&c, BAR0 as u64), !(ty.vram_size() as u32 - 1) | 0x8);
            assert_eq!(read32(&c, BAR2 as u64), 0xffff_f000);
            for bar in [1u64, 3, 4, 5] {
                c.write(BAR0 as u64 + 4 * bar, &u32::MAX.to_le_bytes())
                    .unwrap();
                assert_eq!(
                    read32(&c, BAR0 as u64 + 4 * bar),
                    0,
                    "BAR{bar} does not exist"
                );
            }
        }
    }

    /// Each type's largest mode (what its `capabilities/display_max_resolution` says) is a
    /// mode the registers can set, shown whole; one line more is not, where memory bounds it.
    #[test]
    fn max_modes_fit() {
        let modes: Vec<_> = TYPES.iter().map(Type::max_mode).collect();
        assert_eq!(modes, [(800, 600), (1920, 1440), (4096, 4096)]);
        for ty in &TYPES {
            let (w, h) = ty.max_mode();
            let mut d = Dispi::new(ty.vram_size());
            for (r, v) in [(dispi::XRES, w), (dispi::YRES, h), (dispi::BPP, 32)] {
                d.set(r, v as u16);
            }
            d.set(dispi::ENABLE, DISPI_ENABLED);
            let m = d.mode(ty.vram_size()).unwrap();
            assert_eq!((m.width, m.height), (w, h));
            if ty.max_x == 0 {
                d.set(dispi::YRES, h as u16 + 1);
                assert_eq!(d.mode(ty.vram_size()), None, "no room for another line");
            }
        }
    }

    #[test]
    fn dispi_reset_and_modes() {
        let vram = 4 << 20;
        let mut d = Dispi::new(vram);
        assert_eq!(d.get(dispi::ID), Some(DISPI_ID5));
        assert_eq!(d.get(dispi::VIDEO_MEMORY_64K), Some(64));
        assert_eq!(d.get(dispi::COUNT), None);
        assert_eq!(d.mode(vram), None, "off after reset");
        for (r, v) in [(dispi::XRES, 640), (dispi::YRES, 480), (dispi::BPP, 32)] {
            d.set(r, v);
        }
        assert_eq!(d.mode(vram), None, "not enabled");
        d.set(dispi::ENABLE, DISPI_ENABLED);
        let m = d.mode(vram).unwrap();
        assert_eq!(
            (m.width, m.height, m.stride, m.offset, m.size),
            (640, 480, 2560, 0, 1228800)
        );
        d.set(dispi::VIRT_WIDTH, 1024);
        d.set(dispi::Y_OFFSET, 2);
        d.set(dispi::X_OFFSET, 16);
        let m = d.mode(vram).unwrap();
        assert_eq!(
            (m.stride, m.offset, m.size),
            (4096, 2 * 4096 + 64, 4096 * 480)
        );
        d.set(dispi::Y_OFFSET, 600);
        assert_eq!(d.mode(vram), None, "past video memory");
        d.set(dispi::Y_OFFSET, 0);
        d.set(dispi::BPP, 16);
        assert_eq!(d.mode(vram), None, "only 32 bpp");
        d.set(dispi::BPP, 32);
        d.set(dispi::XRES, 63);
        assert_eq!(d.mode(vram), None, "at least 64 wide");
    }

    /// Random register writes: a mode, when there is one, always lies in video memory and
    /// follows the registers.
    #[test]
    fn random_dispi_modes_fit() {
        let mut rng = Rng(0x6d62_6f63_6873);
        for vram in [4u64 << 20, 16 << 20, 64 << 20] {
            let mut d = Dispi::new(vram);
            for _ in 0..200_000 {
                let index = rng.below(dispi::COUNT as u64 + 2) as usize;
                let value = match rng.below(4) {
                    0 => rng.next() as u16,
                    1 => 32,
                    2 => DISPI_ENABLED,
                    _ => (rng.below(2048)) as u16,
                };
                d.set(index, value);
                if let Some(m) = d.mode(vram) {
                    assert!(m.offset + m.size <= vram);
                    assert!(m.width >= 64 && m.height >= 64);
                    assert_eq!(m.stride % 4, 0);
                    assert!(m.stride >= m.width * 4);
                    assert_eq!(u32::from(d.get(dispi::XRES).unwrap()), m.width);
                    assert_eq!(d.get(dispi::BPP), Some(32));
                }
            }
        }
    }

    #[test]
    fn mmio_dispi_and_edid_mirror() {
        let mut d = Dispi::new(16 << 20);
        let mut e = Edid::new(&TYPES[1]);
        let mut b = [0u8; 2];
        mmio_read(&d, &e, DISPI_OFFSET, &mut b);
        assert_eq!(u16::from_le_bytes(b), DISPI_ID5);
        mmio_write(&mut d, DISPI_OFFSET + 2, &800u16.to_le_bytes());
        assert_eq!(d.get(dispi::XRES), Some(800));
        // only aligned 16-bit accesses reach the registers
        mmio_write(&mut d, DISPI_OFFSET + 3, &1u16.to_le_bytes());
        mmio_write(&mut d, DISPI_OFFSET + 2, &[1]);
        assert_eq!(d.get(dispi::XRES), Some(800));
        let mut four = [0xffu8; 4];
        mmio_read(&d, &e, DISPI_OFFSET, &mut four);
        assert_eq!(four, [0; 4]);
        // QEMU's extended registers read as zero
        let mut q = [0xffu8; 4];
        mmio_read(&d, &e, 0x600, &mut q);
        assert_eq!(q, [0; 4]);
        // the EDID mirror shows the blob only while the link is up
        let blob = edid_block();
        e.write(u64::from(EDID_BLOB_OFFSET), &blob).unwrap();
        set(&mut e, 8, 128).unwrap();
        let mut seen = [0xffu8; 130];
        mmio_read(&d, &e, 0, &mut seen);
        assert_eq!(seen, [0; 130]);
        set(&mut e, 20, LINK_UP).unwrap();
        mmio_read(&d, &e, 0, &mut seen);
        assert_eq!(&seen[..128], &blob[..]);
        assert_eq!(&seen[128..], &[0, 0], "nothing past edid_size");
    }

    #[test]
    fn state_round_trip() {
        let ty = &TYPES[1];
        let mut space = config(ty);
        space.write(COMMAND as u64, &[0x02, 0x04]).unwrap();
        let mut d = Dispi::new(ty.vram_size());
        d.set(dispi::XRES, 1024);
        d.set(dispi::ENABLE, DISPI_ENABLED);
        d.set(dispi::ID, 0x1234); // a guest may write anything
        let mut e = Edid::new(ty);
        e.write(u64::from(EDID_BLOB_OFFSET), &edid_block()).unwrap();
        set(&mut e, 8, 128).unwrap();
        set(&mut e, 20, LINK_UP).unwrap();
        let mut saved = [0u8; STATE_LEN];
        save_state(&space, &d, &e, &mut saved).unwrap();
        let (space2, d2, e2) = restore_state(ty, &saved).unwrap();
        assert_eq!(space2.bytes(), space.bytes());
        assert_eq!((&d2, &e2), (&d, &e));
        // a fresh device round-trips too
        let mut fresh = [0u8; STATE_LEN];
        let new_dispi = Dispi::new(ty.vram_size());
        save_state(&config(ty), &new_dispi, &Edid::new(ty), &mut fresh).unwrap();
        assert!(restore_state(ty, &fresh).is_ok());
        assert_eq!(
            save_state(&space, &d, &e, &mut fresh[1..]),
            Err(Refused::Invalid)
        );
    }

    #[test]
    fn state_restore_refuses_what_no_device_holds() {
        let ty = &TYPES[0];
        let mut e = Edid::new(ty);
        e.write(u64::from(EDID_BLOB_OFFSET), &edid_block()).unwrap();
        set(&mut e, 8, 128).unwrap();
        set(&mut e, 20, LINK_UP).unwrap();
        let mut good = [0u8; STATE_LEN];
        save_state(&config(ty), &Dispi::new(ty.vram_size()), &e, &mut good).unwrap();
        let edid_at = STATE_LEN - EDID_STATE_LEN;
        let refused = |bad: &[u8]| restore_state(ty, bad).err() == Some(Refused::Invalid);
        // the wrong length
        assert!(refused(&good[1..]));
        // a read-only configuration bit (the vendor id)
        let mut bad = good;
        bad[0] ^= 1;
        assert!(refused(&bad));
        // a blob size past the room
        let mut bad = good;
        bad[edid_at..edid_at + 4].copy_from_slice(&(EDID_MAX_SIZE as u32 + 128).to_le_bytes());
        assert!(refused(&bad));
        // the link up with a blob whose checksum is wrong
        let mut bad = good;
        bad[edid_at + 8 + 20] ^= 1;
        assert!(refused(&bad));
        // a link state the uAPI does not have
        let mut bad = good;
        bad[edid_at + 4..edid_at + 8].copy_from_slice(&3u32.to_le_bytes());
        assert!(refused(&bad));
        // the same blob with the link down is a state a VMM can leave
        let mut down = good;
        down[edid_at + 8 + 20] ^= 1;
        down[edid_at + 4..edid_at + 8].copy_from_slice(&LINK_DOWN.to_le_bytes());
        assert!(restore_state(ty, &down).is_ok());
    }

    #[test]
    fn edid_registers_and_checks() {
        let mut e = Edid::new(&TYPES[0]);
        assert_eq!(
            [0, 4, 8, 12, 16, 20].map(|at| reg(&e, at)),
            [0x800, 0x400, 0, 800, 600, 0]
        );
        assert_eq!(set(&mut e, 0, 1), Err(Refused::ReadOnly));
        assert_eq!(set(&mut e, 4, 1), Err(Refused::ReadOnly));
        assert_eq!(set(&mut e, 12, 1), Err(Refused::ReadOnly));
        assert_eq!(set(&mut e, 8, 0x401), Err(Refused::Invalid));
        assert_eq!(set(&mut e, 20, 3), Err(Refused::Invalid));
        assert_eq!(
            set(&mut e, 20, LINK_UP),
            Err(Refused::Invalid),
            "no blob yet"
        );
        let mut two = [0u8; 2];
        assert_eq!(e.read(8, &mut two), Err(Refused::Invalid));
        let mut all = [0u8; 24];
        e.read(0, &mut all).unwrap();
        assert_eq!(
            &all[12..16],
            &800u32.to_le_bytes(),
            "several registers at once"
        );
        let mut pair = [0u8; 8];
        pair[..4].copy_from_slice(&128u32.to_le_bytes());
        pair[4..].copy_from_slice(&5u32.to_le_bytes());
        assert_eq!(
            e.write(8, &pair),
            Err(Refused::ReadOnly),
            "max_xres is read only"
        );
        assert_eq!(reg(&e, 8), 0, "a refused write changes nothing");
        assert_eq!(e.read(24, &mut [0u8; 4]), Err(Refused::Invalid));
        assert_eq!(e.read(2, &mut [0u8; 4]), Err(Refused::Invalid));
        assert_eq!(e.write(0x800 + 0x3ff, &[0, 0]), Err(Refused::Invalid));
        assert!(e.write(0x800 + 0x3fe, &[0, 0]).is_ok());
        let mut blob = edid_block();
        e.write(0x800, &blob).unwrap();
        set(&mut e, 8, 100).unwrap();
        assert_eq!(
            set(&mut e, 20, LINK_UP),
            Err(Refused::Invalid),
            "not whole blocks"
        );
        set(&mut e, 8, 128).unwrap();
        blob[50] ^= 1;
        e.write(0x800, &blob).unwrap();
        assert_eq!(
            set(&mut e, 20, LINK_UP),
            Err(Refused::Invalid),
            "bad checksum"
        );
        blob[50] ^= 1;
        blob[0] = 1;
        e.write(0x800, &blob).unwrap();
        assert_eq!(
            set(&mut e, 20, LINK_UP),
            Err(Refused::Invalid),
            "bad header"
        );
        blob[0] = 0;
        e.write(0x800, &blob).unwrap();
        assert_eq!(set(&mut e, 20, LINK_UP), Ok(()));
        assert!(e.link_up());
        assert_eq!(reg(&e, 20), LINK_UP);
        set(&mut e, 20, LINK_DOWN).unwrap();
        assert!(!e.link_up());
    }

    /// Random accesses anywhere in the EDID region never panic, and a refused one changes
    /// nothing.
    #[test]
    fn random_edid_accesses() {
        let mut rng = Rng(0x0ed1d);
        let mut e = Edid::new(&TYPES[2]);
        for _ in 0..200_000 {
            let at = rng.below(EDID_REGION_SIZE + 8);
            let len = 1 + rng.below(8) as usize;
            let mut buf = [0u8; 8];
            for b in buf.iter_mut() {
                *b = rng.next() as u8;
            }
            if rng.below(2) == 0 {
                let before = e.clone();
                if e.write(at, &buf[..len]).is_err() {
                    assert_eq!(e, before);
                }
            } else {
                let _ = e.read(at, &mut buf[..len]);
            }
            assert!(reg(&e, 8) as usize <= EDID_MAX_SIZE);
        }
    }
}

#[path = "../../../../rust/kernel/vfio/cap_chain.rs"]
#[allow(dead_code)]
mod cap_chain;

#[cfg(test)]
mod cap_chain_tests {
    use super::cap_chain::{link, record_size, shift, write_record, HEADER_SIZE};

    /// Builds a chain the way the kernel crate's `CapChain::add` does.
    fn build(caps: &[(u16, u16, &[u8])]) -> Vec<u8> {
        let mut chain = Vec::new();
        let mut last = None;
        for &(id, version, body) in caps {
            let start = chain.len();
            chain.resize(start + record_size(body.len()).unwrap(), 0);
            write_record(&mut chain[start..], id, version, body);
            if let Some(last) = last {
                link(&mut chain, last, start as u32);
            }
            last = Some(start);
        }
        chain
    }

    fn u16_at(b: &[u8], at: usize) -> u16 {
        u16::from_ne_bytes([b[at], b[at + 1]])
    }

    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    #[test]
    fn records_are_padded_to_eight_bytes() {
        assert_eq!(record_size(0), Some(8));
        assert_eq!(record_size(1), Some(16));
        assert_eq!(record_size(8), Some(16));
        assert_eq!(record_size(13), Some(24));
        assert_eq!(record_size(usize::MAX - 4), None);
    }

    /// Three records of odd sizes after a 32-byte answer, walked as userspace walks them.
    #[test]
    fn shifted_chain_walks_from_the_answer() {
        const ANSWER: usize = 32;
        let bodies: [&[u8]; 3] = [&[1, 2, 3], &[4; 13], &[]];
        let mut chain = build(&[(2, 1, bodies[0]), (7, 3, bodies[1]), (9, 1, bodies[2])]);
        assert_eq!(chain.len(), 16 + 24 + 8);
        shift(&mut chain, ANSWER as u32).unwrap();

        let mut reply = vec![0u8; ANSWER];
        reply.extend_from_slice(&chain);
        let mut at = ANSWER;
        let mut seen = Vec::new();
        loop {
            assert_eq!(at % 8, 0);
            let first = reply.get(at + HEADER_SIZE).copied();
            seen.push((u16_at(&reply, at), u16_at(&reply, at + 2), first));
            let next = u32_at(&reply, at + 4) as usize;
            if next == 0 {
                break;
            }
            assert!(next > at && next < reply.len());
            at = next;
        }
        assert_eq!(seen.len(), 3);
        assert_eq!(seen, [(2, 1, Some(1)), (7, 3, Some(4)), (9, 1, None)]);
        assert_eq!(at + 8, reply.len());
    }

    #[test]
    fn a_single_record_keeps_next_zero() {
        let mut chain = build(&[(2, 1, &[0xaa; 8])]);
        shift(&mut chain, 32).unwrap();
        assert_eq!(u32_at(&chain, 4), 0);
        assert_eq!(&chain[8..16], &[0xaa; 8]);
    }

    #[test]
    fn broken_links_are_refused() {
        let mut chain = build(&[(2, 1, &[0; 8]), (3, 1, &[])]);
        // a link back to itself, and one past the end
        link(&mut chain, 0, 0x10_0000);
        assert_eq!(shift(&mut chain.clone(), 32), None);
        let mut looped = build(&[(2, 1, &[0; 8]), (3, 1, &[])]);
        link(&mut looped, 16, 16);
        assert_eq!(shift(&mut looped, 32), None);
        // an offset that overflows
        let mut chain = build(&[(2, 1, &[0; 8]), (3, 1, &[])]);
        assert_eq!(shift(&mut chain, u32::MAX), None);
    }
}

pub mod fuzz;

#[cfg(test)]
mod fuzz_corpus_tests {
    use std::{fs, path::Path};

    /// Every committed corpus entry of every fuzz target runs clean.
    #[test]
    fn committed_corpora_replay() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
        for (name, target) in super::fuzz::TARGETS {
            let dir = root.join(name);
            let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir:?}: {e}"));
            let mut n = 0;
            for entry in entries {
                let path = entry.unwrap().path();
                target(&fs::read(&path).unwrap());
                n += 1;
            }
            assert!(n > 0, "{dir:?} is empty");
        }
    }
}
