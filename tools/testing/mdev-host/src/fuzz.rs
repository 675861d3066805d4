// SPDX-License-Identifier: GPL-2.0

//! Fuzz entry points for the pure models, one per `cargo fuzz` target (`fuzz/fuzz_targets/`).
//!
//! Each takes arbitrary bytes, drives a model the way its driver does (within the bounds the
//! driver checks before it calls the model), and panics when an invariant breaks: a panic is
//! what libFuzzer reports as a crash. The host tests also replay the committed corpora
//! through these functions, so a corpus entry that once found a bug keeps testing for it.

use super::display_stream as ds;
use super::mbochs_model::{self as mbochs, dispi, Dispi, Edid, Refused};
use super::mdpy_model as mdpy;
use super::mtty_config;
use super::mtty_uart::{Uart, FIFO_SIZE, SAVED_SIZE};
use super::pci_config::SIZE as CONFIG_SIZE;
use super::uuid;
use super::VecSink;

/// Reads the fuzzer's bytes as a sequence of small values; zeros once they run out.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    /// A value below `n` (`n` > 0), from one or two bytes.
    fn below(&mut self, n: u64) -> u64 {
        let v = if n <= 256 {
            u64::from(self.u8())
        } else {
            u64::from(self.u16())
        };
        v % n
    }

    /// Up to `len` bytes (fewer if the input ends).
    fn bytes(&mut self, len: usize) -> &[u8] {
        let (head, rest) = self.0.split_at(len.min(self.0.len()));
        self.0 = rest;
        head
    }
}

/// An access of a region of `size` bytes as the drivers check it: offset and length inside.
fn access(input: &mut Input<'_>, size: u64, max_len: u64) -> (u64, usize) {
    let offset = input.below(size);
    let len = 1 + input.below((size - offset).min(max_len));
    (offset, len as usize)
}

/// UART registers: any sequence of reads and writes leaves a port in a state its own
/// migration stream describes, and which restores to the same port.
pub fn uart(data: &[u8]) {
    let mut input = Input(data);
    let mut port = Uart::new();
    while !input.is_empty() {
        let op = input.u8();
        let offset = op & 7;
        let before = port.interrupt_pending();
        if op & 0x80 != 0 {
            let raised = port.write(offset, input.u8());
            // "raised" means the line is up after the write
            assert!(!raised || port.interrupt_pending());
        } else {
            let _ = port.read(offset);
            // a read only takes causes away
            assert!(before || !port.interrupt_pending());
        }
        let saved = port.save();
        assert!(
            usize::from(saved[1]) <= FIFO_SIZE,
            "{} bytes queued",
            saved[1]
        );
        assert_eq!(Uart::restore(&saved).as_ref(), Ok(&port));
    }
}

/// The configuration spaces of every sample and type, as guests write and read them: writes
/// change only writable bits, accesses beyond the space are refused, the space restores.
pub fn pci_config(data: &[u8]) {
    let mut input = Input(data);
    let which = input.u8();
    let initial = match which % 8 {
        0 => super::minimal_config::new(),
        1 => mtty_config::new(1),
        2 => mtty_config::new(2),
        3..=5 => mdpy::MODES[usize::from(which % 8 - 3)].config(),
        n => mbochs::config(&mbochs::TYPES[usize::from(n - 6)]),
    };
    let mut config = initial.clone();
    while !input.is_empty() {
        let op = input.u8();
        // any offset and length: the drivers hand the model what the guest asked for
        let offset = u64::from(input.u16()) % (CONFIG_SIZE as u64 + 8);
        let len = usize::from(op & 0x7f) % 9;
        let fits = len > 0 && offset as usize + len <= CONFIG_SIZE;
        if op & 0x80 != 0 {
            let mut value = input.bytes(len).to_vec();
            value.resize(len, 0);
            let before = config.clone();
            let result = config.write(offset, &value);
            assert_eq!(result.is_ok(), fits);
            if result.is_err() {
                assert_eq!(config, before);
            }
        } else {
            let mut buf = vec![0u8; len];
            assert_eq!(config.read(offset, &mut buf).is_ok(), fits);
        }
        // what the guest can reach is what a migration stream may carry
        assert!(initial.clone().restore(config.bytes()).is_ok());
    }
}

