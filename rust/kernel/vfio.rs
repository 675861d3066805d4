// SPDX-License-Identifier: GPL-2.0

//! The VFIO device interface, as a mediated-device vendor driver answers it.
//!
//! A vendor driver built on [`crate::mdev`] describes its device with the plain values of this
//! module ([`DeviceInfo`], [`RegionInfo`] with its [`CapChain`], [`IrqInfo`]); the mdev binding
//! decodes the ioctls of the device file descriptor (argument size checks, copies from and to
//! userspace, capability chains) and calls the driver with them, so the driver never touches a
//! user pointer for the standard requests.
//!
//! C headers: [`include/uapi/linux/vfio.h`](srctree/include/uapi/linux/vfio.h),
//! [`include/linux/vfio.h`](srctree/include/linux/vfio.h)

use crate::{bindings, error::Result, ioctl::_IO, prelude::*, str::CStr};

mod cap_chain;

/// The `device_api` string of devices that follow the VFIO PCI region and interrupt layout.
pub const DEVICE_API_PCI: &CStr = crate::c_str!("vfio-pci");

const VFIO_TYPE: u32 = b';' as u32;
const VFIO_BASE: u32 = 100;

/// `VFIO_DEVICE_GET_INFO`: answered with [`crate::mdev::Driver::device_info`].
pub const DEVICE_GET_INFO: u32 = _IO(VFIO_TYPE, VFIO_BASE + 7);
/// `VFIO_DEVICE_GET_REGION_INFO`: answered with [`crate::mdev::Driver::region_info`].
pub const DEVICE_GET_REGION_INFO: u32 = _IO(VFIO_TYPE, VFIO_BASE + 8);
/// `VFIO_DEVICE_GET_IRQ_INFO`: answered with [`crate::mdev::Driver::irq_info`].
pub const DEVICE_GET_IRQ_INFO: u32 = _IO(VFIO_TYPE, VFIO_BASE + 9);
/// `VFIO_DEVICE_SET_IRQS`: answered with [`crate::mdev::Driver::set_irqs`].
pub const DEVICE_SET_IRQS: u32 = _IO(VFIO_TYPE, VFIO_BASE + 10);
/// `VFIO_DEVICE_RESET`: answered with [`crate::mdev::Driver::reset`].
pub const DEVICE_RESET: u32 = _IO(VFIO_TYPE, VFIO_BASE + 11);

/// `VFIO_DEVICE_QUERY_GFX_PLANE`: answered with [`crate::mdev::Driver::query_gfx_plane`].
pub const DEVICE_QUERY_GFX_PLANE: u32 = _IO(VFIO_TYPE, VFIO_BASE + 14);

/// `VFIO_DEVICE_GET_GFX_DMABUF`: answered with [`crate::mdev::Driver::get_gfx_dmabuf`].
pub const DEVICE_GET_GFX_DMABUF: u32 = _IO(VFIO_TYPE, VFIO_BASE + 15);

/// The device supports `VFIO_DEVICE_RESET`.
pub const DEVICE_FLAGS_RESET: u32 = bindings::VFIO_DEVICE_FLAGS_RESET;
/// The device is a PCI device (regions and interrupts follow [`pci`]).
pub const DEVICE_FLAGS_PCI: u32 = bindings::VFIO_DEVICE_FLAGS_PCI;

/// The region can be read.
pub const REGION_INFO_FLAG_READ: u32 = bindings::VFIO_REGION_INFO_FLAG_READ;
/// The region can be written.
pub const REGION_INFO_FLAG_WRITE: u32 = bindings::VFIO_REGION_INFO_FLAG_WRITE;
/// The region can be mapped.
pub const REGION_INFO_FLAG_MMAP: u32 = bindings::VFIO_REGION_INFO_FLAG_MMAP;

