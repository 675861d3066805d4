// SPDX-License-Identifier: GPL-2.0

//! mbochs in Rust: a virtual PCI display with QEMU's bochs interface (1234:1111), the
//! user-visible twin of upstream's `samples/vfio-mdev/mbochs.c`. The guest driver is Linux's
//! own `bochs-drm`.
//!
//! Types `mbochs-small` (4 MB of video memory), `mbochs-medium` (16 MB) and `mbochs-large`
//! (64 MB) share a budget of megabytes, the module parameter `count` (256 by default, as
//! upstream; unsigned here, so a negative value fails the load). BAR 0 is the video memory,
//! whose pages exist only once touched (a page fault of the VMM's mapping, or a read or
//! write); BAR 2 holds the VBE "dispi" registers that set the mode; region 9 is the EDID
//! region. The VMM shows the
//! guest's framebuffer as a dma-buf: `VFIO_DEVICE_QUERY_GFX_PLANE` describes the mode and names
//! a dma-buf id, `VFIO_DEVICE_GET_GFX_DMABUF` exports the framebuffer's pages. A dma-buf holds
//! its pages and outlives the device file, the instance and the mode that made it; the module
//! cannot be unloaded while one exists. The model (types, configuration space, dispi
//! registers, modes, EDID) is `mbochs_model.rs`, pure Rust with host tests; this file binds it
//! to the kernel, in safe Rust only.
//!
//! Upstream's faults are fixed: the first plane query after a mode change answers (upstream:
//! `ENOMEM`, then the record it made answers the next query); a dma-buf maps writable and
//! read-only (upstream: `EACCES` and `EINVAL`); reads and writes of video memory reach the
//! offset asked for (upstream: two pages further, past the end for the last two); region info
//! takes any `argsz` of at least its size, and says nothing it did not fill in; interrupt
//! info has no flags; every `GET_GFX_DMABUF` gives its own reference; a guest that keeps
//! changing modes cannot grow the list of planes without bound; the device reports RESET.
//!
//! Unlike upstream's, it migrates (STOP_COPY, P2P, PRE_COPY): its configuration space, dispi
//! registers and EDID region, and the video memory pages that were touched, in the display
//! samples' stream format (`display_stream.rs`), the memory sent while the device runs and
//! what changed since sent again when it stops. Untouched pages are read as zeroes without
//! being allocated; planes and their dma-bufs stay with the source.

use core::sync::atomic::{AtomicU32, Ordering};
use kernel::{
    c_str,
    dma_buf::{DmaBuf, DmaBufPages},
    fmt,
    mdev::{self, Device},
    mm::virt::{PageFaultHandler, VmaNew},
    new_mutex,
    page::{Page, PAGE_SIZE},
    prelude::*,
    str::{CStr, CString},
    sync::{Arc, Mutex},
    types::ARef,
    vfio::{self, migration, pci},
};

#[path = "display_sink.rs"]
mod display_sink;
#[path = "display_stream.rs"]
mod display_stream;
#[path = "mbochs_model.rs"]
mod model;
#[path = "pci_config.rs"]
mod pci_config;

use model::{Dispi, Edid, Mode, Refused, Type};
use pci_config::ConfigSpace;

module! {
    type: MbochsModule,
    name: "mbochs_rs",
    author: "mdev-rs developers",
    description: "Mediated virtual PCI display with dma-buf planes (Rust)",
    license: "GPL v2",
    params: {
        count: u32 {
            default: 256,
            description: "Megabytes of video memory all mbochs devices share",
        },
    },
}

/// The EDID region: the first index after the PCI regions, as upstream.
const EDID_REGION_INDEX: u32 = pci::NUM_REGIONS;
/// Plane records an open device keeps; a new mode beyond them drops the oldest record (its
/// dma-buf, if exported, lives on).
const MAX_PLANES: usize = 8;

/// The migration stream's magic and version (the layout is `display_stream.rs`'s).
const STREAM_MAGIC: [u8; 8] = *b"MBOCHS01";
/// The version of [`STREAM_MAGIC`]'s layout.
const STREAM_VERSION: u32 = 1;
/// Zeroes to clear a page with.
static ZEROES: [u8; PAGE_SIZE] = [0; PAGE_SIZE];
// A stream's page records are video memory pages.
const _: () = assert!(PAGE_SIZE == display_stream::PAGE_SIZE);

