// SPDX-License-Identifier: GPL-2.0

//! Mediated devices for vendor drivers.
//!
//! A vendor driver implements [`Driver`] and keeps a [`Registration`] for as long as its parent
//! device should exist. The registration creates the parent device (a class and a device of the
//! driver's name, so its types appear as `<name>-<type>` under
//! `/sys/class/mdev_bus/<name>/mdev_supported_types/`), registers it with the mdev core through
//! `vfio_mdev`, and undoes all of it when dropped, removing every instance first.
//!
//! Each instance created through sysfs gets its own [`Driver::Instance`], built by
//! [`Driver::create`] and held through [`ForeignOwnable`] (a `Pin<KBox<_>>`, or an `Arc` that
//! objects the instance exports can share). `vfio_mdev`, the mdev driver of every parent, makes
//! the instance a VFIO device with an emulated IOMMU (a VFIO group, an IOMMU group,
//! `/dev/vfio/<n>` and the iommufd cdev when configured). The device's `vfio_device_ops` are
//! the driver's own: a table built for `T` in which a slot is filled only when `T` implements the
//! callback behind it (`T::HAS_*`), as with every `#[vtable]` trait. The standard
//! `VFIO_DEVICE_*` ioctls reach the driver decoded (see [`crate::vfio`]): argument sizes,
//! user copies and capability chains are done here.
//!
//! ```ignore
//! struct Card;
//!
//! #[vtable]
//! impl mdev::Driver for Card {
//!     type Instance = Pin<KBox<Port>>;
//!     const DEVICE_API: &'static CStr = vfio::DEVICE_API_PCI;
//!     const TYPES: &'static [mdev::TypeInfo] = &[mdev::TypeInfo {
//!         sysfs_name: c_str!("1"),
//!         name: c_str!("One port"),
//!         max_resolution: None,
//!     }];
//!
//!     fn available_instances(&self, _type_index: usize) -> usize { 4 }
//!     fn create(&self, _mdev: &mdev::Device, _type_index: usize) -> Result<Pin<KBox<Port>>> {
//!         KBox::pin_init(Port::new(), GFP_KERNEL)
//!     }
//!     fn read(&self, _mdev: &mdev::Device, port: Pin<&Port>, buf: &mut [u8], offset: u64)
//!         -> Result<usize> { port.read(buf, offset) }
//!     // device_info, region_info, write, ...
//! }
//!
//! let reg = KBox::pin_init(mdev::Registration::new(module, c_str!("card"), Card), GFP_KERNEL)?;
//! ```
//!
//! Every type directory also gets a `capabilities` subdirectory, read-only files that say what
//! an instance of the type offers before anyone opens one: its display ([`Driver::GFX_PLANE_TYPE`]
//! and [`TypeInfo::max_resolution`]) and its live migration ([`Driver::MIGRATION_FLAGS`] and
//! [`Driver::MIGRATION_STREAM`]). The mdev core's C API has no place for them, so the binding adds
//! them to the type's kobject once the parent is registered, on either core; upstream's C samples
//! have none. See `Documentation/ABI/testing/sysfs-bus-vfio-mdev-rs`.
//!
//! Lifetimes: the C records of a parent ([`ParentRecord`]) are freed by the release of the
//! parent device, and every VFIO device's `release` is a function of the kernel image that lets
//! go of its parent's record; a registration waits for the last of its VFIO devices to be
//! released before it returns from `drop`. So neither a delayed kobject release nor a VFIO core
//! path that runs after `remove` ever reaches a record, a table or a function of an unloaded
//! vendor module.
//!
//! The parts of this module that call into `vfio_mdev` (and through it the mdev core) are
//! generic over the driver, so they are compiled into the vendor module: the kernel crate itself
//! never references a symbol of a loadable module (the VFIO core it calls is built in).
//!
//! C header: [`include/linux/mdev.h`](srctree/include/linux/mdev.h)

use crate::{
    bindings, device,
    dma_buf::DmaBuf,
    error::{from_err_ptr, to_result, Error, Result, VTABLE_DEFAULT_ERROR},
    ffi::{c_uint, c_void},
    init::PinInit,
    mm::virt::VmaNew,
    prelude::*,
    str::{CStr, CString},
    types::{ARef, AlwaysRefCounted, ForeignOwnable, Opaque},
    uaccess::UserPtr,
    vfio, ThisModule,
};
use core::{
    marker::PhantomPinned,
    mem::MaybeUninit,
    pin::Pin,
    ptr::{self, NonNull},
    sync::atomic::{AtomicPtr, AtomicUsize, Ordering},
};

mod adapter;
mod migration;

/// Counts the objects whose release callbacks are code of the calling module, so that the
/// module's exit can wait until the last of them has run.
///
/// The driver core and the kobject core call a release callback when the last reference goes,
/// which may be long after the code that dropped its own reference returned (with
/// `CONFIG_DEBUG_KOBJECT_RELEASE`, one to four seconds later, from a workqueue). A module whose
/// release callbacks (or operation tables read by a release path) are in its own text must not
/// go away before then. Count such an object with [`ReleaseTracker::get`] when its release
/// callback becomes armed, call [`ReleaseTracker::put`] as the last step of that callback, and
/// call [`ReleaseTracker::wait_idle`] in the module's exit.
///
/// What remains after `put` is the return from the callback itself, the same window that
/// in-tree drivers accept when a release callback completes a `struct completion` their exit
/// waits for.
pub struct ReleaseTracker(AtomicUsize);

impl ReleaseTracker {
    /// A tracker with nothing counted, for a `static`.
    pub const fn new() -> Self {
        Self(AtomicUsize::new(0))
    }

    /// Counts one object whose release callback is now armed.
    pub fn get(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }

    /// The release callback of a counted object has done everything but return.
    ///
    /// # Safety
    ///
    /// Called once for each [`ReleaseTracker::get`], by the object's release callback, after its
    /// last use of anything [`ReleaseTracker::wait_idle`] protects: an extra `put` would let a
    /// module go while a release callback still runs its code.
    pub unsafe fn put(&self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }

    /// Sleeps until every counted object has been released, saying so in the kernel log every
    /// ten seconds (a reference that is never dropped keeps its module from unloading, as
    /// `vfio_unregister_group_dev` waits for a device file that is never closed).
    ///
    /// This function may sleep.
    pub fn wait_idle(&self) {
        let mut polls = 0u32;
        loop {
            let left = self.0.load(Ordering::Acquire);
            if left == 0 {
                return;
            }
            polls = polls.wrapping_add(1);
            if polls % 1000 == 0 {
                crate::pr_warn!("mdev: waiting for the release of {} objects\n", left);
            }
            // SAFETY: `msleep` has no memory-safety requirement; callers may sleep, as this
            // function's documentation says.
            unsafe { bindings::msleep(10) };
        }
    }
}

impl Default for ReleaseTracker {
    fn default() -> Self {
        Self::new()
    }
}