/// `VFIO_REGION_INFO_CAP_TYPE`: the capability that gives a device-specific region's type.
pub const REGION_INFO_CAP_TYPE: u16 = bindings::VFIO_REGION_INFO_CAP_TYPE as u16;
/// `VFIO_REGION_TYPE_PCI_VENDOR_TYPE`: or'ed with a PCI vendor id, a vendor's own region type.
pub const REGION_TYPE_PCI_VENDOR_TYPE: u32 = bindings::VFIO_REGION_TYPE_PCI_VENDOR_TYPE;
/// `VFIO_REGION_TYPE_GFX`: a region of a display device.
pub const REGION_TYPE_GFX: u32 = bindings::VFIO_REGION_TYPE_GFX;
/// `VFIO_REGION_SUBTYPE_GFX_EDID`: the display's EDID region (`struct vfio_region_gfx_edid`,
/// then the EDID blob at its `edid_offset`).
pub const REGION_SUBTYPE_GFX_EDID: u32 = bindings::VFIO_REGION_SUBTYPE_GFX_EDID;

/// The interrupt is signalled through an eventfd.
pub const IRQ_INFO_EVENTFD: u32 = bindings::VFIO_IRQ_INFO_EVENTFD;
/// The interrupt can be masked.
pub const IRQ_INFO_MASKABLE: u32 = bindings::VFIO_IRQ_INFO_MASKABLE;
/// The interrupt is masked automatically when it fires.
pub const IRQ_INFO_AUTOMASKED: u32 = bindings::VFIO_IRQ_INFO_AUTOMASKED;
/// The number of vectors cannot be changed after it is set up.
pub const IRQ_INFO_NORESIZE: u32 = bindings::VFIO_IRQ_INFO_NORESIZE;

/// Answer to `VFIO_DEVICE_GET_INFO`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeviceInfo {
    /// `DEVICE_FLAGS_*`.
    pub flags: u32,
    /// Number of regions (for PCI devices at least [`pci::NUM_REGIONS`]).
    pub num_regions: u32,
    /// Number of interrupt indexes (for PCI devices at least [`pci::NUM_IRQS`]).
    pub num_irqs: u32,
}

/// Answer to `VFIO_DEVICE_GET_REGION_INFO` for one region index.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegionInfo {
    /// `REGION_INFO_FLAG_*`; zero for a region the device does not implement.
    pub flags: u32,
    /// Size of the region in bytes; zero for a region the device does not implement.
    pub size: u64,
    /// Offset of the region in the device file descriptor.
    pub offset: u64,
}

/// The capability chain of an answer: `struct vfio_info_cap_header` records, each followed by
/// its body, that the framework places after the answer's fixed part.
///
/// A driver adds capabilities; the framework does the rest, as upstream's
/// `vfio_info_add_capability` and `vfio_info_cap_shift` do: when userspace's `argsz` leaves no
/// room for the chain it answers with the size needed, else it copies the chain and points
/// `cap_offset` to it.
///
/// # Invariants
///
/// `buf` holds whole records (laid out as `vfio/cap_chain.rs` says), each starting at a
/// multiple of 8; `last` is the start of the last one, whose `next` is 0, and every other
/// record's `next` is the start of the one after it.
pub struct CapChain {
    buf: KVec<u8>,
    last: Option<usize>,
}

impl CapChain {
    /// An empty chain.
    pub(crate) fn new() -> Self {
        Self {
            buf: KVec::new(),
            last: None,
        }
    }

    /// Appends capability `id` of version `version` whose body is `body`. On error the chain is
    /// as it was.
    pub fn add(&mut self, id: u16, version: u16, body: &[u8]) -> Result {
        let start = self.buf.len();
        let link = u32::try_from(start)?;
        let size = cap_chain::record_size(body.len()).ok_or(EINVAL)?;
        self.buf.extend_with(size, 0, GFP_KERNEL)?;
        cap_chain::write_record(&mut self.buf[start..], id, version, body);
        if let Some(last) = self.last {
            cap_chain::link(&mut self.buf, last, link);
        }
        // INVARIANT: the new record starts where the previous ones end, a multiple of 8 (every
        // record is padded to one), and is linked from the previous last one.
        self.last = Some(start);
        Ok(())
    }

