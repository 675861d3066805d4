// SPDX-License-Identifier: GPL-2.0

//! The smallest mediated-device vendor driver: the mdev equivalent of `rust_minimal`.
//!
//! One type, `mdev_minimal-1`, with a budget of [`INSTANCES`] instances. Each instance is a PCI
//! device that has a configuration space (`mdev_minimal_config.rs`) and no BARs or interrupts,
//! plus one device-specific region after the PCI ones: a read-only copy of its UUID, whose
//! region info carries a type capability. It shows the whole path of the Rust stack,
//! kernel::mdev -> vfio_mdev -> VFIO, written entirely in safe Rust.

use core::sync::atomic::{AtomicUsize, Ordering};
use kernel::{
    c_str, fmt,
    mdev::{self, Device},
    new_mutex,
    prelude::*,
    str::{CStr, CString},
    sync::Mutex,
    vfio::{self, pci},
};

#[path = "mdev_minimal_config.rs"]
mod config;
#[path = "pci_config.rs"]
mod pci_config;

use pci_config::ConfigSpace;

module! {
    type: MinimalModule,
    name: "mdev_minimal",
    author: "mdev-rs developers",
    description: "Minimal Rust mediated device sample",
    license: "GPL v2",
}

/// How many instances the parent can hold at once.
const INSTANCES: usize = 4;

/// The parent: what is left of the instance budget.
struct Minimal {
    available: AtomicUsize,
}

/// One instance: its configuration space.
#[pin_data]
struct Instance {
    #[pin]
    config: Mutex<ConfigSpace>,
}

/// The identification region: the instance's UUID, after the PCI regions.
const ID_REGION_INDEX: u32 = pci::NUM_REGIONS;
/// Its size: a UUID.
const ID_REGION_SIZE: usize = 16;
/// Its type (`VFIO_REGION_INFO_CAP_TYPE`): a region type of the device's PCI vendor.
const ID_REGION_TYPE: u32 = vfio::REGION_TYPE_PCI_VENDOR_TYPE | config::VENDOR_ID as u32;
/// Its subtype within the vendor's types.
const ID_REGION_SUBTYPE: u32 = 1;

/// The regions an access can reach.
enum Target {
    /// The configuration space, at this offset.
    Config(u64),
    /// The identification region, at this offset.
    Id(usize),
}

/// Where an access at device-file offset `offset` falls; any other region is refused.
fn target(offset: u64) -> Result<Target> {
    let at = pci::offset_in_region(offset);
    match u32::try_from(pci::offset_to_index(offset)) {
        Ok(pci::CONFIG_REGION_INDEX) => Ok(Target::Config(at)),
        Ok(ID_REGION_INDEX) => Ok(Target::Id(usize::try_from(at)?)),
        _ => Err(EINVAL),
    }
}

#[vtable]
impl mdev::Driver for Minimal {
    type Instance = Pin<KBox<Instance>>;

    const DEVICE_API: &'static CStr = vfio::DEVICE_API_PCI;
    const TYPES: &'static [mdev::TypeInfo] = &[mdev::TypeInfo {
        sysfs_name: c_str!("1"),
        name: c_str!("Minimal PCI device"),
        max_resolution: None,
    }];

    fn available_instances(&self, _type_index: usize) -> usize {
        self.available.load(Ordering::Relaxed)
    }

    fn description(&self, _type_index: usize) -> Result<CString> {
        CString::try_from_fmt(fmt!(
            "PCI configuration space only, {} instances",
            INSTANCES
        ))
    }

    fn create(&self, _mdev: &Device, _type_index: usize) -> Result<Pin<KBox<Instance>>> {
        self.available
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .map_err(|_| ENOSPC)?;
        let instance = KBox::pin_init(
            pin_init!(Instance {
                config <- new_mutex!(config::new()),
            }),
            GFP_KERNEL,
        );
        if instance.is_err() {
            self.available.fetch_add(1, Ordering::AcqRel);
        }
        instance
    }

    fn remove(&self, _mdev: &Device, instance: Pin<KBox<Instance>>) {
        drop(instance);
        self.available.fetch_add(1, Ordering::AcqRel);
    }

    fn read(
        &self,
        mdev: &Device,
        instance: Pin<&Instance>,
        buf: &mut [u8],
        offset: u64,
    ) -> Result<usize> {
        match target(offset)? {
            Target::Config(at) => instance.config.lock().read(at, buf).map_err(|_| EINVAL)?,
            Target::Id(at) => {
                let uuid = mdev.uuid();
                let bytes = at
                    .checked_add(buf.len())
                    .and_then(|end| uuid.get(at..end))
                    .ok_or(EINVAL)?;
                buf.copy_from_slice(bytes);
            }
        }
        Ok(buf.len())
    }

    fn write(
        &self,
        _mdev: &Device,
        instance: Pin<&Instance>,
        buf: &[u8],
        offset: u64,
    ) -> Result<usize> {
        match target(offset)? {
            Target::Config(at) => instance.config.lock().write(at, buf).map_err(|_| EINVAL)?,
            Target::Id(_) => return Err(EINVAL),
        }
        Ok(buf.len())
    }

    fn device_info(&self, _mdev: &Device, _instance: Pin<&Instance>) -> Result<vfio::DeviceInfo> {
        Ok(vfio::DeviceInfo {
            flags: vfio::DEVICE_FLAGS_PCI | vfio::DEVICE_FLAGS_RESET,
            num_regions: ID_REGION_INDEX + 1,
            num_irqs: pci::NUM_IRQS,
        })
    }

    fn region_info(
        &self,
        _mdev: &Device,
        _instance: Pin<&Instance>,
        index: u32,
        caps: &mut vfio::CapChain,
    ) -> Result<vfio::RegionInfo> {
        let mut info = vfio::RegionInfo {
            offset: pci::region_offset(index),
            ..Default::default()
        };
        match index {
            pci::CONFIG_REGION_INDEX => {
                info.size = pci_config::SIZE as u64;
                info.flags = vfio::REGION_INFO_FLAG_READ | vfio::REGION_INFO_FLAG_WRITE;
            }
            ID_REGION_INDEX => {
                info.size = ID_REGION_SIZE as u64;
                info.flags = vfio::REGION_INFO_FLAG_READ;
                caps.add_region_type(ID_REGION_TYPE, ID_REGION_SUBTYPE)?;
            }
            _ if index < pci::NUM_REGIONS => {}
            _ => return Err(EINVAL),
        }
        Ok(info)
    }

    fn reset(&self, _mdev: &Device, instance: Pin<&Instance>) -> Result {
        *instance.config.lock() = config::new();
        Ok(())
    }
}

struct MinimalModule {
    _parent: Pin<KBox<mdev::Registration<Minimal>>>,
}

impl kernel::Module for MinimalModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let parent = KBox::pin_init(
            mdev::Registration::new(
                module,
                c_str!("mdev_minimal"),
                Minimal {
                    available: AtomicUsize::new(INSTANCES),
                },
            ),
            GFP_KERNEL,
        )?;
        Ok(MinimalModule { _parent: parent })
    }
}