/// One type of device a parent offers.
pub struct TypeInfo {
    /// Suffix of the type's directory: the type appears as `<parent name>-<sysfs_name>`.
    pub sysfs_name: &'static CStr,
    /// Human-readable name, shown in the type's `name` file.
    pub name: &'static CStr,
    /// The largest mode an instance's display plane shows, in the type's
    /// `capabilities/display_max_resolution` file: `Some` exactly when the driver has a display
    /// ([`Driver::GFX_PLANE_TYPE`]), which is checked when the driver is built.
    pub max_resolution: Option<Resolution>,
}

/// A display mode's size, in pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resolution {
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

/// The format of a driver's migration stream: what a resuming host must read.
///
/// Shown in every type's `capabilities/migration_stream` and `capabilities/migration_version`
/// files, so that management software can tell before a migration is tried whether the
/// destination takes what the source sends: the same name, and a version the destination reads.
#[derive(Clone, Copy, Debug)]
pub struct MigrationStream {
    /// The format's name, one word.
    pub name: &'static CStr,
    /// Its version; a driver raises it whenever its streams change.
    pub version: u32,
}

/// The error of a `create` past a budget of instances counted by the mdev core itself (a C
/// driver's `max_instances`): `EUSERS`. A driver that counts its instances in the same way
/// returns it, so that users see the same errno.
pub fn no_instance_left() -> Error {
    Error::from_errno(-(bindings::EUSERS as i32))
}

/// A mediated device instance (`struct mdev_device`), as its vendor driver sees it.
///
/// Reference counted: an [`ARef<Device>`](crate::types::ARef) keeps the instance's
/// `struct mdev_device` (and through it its type and parent records) alive, though not bound to
/// the driver.
///
/// # Invariants
///
/// The wrapped `struct mdev_device` has a non-zero reference count, and its type is a type of a
/// parent built by [`Registration`] (a [`TypeRecord`]).
#[repr(transparent)]
pub struct Device(Opaque<bindings::mdev_device>);

impl Device {
    /// Creates a reference to a [`Device`] from a pointer to its `struct mdev_device`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a `struct mdev_device` whose reference count stays non-zero for the
    /// lifetime `'a`, and whose parent was registered by a [`Registration`] (so that its type is
    /// a [`TypeRecord`], which [`Device::type_index`] reads).
    #[inline]
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::mdev_device) -> &'a Self {
        // INVARIANT: guaranteed by the caller.
        // SAFETY: `Device` is a transparent wrapper of `struct mdev_device`, which the caller
        // guarantees alive for `'a`.
        unsafe { &*ptr.cast() }
    }

    fn as_raw(&self) -> *mut bindings::mdev_device {
        self.0.get()
    }

    /// The instance's UUID, in the byte order of its string form (RFC 4122).
    pub fn uuid(&self) -> [u8; 16] {
        // Where each byte of the string form is in a `guid_t`, whose first three fields are
        // little-endian (the core parses and prints the UUID as one).
        const GUID_ORDER: [usize; 16] = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
        // SAFETY: By the type invariant the device is alive; the core sets the UUID before the
        // device is added and never changes it.
        let guid = unsafe { (*self.as_raw()).uuid.b };
        GUID_ORDER.map(|i| guid[i])
    }

    /// The instance's device name: its UUID as text.
    pub fn name(&self) -> &CStr {
        // SAFETY: By the type invariant the device is alive; its name is set before it is added
        // and lives as long as the device.
        unsafe { CStr::from_char_ptr(bindings::dev_name(ptr::addr_of_mut!((*self.as_raw()).dev))) }
    }

    /// The index in [`Driver::TYPES`] of the instance's type.
    pub fn type_index(&self) -> usize {
        // SAFETY: By the type invariant the device is alive and holds a reference on its type
        // (which holds one on its parent's record), a `TypeRecord`.
        unsafe { (*TypeRecord::from_type((*self.as_raw()).type_)).index }
    }
}

impl AsRef<device::Device> for Device {
    fn as_ref(&self) -> &device::Device {
        // SAFETY: By the type invariant the embedded `struct device` is alive as long as `self`.
        unsafe { device::Device::as_ref(ptr::addr_of_mut!((*self.as_raw()).dev)) }
    }
}

// SAFETY: An mdev instance is reference counted through its embedded `struct device`.
unsafe impl AlwaysRefCounted for Device {
    fn inc_ref(&self) {
        // SAFETY: By the type invariant the reference count is non-zero.
        unsafe { bindings::get_device(ptr::addr_of_mut!((*self.as_raw()).dev)) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns a reference, so the device is alive.
        unsafe { bindings::put_device(ptr::addr_of_mut!((*obj.as_ref().as_raw()).dev)) };
    }
}

// SAFETY: The driver core's reference counting and the fields read here (set before the device
// is added, never changed) allow use from any thread.
unsafe impl Send for Device {}

// SAFETY: As above: every method only reads data that never changes.
unsafe impl Sync for Device {}

/// A borrow of an instance's state, as instance callbacks receive it.
pub type InstanceRef<'a, T> = <<T as Driver>::Instance as ForeignOwnable>::Borrowed<'a>;

/// The callbacks of a mediated-device vendor driver.
///
/// The implementing type is the parent's data; [`Driver::Instance`] holds the state of one
/// instance. Parent callbacks run in sysfs context; instance callbacks run on behalf of the VFIO
/// device file, possibly concurrently with each other, and receive the parent's data, the
/// instance's device and a borrow of its state.
///
/// An instance callback the driver does not implement leaves its slot of the device's
/// `vfio_device_ops` empty, so the VFIO core answers for it: `read` and `write` fail with
/// `EINVAL`, and without any of the ioctl callbacks every ioctl does too. With some of them, a
/// decoded request whose callback is missing goes to [`Driver::ioctl`], and without that fails
/// with `ENOTTY`. Callbacks that only work together (the three of dirty logging, `set_irqs` with
/// `device_info` and `irq_info`, instance attributes with their `show`, migration flags with
/// the migration callbacks) are checked when the driver is built.
#[macros::vtable]
pub trait Driver: Sized + Send + Sync + 'static {
    /// The state of one instance.
    type Instance: ForeignOwnable + Send + Sync;

    /// The `device_api` of every type, e.g. [`vfio::DEVICE_API_PCI`].
    const DEVICE_API: &'static CStr;

    /// The types the parent offers, in the order of their indexes.
    const TYPES: &'static [TypeInfo];

    /// The subdirectory of every instance's device directory that holds the
    /// [`Driver::INSTANCE_ATTRIBUTES`] (`/sys/bus/mdev/devices/<uuid>/<group>/<attribute>`).
    /// `None` (the default) puts them in the device directory itself.
    const INSTANCE_ATTRIBUTE_GROUP: Option<&'static CStr> = None;

