// SPDX-License-Identifier: GPL-2.0

//! mdpy in Rust: a virtual PCI display whose framebuffer is BAR 0, the user-visible twin of
//! upstream's `samples/vfio-mdev/mdpy.c` (ids and vendor capability from `mdpy-defs.h`; the
//! guest driver is upstream's `mdpy-fb`).
//!
//! Types `mdpy-vga` (640x480), `mdpy-xga` (1024x768) and `mdpy-hd` (1920x1080), XRGB8888,
//! share a budget of [`MAX_INSTANCES`] instances. The framebuffer is `vmalloc_user` memory the
//! VMM maps through the device file (region info says so) and finds through
//! `VFIO_DEVICE_QUERY_GFX_PLANE` (a region plane: BAR 0). The model (modes, geometry,
//! configuration space, reset picture) is `mdpy_model.rs`, pure Rust with host tests; this file
//! binds it to kernel::mdev, in safe Rust only. Upstream's faults are fixed: reads and writes
//! of the framebuffer honour their offset, the plane names BAR 0 (upstream: region 16 of a
//! 9-region device), a cursor query answers "no such plane" (upstream: the primary plane),
//! interrupt info has no flags (upstream echoes the caller's), and the device reports the
//! RESET it supports.
//!
//! Unlike upstream's, it migrates (STOP_COPY, P2P, PRE_COPY): the configuration space and the
//! framebuffer, in the display samples' stream format (`display_stream.rs`), the framebuffer
//! sent while the device runs and what changed since sent again when it stops.

use core::sync::atomic::{AtomicUsize, Ordering};
use kernel::{
    c_str, fmt,
    mdev::{self, Device},
    mm::{virt::VmaNew, VmallocUser},
    new_mutex,
    prelude::*,
    str::{CStr, CString},
    sync::Mutex,
    vfio::{self, migration, pci},
};

#[path = "display_sink.rs"]
mod display_sink;
#[path = "display_stream.rs"]
mod display_stream;
#[path = "mdpy_model.rs"]
mod model;
#[path = "pci_config.rs"]
mod pci_config;

use model::Mode;
use pci_config::ConfigSpace;

module! {
    type: MdpyModule,
    name: "mdpy_rs",
    author: "mdev-rs developers",
    description: "Mediated virtual PCI display (Rust)",
    license: "GPL v2",
}

/// Instances all types share, as upstream's default `count`.
const MAX_INSTANCES: usize = 4;

/// The migration stream's magic and version (the layout is `display_stream.rs`'s).
const STREAM_MAGIC: [u8; 8] = *b"MDPYRS01";
const STREAM_VERSION: u32 = 1;
/// The device state a stream carries: the configuration space.
const STATE_LEN: usize = pci_config::SIZE;

/// The parent's data: how many instances exist.
struct Mdpy {
    instances: AtomicUsize,
}

/// One display.
#[pin_data]
struct Display {
    type_index: usize,
    mode: &'static Mode,
    /// The primary plane: fixed by the mode, so worked out once.
    plane: vfio::GfxPlane,
    framebuffer: VmallocUser,
    #[pin]
    config: Mutex<ConfigSpace>,
}

impl Display {
    /// The header of the instance's migration streams.
    fn stream_header(&self) -> display_stream::Header {
        display_stream::Header {
            magic: STREAM_MAGIC,
            version: STREAM_VERSION,
            type_index: self.type_index as u32,
            memory_size: self.framebuffer.len() as u32,
        }
    }

    /// Copies page `index` of the framebuffer to `buf`.
    fn read_page(&self, index: usize, buf: &mut [u8]) -> Result {
        self.framebuffer
            .read(index * display_stream::PAGE_SIZE, buf)
    }

    /// Paints the gray gradient of the reset picture over the visible lines.
    fn paint_gradient(&self) -> Result {
        let stride = self.mode.stride() as usize;
        for row in 0..self.mode.height {
            let shade = self.mode.reset_shade(row);
            self.framebuffer
                .fill(row as usize * stride, stride, shade)?;
        }
        Ok(())
    }
}

/// What a device-file access of `len` bytes at `offset` reaches.
enum Target {
    /// Configuration space, at this offset.
    Config(u64),
    /// The framebuffer, at this offset.
    Framebuffer(usize),
}

fn target(display: &Display, offset: u64, len: usize) -> Result<Target> {
    let index = pci::offset_to_index(offset);
    let at = pci::offset_in_region(offset);
    let end = at.checked_add(len as u64).ok_or(EINVAL)?;
    if index == u64::from(pci::CONFIG_REGION_INDEX) && end <= pci_config::SIZE as u64 {
        Ok(Target::Config(at))
    } else if index == u64::from(pci::BAR0_REGION_INDEX) && end <= display.framebuffer.len() as u64
    {
        Ok(Target::Framebuffer(at as usize))
    } else {
        Err(EINVAL)
    }
}

