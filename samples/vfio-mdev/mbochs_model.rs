// SPDX-License-Identifier: GPL-2.0

//! The mbochs display device: the types and their video memory, the PCI configuration space
//! (QEMU's bochs display, 1234:1111), the MMIO BAR with the bochs VBE "dispi" registers, the
//! display mode they describe, and the EDID region (`struct vfio_region_gfx_edid` and its
//! blob). Pure logic, no kernel calls: the host tests in `tools/testing/mdev-host` include this
//! file.

use super::pci_config::ConfigSpace;

/// PCI vendor ID (QEMU's bochs display).
pub(crate) const VENDOR_ID: u16 = 0x1234;
/// PCI device ID.
pub(crate) const DEVICE_ID: u16 = 0x1111;
/// PCI subsystem vendor ID (Red Hat / Qumranet).
pub(crate) const SUBVENDOR_ID: u16 = 0x1af4;
/// PCI subsystem ID (QEMU).
pub(crate) const SUBDEVICE_ID: u16 = 0x1100;
/// Revision 1, class "display controller, other" (0x0380).
pub(crate) const CLASS_REVISION: u32 = 0x0380_0001;

/// Offset of the command register.
pub(crate) const COMMAND: usize = 0x04;
/// Bits of the command register the device implements: memory space and INTx disable.
pub(crate) const COMMAND_MASK: u16 = 0x0402;
/// Offset of BAR 0, the video memory: 32-bit prefetchable memory.
pub(crate) const BAR0: usize = 0x10;
const BAR0_FLAGS: u32 = 0x8;
/// Offset of BAR 2, the MMIO registers: 32-bit memory.
pub(crate) const BAR2: usize = 0x18;
/// Size of BAR 2.
pub(crate) const MMIO_SIZE: u32 = 4096;
/// Offset of the subsystem vendor and subsystem IDs.
const SUBSYSTEM: usize = 0x2c;

/// `DRM_FORMAT_XRGB8888`, the one pixel format a plane is shown in (at 32 bits per pixel).
pub(crate) const FORMAT_XRGB8888: u32 = u32::from_le_bytes(*b"XR24");

/// A type of instance: its video memory and the largest mode its EDID advertises.
#[derive(Debug)]
pub(crate) struct Type {
    /// Megabytes of video memory (and of the parent's budget).
    pub(crate) mbytes: u32,
    /// Largest width in the EDID region's `max_xres` (0: no limit).
    pub(crate) max_x: u32,
    /// Largest height in the EDID region's `max_yres` (0: no limit).
    pub(crate) max_y: u32,
}

impl Type {
    /// Bytes of video memory: the size of BAR 0.
    pub(crate) const fn vram_size(&self) -> u64 {
        self.mbytes as u64 * 1024 * 1024
    }

    /// The largest mode (width, height) an instance shows: the EDID's limit, or without one the
    /// largest square whose 32-bit pixels fill the video memory.
    pub(crate) const fn max_mode(&self) -> (u32, u32) {
        if self.max_x != 0 && self.max_y != 0 {
            return (self.max_x, self.max_y);
        }
        let pixels = self.vram_size() / 4;
        let mut side: u64 = 1;
        while (side + 1) * (side + 1) <= pixels {
            side += 1;
        }
        (side as u32, side as u32)
    }
}

/// The types `mbochs-small`, `mbochs-medium` and `mbochs-large` (the driver's type table, in
/// the same order), as upstream has them.
pub(crate) static TYPES: [Type; 3] = TYPE_TABLE;

/// [`TYPES`], for constant expressions (the driver's type table).
pub(crate) const TYPE_TABLE: [Type; 3] = [
    Type {
        mbytes: 4,
        max_x: 800,
        max_y: 600,
    },
    Type {
        mbytes: 16,
        max_x: 1920,
        max_y: 1440,
    },
    Type {
        mbytes: 64,
        max_x: 0,
        max_y: 0,
    },
];