    /// Names of the instance attributes, shown by [`Driver::show_instance_attribute`].
    const INSTANCE_ATTRIBUTES: &'static [&'static CStr] = &[];

    /// The `VFIO_MIGRATION_*` flags of [`vfio::migration`] the device supports; zero (the
    /// default) means no live migration. With flags, the driver implements
    /// [`Driver::migration_data_size`], [`Driver::save_state`] and [`Driver::load_state`].
    const MIGRATION_FLAGS: u32 = 0;

    /// How the device's display planes reach the VMM; `None` (the default) means no display.
    /// With a type, the driver implements [`Driver::query_gfx_plane`], and for
    /// [`vfio::GfxPlaneType::Dmabuf`] also [`Driver::get_gfx_dmabuf`].
    const GFX_PLANE_TYPE: Option<vfio::GfxPlaneType> = None;

    /// The format of the migration streams; `Some` exactly when [`Driver::MIGRATION_FLAGS`] is
    /// not zero, which is checked when the driver is built.
    const MIGRATION_STREAM: Option<MigrationStream> = None;

    /// How many more instances of type `type_index` can be created now.
    fn available_instances(&self, type_index: usize) -> usize;

    /// Text for the type's `description` file. Without it the file does not exist.
    fn description(&self, _type_index: usize) -> Result<CString> {
        crate::build_error(VTABLE_DEFAULT_ERROR)
    }

    /// Creates the state of a new instance of type `type_index`. An error fails the `create`
    /// write with that errno.
    fn create(&self, mdev: &Device, type_index: usize) -> Result<Self::Instance>;

    /// Takes back an instance's state when the instance is removed. By then its device file is
    /// closed. The default drops it.
    fn remove(&self, _mdev: &Device, _instance: Self::Instance) {}

    /// The device file is opened for the first time since it was last closed.
    fn open(&self, _mdev: &Device, _instance: InstanceRef<'_, Self>) -> Result {
        crate::build_error(VTABLE_DEFAULT_ERROR)
    }

    /// The last user of the device file closed it.
    fn close(&self, _mdev: &Device, _instance: InstanceRef<'_, Self>) {
        crate::build_error(VTABLE_DEFAULT_ERROR)
    }

    /// Reads `buf.len()` bytes at `offset` of the device file; returns how many were read.
    ///
    /// An access of up to 8 bytes (any register access) is one call, with `buf` on the stack of
    /// the caller's `read`; a longer one comes in calls of up to 256 bytes, stopping at the first
    /// that fails or moves less than it was given. `buf` is never empty and starts zeroed.
    fn read(
        &self,
        _mdev: &Device,
        _instance: InstanceRef<'_, Self>,
        _buf: &mut [u8],
        _offset: u64,
    ) -> Result<usize> {
        crate::build_error(VTABLE_DEFAULT_ERROR)
    }

    /// Writes `buf` at `offset` of the device file; returns how many bytes were written.
    ///
    /// Called as [`Driver::read`] is: one call for up to 8 bytes, else calls of up to 256.
    fn write(
        &self,
        _mdev: &Device,
        _instance: InstanceRef<'_, Self>,
        _buf: &[u8],
        _offset: u64,
    ) -> Result<usize> {
        crate::build_error(VTABLE_DEFAULT_ERROR)
    }

    /// Answers `VFIO_DEVICE_GET_INFO`.
    fn device_info(
        &self,
        _mdev: &Device,
        _instance: InstanceRef<'_, Self>,
    ) -> Result<vfio::DeviceInfo> {
        crate::build_error(VTABLE_DEFAULT_ERROR)
    }

    /// Answers `VFIO_DEVICE_GET_REGION_INFO` for region `index`; capabilities of the region
    /// (e.g. its type, [`vfio::CapChain::add_region_type`]) go to `caps`.
    fn region_info(
        &self,
        _mdev: &Device,
        _instance: InstanceRef<'_, Self>,
        _index: u32,
        _caps: &mut vfio::CapChain,
    ) -> Result<vfio::RegionInfo> {
        crate::build_error(VTABLE_DEFAULT_ERROR)
    }

    /// Answers `VFIO_DEVICE_GET_IRQ_INFO` for interrupt index `index`.
    ///
    /// A device without interrupts implements neither this nor [`Driver::set_irqs`]: with
    /// [`Driver::device_info`] (and without [`Driver::ioctl`]), the binding then answers each
    /// of its indexes with no vectors and refuses every `VFIO_DEVICE_SET_IRQS` with `EINVAL`.
    fn irq_info(
        &self,
        _mdev: &Device,
        _instance: InstanceRef<'_, Self>,
        _index: u32,
    ) -> Result<vfio::IrqInfo> {
        crate::build_error(VTABLE_DEFAULT_ERROR)
    }

    /// Answers `VFIO_DEVICE_RESET`.
    fn reset(&self, _mdev: &Device, _instance: InstanceRef<'_, Self>) -> Result {
        crate::build_error(VTABLE_DEFAULT_ERROR)
    }

    /// Answers `VFIO_DEVICE_SET_IRQS`, checked against [`Driver::device_info`] and
    /// [`Driver::irq_info`].
    fn set_irqs(
        &self,
        _mdev: &Device,
        _instance: InstanceRef<'_, Self>,
        _set: vfio::IrqSet<'_>,
    ) -> Result {
        crate::build_error(VTABLE_DEFAULT_ERROR)
    }

    /// Answers `VFIO_DEVICE_QUERY_GFX_PLANE` for the plane of `plane_type`.
    ///
    /// The binding has checked `argsz` and the flags (a query names exactly the
    /// [`Driver::GFX_PLANE_TYPE`], anything else is `EINVAL`) and answered probes itself. A plane
    /// the device does not have, or that the guest has disabled, is [`vfio::GfxPlane::none`].
    fn query_gfx_plane(
        &self,
        _mdev: &Device,
        _instance: InstanceRef<'_, Self>,
        _plane_type: vfio::DrmPlaneType,
    ) -> Result<vfio::GfxPlane> {
        crate::build_error(VTABLE_DEFAULT_ERROR)
    }

    /// Answers `VFIO_DEVICE_GET_GFX_DMABUF`: the dma-buf of the plane that
    /// [`Driver::query_gfx_plane`] reported with id `dmabuf_id`.
    ///
    /// The binding reads the id and gives the dma-buf a file descriptor (close-on-exec), which
    /// the ioctl returns. An id the device does not know is `ENOENT`, as upstream answers.
    /// A driver exports with [`DmaBuf::export`] (and may keep the dma-buf to answer the same
    /// id again: every call gets its own descriptor and reference).
    fn get_gfx_dmabuf(
        &self,
        _mdev: &Device,
        _instance: InstanceRef<'_, Self>,
        _dmabuf_id: u32,
    ) -> Result<ARef<DmaBuf>> {
        crate::build_error(VTABLE_DEFAULT_ERROR)
    }

    /// Maps part of the device file into a user address space (`mmap`).
    ///
    /// The driver finds the memory behind the file offset [`VmaNew::offset`] and maps it, e.g.
    /// with [`VmaNew::map_vmalloc`], which checks the rest, or has its pages come from a
    /// [`PageFaultHandler`](crate::mm::virt::PageFaultHandler) as they are touched
    /// ([`VmaNew::set_page_fault`]). Without this callback every `mmap` of the device file
    /// fails with `EINVAL`.
    fn mmap(&self, _mdev: &Device, _instance: InstanceRef<'_, Self>, _vma: &VmaNew) -> Result {
        crate::build_error(VTABLE_DEFAULT_ERROR)
    }

    /// Answers any other ioctl of the device file; `arg` is its argument as userspace passed it.
    fn ioctl(
        &self,
        _mdev: &Device,
        _instance: InstanceRef<'_, Self>,
        _cmd: u32,
        _arg: UserPtr,
    ) -> Result<isize> {
        crate::build_error(VTABLE_DEFAULT_ERROR)
    }

    /// Asks the user of the device file to release it (the instance is being removed);
    /// `count` says how many times it was asked before.
    fn request(&self, _mdev: &Device, _instance: InstanceRef<'_, Self>, _count: u32) {
        crate::build_error(VTABLE_DEFAULT_ERROR)
    }

    /// Text of instance attribute `index` of [`Driver::INSTANCE_ATTRIBUTES`] (a newline is
    /// added).
    fn show_instance_attribute(
        &self,
        _mdev: &Device,
        _instance: InstanceRef<'_, Self>,
        _index: usize,
    ) -> Result<CString> {
        crate::build_error(VTABLE_DEFAULT_ERROR)
    }

    /// The most bytes a complete migration stream of the instance holds: the room a saving or
    /// resuming stream has.
    fn migration_data_size(&self, _mdev: &Device, _instance: InstanceRef<'_, Self>) -> usize {
        crate::build_error(VTABLE_DEFAULT_ERROR)
    }

    /// An estimate of the bytes a save still takes once the device stops (the stop-copy part),
    /// which userspace reads as `VFIO_DEVICE_FEATURE_MIG_DATA_SIZE` to judge the downtime of a
    /// migration. Without it, the estimate is [`Driver::migration_data_size`]: right for a
    /// driver that sends everything when the device stops.
    fn migration_stop_copy_size(&self, _mdev: &Device, _instance: InstanceRef<'_, Self>) -> usize {
        crate::build_error(VTABLE_DEFAULT_ERROR)
    }

    /// Appends the instance's bytes for `phase` to its saving stream, through `out`. On an
    /// error nothing written in this call stays in the stream.
    fn save_state(
        &self,
        _mdev: &Device,
        _instance: InstanceRef<'_, Self>,
        _phase: vfio::migration::SavePhase,
        _out: &mut vfio::migration::StreamWriter<'_>,
    ) -> Result {
        crate::build_error(VTABLE_DEFAULT_ERROR)
    }

    /// Checks a resuming stream as it arrives: called after each write with all bytes so far.
    /// An error fails that write. Without it every write is accepted up to the size limit.
    fn check_state(
        &self,
        _mdev: &Device,
        _instance: InstanceRef<'_, Self>,
        _data: &[u8],
    ) -> Result {
        crate::build_error(VTABLE_DEFAULT_ERROR)
    }

    /// Loads a complete resuming stream into the (stopped) instance.
    fn load_state(&self, _mdev: &Device, _instance: InstanceRef<'_, Self>, _data: &[u8]) -> Result {
        crate::build_error(VTABLE_DEFAULT_ERROR)
    }

    /// Starts dirty-page logging (`VFIO_DEVICE_FEATURE_DMA_LOGGING_START`) with the given page
    /// size, which the driver may change to the one it tracks. Only a driver that implements
    /// this (and [`Driver::log_stop`] and [`Driver::log_read_and_clear`]) offers dirty logging;
    /// one whose device never writes guest memory can offer it with nothing to report. The VFIO
    /// core does not stop logging when the device file is closed: a driver that tracks pages
    /// stops in [`Driver::close`].
    fn log_start(
        &self,
        _mdev: &Device,
        _instance: InstanceRef<'_, Self>,
        _page_size: &mut u64,
    ) -> Result {
        crate::build_error(VTABLE_DEFAULT_ERROR)
    }

    /// Stops dirty-page logging.
    fn log_stop(&self, _mdev: &Device, _instance: InstanceRef<'_, Self>) -> Result {
        crate::build_error(VTABLE_DEFAULT_ERROR)
    }

    /// Reports and clears the pages the device dirtied in `iova..iova + length`. Reporting a
    /// page needs a binding of `iova_bitmap_set`, which no driver has used yet: today only
    /// "nothing dirty" can be answered.
    fn log_read_and_clear(
        &self,
        _mdev: &Device,
        _instance: InstanceRef<'_, Self>,
        _iova: u64,
        _length: u64,
    ) -> Result {
        crate::build_error(VTABLE_DEFAULT_ERROR)
    }
}