    /// Appends a `VFIO_REGION_INFO_CAP_TYPE` capability: the region's type and subtype.
    pub fn add_region_type(&mut self, region_type: u32, subtype: u32) -> Result {
        let mut body = [0u8; 8];
        body[..4].copy_from_slice(&region_type.to_ne_bytes());
        body[4..].copy_from_slice(&subtype.to_ne_bytes());
        self.add(REGION_INFO_CAP_TYPE, 1, &body)
    }

    /// Whether the chain has no capability.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Bytes the chain takes.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// The chain as it goes `offset` bytes after the start of the answer: every `next` is made
    /// relative to the answer, as the uAPI wants.
    pub(crate) fn finish(&mut self, offset: usize) -> Result<&[u8]> {
        if !self.buf.is_empty() {
            // By the type invariant the records are linked forward from the first, at 0.
            cap_chain::shift(&mut self.buf, u32::try_from(offset)?).ok_or(EINVAL)?;
        }
        Ok(&self.buf)
    }
}

/// Answer to `VFIO_DEVICE_GET_IRQ_INFO` for one interrupt index.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IrqInfo {
    /// `IRQ_INFO_*`.
    pub flags: u32,
    /// Number of vectors of this index; zero when the device has none.
    pub count: u32,
}

/// How a device hands its display planes to the VMM (`VFIO_GFX_PLANE_TYPE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GfxPlaneType {
    /// The plane is in one of the device's regions, which the VMM reads or maps; [`GfxPlane::id`]
    /// is that region's index.
    ///
    /// QEMU's region display queries without setting `drm_plane_type`, which stays zero
    /// (`DRM_PLANE_TYPE_OVERLAY`), and shows nothing unless that answers the framebuffer. So
    /// for a region device the binding reads a zero plane type as [`DrmPlaneType::Primary`].
    Region,
    /// The plane is exported as a dma-buf; [`GfxPlane::id`] is the id the VMM passes to
    /// `VFIO_DEVICE_GET_GFX_DMABUF`.
    Dmabuf,
}

impl GfxPlaneType {
    /// The flag of this type in `struct vfio_device_gfx_plane_info`.
    #[inline]
    pub const fn flag(self) -> u32 {
        match self {
            Self::Region => bindings::VFIO_GFX_PLANE_TYPE_REGION,
            Self::Dmabuf => bindings::VFIO_GFX_PLANE_TYPE_DMABUF,
        }
    }
}

/// A DRM plane type (`DRM_PLANE_TYPE_*` of `include/drm/drm_plane.h`), as the VMM asks for one.
/// A device answers a type it does not have with [`GfxPlane::none`]; a value that names no plane
/// type never reaches it (the binding refuses it with `EINVAL`), and a region device never sees
/// [`DrmPlaneType::Overlay`] (see [`GfxPlaneType::Region`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DrmPlaneType {
    /// `DRM_PLANE_TYPE_OVERLAY`.
    Overlay,
    /// `DRM_PLANE_TYPE_PRIMARY`: the framebuffer.
    Primary,
    /// `DRM_PLANE_TYPE_CURSOR`.
    Cursor,
}

impl DrmPlaneType {
    /// The plane type with uAPI value `value`, if there is one.
    #[inline]
    pub const fn from_raw(value: u32) -> Option<Self> {
        match value {
            0 => Some(Self::Overlay),
            1 => Some(Self::Primary),
            2 => Some(Self::Cursor),
            _ => None,
        }
    }
}

/// `DRM_FORMAT_XRGB8888`: 32 bits per pixel, blue in the lowest byte, the highest unused.
pub const DRM_FORMAT_XRGB8888: u32 = u32::from_le_bytes(*b"XR24");

/// Answer to `VFIO_DEVICE_QUERY_GFX_PLANE` for one plane.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GfxPlane {
    /// DRM fourcc of the pixels, e.g. [`DRM_FORMAT_XRGB8888`]; zero for no plane.
    pub drm_format: u32,
    /// DRM format modifier (tiling); zero for linear.
    pub drm_format_mod: u64,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bytes from the start of one line to the start of the next.
    pub stride: u32,
    /// Size of the plane's memory in bytes.
    pub size: u32,
    /// Horizontal position of a cursor plane.
    pub x_pos: u32,
    /// Vertical position of a cursor plane.
    pub y_pos: u32,
    /// Horizontal position of the cursor's hotspot, or [`GfxPlane::NO_HOTSPOT`].
    pub x_hot: u32,
    /// Vertical position of the cursor's hotspot, or [`GfxPlane::NO_HOTSPOT`].
    pub y_hot: u32,
    /// The region index ([`GfxPlaneType::Region`]) or dma-buf id ([`GfxPlaneType::Dmabuf`]).
    pub id: u32,
}