/// The parent's data: the megabytes not yet given to an instance.
struct Mbochs {
    avail_mbytes: AtomicU32,
}

/// Video memory: a page for every page of BAR 0, allocated when it is first touched.
#[pin_data]
struct Vram {
    #[pin]
    pages: Mutex<KVec<Option<ARef<Page>>>>,
}

impl Vram {
    /// The page at `index`, allocated (zeroed) if it was never touched.
    fn touch(&self, index: usize) -> Result<ARef<Page>> {
        let mut pages = self.pages.lock();
        let slot = pages.get_mut(index).ok_or(EINVAL)?;
        if let Some(page) = slot {
            return Ok(page.clone());
        }
        let page = Page::alloc_page(GFP_KERNEL | __GFP_ZERO)?;
        *slot = Some(page.clone());
        Ok(page)
    }

    /// Copies page `index` to `buf`: zeroes for a page never touched, which stays so.
    fn read_page(&self, index: usize, buf: &mut [u8]) -> Result {
        let pages = self.pages.lock();
        match pages.get(index).ok_or(EINVAL)? {
            Some(page) => page.read_shared(0, buf),
            None => {
                buf.fill(0);
                Ok(())
            }
        }
    }

    /// How many pages were touched.
    fn touched(&self) -> usize {
        self.pages
            .lock()
            .iter()
            .filter(|page| page.is_some())
            .count()
    }

    /// Writes `bytes` over page `index`, or zeroes over it if there are none and it was
    /// touched; mappings and dma-bufs of the page see the new bytes.
    fn load_page(&self, index: usize, bytes: Option<&[u8]>) -> Result {
        match bytes {
            Some(bytes) => self.touch(index)?.write_shared(0, bytes),
            None => match self.pages.lock().get(index).ok_or(EINVAL)? {
                Some(page) => page.write_shared(0, &ZEROES),
                None => Ok(()),
            },
        }
    }

    /// Gives every page back: the next touch finds zeroed memory. Mappings and dma-bufs keep
    /// the pages they hold.
    fn clear(&self) {
        for slot in self.pages.lock().iter_mut() {
            *slot = None;
        }
    }

    /// Calls `f` for each page that `len` bytes at `offset` in video memory touch, with the
    /// page, the offset in it and the part of the `len` bytes that falls there.
    fn each_page(
        &self,
        offset: usize,
        len: usize,
        mut f: impl FnMut(&Page, usize, core::ops::Range<usize>) -> Result,
    ) -> Result {
        let mut done = 0;
        while done < len {
            let at = (offset + done) % PAGE_SIZE;
            let part = (PAGE_SIZE - at).min(len - done);
            let page = self.touch((offset + done) / PAGE_SIZE)?;
            f(&page, at, done..done + part)?;
            done += part;
        }
        Ok(())
    }
}

/// The mapping of BAR 0: its file offsets are video memory offsets (BAR 0's region starts at 0).
impl PageFaultHandler for Vram {
    type Data = Vram;

    fn page(vram: &Vram, pgoff: usize) -> Result<ARef<Page>> {
        // Past the end of video memory: `SIGBUS`, never a new page.
        vram.touch(pgoff)
            .map_err(|e| if e == ENOMEM { e } else { EFAULT })
    }
}

/// The pages of one framebuffer, as a dma-buf exports them.
struct Frame {
    pages: KVec<ARef<Page>>,
}

impl DmaBufPages for Frame {
    fn pages(&self) -> &[ARef<Page>] {
        &self.pages
    }
}

/// A plane the device reported: a mode and its dma-buf id, and the dma-buf once exported.
struct Plane {
    mode: Mode,
    id: u32,
    /// When the record was made, counted in records: the smallest is the oldest.
    age: u64,
    buf: Option<ARef<DmaBuf>>,
}

/// The registers of a device.
struct State {
    config: ConfigSpace,
    dispi: Dispi,
    edid: Edid,
    planes: KVec<Plane>,
    next_id: u32,
    records: u64,
}

/// One display.
#[pin_data]
struct Bochs {
    type_index: usize,
    ty: &'static Type,
    vram: Arc<Vram>,
    #[pin]
    state: Mutex<State>,
}