/// A type of a parent, as handed to the mdev core.
///
/// # Invariants
///
/// - `ty` is the first field, so a pointer to it is a pointer to the record.
/// - `caps_dir` is null, or a `capabilities` directory under the type's kobject of which we
///   hold the one reference; it is only changed by the owner of the parent's [`Registration`]
///   (the atomic gives interior mutability through a shared record, not synchronisation).
#[doc(hidden)]
#[repr(C)]
pub struct TypeRecord {
    ty: Opaque<bindings::mdev_type>,
    /// Index of the type in [`Driver::TYPES`].
    pub index: usize,
    /// What the type's `capabilities` directory shows.
    caps: Capabilities,
    /// That directory, while the parent is registered; null otherwise.
    caps_dir: AtomicPtr<bindings::kobject>,
}

/// What a type offers, as its driver declares it: the contents of its `capabilities` directory.
///
/// # Invariants
///
/// `stream_name` is null exactly when `migration_flags` is zero; otherwise it points to the
/// NUL-terminated name of the driver's [`MigrationStream`], in the driver's module, which stays
/// loaded while the directory exists (the record itself may outlive the module, so the name is
/// kept as a pointer, not as a reference).
#[derive(Clone, Copy)]
struct Capabilities {
    display: Option<vfio::GfxPlaneType>,
    max_resolution: Option<Resolution>,
    migration_flags: u32,
    stream_name: *const crate::ffi::c_char,
    stream_version: u32,
}

/// The files of a `capabilities` directory, in the order of [`ParentRecord`]'s attributes.
const CAPABILITY_FILES: [&CStr; 5] = [
    crate::c_str!("display"),
    crate::c_str!("display_max_resolution"),
    crate::c_str!("migration"),
    crate::c_str!("migration_stream"),
    crate::c_str!("migration_version"),
];

/// The names of the `VFIO_MIGRATION_*` flags, as the `migration` file lists them.
const MIGRATION_FLAG_NAMES: [(u32, &str); 3] = [
    (vfio::migration::STOP_COPY, "stop_copy"),
    (vfio::migration::P2P, "p2p"),
    (vfio::migration::PRE_COPY, "pre_copy"),
];

impl Capabilities {
    /// Whether file `index` of [`CAPABILITY_FILES`] exists for this type: the display's size
    /// only with a display, the stream's format only with migration.
    fn has(&self, index: usize) -> bool {
        match index {
            1 => self.max_resolution.is_some(),
            3 | 4 => !self.stream_name.is_null(),
            _ => true,
        }
    }