/// mtty's migration stream after its header: a configuration space and the ports' states,
/// restored as the driver does. What restores saves back to the same bytes and keeps working.
pub fn mtty_restore(data: &[u8]) {
    let mut input = Input(data);
    let ports = 1 + usize::from(input.u8() & 1);
    let config_bytes = input.bytes(CONFIG_SIZE).to_vec();
    let mut config = mtty_config::new(ports);
    if config.restore(&config_bytes).is_ok() {
        assert_eq!(&config.bytes()[..], &config_bytes[..]);
    } else {
        assert_eq!(
            config,
            mtty_config::new(ports),
            "a refused restore changed the space"
        );
    }
    for _ in 0..ports {
        let saved = input.bytes(SAVED_SIZE).to_vec();
        let Ok(mut port) = Uart::restore(&saved) else {
            continue;
        };
        assert_eq!(&port.save()[..], &saved[..]);
        // a restored port goes on as any other
        for _ in 0..FIFO_SIZE + 2 {
            let op = input.u8();
            if op & 0x80 != 0 {
                port.write(op & 7, input.u8());
            } else {
                port.read(op & 7);
            }
            assert_eq!(Uart::restore(&port.save()).as_ref(), Ok(&port));
        }
    }
}

/// A display sample's resuming stream (`mdpy_rs`, `mbochs_rs`): refused, or loaded into
/// memory and state that save back to a stream no longer than declared, which loads the same.
/// An odd first byte puts the expected header in front of the rest.
pub fn display_restore(data: &[u8]) {
    const HEADER: ds::Header = ds::Header {
        magic: *b"FUZZDS01",
        version: 1,
        type_index: 0,
        memory_size: 4 * ds::PAGE_SIZE as u32,
    };
    const STATE_LEN: usize = 16;
    const PAGE: usize = ds::PAGE_SIZE;
    let (glue, rest) = data.split_first().map_or((0, data), |(&b, r)| (b, r));
    let stream = if glue & 1 != 0 {
        [&HEADER.bytes()[..], rest].concat()
    } else {
        rest.to_vec()
    };
    let _ = ds::check_prefix(&stream, &HEADER);
    let load = |stream: &[u8]| {
        let mut mem = vec![0u8; HEADER.memory_size as usize];
        for (i, page) in ds::pages(stream, &HEADER) {
            mem[i * PAGE..][..PAGE].copy_from_slice(page);
        }
        mem
    };
    let Ok(state) = ds::check(&stream, &HEADER, STATE_LEN) else {
        return;
    };
    let mem = load(&stream);
    let read = |i: usize, buf: &mut [u8]| {
        buf.copy_from_slice(&mem[i * PAGE..][..PAGE]);
        Ok(())
    };
    let mut out = VecSink {
        data: Vec::new(),
        phase: 0,
    };
    ds::save_initial(&mut out, &HEADER, read).unwrap();
    out.phase = out.data.len();
    ds::save_final(&mut out, &HEADER, state, read).unwrap();
    assert!(out.data.len() <= HEADER.max_stream_size(STATE_LEN));
    let again = ds::check(&out.data, &HEADER, STATE_LEN).expect("a saved stream is refused");
    assert_eq!(again, state);
    assert_eq!(load(&out.data), mem);
}