impl GfxPlane {
    /// `x_hot` and `y_hot` of a plane without hotspot information.
    pub const NO_HOTSPOT: u32 = u32::MAX;

    /// What the uAPI answers for a plane the device does not have or the guest has disabled:
    /// success, with zero format, size and geometry, and no hotspot.
    #[inline]
    pub const fn none() -> Self {
        Self {
            drm_format: 0,
            drm_format_mod: 0,
            width: 0,
            height: 0,
            stride: 0,
            size: 0,
            x_pos: 0,
            y_pos: 0,
            x_hot: Self::NO_HOTSPOT,
            y_hot: Self::NO_HOTSPOT,
            id: 0,
        }
    }
}

/// The VFIO PCI layout: region and interrupt indexes and where regions live in the device file.
///
/// Like the upstream samples and `vfio-pci`, region `i` starts at offset `i << 40` of the device
/// file descriptor.
pub mod pci {
    use crate::bindings;

    /// Index of BAR 0; BARs 1 to 5 follow it.
    pub const BAR0_REGION_INDEX: u32 = bindings::VFIO_PCI_BAR0_REGION_INDEX;
    /// Index of BAR 2.
    pub const BAR2_REGION_INDEX: u32 = bindings::VFIO_PCI_BAR2_REGION_INDEX;
    /// Index of BAR 5.
    pub const BAR5_REGION_INDEX: u32 = bindings::VFIO_PCI_BAR5_REGION_INDEX;
    /// Index of the expansion ROM.
    pub const ROM_REGION_INDEX: u32 = bindings::VFIO_PCI_ROM_REGION_INDEX;
    /// Index of the configuration space.
    pub const CONFIG_REGION_INDEX: u32 = bindings::VFIO_PCI_CONFIG_REGION_INDEX;
    /// Index of the legacy VGA range.
    pub const VGA_REGION_INDEX: u32 = bindings::VFIO_PCI_VGA_REGION_INDEX;
    /// Number of PCI region indexes.
    pub const NUM_REGIONS: u32 = bindings::VFIO_PCI_NUM_REGIONS;

    /// Index of the legacy interrupt.
    pub const INTX_IRQ_INDEX: u32 = bindings::VFIO_PCI_INTX_IRQ_INDEX;
    /// Index of MSI.
    pub const MSI_IRQ_INDEX: u32 = bindings::VFIO_PCI_MSI_IRQ_INDEX;
    /// Index of MSI-X.
    pub const MSIX_IRQ_INDEX: u32 = bindings::VFIO_PCI_MSIX_IRQ_INDEX;
    /// Index of the error notification.
    pub const ERR_IRQ_INDEX: u32 = bindings::VFIO_PCI_ERR_IRQ_INDEX;
    /// Index of the device request notification.
    pub const REQ_IRQ_INDEX: u32 = bindings::VFIO_PCI_REQ_IRQ_INDEX;
    /// Number of PCI interrupt indexes.
    pub const NUM_IRQS: u32 = bindings::VFIO_PCI_NUM_IRQS;

    const OFFSET_SHIFT: u32 = 40;
    const OFFSET_MASK: u64 = (1 << OFFSET_SHIFT) - 1;

    /// Offset in the device file where region `index` starts.
    pub const fn region_offset(index: u32) -> u64 {
        (index as u64) << OFFSET_SHIFT
    }

    /// Region index that a device-file offset falls in.
    pub const fn offset_to_index(offset: u64) -> u64 {
        offset >> OFFSET_SHIFT
    }

    /// Offset within its region of a device-file offset.
    pub const fn offset_in_region(offset: u64) -> u64 {
        offset & OFFSET_MASK
    }
}

