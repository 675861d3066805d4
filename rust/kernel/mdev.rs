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
//! [`Driver::create`]. `vfio_mdev` makes it a VFIO device with an emulated IOMMU (a VFIO group,
//! an IOMMU group, `/dev/vfio/<n>` and the iommufd cdev when configured) and forwards the device
//! file's operations to the driver's instance callbacks. The standard `VFIO_DEVICE_*` ioctls
//! reach the driver already decoded (see [`crate::vfio`]).
//!
//! ```ignore
//! struct Card;
//!
//! #[vtable]
//! impl mdev::Driver for Card {
//!     type Instance = Port;
//!     const DEVICE_API: &'static CStr = vfio::DEVICE_API_PCI;
//!     const TYPES: &'static [mdev::TypeInfo] =
//!         &[mdev::TypeInfo { sysfs_name: c_str!("1"), name: c_str!("One port") }];
//!
//!     fn available_instances(&self, _type_index: usize) -> usize { 4 }
//!     fn create(&self, _mdev: &mdev::Device, _type_index: usize) -> Result<Pin<KBox<Port>>> {
//!         KBox::pin_init(Port::new(), GFP_KERNEL)
//!     }
//!     // device_info, region_info, read, write, ...
//! }
//!
//! let reg = mdev::Registration::<Card>::new(module, c_str!("card"), Card)?;
//! ```
//!
//! The parts of this module that call into `vfio_mdev` (and through it the mdev core) are
//! generic over the driver, so they are compiled into the vendor module: the kernel crate itself
//! never references a symbol of a loadable module.
//!
//! C header: [`include/linux/mdev.h`](srctree/include/linux/mdev.h)

use crate::{
    bindings,
    error::{code::*, from_err_ptr, to_result, Error, Result, VTABLE_DEFAULT_ERROR},
    ffi::{c_uint, c_void},
    prelude::*,
    str::{CStr, CString},
    types::{ForeignOwnable, Opaque},
    uaccess::UserPtr,
    vfio, ThisModule,
};
use core::{
    mem::MaybeUninit,
    pin::Pin,
    ptr::{self, NonNull},
    sync::atomic::{AtomicUsize, Ordering},
};

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
    pub fn put(&self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }

    /// Sleeps until every counted object has been released.
    pub fn wait_idle(&self) {
        while self.0.load(Ordering::Acquire) != 0 {
            // SAFETY: Sleeping is allowed: module exit runs in process context.
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
}

/// A mediated device instance (`struct mdev_device`), as its vendor driver sees it.
///
/// # Invariants
///
/// The wrapped `struct mdev_device` is alive and bound to the driver for the lifetime of every
/// reference to it that this module hands out, and its parent was registered by a
/// [`Registration`].
#[repr(transparent)]
pub struct Device(Opaque<bindings::mdev_device>);

impl Device {
    /// Creates a reference to a [`Device`] from a pointer to its `struct mdev_device`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a live `struct mdev_device` that stays alive and bound to its driver
    /// for the lifetime `'a`, and whose parent was registered by a [`Registration`] (so that its
    /// type is a [`TypeRecord`], which [`Device::type_index`] reads).
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::mdev_device) -> &'a Self {
        // INVARIANT: guaranteed by the caller.
        // SAFETY: `Device` is a transparent wrapper of `struct mdev_device`, which the caller
        // guarantees alive for `'a`.
        unsafe { &*ptr.cast() }
    }

    /// The instance's UUID, in the byte order of its string form.
    pub fn uuid(&self) -> [u8; 16] {
        // SAFETY: By the type invariant the device is alive; the core sets the UUID before the
        // device is added and never changes it.
        unsafe { (*self.0.get()).uuid.b }
    }

    /// The instance's device name: its UUID as text.
    pub fn name(&self) -> &CStr {
        // SAFETY: By the type invariant the device is alive; its name is set before it is added
        // and lives as long as the device.
        unsafe { CStr::from_char_ptr(bindings::dev_name(ptr::addr_of_mut!((*self.0.get()).dev))) }
    }

    /// The index in [`Driver::TYPES`] of the instance's type.
    pub fn type_index(&self) -> usize {
        // SAFETY: By the type invariant the device is alive, and its type is one of the types of
        // a parent built by `Registration`, whose types are `TypeRecord`s.
        unsafe { (*TypeRecord::from_type((*self.0.get()).type_)).index }
    }
}

