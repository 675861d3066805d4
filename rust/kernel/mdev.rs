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
    ffi::{c_int, c_uint, c_void},
    prelude::*,
    str::{CStr, CString},
    types::{ForeignOwnable, Opaque},
    uaccess::UserPtr,
    vfio, ThisModule,
};
use core::{mem::MaybeUninit, pin::Pin, ptr};

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
/// reference to it that this module hands out.
#[repr(transparent)]
pub struct Device(Opaque<bindings::mdev_device>);

impl Device {
    /// Creates a reference to a [`Device`] from a pointer to its `struct mdev_device`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a live `struct mdev_device` that stays alive and bound to its driver
    /// for the lifetime `'a`.
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::mdev_device) -> &'a Self {
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
        // the parent it was created on; all parents that bind to `vfio_mdev` are built by
        // `Registration`, whose types are `TypeRecord`s.
        unsafe { (*TypeRecord::from_type((*self.0.get()).type_)).index }
    }
}

/// The callbacks of a mediated-device vendor driver.
///
/// The implementing type is the parent's data; [`Driver::Instance`] is the state of one
/// instance. Parent callbacks run in sysfs context; instance callbacks run on behalf of the
/// VFIO device file, possibly concurrently with each other.
///
/// Callbacks that a driver does not implement behave as for an upstream driver that leaves the
/// corresponding `vfio_device_ops` slot empty.
#[macros::vtable]
pub trait Driver: Sized + Send + Sync + 'static {
    /// The state of one instance.
    type Instance: Send + Sync + 'static;

    /// The `device_api` of every type, e.g. [`vfio::DEVICE_API_PCI`].
    const DEVICE_API: &'static CStr;

    /// The types the parent offers, in the order of their indexes.
    const TYPES: &'static [TypeInfo];

    /// Read-only attributes in every instance's device directory, in a subdirectory of this
    /// name (`/sys/bus/mdev/devices/<uuid>/<group>/<attribute>`). None by default.
    const INSTANCE_ATTRIBUTE_GROUP: &'static CStr = crate::c_str!("");

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

/// A parent as handed to `vfio_mdev` and the mdev core. Not for vendor drivers.
///
/// # Invariants
///
/// `parent` is the first field, so a pointer to it is a pointer to the record; `ops` points to
/// the [`Registration`] that owns the record, which outlives the parent's registration.
#[doc(hidden)]
#[repr(C)]
pub struct ParentRecord {
    /// Handed to the mdev core.
    pub parent: Opaque<bindings::mdev_parent>,
    /// The parent's own `mdev_driver`: `vfio_mdev` fills in the callbacks.
    pub driver: Opaque<bindings::mdev_driver>,
    /// The vendor driver.
    pub ops: *const dyn ParentOps,
    /// Show callback of the instance attributes, which `vfio_mdev` provides; the attributes
    /// are set up by the registration.
    pub attributes: *mut bindings::device_attribute,
    /// Number of instance attributes.
    pub nr_attributes: usize,
}

impl ParentRecord {
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

    /// The vendor driver of the parent.
    pub fn ops(&self) -> &dyn ParentOps {
        // SAFETY: By the type invariant `ops` points to the registration, alive while the parent
        // is registered, which it is while anyone holds the record.
        unsafe { &*self.ops }
    }
}

/// The lockdep class of every instance attribute (what `sysfs_attr_init()` gives a dynamically
/// allocated attribute).
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

extern "C" {
    fn vfio_mdev_register_parent(
        record: *mut c_void,
        dev: *mut c_void,
        types: *mut c_void,
        nr_types: c_uint,
    ) -> c_int;
    fn vfio_mdev_unregister_parent(record: *mut c_void);
}