/// What `VFIO_DEVICE_SET_IRQS` asks of the vectors it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrqAction {
    /// `VFIO_IRQ_SET_ACTION_MASK`.
    Mask,
    /// `VFIO_IRQ_SET_ACTION_UNMASK`.
    Unmask,
    /// `VFIO_IRQ_SET_ACTION_TRIGGER`: set up signalling, or fire from software.
    Trigger,
}

/// The data of a `VFIO_DEVICE_SET_IRQS` request: nothing, or one entry per vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrqData<'a> {
    /// `VFIO_IRQ_SET_DATA_NONE`.
    None,
    /// `VFIO_IRQ_SET_DATA_BOOL`: act on the vectors whose entry is not zero.
    Bool(&'a [u8]),
    /// `VFIO_IRQ_SET_DATA_EVENTFD`: signal these eventfds (a negative entry tears down).
    Eventfd(&'a [i32]),
}

/// A decoded `VFIO_DEVICE_SET_IRQS` request.
///
/// The mdev binding has checked the argument size, the flags (one action, one data type), that
/// `index` is below the device's `num_irqs` and that `start + count` does not exceed the vectors
/// of that index (the count [`crate::mdev::Driver::irq_info`] gives).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IrqSet<'a> {
    /// Interrupt index, e.g. [`pci::INTX_IRQ_INDEX`].
    pub index: u32,
    /// First vector.
    pub start: u32,
    /// Number of vectors; zero with [`IrqData::None`] and [`IrqAction::Trigger`] tears down.
    pub count: u32,
    /// The action.
    pub action: IrqAction,
    /// The data, `count` entries long unless [`IrqData::None`].
    pub data: IrqData<'a>,
}

/// `VFIO_IRQ_SET_DATA_*` and `VFIO_IRQ_SET_ACTION_*` bits, for decoders.
#[doc(hidden)]
pub mod irq_set_flags {
    use crate::bindings;

    /// `VFIO_IRQ_SET_DATA_NONE`.
    pub const DATA_NONE: u32 = bindings::VFIO_IRQ_SET_DATA_NONE;
    /// `VFIO_IRQ_SET_DATA_BOOL`.
    pub const DATA_BOOL: u32 = bindings::VFIO_IRQ_SET_DATA_BOOL;
    /// `VFIO_IRQ_SET_DATA_EVENTFD`.
    pub const DATA_EVENTFD: u32 = bindings::VFIO_IRQ_SET_DATA_EVENTFD;
    /// `VFIO_IRQ_SET_ACTION_MASK`.
    pub const ACTION_MASK: u32 = bindings::VFIO_IRQ_SET_ACTION_MASK;
    /// `VFIO_IRQ_SET_ACTION_UNMASK`.
    pub const ACTION_UNMASK: u32 = bindings::VFIO_IRQ_SET_ACTION_UNMASK;
    /// `VFIO_IRQ_SET_ACTION_TRIGGER`.
    pub const ACTION_TRIGGER: u32 = bindings::VFIO_IRQ_SET_ACTION_TRIGGER;
    /// All data-type bits.
    pub const DATA_TYPE_MASK: u32 = bindings::VFIO_IRQ_SET_DATA_TYPE_MASK;
    /// All action bits.
    pub const ACTION_TYPE_MASK: u32 = bindings::VFIO_IRQ_SET_ACTION_TYPE_MASK;
}

/// Live migration: what a driver declares and the phases of a saving stream.
///
/// The mdev binding runs the migration state machine of `VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE`,
/// the data file descriptors and `VFIO_MIG_GET_PRECOPY_INFO`; a driver only turns its state
/// into bytes and back (see [`crate::mdev::Driver::save_state`] and
/// [`crate::mdev::Driver::load_state`]).
pub mod migration {
    use crate::{alloc::VVec, bindings, prelude::*};