/// The bochs MMIO BAR as a guest uses it: dispi registers read back what was written (the
/// 16-bit accesses the driver forwards), other accesses never panic.
pub fn dispi(data: &[u8]) {
    let mut input = Input(data);
    let ty = &mbochs::TYPES[usize::from(input.u8()) % mbochs::TYPES.len()];
    let mut regs = Dispi::new(ty.vram_size());
    let edid = Edid::new(ty);
    let size = u64::from(mbochs::MMIO_SIZE);
    while !input.is_empty() {
        let op = input.u8();
        let (offset, len) = if op & 0x40 != 0 {
            // a dispi register, as a 16-bit access
            (
                mbochs::DISPI_OFFSET + 2 * input.below(dispi::COUNT as u64 + 2),
                2,
            )
        } else {
            access(&mut input, size, 8)
        };
        if offset + len as u64 > size {
            continue;
        }
        if op & 0x80 != 0 {
            let value = input.bytes(len).to_vec();
            if value.len() != len {
                break;
            }
            mbochs::mmio_write(&mut regs, offset, &value);
            let mut back = vec![0u8; len];
            mbochs::mmio_read(&regs, &edid, offset, &mut back);
            let index = offset.checked_sub(mbochs::DISPI_OFFSET).map(|at| at / 2);
            if len == 2 && offset % 2 == 0 && index.is_some_and(|i| i < dispi::COUNT as u64) {
                assert_eq!(back, value);
            }
        } else {
            let mut buf = vec![0xa5u8; len];
            mbochs::mmio_read(&regs, &edid, offset, &mut buf);
        }
    }
}

/// The plane a set of dispi registers describes: when there is one, it lies inside video
/// memory and its geometry adds up (checked in 128-bit arithmetic).
pub fn plane(data: &[u8]) {
    let mut input = Input(data);
    let vram = match input.u8() % 4 {
        3 => u64::from(input.u16()) << 10,
        n => mbochs::TYPES[usize::from(n)].vram_size(),
    };
    let mut regs = Dispi::new(vram);
    for index in 0..dispi::COUNT {
        regs.set(index, input.u16());
    }
    let get = |index| u128::from(regs.get(index).unwrap());
    let Some(mode) = regs.mode(vram) else {
        return;
    };
    assert_eq!(get(dispi::ENABLE) & 1, 1);
    assert_eq!(get(dispi::BPP), 32);
    assert_eq!(u128::from(mode.width), get(dispi::XRES));
    assert_eq!(u128::from(mode.height), get(dispi::YRES));
    assert!(mode.width >= 64 && mode.height >= 64);
    let stride = get(dispi::VIRT_WIDTH).max(get(dispi::XRES)) * 4;
    assert_eq!(u128::from(mode.stride), stride);
    assert_eq!(u128::from(mode.size), stride * get(dispi::YRES));
    assert_eq!(
        u128::from(mode.offset),
        get(dispi::X_OFFSET) * 4 + get(dispi::Y_OFFSET) * stride
    );
    assert!(u128::from(mode.offset) + u128::from(mode.size) <= u128::from(vram));
    // the mdpy modes are fixed: their geometry adds up too
    for m in &mdpy::MODES {
        assert!(u64::from(m.picture_size()) <= u64::from(m.framebuffer_size()));
        assert!(m.framebuffer_size().is_power_of_two());
    }
}

/// The EDID region as a VMM drives it: whole registers or blob bytes, anything else refused
/// and without effect; the size never exceeds the blob's room; the link goes up only with a
/// blob a guest can parse.
pub fn edid(data: &[u8]) {
    let mut input = Input(data);
    let ty = &mbochs::TYPES[usize::from(input.u8()) % mbochs::TYPES.len()];
    let mut edid = Edid::new(ty);
    let size = mbochs::EDID_REGION_SIZE;
    while !input.is_empty() {
        let op = input.u8();
        let (offset, len) = match op & 0x60 {
            // a register (some not aligned), and sometimes a valid link state or size
            0x00 => (input.below(28), 4),
            0x20 => (
                u64::from(mbochs::EDID_BLOB_OFFSET) + input.below(mbochs::EDID_MAX_SIZE as u64),
                1 + usize::from(input.u8() % 128),
            ),
            _ => access(&mut input, size, 0x400),
        };
        if offset + len as u64 > size {
            continue;
        }
        if op & 0x80 != 0 {
            let mut value = input.bytes(len).to_vec();
            value.resize(len, 0);
            if op & 0x10 != 0 && len == 4 {
                value.copy_from_slice(&u32::from(input.u8() % 3).to_le_bytes());
            }
            let before = edid.clone();
            match edid.write(offset, &value) {
                Ok(()) if offset == 20 && value == mbochs::LINK_UP.to_le_bytes() => {
                    // up: the guest sees whole blocks, starting with the EDID header
                    assert!(edid.link_up());
                    let size = edid_size(&edid);
                    assert!(size > 0 && size % 128 == 0, "link up with {size} bytes");
                    let mut mirror = [0u8; 8];
                    edid.mirror(0, &mut mirror);
                    assert_eq!(mirror, [0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0]);
                }
                Ok(()) => {}
                Err(Refused::Invalid | Refused::ReadOnly) => assert_eq!(edid, before),
            }
        } else {
            let mut buf = vec![0u8; len];
            let _ = edid.read(offset, &mut buf);
        }
        assert!(edid_size(&edid) <= mbochs::EDID_MAX_SIZE);
    }
}

