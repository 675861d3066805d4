// SPDX-License-Identifier: GPL-2.0

//! The mdpy display device: modes, framebuffer geometry, the PCI configuration space (ids and
//! vendor capability as upstream's `samples/vfio-mdev/mdpy-defs.h` defines them) and the
//! reset picture. Pure logic, no kernel calls: the host tests in `tools/testing/mdev-host`
//! include this file.

use super::pci_config::ConfigSpace;

/// PCI vendor ID (Red Hat).
pub(crate) const VENDOR_ID: u16 = 0x1b36;
/// PCI device ID.
pub(crate) const DEVICE_ID: u16 = 0x000f;
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
/// Offset of the status register; its capability-list bit is set.
const STATUS: usize = 0x06;
const STATUS_CAP_LIST: u16 = 0x0010;
/// Offset of BAR 0, the framebuffer: 32-bit prefetchable memory.
pub(crate) const BAR0: usize = 0x10;
const BAR0_FLAGS: u32 = 0x8;
/// Offset of the subsystem vendor and subsystem IDs.
const SUBSYSTEM: usize = 0x2c;
/// Offset of the capability pointer.
const CAP_POINTER: usize = 0x34;

/// Offset of the vendor capability that describes the framebuffer.
pub(crate) const VENDOR_CAP: usize = 0x40;
/// Its length.
const VENDOR_CAP_SIZE: u8 = 0x10;
/// PCI capability ID of a vendor-specific capability.
const CAP_ID_VENDOR: u8 = 0x09;
/// Offsets in the configuration space of the framebuffer's format (DRM fourcc), width and
/// height, inside the vendor capability.
pub(crate) const FORMAT_OFFSET: usize = VENDOR_CAP + 0x04;
/// See [`FORMAT_OFFSET`].
pub(crate) const WIDTH_OFFSET: usize = VENDOR_CAP + 0x08;
/// See [`FORMAT_OFFSET`].
pub(crate) const HEIGHT_OFFSET: usize = VENDOR_CAP + 0x0c;

/// `DRM_FORMAT_XRGB8888`, the only pixel format.
pub(crate) const FORMAT_XRGB8888: u32 = u32::from_le_bytes(*b"XR24");
/// Bytes per pixel of [`FORMAT_XRGB8888`].
pub(crate) const BYTES_PER_PIXEL: u32 = 4;

/// A display mode, fixed by the instance's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mode {
    /// Width in pixels.
    pub(crate) width: u32,
    /// Height in pixels.
    pub(crate) height: u32,
}

/// The modes of the types `mdpy-vga`, `mdpy-xga` and `mdpy-hd`, in that order.
pub(crate) static MODES: [Mode; 3] = MODE_TABLE;

/// [`MODES`], for constant expressions (the driver's type table).
pub(crate) const MODE_TABLE: [Mode; 3] = [
    Mode {
        width: 640,
        height: 480,
    },
    Mode {
        width: 1024,
        height: 768,
    },
    Mode {
        width: 1920,
        height: 1080,
    },
];

impl Mode {
    /// Bytes from one line to the next.
    pub(crate) const fn stride(&self) -> u32 {
        self.width * BYTES_PER_PIXEL
    }

    /// Bytes of the visible picture.
    pub(crate) const fn picture_size(&self) -> u32 {
        self.stride() * self.height
    }

    /// Size of the framebuffer, and so of BAR 0: the picture rounded up to a power of two, as
    /// a PCI memory BAR must be.
    pub(crate) const fn framebuffer_size(&self) -> u32 {
        self.picture_size().next_power_of_two()
    }

    /// The byte every pixel of line `row` holds in the reset picture: a gray gradient from
    /// black at the top.
    pub(crate) const fn reset_shade(&self, row: u32) -> u8 {
        (row as u64 * 255 / self.height as u64) as u8
    }

    /// The configuration space of a device in this mode, after reset.
    pub(crate) fn config(&self) -> ConfigSpace {
        let ids = u32::from(DEVICE_ID) << 16 | u32::from(VENDOR_ID);
        let subsystem = u32::from(SUBDEVICE_ID) << 16 | u32::from(SUBVENDOR_ID);
        // Software may write the address bits of BAR 0 above its size: writing all ones reads
        // back the size.
        let bar_mask = !(self.framebuffer_size() - 1);
        let cap = [CAP_ID_VENDOR, 0, VENDOR_CAP_SIZE, 0];
        let mut config = ConfigSpace::new();
        config
            .init(0x00, &ids.to_le_bytes())
            .init(STATUS, &STATUS_CAP_LIST.to_le_bytes())
            .init(0x08, &CLASS_REVISION.to_le_bytes())
            .init(BAR0, &BAR0_FLAGS.to_le_bytes())
            .init(SUBSYSTEM, &subsystem.to_le_bytes())
            .init(CAP_POINTER, &[VENDOR_CAP as u8])
            .init(VENDOR_CAP, &cap)
            .init(FORMAT_OFFSET, &FORMAT_XRGB8888.to_le_bytes())
            .init(WIDTH_OFFSET, &self.width.to_le_bytes())
            .init(HEIGHT_OFFSET, &self.height.to_le_bytes())
            .writable(COMMAND, &COMMAND_MASK.to_le_bytes())
            .writable(BAR0, &bar_mask.to_le_bytes());
        config
    }
}