/// The mode of type `index`: its only one, so its largest.
const fn resolution(index: usize) -> Option<mdev::Resolution> {
    let mode = model::MODE_TABLE[index];
    Some(mdev::Resolution {
        width: mode.width,
        height: mode.height,
    })
}

#[vtable]
impl mdev::Driver for Mdpy {
    type Instance = Pin<KBox<Display>>;

    const DEVICE_API: &'static CStr = vfio::DEVICE_API_PCI;
    const TYPES: &'static [mdev::TypeInfo] = &[
        mdev::TypeInfo {
            sysfs_name: c_str!("vga"),
            name: c_str!("mdpy-vga"),
            max_resolution: resolution(0),
        },
        mdev::TypeInfo {
            sysfs_name: c_str!("xga"),
            name: c_str!("mdpy-xga"),
            max_resolution: resolution(1),
        },
        mdev::TypeInfo {
            sysfs_name: c_str!("hd"),
            name: c_str!("mdpy-hd"),
            max_resolution: resolution(2),
        },
    ];
    const INSTANCE_ATTRIBUTE_GROUP: Option<&'static CStr> = Some(c_str!("vendor"));
    const INSTANCE_ATTRIBUTES: &'static [&'static CStr] = &[c_str!("resolution")];
    const GFX_PLANE_TYPE: Option<vfio::GfxPlaneType> = Some(vfio::GfxPlaneType::Region);
    const MIGRATION_FLAGS: u32 = migration::STOP_COPY | migration::P2P | migration::PRE_COPY;
    const MIGRATION_STREAM: Option<mdev::MigrationStream> = Some(mdev::MigrationStream {
        name: c_str!("mdpy_rs"),
        version: STREAM_VERSION,
    });

    fn available_instances(&self, _type_index: usize) -> usize {
        MAX_INSTANCES.saturating_sub(self.instances.load(Ordering::Relaxed))
    }

    fn description(&self, type_index: usize) -> Result<CString> {
        let mode = model::MODES.get(type_index).ok_or(EINVAL)?;
        CString::try_from_fmt(fmt!(
            "virtual display, {}x{} framebuffer",
            mode.width,
            mode.height
        ))
    }

    fn create(&self, mdev: &Device, type_index: usize) -> Result<Pin<KBox<Display>>> {
        let mode = model::MODES.get(type_index).ok_or(EINVAL)?;
        self.instances
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_INSTANCES).then_some(n + 1)
            })
            .map_err(|_| mdev::no_instance_left())?;
        let display = VmallocUser::new(mode.framebuffer_size() as usize).and_then(|framebuffer| {
            KBox::pin_init(
                pin_init!(Display {
                    type_index,
                    mode,
                    plane: vfio::GfxPlane {
                        drm_format: model::FORMAT_XRGB8888,
                        width: mode.width,
                        height: mode.height,
                        stride: mode.stride(),
                        size: mode.framebuffer_size(),
                        id: pci::BAR0_REGION_INDEX,
                        ..vfio::GfxPlane::none()
                    },
                    framebuffer,
                    config <- new_mutex!(mode.config()),
                }),
                GFP_KERNEL,
            )
        });
        match display {
            // `vmalloc_user` memory starts zeroed: only the gradient needs painting.
            Ok(display) => match display.paint_gradient() {
                Ok(()) => Ok(display),
                Err(e) => {
                    self.remove(mdev, display);
                    Err(e)
                }
            },
            Err(e) => {
                self.instances.fetch_sub(1, Ordering::AcqRel);
                Err(e)
            }
        }
    }

    fn remove(&self, _mdev: &Device, display: Pin<KBox<Display>>) {
        drop(display);
        self.instances.fetch_sub(1, Ordering::AcqRel);
    }

    fn read(
        &self,
        _mdev: &Device,
        display: Pin<&Display>,
        buf: &mut [u8],
        offset: u64,
    ) -> Result<usize> {
        match target(&display, offset, buf.len())? {
            Target::Config(at) => display.config.lock().read(at, buf).map_err(|_| EINVAL)?,
            Target::Framebuffer(at) => display.framebuffer.read(at, buf)?,
        }
        Ok(buf.len())
    }

    fn write(
        &self,
        _mdev: &Device,
        display: Pin<&Display>,
        buf: &[u8],
        offset: u64,
    ) -> Result<usize> {
        match target(&display, offset, buf.len())? {
            Target::Config(at) => display.config.lock().write(at, buf).map_err(|_| EINVAL)?,
            Target::Framebuffer(at) => display.framebuffer.write(at, buf)?,
        }
        Ok(buf.len())
    }

    fn mmap(&self, _mdev: &Device, display: Pin<&Display>, vma: &VmaNew) -> Result {
        let offset = vma.offset().ok_or(EINVAL)?;
        if pci::offset_to_index(offset) != u64::from(pci::BAR0_REGION_INDEX) {
            return Err(EINVAL);
        }
        let at = usize::try_from(pci::offset_in_region(offset))?;
        vma.map_vmalloc(&display.framebuffer, at)
    }

    fn device_info(&self, _mdev: &Device, _display: Pin<&Display>) -> Result<vfio::DeviceInfo> {
        Ok(vfio::DeviceInfo {
            flags: vfio::DEVICE_FLAGS_PCI | vfio::DEVICE_FLAGS_RESET,
            num_regions: pci::NUM_REGIONS,
            num_irqs: pci::NUM_IRQS,
        })
    }

    fn region_info(
        &self,
        _mdev: &Device,
        display: Pin<&Display>,
        index: u32,
        _caps: &mut vfio::CapChain,
    ) -> Result<vfio::RegionInfo> {
        let rw = vfio::REGION_INFO_FLAG_READ | vfio::REGION_INFO_FLAG_WRITE;
        let (flags, size) = match index {
            pci::CONFIG_REGION_INDEX => (rw, pci_config::SIZE as u64),
            pci::BAR0_REGION_INDEX => (
                rw | vfio::REGION_INFO_FLAG_MMAP,
                display.framebuffer.len() as u64,
            ),
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

    fn reset(&self, _mdev: &Device, display: Pin<&Display>) -> Result {
        *display.config.lock() = display.mode.config();
        display.paint_gradient()?;
        // What the guest drew below the visible lines goes too.
        let picture = display.mode.picture_size() as usize;
        display
            .framebuffer
            .fill(picture, display.framebuffer.len() - picture, 0)
    }

    fn migration_data_size(&self, _mdev: &Device, display: Pin<&Display>) -> usize {
        display.stream_header().max_stream_size(STATE_LEN)
    }

    fn migration_stop_copy_size(&self, _mdev: &Device, display: Pin<&Display>) -> usize {
        display.stream_header().stop_copy_size(STATE_LEN)
    }

    fn save_state(
        &self,
        _mdev: &Device,
        display: Pin<&Display>,
        phase: migration::SavePhase,
        out: &mut migration::StreamWriter<'_>,
    ) -> Result {
        let header = display.stream_header();
        let read = |index: usize, buf: &mut [u8]| display.read_page(index, buf);
        match phase {
            migration::SavePhase::Initial => display_stream::save_initial(out, &header, read),
            migration::SavePhase::StopCopy => {
                let config = *display.config.lock().bytes();
                display_stream::save_final(out, &header, &config, read)
            }
        }
    }

    fn check_state(&self, _mdev: &Device, display: Pin<&Display>, data: &[u8]) -> Result {
        display_stream::check_prefix(data, &display.stream_header()).map_err(|_| EINVAL)
    }

    fn load_state(&self, _mdev: &Device, display: Pin<&Display>, data: &[u8]) -> Result {
        let header = display.stream_header();
        let state = display_stream::check(data, &header, STATE_LEN).map_err(|_| EINVAL)?;
        let mut config = display.mode.config();
        config.restore(state).map_err(|_| EINVAL)?;
        // Nothing is changed before the whole stream was found good.
        display.framebuffer.fill(0, display.framebuffer.len(), 0)?;
        for (index, page) in display_stream::pages(data, &header) {
            display
                .framebuffer
                .write(index * display_stream::PAGE_SIZE, page)?;
        }
        *display.config.lock() = config;
        Ok(())
    }

    fn query_gfx_plane(
        &self,
        _mdev: &Device,
        display: Pin<&Display>,
        plane_type: vfio::DrmPlaneType,
    ) -> Result<vfio::GfxPlane> {
        if plane_type != vfio::DrmPlaneType::Primary {
            return Ok(vfio::GfxPlane::none());
        }
        Ok(display.plane)
    }

    fn show_instance_attribute(
        &self,
        _mdev: &Device,
        display: Pin<&Display>,
        _index: usize,
    ) -> Result<CString> {
        CString::try_from_fmt(fmt!("{}x{}", display.mode.width, display.mode.height))
    }
}

struct MdpyModule {
    _parent: Pin<KBox<mdev::Registration<Mdpy>>>,
}

impl kernel::Module for MdpyModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let parent = KBox::pin_init(
            mdev::Registration::new(
                module,
                c_str!("mdpy"),
                Mdpy {
                    instances: AtomicUsize::new(0),
                },
            ),
            GFP_KERNEL,
        )?;
        Ok(MdpyModule { _parent: parent })
    }
}