/// The configuration space of a device of `ty` after reset.
pub(crate) fn config(ty: &Type) -> ConfigSpace {
    let ids = u32::from(DEVICE_ID) << 16 | u32::from(VENDOR_ID);
    let subsystem = u32::from(SUBDEVICE_ID) << 16 | u32::from(SUBVENDOR_ID);
    // Software may write the address bits of a BAR above its size: writing all ones reads
    // back the size. Video memory sizes are powers of two, and 32-bit.
    let bar0_mask = !(ty.vram_size() as u32 - 1);
    let bar2_mask = !(MMIO_SIZE - 1);
    let mut config = ConfigSpace::new();
    config
        .init(0x00, &ids.to_le_bytes())
        .init(0x08, &CLASS_REVISION.to_le_bytes())
        .init(BAR0, &BAR0_FLAGS.to_le_bytes())
        .init(SUBSYSTEM, &subsystem.to_le_bytes())
        .writable(COMMAND, &COMMAND_MASK.to_le_bytes())
        .writable(BAR0, &bar0_mask.to_le_bytes())
        .writable(BAR2, &bar2_mask.to_le_bytes());
    config
}

/// Where the VBE "dispi" registers are in the MMIO BAR: 16 bits each, in index order.
pub(crate) const DISPI_OFFSET: u64 = 0x500;
/// The dispi registers, by index.
pub(crate) mod dispi {
    /// Interface version; reads [`super::DISPI_ID5`] after reset.
    pub(crate) const ID: usize = 0x0;
    /// Width of the mode in pixels.
    pub(crate) const XRES: usize = 0x1;
    /// Height of the mode in lines.
    pub(crate) const YRES: usize = 0x2;
    /// Bits per pixel.
    pub(crate) const BPP: usize = 0x3;
    /// [`super::DISPI_ENABLED`] and other flags.
    pub(crate) const ENABLE: usize = 0x4;
    /// Width of the virtual screen in pixels: the stride.
    pub(crate) const VIRT_WIDTH: usize = 0x6;
    /// First visible column of the virtual screen.
    pub(crate) const X_OFFSET: usize = 0x8;
    /// First visible line of the virtual screen.
    pub(crate) const Y_OFFSET: usize = 0x9;
    /// Video memory in units of 64 KiB (read only to guests in practice).
    pub(crate) const VIDEO_MEMORY_64K: usize = 0xa;
    /// Number of registers (index 0x5 is the legacy VGA bank, 0x7 the virtual height: kept, unused).
    pub(crate) const COUNT: usize = 0xb;
}
/// The version the ID register reports.
pub(crate) const DISPI_ID5: u16 = 0xb0c5;
/// The display is on.
pub(crate) const DISPI_ENABLED: u16 = 0x01;
/// Where the EDID blob is mirrored, read only, in the MMIO BAR (as QEMU's bochs display has it).
const MMIO_EDID_END: u64 = 0x400;

/// The mode the dispi registers describe, when they describe one that can be shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mode {
    /// Width in pixels.
    pub(crate) width: u32,
    /// Height in pixels.
    pub(crate) height: u32,
    /// Bytes from one line to the next.
    pub(crate) stride: u32,
    /// Where the first visible pixel is in video memory.
    pub(crate) offset: u64,
    /// Bytes from the first visible pixel to the end of the last visible line.
    pub(crate) size: u64,
}

/// Bytes of the dispi registers in a migration stream.
pub(crate) const DISPI_STATE_LEN: usize = 2 * dispi::COUNT;

/// The VBE dispi registers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Dispi {
    regs: [u16; dispi::COUNT],
}

impl Dispi {
    /// The registers after reset, for `vram_size` bytes of video memory: all zero (the display
    /// off) but the version and the memory size.
    pub(crate) fn new(vram_size: u64) -> Self {
        let mut regs = [0; dispi::COUNT];
        regs[dispi::ID] = DISPI_ID5;
        regs[dispi::VIDEO_MEMORY_64K] = (vram_size / (64 * 1024)) as u16;
        Self { regs }
    }

    /// Register `index`, if there is one.
    pub(crate) fn get(&self, index: usize) -> Option<u16> {
        self.regs.get(index).copied()
    }

    /// Writes register `index`; the guest's value is kept as it is (as upstream), the mode is
    /// checked only when it is shown. Writes past the registers are ignored.
    pub(crate) fn set(&mut self, index: usize, value: u16) {
        if let Some(reg) = self.regs.get_mut(index) {
            *reg = value;
        }
    }

    /// Writes the registers as a migration stream carries them into `out`: little-endian, in
    /// index order.
    pub(crate) fn save(&self, out: &mut [u8; DISPI_STATE_LEN]) {
        for (bytes, reg) in out.chunks_exact_mut(2).zip(self.regs) {
            bytes.copy_from_slice(&reg.to_le_bytes());
        }
    }