impl Bochs {
    /// The header of the instance's migration streams.
    fn stream_header(&self) -> Result<display_stream::Header> {
        Ok(display_stream::Header {
            magic: STREAM_MAGIC,
            version: STREAM_VERSION,
            type_index: u32::try_from(self.type_index)?,
            memory_size: u32::try_from(self.ty.vram_size())?,
        })
    }

    /// The dma-buf id of the plane in `mode`, recorded now if it is new.
    fn plane_id(state: &mut State, mode: Mode) -> Result<u32> {
        if let Some(plane) = state.planes.iter().find(|p| p.mode == mode) {
            return Ok(plane.id);
        }
        // Ids count up from 1 and wrap around, skipping 0 (no plane) and the ids still kept.
        let mut id = state.next_id;
        while state.planes.iter().any(|p| p.id == id) {
            id = id.checked_add(1).unwrap_or(1);
        }
        let plane = Plane {
            mode,
            id,
            age: state.records,
            buf: None,
        };
        if state.planes.len() < MAX_PLANES {
            state.planes.push(plane, GFP_KERNEL)?;
        } else if let Some(oldest) = state.planes.iter_mut().min_by_key(|p| p.age) {
            *oldest = plane;
        }
        state.records += 1;
        state.next_id = id.checked_add(1).unwrap_or(1);
        Ok(id)
    }

    /// Exports the framebuffer of `mode` as a dma-buf: the video memory pages it covers.
    fn export(&self, mode: &Mode) -> Result<ARef<DmaBuf>> {
        let offset = usize::try_from(mode.offset)?;
        let size = usize::try_from(mode.size)?;
        // A dma-buf is made of whole pages: the framebuffer must start on one.
        if offset % PAGE_SIZE != 0 {
            return Err(EINVAL);
        }
        let first = offset / PAGE_SIZE;
        let count = size.div_ceil(PAGE_SIZE);
        let mut pages = KVec::with_capacity(count, GFP_KERNEL)?;
        for index in first..first + count {
            pages.push(self.vram.touch(index)?, GFP_KERNEL)?;
        }
        let frame = Arc::new(Frame { pages }, GFP_KERNEL)?;
        DmaBuf::export(&THIS_MODULE, frame)
    }
}

/// What a device-file access of `len` bytes at `offset` reaches.
enum Target {
    /// Configuration space, at this offset.
    Config(u64),
    /// Video memory, at this offset.
    Vram(usize),
    /// The MMIO BAR, at this offset.
    Mmio(u64),
    /// The EDID region, at this offset.
    Edid(u64),
}

fn target(bochs: &Bochs, offset: u64, len: usize) -> Result<Target> {
    let index = pci::offset_to_index(offset);
    let at = pci::offset_in_region(offset);
    let end = at.checked_add(len as u64).ok_or(EINVAL)?;
    let inside = |size: u64| end <= size;
    if index == u64::from(pci::CONFIG_REGION_INDEX) && inside(pci_config::SIZE as u64) {
        Ok(Target::Config(at))
    } else if index == u64::from(pci::BAR0_REGION_INDEX) && inside(bochs.ty.vram_size()) {
        Ok(Target::Vram(at as usize))
    } else if index == u64::from(pci::BAR2_REGION_INDEX) && inside(model::MMIO_SIZE.into()) {
        Ok(Target::Mmio(at))
    } else if index == u64::from(EDID_REGION_INDEX) && inside(model::EDID_REGION_SIZE) {
        Ok(Target::Edid(at))
    } else {
        Err(EINVAL)
    }
}

/// The errno of a refused register access.
fn errno(refused: Refused) -> Error {
    match refused {
        Refused::Invalid => EINVAL,
        Refused::ReadOnly => EPERM,
    }
}

/// The largest mode of type `index`.
const fn resolution(index: usize) -> Option<mdev::Resolution> {
    let (width, height) = model::TYPE_TABLE[index].max_mode();
    Some(mdev::Resolution { width, height })
}

#[vtable]
impl mdev::Driver for Mbochs {
    type Instance = Pin<KBox<Bochs>>;