/// The callbacks of a mediated-device vendor driver.
///
/// The implementing type is the parent's data; [`Driver::Instance`] is the state of one
/// instance. Parent callbacks run in sysfs context; instance callbacks run on behalf of the
/// VFIO device file, possibly concurrently with each other.
///
/// Callbacks that a driver does not implement answer as follows: `read` and `write` with
/// `EINVAL`, as an empty `vfio_device_ops` slot does; the ioctl callbacks (the decoded
/// `VFIO_DEVICE_*` requests and [`Driver::ioctl`]) with `ENOTTY`, as upstream's drivers answer
/// an ioctl they do not handle (an empty `ioctl` slot would give `EINVAL` for every ioctl,
/// `VFIO_DEVICE_GET_INFO` included).
#[macros::vtable]
pub trait Driver: Sized + Send + Sync + 'static {
    /// The state of one instance.
    type Instance: Send + Sync + 'static;

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

    /// How many more instances of type `type_index` can be created now.
    fn available_instances(&self, type_index: usize) -> usize;

    /// Text for the type's `description` file. Without it the file does not exist.
    fn description(&self, _type_index: usize) -> Result<CString> {
        kernel::build_error(VTABLE_DEFAULT_ERROR)
    }

    /// Creates the state of a new instance of type `type_index`. An error fails the `create`
    /// write with that errno.
    fn create(&self, mdev: &Device, type_index: usize) -> Result<Pin<KBox<Self::Instance>>>;

    /// Takes back an instance's state when the instance is removed. By then its device file is
    /// closed. The default drops it.
    fn remove(&self, _instance: Pin<KBox<Self::Instance>>) {}

    /// The device file is opened for the first time since it was last closed.
    fn open(_instance: &Self::Instance) -> Result {
        Ok(())
    }

    /// The last user of the device file closed it.
    fn close(_instance: &Self::Instance) {}

    /// Reads `buf.len()` bytes at `offset` of the device file; returns how many were read.
    fn read(_instance: &Self::Instance, _buf: &mut [u8], _offset: u64) -> Result<usize> {
        Err(EINVAL)
    }

    /// Writes `buf` at `offset` of the device file; returns how many bytes were written.
    fn write(_instance: &Self::Instance, _buf: &[u8], _offset: u64) -> Result<usize> {
        Err(EINVAL)
    }

    /// Answers `VFIO_DEVICE_GET_INFO`.
    fn device_info(_instance: &Self::Instance) -> Result<vfio::DeviceInfo> {
        Err(ENOTTY)
    }

    /// Answers `VFIO_DEVICE_GET_REGION_INFO` for region `index`.
    fn region_info(_instance: &Self::Instance, _index: u32) -> Result<vfio::RegionInfo> {
        Err(ENOTTY)
    }

    /// Answers `VFIO_DEVICE_GET_IRQ_INFO` for interrupt index `index`.
    fn irq_info(_instance: &Self::Instance, _index: u32) -> Result<vfio::IrqInfo> {
        Err(ENOTTY)
    }

    /// Answers `VFIO_DEVICE_RESET`.
    fn reset(_instance: &Self::Instance) -> Result {
        Err(ENOTTY)
    }

    /// Answers `VFIO_DEVICE_SET_IRQS`. Without it the ioctl goes to [`Driver::ioctl`].
    fn set_irqs(_instance: &Self::Instance, _set: vfio::IrqSet<'_>) -> Result {
        kernel::build_error(VTABLE_DEFAULT_ERROR)
    }

    /// Text of instance attribute `index` of [`Driver::INSTANCE_ATTRIBUTES`] (a newline is
    /// added).
    fn show_instance_attribute(
        _mdev: &Device,
        _instance: &Self::Instance,
        _index: usize,
    ) -> Result<CString> {
        Err(EIO)
    }

    /// The `VFIO_MIGRATION_*` flags of [`vfio::migration`] the device supports; zero (the
    /// default) means no live migration.
    const MIGRATION_FLAGS: u32 = 0;

    /// The most bytes a complete migration stream of the instance holds: the stop-copy length
    /// reported to userspace, and the limit of a resuming stream.
    fn migration_data_size(_instance: &Self::Instance) -> usize {
        0
    }

    /// Bytes to append to the instance's saving stream in `phase`.
    fn save_state(
        _instance: &Self::Instance,
        _phase: vfio::migration::SavePhase,
    ) -> Result<KVec<u8>> {
        Err(ENOTTY)
    }

    /// Checks a resuming stream as it arrives: called after each write with all bytes so far.
    /// An error fails that write.
    fn check_state(_instance: &Self::Instance, _data: &[u8]) -> Result {
        Ok(())
    }

    /// Loads a complete resuming stream into the (stopped) instance.
    fn load_state(_instance: &Self::Instance, _data: &[u8]) -> Result {
        Err(ENOTTY)
    }

    /// Answers any other ioctl of the device file; `arg` is its argument as userspace passed it.
    fn ioctl(_instance: &Self::Instance, _cmd: u32, _arg: UserPtr) -> Result<isize> {
        Err(ENOTTY)
    }

    /// Asks the user of the device file to release it (the instance is being removed);
    /// `count` says how many times it was asked before.
    fn request(_instance: &Self::Instance, _count: u32) {}
}