    /// The registers [`Dispi::save`] wrote into `saved`; any values, as a guest may write any.
    pub(crate) fn restore(saved: &[u8; DISPI_STATE_LEN]) -> Self {
        let mut regs = [0; dispi::COUNT];
        for (reg, bytes) in regs.iter_mut().zip(saved.chunks_exact(2)) {
            *reg = u16::from_le_bytes([bytes[0], bytes[1]]);
        }
        Self { regs }
    }

    /// The mode the registers describe in `vram_size` bytes of video memory: the display on, 32
    /// bits per pixel, at least 64x64, the visible part inside video memory. `None` otherwise,
    /// which the VMM sees as a disabled plane.
    pub(crate) fn mode(&self, vram_size: u64) -> Option<Mode> {
        let r = &self.regs;
        if r[dispi::ENABLE] & DISPI_ENABLED == 0 || r[dispi::BPP] != 32 {
            return None;
        }
        let width = u32::from(r[dispi::XRES]);
        let height = u32::from(r[dispi::YRES]);
        if width < 64 || height < 64 {
            return None;
        }
        let stride = u32::from(r[dispi::VIRT_WIDTH]).max(width) * 4;
        let size = u64::from(stride) * u64::from(height);
        let offset =
            u64::from(r[dispi::X_OFFSET]) * 4 + u64::from(r[dispi::Y_OFFSET]) * u64::from(stride);
        if offset + size > vram_size {
            return None;
        }
        Some(Mode {
            width,
            height,
            stride,
            offset,
            size,
        })
    }
}

/// Why an access to a register file was refused, and the errno it answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Not a register, not the register's size, or a value it cannot take: `EINVAL`.
    Invalid,
    /// A read-only register: `EPERM`.
    ReadOnly,
}

/// `VFIO_DEVICE_GFX_LINK_STATE_UP`: the virtual monitor is on.
pub(crate) const LINK_UP: u32 = 1;
/// `VFIO_DEVICE_GFX_LINK_STATE_DOWN`: the virtual monitor is off.
pub(crate) const LINK_DOWN: u32 = 2;
/// Where the blob starts in the EDID region; the registers come before it.
pub(crate) const EDID_BLOB_OFFSET: u32 = 0x800;
/// Size of the EDID region.
pub(crate) const EDID_REGION_SIZE: u64 = 0x1000;
/// Room for the blob: eight 128-byte EDID blocks.
pub(crate) const EDID_MAX_SIZE: usize = 0x400;
/// Bytes of the EDID region's state in a migration stream: see [`Edid::save`].
pub(crate) const EDID_STATE_LEN: usize = 8 + EDID_MAX_SIZE;
/// Bytes of a device's registers in a migration stream: configuration space, the dispi
/// registers and the EDID region's state, in that order.
pub(crate) const STATE_LEN: usize = super::pci_config::SIZE + DISPI_STATE_LEN + EDID_STATE_LEN;
/// Bytes of `struct vfio_region_gfx_edid`: six 32-bit registers.
const EDID_REGS_SIZE: u64 = 24;
/// Byte offsets of the registers of `struct vfio_region_gfx_edid`.
mod edid_reg {
    pub(crate) const OFFSET: u64 = 0;
    pub(crate) const MAX_SIZE: u64 = 4;
    pub(crate) const SIZE: u64 = 8;
    pub(crate) const MAX_XRES: u64 = 12;
    pub(crate) const MAX_YRES: u64 = 16;
    pub(crate) const LINK_STATE: u64 = 20;
}

/// The EDID region: the registers the VMM sets the virtual monitor with, and its EDID blob.
///
/// The protocol is the uAPI's: link down, write blob and size, link up. The link goes up only
/// with a blob the guest can use (whole 128-byte blocks with the EDID header and good
/// checksums); while it is up, the guest sees the blob through the MMIO BAR.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Edid {
    size: u32,
    max_x: u32,
    max_y: u32,
    link: u32,
    blob: [u8; EDID_MAX_SIZE],
}

impl Edid {
    /// No blob, the link neither up nor down (as the region starts), the largest mode of `ty`.
    pub(crate) fn new(ty: &Type) -> Self {
        Self {
            size: 0,
            max_x: ty.max_x,
            max_y: ty.max_y,
            link: 0,
            blob: [0; EDID_MAX_SIZE],
        }
    }