    const DEVICE_API: &'static CStr = vfio::DEVICE_API_PCI;
    const TYPES: &'static [mdev::TypeInfo] = &[
        mdev::TypeInfo {
            sysfs_name: c_str!("small"),
            name: c_str!("mbochs-small"),
            max_resolution: resolution(0),
        },
        mdev::TypeInfo {
            sysfs_name: c_str!("medium"),
            name: c_str!("mbochs-medium"),
            max_resolution: resolution(1),
        },
        mdev::TypeInfo {
            sysfs_name: c_str!("large"),
            name: c_str!("mbochs-large"),
            max_resolution: resolution(2),
        },
    ];
    const INSTANCE_ATTRIBUTE_GROUP: Option<&'static CStr> = Some(c_str!("vendor"));
    const INSTANCE_ATTRIBUTES: &'static [&'static CStr] = &[c_str!("memory")];
    const GFX_PLANE_TYPE: Option<vfio::GfxPlaneType> = Some(vfio::GfxPlaneType::Dmabuf);
    const MIGRATION_FLAGS: u32 = migration::STOP_COPY | migration::P2P | migration::PRE_COPY;
    const MIGRATION_STREAM: Option<mdev::MigrationStream> = Some(mdev::MigrationStream {
        name: c_str!("mbochs_rs"),
        version: STREAM_VERSION,
    });

    fn available_instances(&self, type_index: usize) -> usize {
        let mbytes = model::TYPES.get(type_index).map_or(u32::MAX, |t| t.mbytes);
        (self.avail_mbytes.load(Ordering::Relaxed) / mbytes) as usize
    }

    fn description(&self, type_index: usize) -> Result<CString> {
        let ty = model::TYPES.get(type_index).ok_or(EINVAL)?;
        CString::try_from_fmt(fmt!("virtual display, {} MB video memory", ty.mbytes))
    }

    fn create(&self, _mdev: &Device, type_index: usize) -> Result<Pin<KBox<Bochs>>> {
        let ty = model::TYPES.get(type_index).ok_or(EINVAL)?;
        // As upstream: video memory the budget cannot cover is `ENOSPC`.
        self.avail_mbytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                n.checked_sub(ty.mbytes)
            })
            .map_err(|_| ENOSPC)?;
        let bochs = (|| {
            let count = usize::try_from(ty.vram_size())? / PAGE_SIZE;
            let pages = KVec::from_elem(None, count, GFP_KERNEL)?;
            let vram = Arc::pin_init(pin_init!(Vram { pages <- new_mutex!(pages) }), GFP_KERNEL)?;
            KBox::pin_init(
                pin_init!(Bochs {
                    type_index,
                    ty,
                    vram,
                    state <- new_mutex!(State {
                        config: model::config(ty),
                        dispi: Dispi::new(ty.vram_size()),
                        edid: Edid::new(ty),
                        planes: KVec::new(),
                        next_id: 1,
                        records: 0,
                    }),
                }),
                GFP_KERNEL,
            )
        })();
        if bochs.is_err() {
            self.avail_mbytes.fetch_add(ty.mbytes, Ordering::AcqRel);
        }
        bochs
    }

    fn remove(&self, _mdev: &Device, bochs: Pin<KBox<Bochs>>) {
        let mbytes = bochs.ty.mbytes;
        drop(bochs);
        self.avail_mbytes.fetch_add(mbytes, Ordering::AcqRel);
    }

    fn close(&self, _mdev: &Device, bochs: Pin<&Bochs>) {
        // As upstream: the next user starts with fresh video memory and no planes. What was
        // exported stays with its dma-bufs.
        bochs.state.lock().planes = KVec::new();
        bochs.vram.clear();
    }

    fn read(
        &self,
        _mdev: &Device,
        bochs: Pin<&Bochs>,
        buf: &mut [u8],
        offset: u64,
    ) -> Result<usize> {
        match target(&bochs, offset, buf.len())? {
            Target::Config(at) => bochs
                .state
                .lock()
                .config
                .read(at, buf)
                .map_err(|_| EINVAL)?,
            Target::Vram(at) => bochs.vram.each_page(at, buf.len(), |page, at, part| {
                page.read_shared(at, &mut buf[part])
            })?,
            Target::Mmio(at) => {
                let state = bochs.state.lock();
                model::mmio_read(&state.dispi, &state.edid, at, buf);
            }
            Target::Edid(at) => bochs.state.lock().edid.read(at, buf).map_err(errno)?,
        }
        Ok(buf.len())
    }

    fn write(&self, _mdev: &Device, bochs: Pin<&Bochs>, buf: &[u8], offset: u64) -> Result<usize> {
        match target(&bochs, offset, buf.len())? {
            Target::Config(at) => bochs
                .state
                .lock()
                .config
                .write(at, buf)
                .map_err(|_| EINVAL)?,
            Target::Vram(at) => bochs.vram.each_page(at, buf.len(), |page, at, part| {
                page.write_shared(at, &buf[part])
            })?,
            Target::Mmio(at) => model::mmio_write(&mut bochs.state.lock().dispi, at, buf),
            Target::Edid(at) => bochs.state.lock().edid.write(at, buf).map_err(errno)?,
        }
        Ok(buf.len())
    }

    fn mmap(&self, _mdev: &Device, bochs: Pin<&Bochs>, vma: &VmaNew) -> Result {
        let offset = vma.offset().ok_or(EINVAL)?;
        let end = pci::offset_in_region(offset).checked_add(vma.len() as u64);
        let fits = matches!(end, Some(end) if end <= bochs.ty.vram_size());
        if pci::offset_to_index(offset) != u64::from(pci::BAR0_REGION_INDEX) || !fits {
            return Err(EINVAL);
        }
        vma.set_page_fault::<Vram>(bochs.vram.clone())
    }

    fn device_info(&self, _mdev: &Device, _bochs: Pin<&Bochs>) -> Result<vfio::DeviceInfo> {
        Ok(vfio::DeviceInfo {
            flags: vfio::DEVICE_FLAGS_PCI | vfio::DEVICE_FLAGS_RESET,
            num_regions: EDID_REGION_INDEX + 1,
            num_irqs: pci::NUM_IRQS,
        })
    }

    fn region_info(
        &self,
        _mdev: &Device,
        bochs: Pin<&Bochs>,
        index: u32,
        caps: &mut vfio::CapChain,
    ) -> Result<vfio::RegionInfo> {
        let rw = vfio::REGION_INFO_FLAG_READ | vfio::REGION_INFO_FLAG_WRITE;
        let (flags, size) = match index {
            pci::CONFIG_REGION_INDEX => (rw, pci_config::SIZE as u64),
            pci::BAR0_REGION_INDEX => (rw | vfio::REGION_INFO_FLAG_MMAP, bochs.ty.vram_size()),
            pci::BAR2_REGION_INDEX => (rw, model::MMIO_SIZE.into()),
            EDID_REGION_INDEX => {
                caps.add_region_type(vfio::REGION_TYPE_GFX, vfio::REGION_SUBTYPE_GFX_EDID)?;
                (rw, model::EDID_REGION_SIZE)
            }
            i if i < pci::NUM_REGIONS => (0, 0),
            _ => return Err(EINVAL),
        };
        Ok(vfio::RegionInfo {
            flags,
            size,
            offset: if size == 0 {
                0
            } else {
                pci::region_offset(index)
            },
        })
    }

    fn reset(&self, _mdev: &Device, bochs: Pin<&Bochs>) -> Result {
        // A function-level reset: configuration space and the dispi registers as at power-on
        // (the display off). Video memory and the VMM's EDID stay.
        let mut state = bochs.state.lock();
        state.config = model::config(bochs.ty);
        state.dispi = Dispi::new(bochs.ty.vram_size());
        Ok(())
    }

    fn migration_data_size(&self, _mdev: &Device, bochs: Pin<&Bochs>) -> usize {
        bochs
            .stream_header()
            .map_or(0, |header| header.max_stream_size(model::STATE_LEN))
    }

    fn migration_stop_copy_size(&self, _mdev: &Device, bochs: Pin<&Bochs>) -> usize {
        let Ok(header) = bochs.stream_header() else {
            return 0;
        };
        // Only touched pages are sent: what a stream of that much memory takes.
        let touched = display_stream::Header {
            memory_size: u32::try_from(bochs.vram.touched() * PAGE_SIZE).unwrap_or(u32::MAX),
            ..header
        };
        touched.stop_copy_size(model::STATE_LEN)
    }

    fn save_state(
        &self,
        _mdev: &Device,
        bochs: Pin<&Bochs>,
        phase: migration::SavePhase,
        out: &mut migration::StreamWriter<'_>,
    ) -> Result {
        let header = bochs.stream_header()?;
        let read = |index: usize, buf: &mut [u8]| bochs.vram.read_page(index, buf);
        match phase {
            migration::SavePhase::Initial => display_stream::save_initial(out, &header, read),
            migration::SavePhase::StopCopy => {
                let mut saved = KVec::from_elem(0u8, model::STATE_LEN, GFP_KERNEL)?;
                {
                    let state = bochs.state.lock();
                    model::save_state(&state.config, &state.dispi, &state.edid, &mut saved)
                        .map_err(errno)?;
                }
                display_stream::save_final(out, &header, &saved, read)
            }
        }
    }

    fn check_state(&self, _mdev: &Device, bochs: Pin<&Bochs>, data: &[u8]) -> Result {
        display_stream::check_prefix(data, &bochs.stream_header()?).map_err(|_| EINVAL)
    }

    fn load_state(&self, _mdev: &Device, bochs: Pin<&Bochs>, data: &[u8]) -> Result {
        let header = bochs.stream_header()?;
        let saved = display_stream::check(data, &header, model::STATE_LEN).map_err(|_| EINVAL)?;
        let (config, dispi, edid) = model::restore_state(bochs.ty, saved).map_err(errno)?;
        // Nothing is changed before the whole stream was found good, and every page it sends
        // exists (a page allocated here reads as zeroes, as before). Pages keep their place:
        // the VMM's mapping and any dma-buf see what was loaded.
        let mut sent = KVec::from_elem(false, header.pages(), GFP_KERNEL)?;
        for (index, _) in display_stream::pages(data, &header) {
            bochs.vram.touch(index)?;
            if let Some(s) = sent.get_mut(index) {
                *s = true;
            }
        }
        for (index, page) in display_stream::pages(data, &header) {
            bochs.vram.load_page(index, Some(page))?;
        }
        for (index, &sent) in sent.iter().enumerate() {
            if !sent {
                bochs.vram.load_page(index, None)?;
            }
        }
        let mut state = bochs.state.lock();
        state.config = config;
        state.dispi = dispi;
        state.edid = edid;
        state.planes = KVec::new();
        Ok(())
    }

    fn query_gfx_plane(
        &self,
        _mdev: &Device,
        bochs: Pin<&Bochs>,
        plane_type: vfio::DrmPlaneType,
    ) -> Result<vfio::GfxPlane> {
        if plane_type != vfio::DrmPlaneType::Primary {
            return Ok(vfio::GfxPlane::none());
        }
        let mut state = bochs.state.lock();
        let Some(mode) = state.dispi.mode(bochs.ty.vram_size()) else {
            return Ok(vfio::GfxPlane::none());
        };
        let id = Bochs::plane_id(&mut state, mode)?;
        Ok(vfio::GfxPlane {
            drm_format: model::FORMAT_XRGB8888,
            width: mode.width,
            height: mode.height,
            stride: mode.stride,
            size: u32::try_from(mode.size)?,
            id,
            ..vfio::GfxPlane::none()
        })
    }

    fn get_gfx_dmabuf(
        &self,
        _mdev: &Device,
        bochs: Pin<&Bochs>,
        dmabuf_id: u32,
    ) -> Result<ARef<DmaBuf>> {
        let mut state = bochs.state.lock();
        let plane = state
            .planes
            .iter_mut()
            .find(|p| p.id == dmabuf_id)
            .ok_or(ENOENT)?;
        if let Some(buf) = &plane.buf {
            return Ok(buf.clone());
        }
        let buf = bochs.export(&plane.mode)?;
        plane.buf = Some(buf.clone());
        Ok(buf)
    }

    fn show_instance_attribute(
        &self,
        _mdev: &Device,
        bochs: Pin<&Bochs>,
        _index: usize,
    ) -> Result<CString> {
        CString::try_from_fmt(fmt!("{} MB", bochs.ty.mbytes))
    }
}

struct MbochsModule {
    _parent: Pin<KBox<mdev::Registration<Mbochs>>>,
}

impl kernel::Module for MbochsModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let parent = KBox::pin_init(
            mdev::Registration::new(
                module,
                c_str!("mbochs"),
                Mbochs {
                    avail_mbytes: AtomicU32::new(module_parameters::count.value()),
                },
            ),
            GFP_KERNEL,
        )?;
        Ok(MbochsModule { _parent: parent })
    }
}
