// SPDX-License-Identifier: GPL-2.0

//! The smallest mediated-device vendor driver: the mdev equivalent of `rust_minimal`.
//!
//! One type, `mdev_minimal-1`, with a budget of [`INSTANCES`] instances. Each instance is a PCI
//! device that has a configuration space (`mdev_minimal_config.rs`) and nothing else: no BARs,
//! no interrupts. It shows the whole path of the Rust stack, kernel::mdev -> vfio_mdev -> VFIO,
//! written entirely in safe Rust.

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

/// Where an access of `len` bytes at device-file offset `offset` falls in the configuration
/// space; any other region is refused.
fn config_offset(offset: u64) -> Result<u64> {
    if pci::offset_to_index(offset) != u64::from(pci::CONFIG_REGION_INDEX) {
        return Err(EINVAL);
    }
    Ok(pci::offset_in_region(offset))
}

#[vtable]
impl mdev::Driver for Minimal {
    type Instance = Instance;

    const DEVICE_API: &'static CStr = vfio::DEVICE_API_PCI;
    const TYPES: &'static [mdev::TypeInfo] = &[mdev::TypeInfo {
        sysfs_name: c_str!("1"),
        name: c_str!("Minimal PCI device"),
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

    fn remove(&self, instance: Pin<KBox<Instance>>) {
        drop(instance);
        self.available.fetch_add(1, Ordering::AcqRel);
    }

    fn read(instance: &Instance, buf: &mut [u8], offset: u64) -> Result<usize> {
        let at = config_offset(offset)?;
        instance.config.lock().read(at, buf).map_err(|_| EINVAL)?;
        Ok(buf.len())
    }

    fn write(instance: &Instance, buf: &[u8], offset: u64) -> Result<usize> {
        let at = config_offset(offset)?;
        instance.config.lock().write(at, buf).map_err(|_| EINVAL)?;
        Ok(buf.len())
    }

    fn device_info(_instance: &Instance) -> Result<vfio::DeviceInfo> {
        Ok(vfio::DeviceInfo {
            flags: vfio::DEVICE_FLAGS_PCI | vfio::DEVICE_FLAGS_RESET,
            num_regions: pci::NUM_REGIONS,
            num_irqs: pci::NUM_IRQS,
        })
    }

    fn region_info(_instance: &Instance, index: u32) -> Result<vfio::RegionInfo> {
        if index >= pci::NUM_REGIONS {
            return Err(EINVAL);
        }
        let mut info = vfio::RegionInfo {
            offset: pci::region_offset(index),
            ..Default::default()
        };
        if index == pci::CONFIG_REGION_INDEX {
            info.size = pci_config::SIZE as u64;
            info.flags = vfio::REGION_INFO_FLAG_READ | vfio::REGION_INFO_FLAG_WRITE;
        }
        Ok(info)
    }

    fn irq_info(_instance: &Instance, index: u32) -> Result<vfio::IrqInfo> {
        if index >= pci::NUM_IRQS {
            return Err(EINVAL);
        }
        Ok(vfio::IrqInfo::default())
    }

    fn reset(instance: &Instance) -> Result {
        *instance.config.lock() = config::new();
        Ok(())
    }
}

struct MinimalModule {
    _parent: Pin<KBox<mdev::Registration<Minimal>>>,
}

impl kernel::Module for MinimalModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let parent = mdev::Registration::new(
            module,
            c_str!("mdev_minimal"),
            Minimal {
                available: AtomicUsize::new(INSTANCES),
            },
        )?;
        Ok(MinimalModule { _parent: parent })
    }
}