    /// Whether the link is up.
    pub(crate) fn link_up(&self) -> bool {
        self.link == LINK_UP
    }

    /// Writes what the VMM set into `out` as a migration stream carries it: the blob's size
    /// and the link state (32 bits each, little-endian), then the blob's whole room. The
    /// largest mode is the type's, which the stream's header names.
    pub(crate) fn save(&self, out: &mut [u8; EDID_STATE_LEN]) {
        out[..4].copy_from_slice(&self.size.to_le_bytes());
        out[4..8].copy_from_slice(&self.link.to_le_bytes());
        out[8..].copy_from_slice(&self.blob);
    }

    /// The region of a device of `ty` as [`Edid::save`] wrote it into `saved`, if a VMM could
    /// have left it so: a size within the room, and a link up only with a usable blob.
    pub(crate) fn restore(ty: &Type, saved: &[u8; EDID_STATE_LEN]) -> Result<Self, Refused> {
        let word = |at: usize| {
            u32::from_le_bytes([saved[at], saved[at + 1], saved[at + 2], saved[at + 3]])
        };
        let mut edid = Self::new(ty);
        edid.size = word(0);
        edid.link = word(4);
        edid.blob.copy_from_slice(&saved[8..]);
        if edid.size as usize > EDID_MAX_SIZE {
            return Err(Refused::Invalid);
        }
        match edid.link {
            0 | LINK_DOWN => Ok(edid),
            LINK_UP if edid.blob_usable() => Ok(edid),
            _ => Err(Refused::Invalid),
        }
    }

    /// Reads `buf.len()` bytes at `offset` in the region: whole registers, or bytes of the
    /// blob's room.
    pub(crate) fn read(&self, offset: u64, buf: &mut [u8]) -> Result<(), Refused> {
        if let Some(at) = Self::blob_range(offset, buf.len())? {
            buf.copy_from_slice(&self.blob[at]);
            return Ok(());
        }
        Self::registers(offset, buf.len())?;
        for (reg, out) in (offset..).step_by(4).zip(buf.chunks_exact_mut(4)) {
            let value = match reg {
                edid_reg::OFFSET => EDID_BLOB_OFFSET,
                edid_reg::MAX_SIZE => EDID_MAX_SIZE as u32,
                edid_reg::SIZE => self.size,
                edid_reg::MAX_XRES => self.max_x,
                edid_reg::MAX_YRES => self.max_y,
                _ => self.link,
            };
            out.copy_from_slice(&value.to_le_bytes());
        }
        Ok(())
    }

    /// Writes `buf` at `offset` in the region: whole registers, of which only `edid_size` (at
    /// most the blob's room) and `link_state` (up, with a usable blob, or down) take writes,
    /// or bytes of the blob's room. A refused write changes nothing.
    pub(crate) fn write(&mut self, offset: u64, buf: &[u8]) -> Result<(), Refused> {
        if let Some(at) = Self::blob_range(offset, buf.len())? {
            self.blob[at].copy_from_slice(buf);
            return Ok(());
        }
        Self::registers(offset, buf.len())?;
        let mut next = self.clone();
        for (reg, bytes) in (offset..).step_by(4).zip(buf.chunks_exact(4)) {
            let value = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
            match reg {
                edid_reg::SIZE if value as usize <= EDID_MAX_SIZE => next.size = value,
                edid_reg::LINK_STATE if value == LINK_DOWN => next.link = value,
                edid_reg::LINK_STATE if value == LINK_UP && next.blob_usable() => next.link = value,
                edid_reg::SIZE | edid_reg::LINK_STATE => return Err(Refused::Invalid),
                _ => return Err(Refused::ReadOnly),
            }
        }
        *self = next;
        Ok(())
    }

    /// The guest's view in the MMIO BAR: the blob while the link is up, zeros past it or
    /// while it is down.
    pub(crate) fn mirror(&self, offset: u64, buf: &mut [u8]) {
        for (i, byte) in buf.iter_mut().enumerate() {
            let at = offset + i as u64;
            *byte = if self.link_up() && at < u64::from(self.size) {
                self.blob[at as usize]
            } else {
                0
            };
        }
    }