    /// Writes file `index` of [`CAPABILITY_FILES`], one line.
    ///
    /// # Safety
    ///
    /// The type's `capabilities` directory must exist (its driver's module is loaded).
    unsafe fn show(&self, index: usize, f: &mut impl core::fmt::Write) -> core::fmt::Result {
        match (index, self.max_resolution) {
            (0, ..) => match self.display {
                None => writeln!(f, "none"),
                Some(vfio::GfxPlaneType::Region) => writeln!(f, "region"),
                Some(vfio::GfxPlaneType::Dmabuf) => writeln!(f, "dmabuf"),
            },
            (1, Some(r)) => writeln!(f, "{}x{}", r.width, r.height),
            (2, ..) if self.migration_flags == 0 => writeln!(f, "none"),
            (2, ..) => {
                let mut sep = "";
                for (flag, name) in MIGRATION_FLAG_NAMES {
                    if self.migration_flags & flag != 0 {
                        write!(f, "{sep}{name}")?;
                        sep = " ";
                    }
                }
                writeln!(f)
            }
            (3 | 4, _) if self.stream_name.is_null() => Err(core::fmt::Error),
            (3, _) => {
                // SAFETY: By the type invariant the name is in the driver's module, which the
                // caller guarantees loaded.
                let name = unsafe { CStr::from_char_ptr(self.stream_name) };
                writeln!(f, "{name}")
            }
            (4, _) => writeln!(f, "{}", self.stream_version),
            _ => Err(core::fmt::Error),
        }
    }
}

/// `is_visible` of a `capabilities` directory's files.
///
/// # Safety
///
/// Called by sysfs for a directory that [`ParentRecord::add_capabilities`] made, with one of
/// its files.
unsafe extern "C" fn capability_visible(
    kobj: *mut bindings::kobject,
    _attr: *mut bindings::attribute,
    index: crate::ffi::c_int,
) -> bindings::umode_t {
    // SAFETY: sysfs asks only inside `sysfs_create_group` in `add_capabilities`, for the
    // directory it just made under the kobject of a type of a registered parent's record.
    let caps = unsafe { &(*TypeRecord::of_capabilities(kobj)).caps };
    match usize::try_from(index) {
        Ok(i) if caps.has(i) => 0o444,
        _ => 0,
    }
}

/// `show` of a `capabilities` directory's files.
///
/// # Safety
///
/// Called by sysfs for a directory that [`ParentRecord::add_capabilities`] made, with one of
/// its files and a page-sized buffer.
unsafe extern "C" fn capability_show(
    kobj: *mut bindings::kobject,
    attr: *mut bindings::kobj_attribute,
    buf: *mut crate::ffi::c_char,
) -> isize {
    // SAFETY: A `show` runs under kernfs's active reference on the file, which
    // `remove_capabilities` drains before the parent is unregistered: the directory, the type's
    // record and the driver's module are all there for the call.
    let caps = unsafe { &(*TypeRecord::of_capabilities(kobj)).caps };
    // SAFETY: `attr` is one of the directory's files, whose names are `CAPABILITY_FILES`.
    let name = unsafe { CStr::from_char_ptr((*attr).attr.name) };
    let Some(index) = CAPABILITY_FILES
        .iter()
        .position(|n| n.as_bytes() == name.as_bytes())
    else {
        return EIO.to_errno() as isize;
    };
    // SAFETY: sysfs hands us a buffer of a page.
    let mut f = unsafe { crate::str::Formatter::from_buffer(buf.cast(), crate::page::PAGE_SIZE) };
    // SAFETY: The directory exists for the call (above).
    match unsafe { caps.show(index, &mut f) } {
        Ok(()) => f.bytes_written() as isize,
        Err(_) => EIO.to_errno() as isize,
    }
}

impl TypeRecord {
    /// Returns the record of a type.
    ///
    /// # Safety
    ///
    /// `ty` must point to the `mdev_type` of a live [`TypeRecord`].
    pub unsafe fn from_type(ty: *const bindings::mdev_type) -> *const TypeRecord {
        // By the type invariant, `ty` is at offset 0 of the record.
        ty.cast()
    }

    /// Returns the record of the type whose `capabilities` directory is `dir`.
    ///
    /// # Safety
    ///
    /// `dir` must be a directory made by [`ParentRecord::add_capabilities`] that still exists.
    unsafe fn of_capabilities(dir: *mut bindings::kobject) -> *const TypeRecord {
        // SAFETY: The directory's parent is the `kobj` of the `mdev_type` of a record.
        unsafe {
            let ty = crate::container_of!((*dir).parent, bindings::mdev_type, kobj);
            Self::from_type(ty)
        }
    }
}

/// What `vfio_mdev`, the mdev driver of every parent, calls for a parent: built for each
/// [`Driver`] by [`Registration`]. Not for vendor drivers.
///
/// These are the parent-level operations of an mdev driver (`struct mdev_driver`); everything
/// an instance's device file does goes through the driver's own `vfio_device_ops`.
#[doc(hidden)]
pub struct ParentHooks {
    /// See [`Driver::available_instances`].
    pub available: unsafe fn(record: &ParentRecord, type_index: usize) -> usize,
    /// See [`Driver::description`]; `None` when the driver has none.
    pub description: Option<unsafe fn(record: &ParentRecord, type_index: usize) -> Result<CString>>,
    /// Creates the instance's state and its (unregistered) VFIO device, whose `release` lets go
    /// of the record.
    pub bind: unsafe fn(
        record: &ParentRecord,
        mdev: *mut bindings::mdev_device,
    ) -> Result<*mut bindings::vfio_device>,
    /// Destroys the state of an instance bound by `bind` whose VFIO device is unregistered (or
    /// never was), and drops the device's initial reference.
    pub unbind: unsafe fn(vdev: *mut bindings::vfio_device),
    /// See [`Driver::show_instance_attribute`]; `vdev` is the bound instance's VFIO device.
    pub show_attribute:
        unsafe fn(vdev: *mut bindings::vfio_device, index: usize) -> Result<CString>,
}

/// The C records of a parent: what the mdev core, the driver core and sysfs see of it. Not for
/// vendor drivers.
///
/// The record lives in its own allocation, owned by the reference count of the parent device
/// embedded in it: the core's type kobjects hold references on that device, and its release
/// callback, `parent_release`, frees the record. That callback is part of the kernel image,
/// so a type or instance whose release runs after the vendor module is gone (with
/// `CONFIG_DEBUG_KOBJECT_RELEASE`, seconds after the last `kobject_put`) still finds its parent,
/// its driver and its types.
///
/// # Invariants
///
/// - `parent` is the first field, so a pointer to it is a pointer to the record.
/// - While the parent is registered, `data` points to the driver's data in the pinned
///   [`Registration`] that made the record, and `hooks` to that driver's [`ParentHooks`]; they
///   are never used afterwards.
/// - `devices` counts the VFIO devices of the parent's instances not yet released.
/// - `type_ptrs` holds pointers to the elements of `types`, `attr_ptrs` to the `attr` fields of
///   the elements of `attrs` followed by a null pointer, `groups` to `group` (when there are
///   attributes) followed by a null pointer, `cap_attr_ptrs` to the `attr` fields of the
///   elements of `cap_attrs` (one per [`CAPABILITY_FILES`]) followed by a null pointer, and
///   `cap_group` to those; none of these vectors changes after the record is built, so the
///   pointers stay valid for the record's life.
#[doc(hidden)]
#[repr(C)]
pub struct ParentRecord {
    /// Handed to the mdev core.
    pub parent: Opaque<bindings::mdev_parent>,
    /// The parent's own `mdev_driver`: `vfio_mdev` fills in the callbacks.
    pub driver: Opaque<bindings::mdev_driver>,
    /// The parent device; its release frees the record.
    dev: Opaque<bindings::device>,
    hooks: *const ParentHooks,
    data: *const c_void,
    devices: ReleaseTracker,
    types: KVec<TypeRecord>,
    type_ptrs: KVec<*mut bindings::mdev_type>,
    attrs: KVec<Opaque<bindings::device_attribute>>,
    attr_ptrs: KVec<*mut bindings::attribute>,
    group: Opaque<bindings::attribute_group>,
    groups: [*const bindings::attribute_group; 2],
    cap_attrs: KVec<Opaque<bindings::kobj_attribute>>,
    cap_attr_ptrs: KVec<*mut bindings::attribute>,
    cap_group: Opaque<bindings::attribute_group>,
}