/// A registered parent device of a vendor driver.
///
/// # Invariants
///
/// - `class` and `dev` are null or the class and device this registration created.
/// - When `registered` is true, `record` is registered with the mdev core through `vfio_mdev`,
///   with the types in `types` (whose storage never moves: nothing is added after
///   registration).
#[pin_data(PinnedDrop)]
pub struct Registration<T: Driver> {
    #[pin]
    record: Opaque<ParentRecord>,
    types: KVec<TypeRecord>,
    type_ptrs: KVec<*mut bindings::mdev_type>,
    attrs: KVec<Opaque<bindings::device_attribute>>,
    attr_ptrs: KVec<*mut bindings::attribute>,
    group: Opaque<bindings::attribute_group>,
    groups: [*const bindings::attribute_group; 2],
    class: *mut bindings::class,
    dev: *mut bindings::device,
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
                record: Opaque::uninit(),
                types: KVec::new(),
                type_ptrs: KVec::new(),
                attrs: KVec::new(),
                attr_ptrs: KVec::new(),
                // SAFETY: `attribute_group` is plain C data: all-zero is its initial state.
                group: Opaque::new(unsafe { MaybeUninit::zeroed().assume_init() }),
                groups: [ptr::null(); 2],
                class: ptr::null_mut(),
                dev: ptr::null_mut(),
                registered: false,
                data <- data,
            }),
            GFP_KERNEL,
        )?;
        // SAFETY: Only the fields that are not structurally pinned are moved or replaced below;
        // `record` and `data` are written in place.
        let reg = unsafe { Pin::get_unchecked_mut(this.as_mut()) };

        for (index, info) in T::TYPES.iter().enumerate() {
            // SAFETY: `mdev_type` is plain C data: all-zero is its initial state.
            let mut ty: bindings::mdev_type = unsafe { MaybeUninit::zeroed().assume_init() };
            ty.sysfs_name = info.sysfs_name.as_char_ptr();
            ty.pretty_name = info.name.as_char_ptr();
            reg.types.push(
                TypeRecord {
                    ty: Opaque::new(ty),
                    index,
                },
                GFP_KERNEL,
            )?;
        }
        for ty in reg.types.iter() {
            reg.type_ptrs.push(ty.ty.get(), GFP_KERNEL)?;
        }

        reg.add_attributes()?;

        // SAFETY: `name` is a NUL-terminated string that lives forever.
        reg.class = from_err_ptr(unsafe { bindings::class_create(name.as_char_ptr()) })?;
        // SAFETY: `reg.class` is the class just created; the format string takes one string
        // argument, `name`.
        reg.dev = from_err_ptr(unsafe {
            bindings::device_create(
                reg.class,
                ptr::null_mut(),
                0,
                ptr::null_mut(),
                crate::c_str!("%s").as_char_ptr(),
                name.as_char_ptr(),
            )
        })?;

        let ops: *const dyn ParentOps = ptr::from_ref::<Self>(reg);
        // SAFETY: `mdev_driver` is plain C data: all-zero is its initial state.
        let mut driver: bindings::mdev_driver = unsafe { MaybeUninit::zeroed().assume_init() };
        driver.device_api = T::DEVICE_API.as_char_ptr();
        driver.driver.name = name.as_char_ptr();
        driver.driver.owner = module.as_ptr();
        if !reg.attrs.is_empty() {
            driver.driver.dev_groups = reg.groups.as_mut_ptr();
        }
        let record = reg.record.get();
        // SAFETY: `record` is valid for writes and not shared yet. `mdev_parent` is plain C data
        // that the core initialises on registration.
        unsafe {
            record.write(ParentRecord {
                parent: Opaque::new(MaybeUninit::zeroed().assume_init()),
                driver: Opaque::new(driver),
                ops,
                attributes: reg.attrs.as_mut_ptr().cast(),
                nr_attributes: reg.attrs.len(),
            })
        };
        // INVARIANT: `ops` points to this pinned registration.

        let nr_types = c_uint::try_from(reg.type_ptrs.len())?;
        // SAFETY: The record, the parent device and the type array stay valid and in place until
        // `vfio_mdev_unregister_parent` in `drop`.
        to_result(unsafe {
            vfio_mdev_register_parent(
                record.cast(),
                reg.dev.cast(),
                reg.type_ptrs.as_mut_ptr().cast(),
                nr_types,
            )
        })?;
        // INVARIANT: the parent is registered.
        reg.registered = true;
        Ok(this)
    }

    /// Builds the instance attribute group of `T`; `vfio_mdev` fills in the show callback.
    fn add_attributes(&mut self) -> Result {
        if T::INSTANCE_ATTRIBUTES.is_empty() {
            return Ok(());
        }
        for name in T::INSTANCE_ATTRIBUTES {
            // SAFETY: `device_attribute` is plain C data: all-zero is its initial state.
            let mut attr: bindings::device_attribute =
                unsafe { MaybeUninit::zeroed().assume_init() };
            attr.attr.name = name.as_char_ptr();
            attr.attr.mode = 0o444;
            #[cfg(CONFIG_DEBUG_LOCK_ALLOC)]
            {
                attr.attr.key = ATTRIBUTE_KEY.get();
            }
            self.attrs.push(Opaque::new(attr), GFP_KERNEL)?;
        }
        // The attribute storage does not move from here on.
        for attr in self.attrs.iter() {
            // SAFETY: `attr` points to a `device_attribute`, whose `attr` field is in bounds.
            let inner = unsafe { ptr::addr_of_mut!((*attr.get()).attr) };
            self.attr_ptrs.push(inner, GFP_KERNEL)?;
        }
        self.attr_ptrs.push(ptr::null_mut(), GFP_KERNEL)?;
        let group = self.group.get();
        // SAFETY: `group` is ours and not registered yet; the name and the attribute list live
        // as long as the registration.
        unsafe {
            (*group).name = T::INSTANCE_ATTRIBUTE_GROUP.as_char_ptr();
            (*group).attrs = self.attr_ptrs.as_mut_ptr();
        }
        self.groups = [group.cast_const(), ptr::null()];
        Ok(())
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
            unsafe { vfio_mdev_unregister_parent(self.record.get().cast()) };
        }
        if !self.dev.is_null() {
            // SAFETY: By the type invariant `dev` is the device this registration created.
            unsafe { bindings::device_unregister(self.dev) };
        }
        if !self.class.is_null() {
            // SAFETY: By the type invariant `class` is the class this registration created; its
            // only device is gone.
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
        // which covers this call.
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
        let index = self
            .attrs
            .iter()
            .position(|a| ptr::eq(a.get().cast_const(), attr))
            .ok_or(EIO)?;
        // SAFETY: Guaranteed by the caller: the instance is bound, so its device is alive.
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