    /// The blob bytes an access reaches, `None` if it is in the registers' half, or refused if
    /// it runs past the blob's room.
    fn blob_range(offset: u64, len: usize) -> Result<Option<core::ops::Range<usize>>, Refused> {
        let Some(at) = offset.checked_sub(u64::from(EDID_BLOB_OFFSET)) else {
            return Ok(None);
        };
        match at.checked_add(len as u64) {
            Some(end) if end <= EDID_MAX_SIZE as u64 => Ok(Some(at as usize..end as usize)),
            _ => Err(Refused::Invalid),
        }
    }

    /// Checks that an access covers whole, aligned registers.
    fn registers(offset: u64, len: usize) -> Result<(), Refused> {
        let end = offset.checked_add(len as u64).ok_or(Refused::Invalid)?;
        if len == 0 || len % 4 != 0 || offset % 4 != 0 || end > EDID_REGS_SIZE {
            return Err(Refused::Invalid);
        }
        Ok(())
    }

    /// Whether the first `size` bytes of the blob are EDID blocks a guest can parse.
    fn blob_usable(&self) -> bool {
        const HEADER: [u8; 8] = [0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00];
        let size = self.size as usize;
        size != 0
            && size % 128 == 0
            && self.blob[..8] == HEADER
            && self.blob[..size]
                .chunks(128)
                .all(|block| block.iter().fold(0u8, |sum, b| sum.wrapping_add(*b)) == 0)
    }
}

/// Writes the registers of a device into `out`, a migration stream's state record:
/// configuration space, the dispi registers and the EDID region.
pub(crate) fn save_state(
    config: &ConfigSpace,
    dispi: &Dispi,
    edid: &Edid,
    out: &mut [u8],
) -> Result<(), Refused> {
    if out.len() != STATE_LEN {
        return Err(Refused::Invalid);
    }
    let (c, rest) = out.split_at_mut(super::pci_config::SIZE);
    let (d, e) = rest.split_at_mut(DISPI_STATE_LEN);
    c.copy_from_slice(config.bytes());
    dispi.save(d.try_into().map_err(|_| Refused::Invalid)?);
    edid.save(e.try_into().map_err(|_| Refused::Invalid)?);
    Ok(())
}

/// The registers [`save_state`] wrote into `saved` for a device of `ty`, if such a device can
/// hold them: read-only configuration bits as the type has them, an EDID region a VMM could
/// have left.
pub(crate) fn restore_state(
    ty: &Type,
    saved: &[u8],
) -> Result<(ConfigSpace, Dispi, Edid), Refused> {
    if saved.len() != STATE_LEN {
        return Err(Refused::Invalid);
    }
    let (c, rest) = saved.split_at(super::pci_config::SIZE);
    let (d, e) = rest.split_at(DISPI_STATE_LEN);
    let mut space = config(ty);
    space.restore(c).map_err(|_| Refused::Invalid)?;
    let dispi = Dispi::restore(d.try_into().map_err(|_| Refused::Invalid)?);
    let edid = Edid::restore(ty, e.try_into().map_err(|_| Refused::Invalid)?)?;
    Ok((space, dispi, edid))
}

/// The MMIO BAR as the guest reads it: the EDID mirror, the dispi registers (16-bit accesses
/// only), zeros elsewhere (including QEMU's extended registers, which mbochs does not have).
pub(crate) fn mmio_read(dispi: &Dispi, edid: &Edid, offset: u64, buf: &mut [u8]) {
    if offset + buf.len() as u64 <= MMIO_EDID_END {
        edid.mirror(offset, buf);
    } else if let Some(index) = dispi_index(offset, buf.len()) {
        buf.copy_from_slice(&dispi.get(index).unwrap_or(0).to_le_bytes());
    } else {
        buf.fill(0);
    }
}

/// The MMIO BAR as the guest writes it: only the dispi registers take writes.
pub(crate) fn mmio_write(dispi: &mut Dispi, offset: u64, buf: &[u8]) {
    if let Some(index) = dispi_index(offset, buf.len()) {
        dispi.set(index, u16::from_le_bytes([buf[0], buf[1]]));
    }
}

/// The dispi register a 16-bit access at `offset` of the MMIO BAR reaches.
fn dispi_index(offset: u64, len: usize) -> Option<usize> {
    let at = offset.checked_sub(DISPI_OFFSET)?;
    if len != 2 || at % 2 != 0 || at / 2 >= dispi::COUNT as u64 {
        return None;
    }
    Some((at / 2) as usize)
}