/// What a parent is made of, as a [`Driver`] declares it.
struct ParentInfo {
    name: &'static CStr,
    module: &'static ThisModule,
    device_api: &'static CStr,
    types: &'static [TypeInfo],
    group_name: Option<&'static CStr>,
    attributes: &'static [&'static CStr],
    display: Option<vfio::GfxPlaneType>,
    migration_flags: u32,
    migration_stream: Option<MigrationStream>,
}

/// An all-zero C struct, for the C records of this module.
///
/// # Safety
///
/// `T` must be a C struct of integers, pointers and `Option`s of function pointers, for which
/// all-zero is a valid (empty) value.
unsafe fn zeroed<T>() -> Opaque<T> {
    // SAFETY: Guaranteed by the caller.
    Opaque::new(unsafe { MaybeUninit::zeroed().assume_init() })
}

/// Release of the device of a [`ParentRecord`]: frees the record.
///
/// # Safety
///
/// Called by the driver core, once, when the last reference to the device of a record built by
/// [`ParentRecord::create`] is dropped.
unsafe extern "C" fn parent_release(dev: *mut bindings::device) {
    // SAFETY: The device is the `dev` field of a record that `create` leaked from a `KBox`;
    // this is its last reference, so nothing else uses the record.
    unsafe {
        let record = crate::container_of!(dev, ParentRecord, dev).cast_mut();
        drop(KBox::from_raw(record));
    }
}

impl ParentRecord {
    /// Builds the records of a parent and adds its device, `info.name` of class `class`.
    ///
    /// Returns the record; the caller owns the parent device's reference and drops it with
    /// `device_unregister` on the record's device. Not generic, so that the record's release
    /// callback is part of the kernel image, never of a vendor module.
    fn create(
        info: &ParentInfo,
        class: *mut bindings::class,
        hooks: *const ParentHooks,
        data: *const c_void,
    ) -> Result<NonNull<ParentRecord>> {
        let mut types = KVec::with_capacity(info.types.len(), GFP_KERNEL)?;
        for (index, ty_info) in info.types.iter().enumerate() {
            // SAFETY: `mdev_type` is plain C data: all-zero is its initial state.
            let mut ty: bindings::mdev_type = unsafe { MaybeUninit::zeroed().assume_init() };
            ty.sysfs_name = ty_info.sysfs_name.as_char_ptr();
            ty.pretty_name = ty_info.name.as_char_ptr();
            types.push(
                TypeRecord {
                    ty: Opaque::new(ty),
                    index,
                    caps: Capabilities {
                        display: info.display,
                        max_resolution: ty_info.max_resolution,
                        migration_flags: info.migration_flags,
                        stream_name: info
                            .migration_stream
                            .map_or(ptr::null(), |s| s.name.as_char_ptr()),
                        stream_version: info.migration_stream.map_or(0, |s| s.version),
                    },
                    caps_dir: AtomicPtr::new(ptr::null_mut()),
                },
                GFP_KERNEL,
            )?;
        }
        let mut cap_attrs = KVec::with_capacity(CAPABILITY_FILES.len(), GFP_KERNEL)?;
        for name in CAPABILITY_FILES {
            // SAFETY: `kobj_attribute` is plain C data: all-zero is its initial state.
            let mut attr: bindings::kobj_attribute = unsafe { MaybeUninit::zeroed().assume_init() };
            attr.attr.name = name.as_char_ptr();
            attr.attr.mode = 0o444;
            attr.show = Some(capability_show);
            #[cfg(CONFIG_DEBUG_LOCK_ALLOC)]
            {
                attr.attr.key = ATTRIBUTE_KEY.get();
            }
            cap_attrs.push(Opaque::new(attr), GFP_KERNEL)?;
        }
        let mut attrs = KVec::with_capacity(info.attributes.len(), GFP_KERNEL)?;
        for name in info.attributes {
            // SAFETY: `device_attribute` is plain C data: all-zero is its initial state.
            let mut attr: bindings::device_attribute =
                unsafe { MaybeUninit::zeroed().assume_init() };
            attr.attr.name = name.as_char_ptr();
            attr.attr.mode = 0o444;
            #[cfg(CONFIG_DEBUG_LOCK_ALLOC)]
            {
                attr.attr.key = ATTRIBUTE_KEY.get();
            }
            attrs.push(Opaque::new(attr), GFP_KERNEL)?;
        }

        // SAFETY: `mdev_driver` is plain C data: all-zero is its initial state.
        let mut driver: bindings::mdev_driver = unsafe { MaybeUninit::zeroed().assume_init() };
        driver.device_api = info.device_api.as_char_ptr();
        driver.driver.name = info.name.as_char_ptr();
        driver.driver.owner = info.module.as_ptr();
        // SAFETY: `mdev_parent` is a plain C struct, which the mdev core sets up.
        let parent = unsafe { zeroed() };
        // SAFETY: `device` is a plain C struct, which `device_initialize` sets up below.
        let dev = unsafe { zeroed() };
        // SAFETY: `attribute_group` is a plain C struct, filled in below.
        let group = unsafe { zeroed() };
        // SAFETY: As for `group`.
        let cap_group = unsafe { zeroed() };
        let mut record = KBox::new(
            ParentRecord {
                parent,
                driver: Opaque::new(driver),
                dev,
                hooks,
                data,
                devices: ReleaseTracker::new(),
                types,
                type_ptrs: KVec::new(),
                attrs,
                attr_ptrs: KVec::new(),
                group,
                groups: [ptr::null(); 2],
                cap_attrs,
                cap_attr_ptrs: KVec::new(),
                cap_group,
            },
            GFP_KERNEL,
        )?;
        // The record is at its final address from here on: point into it.
        let rec = &mut *record;
        for ty in rec.types.iter() {
            rec.type_ptrs.push(ty.ty.get(), GFP_KERNEL)?;
        }
        if !rec.attrs.is_empty() {
            for attr in rec.attrs.iter() {
                // SAFETY: `attr` points to a `device_attribute`, whose `attr` field is in
                // bounds.
                let inner = unsafe { ptr::addr_of_mut!((*attr.get()).attr) };
                rec.attr_ptrs.push(inner, GFP_KERNEL)?;
            }
            rec.attr_ptrs.push(ptr::null_mut(), GFP_KERNEL)?;
            let group = rec.group.get();
            // SAFETY: `group` and `driver` are ours and not registered yet; a null group name
            // puts the attributes in the device directory itself.
            unsafe {
                (*group).name = info.group_name.map_or(ptr::null(), |n| n.as_char_ptr());
                (*group).attrs = rec.attr_ptrs.as_mut_ptr();
                rec.groups = [group.cast_const(), ptr::null()];
                (*rec.driver.get()).driver.dev_groups = rec.groups.as_mut_ptr();
            }
        }
        for attr in rec.cap_attrs.iter() {
            // SAFETY: `attr` points to a `kobj_attribute`, whose `attr` field is in bounds.
            let inner = unsafe { ptr::addr_of_mut!((*attr.get()).attr) };
            rec.cap_attr_ptrs.push(inner, GFP_KERNEL)?;
        }
        rec.cap_attr_ptrs.push(ptr::null_mut(), GFP_KERNEL)?;
        let cap_group = rec.cap_group.get();
        // SAFETY: `cap_group` is ours and not in use yet.
        unsafe {
            (*cap_group).attrs = rec.cap_attr_ptrs.as_mut_ptr();
            (*cap_group).is_visible = Some(capability_visible);
        }
        // INVARIANT: the pointer vectors are complete and never change from here on.

        let record = NonNull::from(KBox::leak(record));
        // SAFETY: `record` is a valid, exclusively owned record.
        let dev = unsafe { (*record.as_ptr()).dev.get() };
        // SAFETY: `dev` is zeroed device memory that nothing else references. From
        // `device_initialize` on, the device's reference count owns the record: the only way to
        // drop it is `put_device`, which calls `parent_release`.
        unsafe {
            bindings::device_initialize(dev);
            (*dev).class = class;
            (*dev).release = Some(parent_release);
            let ret = bindings::dev_set_name(
                dev,
                crate::c_str!("%s").as_char_ptr(),
                info.name.as_char_ptr(),
            );
            let ret = if ret == 0 {
                bindings::device_add(dev)
            } else {
                ret
            };
            if ret != 0 {
                bindings::put_device(dev);
                return Err(Error::from_errno(ret));
            }
        }
        Ok(record)
    }