/// The EDID region's size register.
fn edid_size(edid: &Edid) -> usize {
    let mut reg = [0u8; 4];
    edid.read(8, &mut reg).unwrap();
    u32::from_le_bytes(reg) as usize
}

/// UUID text: parsed exactly when it is 36 characters of the UUID form, and printed back as
/// the same text in lower case.
pub fn uuid(data: &[u8]) {
    let valid = data.len() == uuid::TEXT_LEN
        && data.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        });
    let parsed = uuid::parse(data);
    assert_eq!(parsed.is_some(), valid);
    if let Some(guid) = parsed {
        let text = uuid::format(&guid);
        assert_eq!(&text[..uuid::TEXT_LEN], &data.to_ascii_lowercase()[..]);
    }
}

/// mbochs' registers in a migration stream's state record, restored as the driver does: a
/// state the device saved, changed byte by byte as the input says. What restores saves back
/// to the same bytes; what is refused is a state no device of the type holds.
pub fn mbochs_state(data: &[u8]) {
    let mut input = Input(data);
    let ty = &mbochs::TYPES[usize::from(input.u8()) % mbochs::TYPES.len()];
    let mut edid = Edid::new(ty);
    // a usable blob and the link up, or left as the region starts
    if input.u8() & 1 != 0 {
        let mut block = [0u8; 128];
        block[..8].copy_from_slice(&[0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0]);
        block[127] = block
            .iter()
            .fold(0u8, |s, b| s.wrapping_add(*b))
            .wrapping_neg();
        let blob = u64::from(mbochs::EDID_BLOB_OFFSET);
        edid.write(blob, &block).unwrap();
        edid.write(8, &128u32.to_le_bytes()).unwrap();
        edid.write(20, &mbochs::LINK_UP.to_le_bytes()).unwrap();
    }
    let mut saved = [0u8; mbochs::STATE_LEN];
    mbochs::save_state(
        &mbochs::config(ty),
        &Dispi::new(ty.vram_size()),
        &edid,
        &mut saved,
    )
    .unwrap();
    while !input.is_empty() {
        let at = input.below(mbochs::STATE_LEN as u64) as usize;
        saved[at] ^= input.u8();
    }
    let Ok((config, regs, edid)) = mbochs::restore_state(ty, &saved) else {
        return;
    };
    let mut again = [0u8; mbochs::STATE_LEN];
    mbochs::save_state(&config, &regs, &edid, &mut again).unwrap();
    assert_eq!(again, saved, "a restored state saves back differently");
}

/// Every target by name, for the corpus replay of the host tests.
pub const TARGETS: [(&str, fn(&[u8])); 9] = [
    ("uart", uart),
    ("pci_config", pci_config),
    ("mtty_restore", mtty_restore),
    ("display_restore", display_restore),
    ("dispi", dispi),
    ("plane", plane),
    ("edid", edid),
    ("uuid", uuid),
    ("mbochs_state", mbochs_state),
];