    /// `VFIO_MIGRATION_STOP_COPY`: the device supports STOP, STOP_COPY and RESUMING.
    pub const STOP_COPY: u32 = bindings::VFIO_MIGRATION_STOP_COPY;
    /// `VFIO_MIGRATION_P2P`: also RUNNING_P2P.
    pub const P2P: u32 = bindings::VFIO_MIGRATION_P2P;
    /// `VFIO_MIGRATION_PRE_COPY`: also PRE_COPY (and PRE_COPY_P2P with [`P2P`]).
    pub const PRE_COPY: u32 = bindings::VFIO_MIGRATION_PRE_COPY;

    /// Makes room in a stream for `end` bytes in all: if its memory is too small, it moves to
    /// memory twice as large, or `end` bytes if that is more, but never past `limit` unless
    /// `end` is.
    pub(crate) fn make_room(data: &mut VVec<u8>, end: usize, limit: usize) -> Result {
        if end <= data.capacity() {
            return Ok(());
        }
        let capacity = data.capacity().saturating_mul(2).min(limit).max(end);
        let mut grown = VVec::with_capacity(capacity, GFP_KERNEL)?;
        grown.extend_from_slice(data, GFP_KERNEL)?;
        *data = grown;
        Ok(())
    }

    /// When a saving stream asks the driver for bytes.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum SavePhase {
        /// The stream opens (entering PRE_COPY, or STOP_COPY directly): data that can be sent
        /// while the device still runs.
        Initial,
        /// The device stopped (entering STOP_COPY): the rest of its state.
        StopCopy,
    }

    /// The end of a saving stream, where a driver appends the bytes of one [`SavePhase`].
    ///
    /// The stream grows as the driver writes (doubling its vmalloc'd memory, which never
    /// exceeds the limit), up to the most bytes the driver said a stream of the instance holds
    /// ([`crate::mdev::Driver::migration_data_size`]); a write past that fails with `ENOSPC`.
    /// [`StreamWriter::write_with`] lets a driver write a framebuffer's worth in place, without
    /// a copy of its own. When the driver's save fails,
    /// whatever it wrote in that phase is dropped: the stream only ever holds whole phases.
    /// The phases written before stay readable ([`StreamWriter::stream`]), so a driver can
    /// send only what changed since.
    ///
    /// # Invariants
    ///
    /// `start <= data.len()`: the phase began at `start`, and what comes before it stays.
    pub struct StreamWriter<'a> {
        data: &'a mut VVec<u8>,
        /// Where this phase began.
        start: usize,
        limit: usize,
    }

    impl<'a> StreamWriter<'a> {
        /// A writer that appends to `data`, up to `limit` bytes in all.
        pub(crate) fn new(data: &'a mut VVec<u8>, limit: usize) -> Self {
            let start = data.len();
            // INVARIANT: `start` is the length.
            Self { data, start, limit }
        }

        /// Appends `bytes`.
        pub fn write(&mut self, bytes: &[u8]) -> Result {
            self.write_with(bytes.len(), |buf| {
                buf.copy_from_slice(bytes);
                Ok(())
            })
        }

        /// Appends `len` bytes that `fill` writes in place (they start as zeroes). If `fill`
        /// fails, they are dropped.
        pub fn write_with(&mut self, len: usize, fill: impl FnOnce(&mut [u8]) -> Result) -> Result {
            if len > self.room() {
                return Err(ENOSPC);
            }
            let old = self.data.len();
            make_room(self.data, old + len, self.limit)?;
            // Within the room just made: no reallocation.
            self.data.extend_with(len, 0, GFP_KERNEL)?;
            fill(&mut self.data[old..]).inspect_err(|_| self.rewind(old))
        }

        /// How many more bytes the stream takes.
        pub fn room(&self) -> usize {
            self.limit.saturating_sub(self.data.len())
        }

        /// The whole stream so far, the phases before this one included.
        pub fn stream(&self) -> &[u8] {
            self.data
        }

        /// Drops what this phase wrote after the stream was `len` bytes long; the phases
        /// before it stay.
        pub fn rewind(&mut self, len: usize) {
            let len = len.max(self.start);
            if len < self.data.len() {
                // SAFETY: `len` is below the length, so within the capacity, and every byte
                // below it is initialised.
                unsafe { self.data.set_len(len) };
            }
        }
    }
}