    /// Returns the record of a parent.
    ///
    /// # Safety
    ///
    /// `parent` must point to the `mdev_parent` of a live [`ParentRecord`].
    pub unsafe fn from_parent<'a>(parent: *const bindings::mdev_parent) -> &'a ParentRecord {
        // SAFETY: By the type invariant `parent` is at offset 0 of the record, which the caller
        // guarantees alive.
        unsafe { &*parent.cast() }
    }

    /// The parent device.
    pub fn dev(&self) -> *mut bindings::device {
        self.dev.get()
    }

    /// The types, as the array the mdev core takes.
    pub fn types(&self) -> (*mut *mut bindings::mdev_type, usize) {
        (self.type_ptrs.as_ptr().cast_mut(), self.type_ptrs.len())
    }

    /// The instance attributes; `vfio_mdev` fills in their show callback.
    pub fn attributes(&self) -> &[Opaque<bindings::device_attribute>] {
        &self.attrs
    }

    /// The callbacks of the parent's driver.
    ///
    /// # Safety
    ///
    /// The parent must be registered (between `vfio_mdev_register_parent` and the return of
    /// `vfio_mdev_unregister_parent`).
    pub unsafe fn hooks(&self) -> &ParentHooks {
        // SAFETY: By the type invariant `hooks` points to the driver's hooks while the parent is
        // registered, which the caller guarantees; the driver's module is loaded until then.
        unsafe { &*self.hooks }
    }

    /// The VFIO devices of the parent's instances not yet released.
    pub(crate) fn devices(&self) -> &ReleaseTracker {
        &self.devices
    }

    /// Adds a `capabilities` directory to every type's directory; on an error, none is left.
    ///
    /// # Safety
    ///
    /// The parent must be registered, and stay so until [`ParentRecord::remove_capabilities`]
    /// has returned.
    unsafe fn add_capabilities(&self) -> Result {
        for ty in self.types.iter() {
            // SAFETY: The parent is registered, so the mdev core has added the type's kobject,
            // which stays until the parent is unregistered (after `remove_capabilities`).
            let dir = unsafe {
                bindings::kobject_create_and_add(
                    crate::c_str!("capabilities").as_char_ptr(),
                    ptr::addr_of_mut!((*ty.ty.get()).kobj),
                )
            };
            let ret = if dir.is_null() {
                Err(ENOMEM)
            } else {
                // Stored first, so that a directory whose files failed is removed too.
                ty.caps_dir.store(dir, Ordering::Relaxed);
                // SAFETY: `dir` was just made and is ours. By the type invariant `cap_group`
                // is the group of the record's `cap_attrs`, which live as long as the record,
                // and the record outlives the directory. The files' callbacks read only the
                // type's record and the driver's module, both there while the directory exists
                // (see `capability_show`).
                to_result(unsafe { bindings::sysfs_create_group(dir, self.cap_group.get()) })
            };
            if let Err(e) = ret {
                // SAFETY: By our own safety requirements.
                unsafe { self.remove_capabilities() };
                return Err(e);
            }
        }
        Ok(())
    }

    /// Removes the `capabilities` directories that [`ParentRecord::add_capabilities`] added.
    /// When it returns, no `show` of theirs runs or will run.
    ///
    /// # Safety
    ///
    /// The parent must be registered.
    unsafe fn remove_capabilities(&self) {
        for ty in self.types.iter() {
            let dir = ty.caps_dir.swap(ptr::null_mut(), Ordering::Relaxed);
            if dir.is_null() {
                continue;
            }
            // SAFETY: `dir` is a directory we added and still hold. `kobject_del` removes its
            // files at once, waiting for any `show` in progress, and drops its reference on the
            // type's kobject: only the release of `dir` itself may come later (delayed with
            // `CONFIG_DEBUG_KOBJECT_RELEASE`), and that is the kernel's own `kfree`.
            unsafe {
                bindings::kobject_del(dir);
                bindings::kobject_put(dir);
            }
        }
    }
}

/// The lockdep class of every instance attribute (what `sysfs_attr_init()` gives a dynamically
/// allocated attribute). In the kernel image, so it outlives every record that uses it.
#[cfg(CONFIG_DEBUG_LOCK_ALLOC)]
static ATTRIBUTE_KEY: StaticKey = StaticKey(Opaque::uninit());

/// A lock class key in static storage.
#[cfg(CONFIG_DEBUG_LOCK_ALLOC)]
#[repr(transparent)]
struct StaticKey(Opaque<bindings::lock_class_key>);

#[cfg(CONFIG_DEBUG_LOCK_ALLOC)]
impl StaticKey {
    fn get(&self) -> *mut bindings::lock_class_key {
        self.0.get()
    }
}