/// A type of a parent, as handed to the mdev core.
///
/// # Invariants
///
/// `ty` is the first field, so a pointer to it is a pointer to the record.
#[doc(hidden)]
#[repr(C)]
pub struct TypeRecord {
    ty: Opaque<bindings::mdev_type>,
    /// Index of the type in [`Driver::TYPES`].
    pub index: usize,
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
}

/// The type-erased parent interface that `vfio_mdev` calls. Not for vendor drivers.
///
/// Instances cross it as the pointers [`ParentOps::create`] returns.
#[doc(hidden)]
pub trait ParentOps: Sync {
    /// See [`Driver::available_instances`].
    fn available(&self, type_index: usize) -> usize;
    /// Whether [`Driver::description`] is implemented.
    fn has_description(&self) -> bool;
    /// See [`Driver::description`].
    fn description(&self, type_index: usize) -> Result<CString>;
    /// Creates an instance; see [`Driver::create`].
    ///
    /// # Safety
    ///
    /// `mdev` must be a live instance of one of this parent's types, alive until the pointer
    /// returned is passed to [`ParentOps::destroy`].
    unsafe fn create(&self, mdev: *mut bindings::mdev_device) -> Result<*const c_void>;
    /// Destroys an instance; see [`Driver::remove`].
    ///
    /// # Safety
    ///
    /// `instance` must come from [`ParentOps::create`] of this parent, and must not be used
    /// afterwards.
    unsafe fn destroy(&self, instance: *const c_void);
    /// See [`Driver::open`].
    ///
    /// # Safety
    ///
    /// `instance` must come from [`ParentOps::create`] of this parent and not be destroyed.
    unsafe fn open(&self, instance: *const c_void) -> Result;
    /// See [`Driver::close`].
    ///
    /// # Safety
    ///
    /// As for [`ParentOps::open`].
    unsafe fn close(&self, instance: *const c_void);
    /// See [`Driver::read`].
    ///
    /// # Safety
    ///
    /// As for [`ParentOps::open`].
    unsafe fn read(&self, instance: *const c_void, buf: &mut [u8], offset: u64) -> Result<usize>;
    /// See [`Driver::write`].
    ///
    /// # Safety
    ///
    /// As for [`ParentOps::open`].
    unsafe fn write(&self, instance: *const c_void, buf: &[u8], offset: u64) -> Result<usize>;
    /// See [`Driver::device_info`].
    ///
    /// # Safety
    ///
    /// As for [`ParentOps::open`].
    unsafe fn device_info(&self, instance: *const c_void) -> Result<vfio::DeviceInfo>;
    /// See [`Driver::region_info`].
    ///
    /// # Safety
    ///
    /// As for [`ParentOps::open`].
    unsafe fn region_info(&self, instance: *const c_void, index: u32) -> Result<vfio::RegionInfo>;
    /// See [`Driver::irq_info`].
    ///
    /// # Safety
    ///
    /// As for [`ParentOps::open`].
    unsafe fn irq_info(&self, instance: *const c_void, index: u32) -> Result<vfio::IrqInfo>;
    /// See [`Driver::reset`].
    ///
    /// # Safety
    ///
    /// As for [`ParentOps::open`].
    unsafe fn reset(&self, instance: *const c_void) -> Result;
    /// See [`Driver::MIGRATION_FLAGS`].
    fn migration_flags(&self) -> u32;
    /// See [`Driver::migration_data_size`].
    ///
    /// # Safety
    ///
    /// As for [`ParentOps::open`].
    unsafe fn migration_data_size(&self, instance: *const c_void) -> usize;
    /// See [`Driver::save_state`].
    ///
    /// # Safety
    ///
    /// As for [`ParentOps::open`].
    unsafe fn save_state(
        &self,
        instance: *const c_void,
        phase: vfio::migration::SavePhase,
    ) -> Result<KVec<u8>>;
    /// See [`Driver::check_state`].
    ///
    /// # Safety
    ///
    /// As for [`ParentOps::open`].
    unsafe fn check_state(&self, instance: *const c_void, data: &[u8]) -> Result;
    /// See [`Driver::load_state`].
    ///
    /// # Safety
    ///
    /// As for [`ParentOps::open`].
    unsafe fn load_state(&self, instance: *const c_void, data: &[u8]) -> Result;
    /// Whether [`Driver::set_irqs`] is implemented.
    fn has_set_irqs(&self) -> bool;
    /// See [`Driver::set_irqs`].
    ///
    /// # Safety
    ///
    /// As for [`ParentOps::open`].
    unsafe fn set_irqs(&self, instance: *const c_void, set: vfio::IrqSet<'_>) -> Result;
    /// Shows the instance attribute `attr` of `mdev`; see [`Driver::show_instance_attribute`].
    ///
    /// # Safety
    ///
    /// As for [`ParentOps::open`]; `mdev` is the instance of `instance`.
    unsafe fn show_attribute(
        &self,
        mdev: *mut bindings::mdev_device,
        instance: *const c_void,
        attr: *const bindings::device_attribute,
    ) -> Result<CString>;
    /// See [`Driver::ioctl`].
    ///
    /// # Safety
    ///
    /// As for [`ParentOps::open`].
    unsafe fn ioctl(&self, instance: *const c_void, cmd: u32, arg: UserPtr) -> Result<isize>;
    /// See [`Driver::request`].
    ///
    /// # Safety
    ///
    /// As for [`ParentOps::open`].
    unsafe fn request(&self, instance: *const c_void, count: u32);
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
/// - `ops` points to the [`Registration`] that made the record while the parent is registered;
///   it is never used afterwards.
/// - `type_ptrs` holds pointers to the elements of `types`, `attr_ptrs` to the `attr` fields of
///   the elements of `attrs` followed by a null pointer, `groups` to `group` (when there are
///   attributes) followed by a null pointer; none of these vectors changes after the record is
///   built, so the pointers stay valid for the record's life.
#[doc(hidden)]
#[repr(C)]
pub struct ParentRecord {
    /// Handed to the mdev core.
    pub parent: Opaque<bindings::mdev_parent>,
    /// The parent's own `mdev_driver`: `vfio_mdev` fills in the callbacks.
    pub driver: Opaque<bindings::mdev_driver>,
    /// The parent device; its release frees the record.
    dev: Opaque<bindings::device>,
    ops: *const dyn ParentOps,
    types: KVec<TypeRecord>,
    type_ptrs: KVec<*mut bindings::mdev_type>,
    attrs: KVec<Opaque<bindings::device_attribute>>,
    attr_ptrs: KVec<*mut bindings::attribute>,
    group: Opaque<bindings::attribute_group>,
    groups: [*const bindings::attribute_group; 2],
}

/// What a parent is made of, as a [`Driver`] declares it.
struct ParentInfo {
    name: &'static CStr,
    module: &'static ThisModule,
    device_api: &'static CStr,
    types: &'static [TypeInfo],
    group_name: Option<&'static CStr>,
    attributes: &'static [&'static CStr],
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
        ops: *const dyn ParentOps,
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
                },
                GFP_KERNEL,
            )?;
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
        let mut record = KBox::new(
            ParentRecord {
                parent,
                driver: Opaque::new(driver),
                dev,
                ops,
                types,
                type_ptrs: KVec::new(),
                attrs,
                attr_ptrs: KVec::new(),
                group,
                groups: [ptr::null(); 2],
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

    /// The vendor driver of the parent, as a raw pointer (valid while the parent is registered).
    pub fn ops_ptr(&self) -> *const dyn ParentOps {
        self.ops
    }

    /// The vendor driver of the parent.
    ///
    /// # Safety
    ///
    /// The parent must be registered (between `vfio_mdev_register_parent` and the return of
    /// `vfio_mdev_unregister_parent`).
    pub unsafe fn ops(&self) -> &dyn ParentOps {
        // SAFETY: By the type invariant `ops` points to the registration, alive while the
        // parent is registered, which the caller guarantees.
        unsafe { &*self.ops }
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
/// # Invariants
///
/// - `class` is null or the class this registration created.
/// - `record` is null or a record built by `ParentRecord::create` for this registration, on
///   whose device the registration holds the initial reference.
/// - When `registered` is true, `record` is registered with the mdev core through `vfio_mdev`.
#[pin_data(PinnedDrop)]
pub struct Registration<T: Driver> {
    record: *mut ParentRecord,
    class: *mut bindings::class,
    registered: bool,
    #[pin]
    data: T,
}

// SAFETY: The raw pointers are only handed to the mdev core and the driver core, which
// synchronise their use; the driver's data is `Send`.
unsafe impl<T: Driver> Send for Registration<T> {}

// SAFETY: Shared access only reaches the driver's data (`Sync`) and read-only records.
unsafe impl<T: Driver> Sync for Registration<T> {}

impl<T: Driver> Registration<T> {
    /// Creates the parent device `name` of `module` with the types of `T`, and registers it.
    ///
    /// The types appear under `/sys/class/mdev_bus/<name>/mdev_supported_types/`. Dropping the
    /// returned object removes every instance, then the parent.
    pub fn new(
        module: &'static ThisModule,
        name: &'static CStr,
        data: impl PinInit<T, Error>,
    ) -> Result<Pin<KBox<Self>>> {
        let mut this = KBox::try_pin_init(
            try_pin_init!(Self {
                record: ptr::null_mut(),
                class: ptr::null_mut(),
                registered: false,
                data <- data,
            }),
            GFP_KERNEL,
        )?;
        // SAFETY: Only the fields that are not structurally pinned are replaced below.
        let reg = unsafe { Pin::get_unchecked_mut(this.as_mut()) };

        // SAFETY: `name` is a NUL-terminated string that lives forever.
        reg.class = from_err_ptr(unsafe { bindings::class_create(name.as_char_ptr()) })?;
        let ops: *const dyn ParentOps = ptr::from_ref::<Self>(reg);
        let info = ParentInfo {
            name,
            module,
            device_api: T::DEVICE_API,
            types: T::TYPES,
            group_name: T::INSTANCE_ATTRIBUTE_GROUP,
            attributes: T::INSTANCE_ATTRIBUTES,
        };
        // INVARIANT: `ops` points to this pinned registration; the record is ours.
        let record = ParentRecord::create(&info, reg.class, ops)?.as_ptr();
        reg.record = record;

        // SAFETY: `record` is valid (we hold its device's reference), not registered yet.
        let (types, nr_types) = unsafe { (*record).types() };
        let nr_types = c_uint::try_from(nr_types)?;
        // SAFETY: The record and its parent device stay valid until `vfio_mdev_unregister_parent`
        // in `drop`, and the record's `ops` points to this pinned registration.
        to_result(unsafe {
            bindings::vfio_mdev_register_parent(
                (*record).parent.get(),
                (*record).dev(),
                types,
                nr_types,
            )
        })?;
        // INVARIANT: the parent is registered.
        reg.registered = true;
        Ok(this)
    }

    /// The driver's data.
    pub fn data(&self) -> &T {
        &self.data
    }

    /// Borrows the state of an instance.
    ///
    /// # Safety
    ///
    /// `instance` must come from `create` of this registration and not be destroyed yet.
    unsafe fn instance<'a>(instance: *const c_void) -> &'a T::Instance {
        // SAFETY: Guaranteed by the caller: `instance` comes from `into_foreign` in `create`.
        let pinned = unsafe { <Pin<KBox<T::Instance>> as ForeignOwnable>::borrow(instance) };
        pinned.get_ref()
    }
}

#[pinned_drop]
impl<T: Driver> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        if self.registered {
            // SAFETY: By the type invariant the record is registered; this removes every
            // instance (through `ParentOps::destroy`) before it returns.
            unsafe { bindings::vfio_mdev_unregister_parent((*self.record).parent.get()) };
        }
        if !self.record.is_null() {
            // SAFETY: By the type invariant we hold the initial reference of the record's
            // device. The record itself lives on until the last type kobject of the mdev core
            // lets go of the device, and is then freed by `parent_release`.
            unsafe { bindings::device_unregister((*self.record).dev()) };
        }
        if !self.class.is_null() {
            // The parent device may outlive the class, but it has its own release callback, so
            // the driver core never looks at the class again.
            // SAFETY: By the type invariant `class` is the class this registration created; its
            // only device left it in `device_unregister` above.
            unsafe { bindings::class_destroy(self.class) };
        }
    }
}

impl<T: Driver> ParentOps for Registration<T> {
    fn available(&self, type_index: usize) -> usize {
        self.data.available_instances(type_index)
    }

    fn has_description(&self) -> bool {
        T::HAS_DESCRIPTION
    }

    fn description(&self, type_index: usize) -> Result<CString> {
        if T::HAS_DESCRIPTION {
            self.data.description(type_index)
        } else {
            Err(ENODEV)
        }
    }

    unsafe fn create(&self, mdev: *mut bindings::mdev_device) -> Result<*const c_void> {
        // SAFETY: The caller guarantees `mdev` alive and bound for the instance's lifetime,
        // which covers this call, and an instance of this registration's parent.
        let device = unsafe { Device::from_raw(mdev) };
        let instance = self.data.create(device, device.type_index())?;
        Ok(instance.into_foreign())
    }

    unsafe fn destroy(&self, instance: *const c_void) {
        // SAFETY: The caller passes a pointer from `create` and never uses it again.
        let instance =
            unsafe { <Pin<KBox<T::Instance>> as ForeignOwnable>::from_foreign(instance) };
        self.data.remove(instance);
    }

    unsafe fn open(&self, instance: *const c_void) -> Result {
        // SAFETY: Guaranteed by the caller.
        T::open(unsafe { Self::instance(instance) })
    }

    unsafe fn close(&self, instance: *const c_void) {
        // SAFETY: Guaranteed by the caller.
        T::close(unsafe { Self::instance(instance) })
    }

    unsafe fn read(&self, instance: *const c_void, buf: &mut [u8], offset: u64) -> Result<usize> {
        // SAFETY: Guaranteed by the caller.
        T::read(unsafe { Self::instance(instance) }, buf, offset)
    }

    unsafe fn write(&self, instance: *const c_void, buf: &[u8], offset: u64) -> Result<usize> {
        // SAFETY: Guaranteed by the caller.
        T::write(unsafe { Self::instance(instance) }, buf, offset)
    }

    unsafe fn device_info(&self, instance: *const c_void) -> Result<vfio::DeviceInfo> {
        // SAFETY: Guaranteed by the caller.
        T::device_info(unsafe { Self::instance(instance) })
    }

    unsafe fn region_info(&self, instance: *const c_void, index: u32) -> Result<vfio::RegionInfo> {
        // SAFETY: Guaranteed by the caller.
        T::region_info(unsafe { Self::instance(instance) }, index)
    }

    unsafe fn irq_info(&self, instance: *const c_void, index: u32) -> Result<vfio::IrqInfo> {
        // SAFETY: Guaranteed by the caller.
        T::irq_info(unsafe { Self::instance(instance) }, index)
    }

    unsafe fn reset(&self, instance: *const c_void) -> Result {
        // SAFETY: Guaranteed by the caller.
        T::reset(unsafe { Self::instance(instance) })
    }

    fn has_set_irqs(&self) -> bool {
        T::HAS_SET_IRQS
    }

    fn migration_flags(&self) -> u32 {
        T::MIGRATION_FLAGS
    }

    unsafe fn migration_data_size(&self, instance: *const c_void) -> usize {
        // SAFETY: Guaranteed by the caller.
        T::migration_data_size(unsafe { Self::instance(instance) })
    }

    unsafe fn save_state(
        &self,
        instance: *const c_void,
        phase: vfio::migration::SavePhase,
    ) -> Result<KVec<u8>> {
        // SAFETY: Guaranteed by the caller.
        T::save_state(unsafe { Self::instance(instance) }, phase)
    }

    unsafe fn check_state(&self, instance: *const c_void, data: &[u8]) -> Result {
        // SAFETY: Guaranteed by the caller.
        T::check_state(unsafe { Self::instance(instance) }, data)
    }

    unsafe fn load_state(&self, instance: *const c_void, data: &[u8]) -> Result {
        // SAFETY: Guaranteed by the caller.
        T::load_state(unsafe { Self::instance(instance) }, data)
    }

    unsafe fn set_irqs(&self, instance: *const c_void, set: vfio::IrqSet<'_>) -> Result {
        if !T::HAS_SET_IRQS {
            return Err(ENOTTY);
        }
        // SAFETY: Guaranteed by the caller.
        T::set_irqs(unsafe { Self::instance(instance) }, set)
    }

    unsafe fn show_attribute(
        &self,
        mdev: *mut bindings::mdev_device,
        instance: *const c_void,
        attr: *const bindings::device_attribute,
    ) -> Result<CString> {
        // SAFETY: Instance attributes are shown only while the parent is registered, and
        // the record outlives the registration.
        let index = unsafe { (*self.record).attributes() }
            .iter()
            .position(|a| ptr::eq(a.get().cast_const(), attr))
            .ok_or(EIO)?;
        // SAFETY: Guaranteed by the caller: the instance is bound, so its device is alive, and
        // it is an instance of this registration's parent.
        let device = unsafe { Device::from_raw(mdev) };
        // SAFETY: Guaranteed by the caller.
        T::show_instance_attribute(device, unsafe { Self::instance(instance) }, index)
    }

    unsafe fn ioctl(&self, instance: *const c_void, cmd: u32, arg: UserPtr) -> Result<isize> {
        // SAFETY: Guaranteed by the caller.
        T::ioctl(unsafe { Self::instance(instance) }, cmd, arg)
    }

    unsafe fn request(&self, instance: *const c_void, count: u32) {
        // SAFETY: Guaranteed by the caller.
        T::request(unsafe { Self::instance(instance) }, count)
    }
}