// SAFETY: Lockdep only uses the key's address.
#[cfg(CONFIG_DEBUG_LOCK_ALLOC)]
unsafe impl Sync for StaticKey {}

/// A registered parent device of a vendor driver.
///
/// Built in place by [`Registration::new`]; dropping it removes every instance of the parent,
/// waits until their VFIO devices are released, then removes the parent device and its class.
/// Dropping it may sleep: typically it is part of a module's data, dropped at module exit.
///
/// # Invariants
///
/// `record` is a record built by `ParentRecord::create` for this registration's `data`, on whose
/// device the registration holds the initial reference, registered with the mdev core through
/// `vfio_mdev`; `class` is the class this registration created for it.
#[pin_data(PinnedDrop)]
pub struct Registration<T: Driver> {
    record: NonNull<ParentRecord>,
    class: *mut bindings::class,
    #[pin]
    data: T,
    /// The record points to `data`.
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: The raw pointers are only handed to the mdev core and the driver core, which
// synchronise their use; the driver's data is `Send`.
unsafe impl<T: Driver> Send for Registration<T> {}

// SAFETY: Shared access only reaches the driver's data (`Sync`) and read-only records.
unsafe impl<T: Driver> Sync for Registration<T> {}

impl<T: Driver> Registration<T> {
    /// Creates the parent device `name` of `module` with the types of `T` and the driver data
    /// `data`, and registers it.
    ///
    /// The types appear under `/sys/class/mdev_bus/<name>/mdev_supported_types/` as soon as the
    /// registration is published, which happens only once the registration is complete at its
    /// final address.
    pub fn new(
        module: &'static ThisModule,
        name: &'static CStr,
        data: impl PinInit<T, Error>,
    ) -> impl PinInit<Self, Error> {
        let init = move |slot: *mut Self| {
            // SAFETY: `slot` is valid for writes and pinned (the contract of
            // `pin_init_from_closure`); `data` is structurally pinned.
            let data_ptr = unsafe { ptr::addr_of_mut!((*slot).data) };
            // SAFETY: `data_ptr` is valid for writes and pinned.
            unsafe { data.__pinned_init(data_ptr) }?;
            // SAFETY: `data_ptr` was just initialised and stays at this address until dropped.
            match unsafe { Self::register(module, name, data_ptr) } {
                Ok((record, class)) => {
                    // INVARIANT: `record` is registered for `data`, `class` is its class.
                    // SAFETY: `slot` is valid for writes; these fields need no pinning.
                    unsafe {
                        ptr::addr_of_mut!((*slot).record).write(record);
                        ptr::addr_of_mut!((*slot).class).write(class);
                        ptr::addr_of_mut!((*slot)._pin).write(PhantomPinned);
                    }
                    Ok(())
                }
                Err(e) => {
                    // SAFETY: `data` was initialised above and nothing refers to it any more.
                    unsafe { ptr::drop_in_place(data_ptr) };
                    Err(e)
                }
            }
        };
        // SAFETY: `init` initialises every field of the slot when it returns `Ok`, and leaves
        // nothing initialised when it returns an error; it never moves the slot.
        unsafe { crate::init::pin_init_from_closure(init) }
    }

    /// Creates the class and the records of a parent with driver data `data`, and registers
    /// them with the mdev core.
    ///
    /// # Safety
    ///
    /// `data` is initialised, pinned, and stays valid until the parent is unregistered.
    unsafe fn register(
        module: &'static ThisModule,
        name: &'static CStr,
        data: *const T,
    ) -> Result<(NonNull<ParentRecord>, *mut bindings::class)> {
        // SAFETY: `name` is a NUL-terminated string that lives forever.
        let class = from_err_ptr(unsafe { bindings::class_create(name.as_char_ptr()) })?;
        let info = ParentInfo {
            name,
            module,
            device_api: T::DEVICE_API,
            types: T::TYPES,
            group_name: T::INSTANCE_ATTRIBUTE_GROUP,
            attributes: T::INSTANCE_ATTRIBUTES,
            display: T::GFX_PLANE_TYPE,
            migration_flags: T::MIGRATION_FLAGS,
            migration_stream: T::MIGRATION_STREAM,
        };
        let record =
            match ParentRecord::create(&info, class, &adapter::Adapter::<T>::HOOKS, data.cast()) {
                Ok(record) => record,
                Err(e) => {
                    // SAFETY: The class was created above and has no device.
                    unsafe { bindings::class_destroy(class) };
                    return Err(e);
                }
            };
        let rec = record.as_ptr();
        // SAFETY: We hold the record's device reference; it is not registered yet.
        let (types, nr_types) = unsafe { (*rec).types() };
        let ret = match c_uint::try_from(nr_types) {
            // SAFETY: The record and its parent device stay valid until
            // `vfio_mdev_unregister_parent` in `drop` (or below); its hooks are this driver's,
            // its data `data`, valid until then by the caller's guarantee.
            Ok(nr) => to_result(unsafe {
                bindings::vfio_mdev_register_parent((*rec).parent.get(), (*rec).dev(), types, nr)
            }),
            Err(_) => Err(EINVAL),
        };
        let ret = ret.and_then(|()| {
            // SAFETY: The parent is registered; `drop` removes the directories before it
            // unregisters the parent, and so does the error path here.
            let added = unsafe { (*rec).add_capabilities() };
            if added.is_err() {
                // SAFETY: The parent was registered above. Unregistering removes any instance
                // made meanwhile, whose VFIO device we wait for as `drop` does.
                unsafe {
                    bindings::vfio_mdev_unregister_parent((*rec).parent.get());
                    (*rec).devices().wait_idle();
                }
            }
            added
        });
        if let Err(e) = ret {
            // SAFETY: The record is not registered (never, or no more: the error path above
            // unregistered it and waited for its devices); we drop the initial reference of its
            // device, whose release frees it, and then the class, which has no device left.
            unsafe {
                bindings::device_unregister((*rec).dev());
                bindings::class_destroy(class);
            }
            return Err(e);
        }
        Ok((record, class))
    }

    /// The driver's data.
    pub fn data(&self) -> &T {
        &self.data
    }
}

#[pinned_drop]
impl<T: Driver> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        let record = self.record.as_ptr();
        // SAFETY: By the type invariant the record is registered and we hold a reference on it.
        // The capabilities directories go first (while registered, as they must). Unregistering
        // removes every instance (`ParentHooks::unbind`) before it returns; then
        // the last VFIO devices are released (their release reads this module's operation
        // tables); then we drop the initial reference of the parent device. The record itself
        // lives on until the last type kobject of the mdev core lets go of the device, and is
        // then freed by `parent_release`.
        unsafe {
            (*record).remove_capabilities();
            bindings::vfio_mdev_unregister_parent((*record).parent.get());
            (*record).devices().wait_idle();
            bindings::device_unregister((*record).dev());
        }
        // The parent device may outlive the class, but it has its own release callback, so the
        // driver core never looks at the class again.
        // SAFETY: By the type invariant `class` is the class this registration created; its
        // only device left it in `device_unregister` above.
        unsafe { bindings::class_destroy(self.class) };
    }
}
