// SPDX-License-Identifier: GPL-2.0

//! Mediated device core, in Rust.
//!
//! A drop-in replacement for the C core of `drivers/vfio/mdev`: it registers the `mdev` bus and
//! the `mdev_bus` compatibility class, implements the C API of `include/linux/mdev.h`
//! (`mdev_register_parent`, `mdev_unregister_parent`, `mdev_register_driver`,
//! `mdev_unregister_driver`, exported by `mdev_exports.c`) with the structure layouts of that
//! header, and provides the same sysfs ABI:
//!
//! ```text
//! <parent>/mdev_supported_types/<driver>-<type>/{name,description,device_api,
//!                                                available_instances,create,devices/}
//! /sys/bus/mdev/devices/<uuid>/{remove,mdev_type}
//! ```
//!
//! The vendor driver owns `struct mdev_parent`, `struct mdev_type` and `struct mdev_driver`; the
//! core fills in the fields the header marks as the core's. Instances (`struct mdev_device`) are
//! allocated here and freed by their `struct device` release callback.
//!
//! Locking is the upstream one: a global mutex orders the instance list (UUID uniqueness and the
//! `max_instances` budget), and each parent's `unreg_sem` excludes instance creation and removal
//! from parent unregistration (read side taken with a trylock, so an unregistering parent makes
//! them fail with `ENODEV` instead of deadlocking on the sysfs files it removes).
//!
//! C header: [`include/linux/mdev.h`](srctree/include/linux/mdev.h)

use core::ptr;
use kernel::ffi::{c_char, c_int, c_uint, c_void};
use kernel::{
    bindings, c_str, error::to_result, prelude::*, str::CStr, sync::Mutex, types::Opaque,
};

mod uuid;

module! {
    type: MdevCore,
    name: "mdev",
    author: "mdev-rs developers",
    description: "Mediated device core (Rust)",
    license: "GPL v2",
}

/// A C object in static storage whose users synchronise through the C APIs it is handed to.
///
/// # Invariants
///
/// The wrapped object is only accessed through raw pointers passed to C functions that document
/// their own locking (the driver core, kobject and sysfs), or read after those have initialised
/// it.
#[repr(transparent)]
struct CStatic<T>(Opaque<T>);

// SAFETY: By the type invariant, all accesses go through C APIs that synchronise them.
unsafe impl<T> Sync for CStatic<T> {}

impl<T> CStatic<T> {
    const fn new(value: T) -> Self {
        Self(Opaque::new(value))
    }

    const fn uninit() -> Self {
        Self(Opaque::uninit())
    }

    const fn get(&self) -> *mut T {
        self.0.get()
    }
}

/// An all-zero C struct, the usual starting point of a static C ops table.
const fn zeroed<T>() -> T {
    // SAFETY: Only used for C structs made of integers, pointers and `Option`s of function
    // pointers, for which all-zero is a valid (empty) value.
    unsafe { core::mem::MaybeUninit::zeroed().assume_init() }
}

/// Length of a UUID in its canonical text form.
const UUID_STRING_LEN: usize = uuid::TEXT_LEN;

// ---------------------------------------------------------------------------------------------
// Global state

/// The instances of every parent, for UUID uniqueness and the `max_instances` budget.
struct Instance(*mut bindings::mdev_device);

// SAFETY: The pointer is only dereferenced under `CoreState::instances`' lock or while a device
// reference is held; `struct mdev_device` is not tied to a thread.
unsafe impl Send for Instance {}

/// The core's state, allocated at module load.
#[pin_data]
struct CoreState {
    #[pin]
    instances: Mutex<KVec<Instance>>,
    compat_class: *mut bindings::class_compat,
}

// SAFETY: The instance pointers are only used under the mutex (see `Instance`) and the compat
// class is an immutable handle for the C functions that take it.
unsafe impl Send for CoreState {}
// SAFETY: As for `Send`.
unsafe impl Sync for CoreState {}

static STATE: core::sync::atomic::AtomicPtr<CoreState> =
    core::sync::atomic::AtomicPtr::new(ptr::null_mut());

/// The core's state; only called while the module is loaded (from its sysfs files, bus
/// callbacks and exported functions, which the module's refcount keeps alive).
fn state() -> &'static CoreState {
    let p = STATE.load(core::sync::atomic::Ordering::Acquire);
    // SAFETY: `STATE` is set in `MdevCore::init` before any entry point can be reached and
    // cleared in `Drop` after all of them are gone (bus unregistered, no users of our exports).
    unsafe { &*p }
}

/// The `mdev` bus.
static MDEV_BUS: CStatic<bindings::bus_type> = CStatic::new(bindings::bus_type {
    name: c_str!("mdev").as_char_ptr(),
    probe: Some(mdev_bus_probe),
    remove: Some(mdev_bus_remove),
    match_: Some(mdev_bus_match),
    ..zeroed()
});

/// Lockdep class of every parent's `unreg_sem`.
static UNREG_SEM_KEY: CStatic<bindings::lock_class_key> = CStatic::uninit();

fn bus() -> *mut bindings::bus_type {
    MDEV_BUS.get()
}

// ---------------------------------------------------------------------------------------------
// The bus and its drivers

/// # Safety
///
/// `dev` is a device on the mdev bus being bound to an `mdev_driver`.
unsafe extern "C" fn mdev_bus_probe(dev: *mut bindings::device) -> c_int {
    // SAFETY: Drivers on our bus are embedded in a `struct mdev_driver` (mdev_register_driver)
    // and devices are embedded in a `struct mdev_device` (mdev_device_create).
    unsafe {
        let drv = kernel::container_of!((*dev).driver, bindings::mdev_driver, driver);
        match (*drv).probe {
            Some(probe) => probe(kernel::container_of!(dev, bindings::mdev_device, dev).cast_mut()),
            None => 0,
        }
    }
}

/// # Safety
///
/// `dev` is a device on the mdev bus bound to an `mdev_driver`.
unsafe extern "C" fn mdev_bus_remove(dev: *mut bindings::device) {
    // SAFETY: As in `mdev_bus_probe`.
    unsafe {
        let drv = kernel::container_of!((*dev).driver, bindings::mdev_driver, driver);
        if let Some(remove) = (*drv).remove {
            remove(kernel::container_of!(dev, bindings::mdev_device, dev).cast_mut());
        }
    }
}

/// No driver matches automatically: instances are bound explicitly to their parent's driver.
///
/// # Safety
///
/// Called by the driver core with a device and a driver of our bus.
unsafe extern "C" fn mdev_bus_match(
    _dev: *mut bindings::device,
    _drv: *const bindings::device_driver,
) -> c_int {
    0
}

/// Registers an mdev driver: `include/linux/mdev.h`.
///
/// # Safety
///
/// `drv` points to a valid `struct mdev_driver` that outlives its registration.
#[no_mangle]
pub unsafe extern "C" fn mdev_register_driver(drv: *mut bindings::mdev_driver) -> c_int {
    // SAFETY: By the function's safety requirements.
    unsafe {
        if (*drv).device_api.is_null() {
            return EINVAL.to_errno();
        }
        (*drv).driver.bus = bus();
        bindings::driver_register(&mut (*drv).driver)
    }
}

/// Unregisters an mdev driver registered with [`mdev_register_driver`].
///
/// # Safety
///
/// `drv` was registered with [`mdev_register_driver`].
#[no_mangle]
pub unsafe extern "C" fn mdev_unregister_driver(drv: *mut bindings::mdev_driver) {
    // SAFETY: By the function's safety requirements.
    unsafe { bindings::driver_unregister(&mut (*drv).driver) };
}

// ---------------------------------------------------------------------------------------------
// Supported types: mdev_supported_types/<type>/

/// Which attribute of a type directory a sysfs callback is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TypeAttr {
    Create,
    DeviceApi,
    Name,
    AvailableInstances,
    Description,
}

const TYPE_ATTRS: [(TypeAttr, &CStr, u16); 5] = [
    (TypeAttr::Create, c_str!("create"), 0o200),
    (TypeAttr::DeviceApi, c_str!("device_api"), 0o444),
    (TypeAttr::Name, c_str!("name"), 0o444),
    (
        TypeAttr::AvailableInstances,
        c_str!("available_instances"),
        0o444,
    ),
    (TypeAttr::Description, c_str!("description"), 0o444),
];

const fn type_attr(i: usize) -> bindings::attribute {
    attribute(TYPE_ATTRS[i].1, TYPE_ATTRS[i].2)
}

/// A sysfs attribute named `name` with permissions `mode`. Built field by field: the struct has
/// lockdep fields only with `CONFIG_DEBUG_LOCK_ALLOC`, which stay zero.
const fn attribute(name: &'static CStr, mode: u16) -> bindings::attribute {
    let mut attr: bindings::attribute = zeroed();
    attr.name = name.as_char_ptr();
    attr.mode = mode;
    attr
}

static TYPE_ATTR_DEFS: CStatic<[bindings::attribute; 5]> = CStatic::new([
    type_attr(0),
    type_attr(1),
    type_attr(2),
    type_attr(3),
    type_attr(4),
]);

/// The NULL-terminated attribute list of a type directory (filled in at module init: a static
/// cannot hold pointers to the elements of another static's interior-mutable array in const).
static TYPE_ATTR_LIST: CStatic<[*mut bindings::attribute; 6]> = CStatic::new([ptr::null_mut(); 6]);

static TYPE_GROUP: CStatic<bindings::attribute_group> = CStatic::new(bindings::attribute_group {
    is_visible: Some(type_attr_is_visible),
    ..zeroed()
});

static TYPE_GROUPS: CStatic<[*const bindings::attribute_group; 2]> = CStatic::new([ptr::null(); 2]);

static TYPE_SYSFS_OPS: CStatic<bindings::sysfs_ops> = CStatic::new(bindings::sysfs_ops {
    show: Some(type_attr_show),
    store: Some(type_attr_store),
});

static TYPE_KTYPE: CStatic<bindings::kobj_type> = CStatic::new(bindings::kobj_type {
    sysfs_ops: TYPE_SYSFS_OPS.get(),
    release: Some(mdev_type_release),
    ..zeroed()
});

/// Links the static attribute tables together; called once at module init, before any of them
/// is handed to the kernel.
fn init_type_tables() {
    // SAFETY: Nothing else uses the tables yet (module init, before registration).
    unsafe {
        let defs = TYPE_ATTR_DEFS.get().cast::<bindings::attribute>();
        let list = TYPE_ATTR_LIST.get().cast::<*mut bindings::attribute>();
        for i in 0..TYPE_ATTRS.len() {
            *list.add(i) = defs.add(i);
        }
        (*TYPE_GROUP.get()).attrs = list;
        (*TYPE_GROUPS.get())[0] = TYPE_GROUP.get();
        (*TYPE_KTYPE.get()).default_groups = TYPE_GROUPS.get().cast();

        let dattrs = DEVICE_ATTR_LIST.get().cast::<*mut bindings::attribute>();
        *dattrs = ptr::addr_of_mut!((*REMOVE_ATTR.get()).attr);
        (*DEVICE_GROUP.get()).attrs = dattrs;
        (*DEVICE_GROUPS.get())[0] = DEVICE_GROUP.get();
    }
}

fn type_attr_of(attr: *const bindings::attribute) -> Option<TypeAttr> {
    let defs = TYPE_ATTR_DEFS.get().cast::<bindings::attribute>();
    (0..TYPE_ATTRS.len())
        // SAFETY: `i` is within the array.
        .find(|&i| ptr::eq(unsafe { defs.add(i) }, attr))
        .map(|i| TYPE_ATTRS[i].0)
}

/// # Safety
///
/// `kobj` is the `kobj` of a registered `struct mdev_type`.
unsafe fn to_mdev_type(kobj: *mut bindings::kobject) -> *mut bindings::mdev_type {
    // SAFETY: By the function's safety requirements.
    unsafe { kernel::container_of!(kobj, bindings::mdev_type, kobj).cast_mut() }
}

/// The vendor driver of a type's parent.
///
/// # Safety
///
/// `mtype` is a registered type.
unsafe fn type_driver(mtype: *mut bindings::mdev_type) -> *mut bindings::mdev_driver {
    // SAFETY: A registered type has a registered parent with a driver.
    unsafe { (*(*mtype).parent).mdev_driver }
}

/// Hides `description` when the vendor driver has no `show_description`.
///
/// # Safety
///
/// Called by sysfs with a type's kobject and one of our type attributes.
unsafe extern "C" fn type_attr_is_visible(
    kobj: *mut bindings::kobject,
    attr: *mut bindings::attribute,
    _n: c_int,
) -> bindings::umode_t {
    // SAFETY: The type group is only used for `struct mdev_type` kobjects.
    let drv = unsafe { type_driver(to_mdev_type(kobj)) };
    if type_attr_of(attr) == Some(TypeAttr::Description)
        // SAFETY: `drv` is the parent's live driver.
        && unsafe { (*drv).show_description }.is_none()
    {
        return 0;
    }
    // SAFETY: `attr` is one of our static attributes.
    unsafe { (*attr).mode }
}

/// `sysfs_emit(buf, "%s\n", s)`.
///
/// # Safety
///
/// `buf` is a sysfs show buffer and `s` a NUL-terminated string.
unsafe fn emit_str(buf: *mut c_char, s: *const c_char) -> isize {
    // SAFETY: By the function's safety requirements.
    unsafe { bindings::sysfs_emit(buf, c_str!("%s\n").as_char_ptr(), s) as isize }
}

/// `sysfs_emit(buf, "%u\n", v)`.
///
/// # Safety
///
/// `buf` is a sysfs show buffer.
unsafe fn emit_uint(buf: *mut c_char, v: c_uint) -> isize {
    // SAFETY: By the function's safety requirements.
    unsafe { bindings::sysfs_emit(buf, c_str!("%u\n").as_char_ptr(), v) as isize }
}

/// `show` of a type directory's attributes.
///
/// # Safety
///
/// Called by sysfs with a type's kobject, one of our type attributes and a page-sized buffer.
unsafe extern "C" fn type_attr_show(
    kobj: *mut bindings::kobject,
    attr: *mut bindings::attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: Our ktype is only used for `struct mdev_type` kobjects, which sysfs keeps alive
    // during the call; their parent and driver outlive them (mdev_unregister_parent).
    unsafe {
        let mtype = to_mdev_type(kobj);
        let parent = (*mtype).parent;
        let drv = (*parent).mdev_driver;
        match type_attr_of(attr) {
            Some(TypeAttr::DeviceApi) => emit_str(buf, (*drv).device_api),
            Some(TypeAttr::Name) => {
                let name = if (*mtype).pretty_name.is_null() {
                    (*mtype).sysfs_name
                } else {
                    (*mtype).pretty_name
                };
                emit_str(buf, name)
            }
            Some(TypeAttr::AvailableInstances) => match (*drv).get_available {
                Some(get_available) => emit_uint(buf, get_available(mtype)),
                None => emit_uint(
                    buf,
                    bindings::atomic_read(&(*parent).available_instances) as c_uint,
                ),
            },
            Some(TypeAttr::Description) => match (*drv).show_description {
                Some(show) => show(mtype, buf),
                None => EIO.to_errno() as isize,
            },
            _ => EIO.to_errno() as isize,
        }
    }
}

/// `store` of a type directory's attributes: only `create` is writable.
///
/// # Safety
///
/// Called by sysfs with a type's kobject, one of our type attributes and `count` bytes at `buf`.
unsafe extern "C" fn type_attr_store(
    kobj: *mut bindings::kobject,
    attr: *mut bindings::attribute,
    buf: *const c_char,
    count: usize,
) -> isize {
    if type_attr_of(attr) != Some(TypeAttr::Create) {
        return EIO.to_errno() as isize;
    }
    // SAFETY: sysfs hands us `count` readable bytes at `buf`.
    let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
    // SAFETY: As in `type_attr_show`.
    let mtype = unsafe { to_mdev_type(kobj) };
    match create_from_sysfs(mtype, input) {
        Ok(()) => count as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// `create`: a UUID, optionally followed by a newline.
fn create_from_sysfs(mtype: *mut bindings::mdev_type, input: &[u8]) -> Result {
    let text = match input {
        [uuid @ .., b'\n'] if uuid.len() == UUID_STRING_LEN => uuid,
        uuid if uuid.len() == UUID_STRING_LEN => uuid,
        _ => return Err(EINVAL),
    };
    let b = uuid::parse(text).ok_or(EINVAL)?;
    mdev_device_create(mtype, &bindings::guid_t { b })
}

/// Release of a type's kobject: drops the parent device reference taken when it was added.
///
/// # Safety
///
/// Called by the kobject core when the last reference to a type's kobject is dropped.
unsafe extern "C" fn mdev_type_release(kobj: *mut bindings::kobject) {
    // SAFETY: Our ktype is only used for `struct mdev_type`; its parent is still set.
    unsafe { bindings::put_device((*(*to_mdev_type(kobj)).parent).dev) };
    // SAFETY: The type was counted when it was added; this is its release, done with it.
    unsafe { RELEASES.put() };
}

/// Adds `mtype`'s directory under the parent's `mdev_supported_types`.
///
/// # Safety
///
/// `parent` is being registered and `mtype` is one of its types.
unsafe fn mdev_type_add(
    parent: *mut bindings::mdev_parent,
    mtype: *mut bindings::mdev_type,
) -> Result {
    // SAFETY: By the function's safety requirements.
    unsafe {
        (*mtype).kobj.kset = (*parent).mdev_types_kset;
        (*mtype).parent = parent;
        // Pairs with the put in `mdev_type_release`.
        bindings::get_device((*parent).dev);
        // From `kobject_init_and_add` on, the type's release callback runs on the last put.
        RELEASES.get();
        let ret = bindings::kobject_init_and_add(
            &mut (*mtype).kobj,
            TYPE_KTYPE.get(),
            ptr::null_mut(),
            c_str!("%s-%s").as_char_ptr(),
            bindings::dev_driver_string((*parent).dev),
            (*mtype).sysfs_name,
        );
        if ret != 0 {
            bindings::kobject_put(&mut (*mtype).kobj);
            return Err(Error::from_errno(ret));
        }
        (*mtype).devices_kobj =
            bindings::kobject_create_and_add(c_str!("devices").as_char_ptr(), &mut (*mtype).kobj);
        if (*mtype).devices_kobj.is_null() {
            bindings::kobject_del(&mut (*mtype).kobj);
            bindings::kobject_put(&mut (*mtype).kobj);
            return Err(ENOMEM);
        }
    }
    Ok(())
}

/// # Safety
///
/// `mtype` was added with [`mdev_type_add`].
unsafe fn mdev_type_remove(mtype: *mut bindings::mdev_type) {
    // SAFETY: By the function's safety requirements.
    unsafe {
        bindings::kobject_put((*mtype).devices_kobj);
        bindings::kobject_del(&mut (*mtype).kobj);
        bindings::kobject_put(&mut (*mtype).kobj);
    }
}

/// # Safety
///
/// `parent` is initialised by `mdev_register_parent` and has no sysfs files yet.
unsafe fn parent_create_sysfs_files(parent: *mut bindings::mdev_parent) -> Result {
    // SAFETY: By the function's safety requirements.
    unsafe {
        (*parent).mdev_types_kset = bindings::kset_create_and_add(
            c_str!("mdev_supported_types").as_char_ptr(),
            ptr::null(),
            &mut (*(*parent).dev).kobj,
        );
        if (*parent).mdev_types_kset.is_null() {
            return Err(ENOMEM);
        }
        for i in 0..(*parent).nr_types as usize {
            if let Err(e) = mdev_type_add(parent, *(*parent).types.add(i)) {
                for j in (0..i).rev() {
                    mdev_type_remove(*(*parent).types.add(j));
                }
                bindings::kset_unregister((*parent).mdev_types_kset);
                return Err(e);
            }
        }
    }
    Ok(())
}

/// # Safety
///
/// `parent`'s sysfs files were created by [`parent_create_sysfs_files`].
unsafe fn parent_remove_sysfs_files(parent: *mut bindings::mdev_parent) {
    // SAFETY: By the function's safety requirements.
    unsafe {
        for i in 0..(*parent).nr_types as usize {
            mdev_type_remove(*(*parent).types.add(i));
        }
        bindings::kset_unregister((*parent).mdev_types_kset);
    }
}

// ---------------------------------------------------------------------------------------------
// Parents

/// Sends a `KOBJ_CHANGE` uevent with `MDEV_STATE=<state>` for a parent device.
///
/// # Safety
///
/// `dev` is a valid device.
unsafe fn parent_uevent(dev: *mut bindings::device, state: &'static CStr) {
    let mut envp = [state.as_char_ptr().cast_mut(), ptr::null_mut()];
    // SAFETY: By the function's safety requirements; `envp` is NULL-terminated.
    unsafe {
        bindings::kobject_uevent_env(
            &mut (*dev).kobj,
            bindings::kobject_action_KOBJ_CHANGE,
            envp.as_mut_ptr(),
        )
    };
}

/// Registers `dev` as an mdev parent with `nr_types` types: `include/linux/mdev.h`.
///
/// # Safety
///
/// The pointers are valid; `parent`, `mdev_driver` and the types outlive the registration and
/// the caller holds a reference on `dev` until [`mdev_unregister_parent`] returns.
#[no_mangle]
pub unsafe extern "C" fn mdev_register_parent(
    parent: *mut bindings::mdev_parent,
    dev: *mut bindings::device,
    mdev_driver: *mut bindings::mdev_driver,
    types: *mut *mut bindings::mdev_type,
    nr_types: c_uint,
) -> c_int {
    // SAFETY: By the function's safety requirements.
    unsafe {
        ptr::write_bytes(parent, 0, 1);
        bindings::__init_rwsem(
            &mut (*parent).unreg_sem,
            c_str!("&parent->unreg_sem").as_char_ptr(),
            UNREG_SEM_KEY.get(),
        );
        (*parent).dev = dev;
        (*parent).mdev_driver = mdev_driver;
        (*parent).types = types;
        (*parent).nr_types = nr_types;
        bindings::atomic_set(
            &mut (*parent).available_instances,
            (*mdev_driver).max_instances as c_int,
        );

        if let Err(e) = parent_create_sysfs_files(parent) {
            return e.to_errno();
        }
        if bindings::class_compat_create_link(state().compat_class, dev, ptr::null_mut()) != 0 {
            bindings::_dev_warn(
                dev,
                c_str!("Failed to create compatibility class link\n").as_char_ptr(),
            );
        }
        bindings::_dev_info(dev, c_str!("MDEV: Registered\n").as_char_ptr());
        parent_uevent(dev, c_str!("MDEV_STATE=registered"));
    }
    0
}

/// Removes one instance of a parent being unregistered.
///
/// # Safety
///
/// Called by `device_for_each_child` on a child of the parent, with its `unreg_sem` held.
unsafe extern "C" fn remove_child(dev: *mut bindings::device, _data: *mut c_void) -> c_int {
    // SAFETY: `dev` is a live child of the parent being unregistered, which holds `unreg_sem`
    // for writing.
    unsafe {
        if ptr::eq((*dev).bus, bus()) {
            mdev_device_remove_common(
                kernel::container_of!(dev, bindings::mdev_device, dev).cast_mut(),
            );
        }
    }
    0
}

/// Unregisters a parent, removing all of its instances: `include/linux/mdev.h`.
///
/// # Safety
///
/// `parent` was registered with [`mdev_register_parent`].
#[no_mangle]
pub unsafe extern "C" fn mdev_unregister_parent(parent: *mut bindings::mdev_parent) {
    // SAFETY: By the function's safety requirements.
    unsafe {
        let dev = (*parent).dev;
        bindings::_dev_info(dev, c_str!("MDEV: Unregistering\n").as_char_ptr());
        bindings::down_write(&mut (*parent).unreg_sem);
        bindings::class_compat_remove_link(state().compat_class, dev, ptr::null_mut());
        bindings::device_for_each_child(dev, ptr::null_mut(), Some(remove_child));
        parent_remove_sysfs_files(parent);
        bindings::up_write(&mut (*parent).unreg_sem);
        parent_uevent(dev, c_str!("MDEV_STATE=unregistered"));
    }
}

// ---------------------------------------------------------------------------------------------
// Instances

static REMOVE_ATTR: CStatic<bindings::device_attribute> =
    CStatic::new(bindings::device_attribute {
        attr: attribute(c_str!("remove"), 0o200),
        show: None,
        store: Some(remove_store),
    });

static DEVICE_ATTR_LIST: CStatic<[*mut bindings::attribute; 2]> =
    CStatic::new([ptr::null_mut(); 2]);

static DEVICE_GROUP: CStatic<bindings::attribute_group> = CStatic::new(zeroed());

static DEVICE_GROUPS: CStatic<[*const bindings::attribute_group; 2]> =
    CStatic::new([ptr::null(); 2]);

/// `remove`: a non-zero number removes the instance.
///
/// # Safety
///
/// Called by sysfs with an instance's device and a NUL-terminated buffer.
unsafe extern "C" fn remove_store(
    dev: *mut bindings::device,
    attr: *mut bindings::device_attribute,
    buf: *const c_char,
    count: usize,
) -> isize {
    let mut val: u64 = 0;
    // SAFETY: sysfs store buffers are NUL-terminated.
    if unsafe { bindings::kstrtoull(buf, 0, &mut val) } < 0 {
        return EINVAL.to_errno() as isize;
    }
    if val == 0 {
        return count as isize;
    }
    // SAFETY: Devices on our bus are embedded in a `struct mdev_device`.
    let mdev = unsafe { kernel::container_of!(dev, bindings::mdev_device, dev) }.cast_mut();
    // An instance whose creation has not finished cannot be removed yet: `EAGAIN`, as upstream,
    // but with this file kept for the retry (upstream removes it first, and the instance can
    // then never be removed through sysfs).
    if !mdev_is_active(mdev) {
        return EAGAIN.to_errno() as isize;
    }
    // SAFETY: `dev` is a live mdev device; removing our own attribute first makes concurrent
    // writers return without removing the device twice. Once active, an instance stays active
    // until the writer that removed this file (or the parent's unregistration) removes it.
    if unsafe { bindings::device_remove_file_self(dev, attr) } {
        if let Err(e) = mdev_device_remove(mdev) {
            return e.to_errno() as isize;
        }
    }
    count as isize
}

/// Release of an instance's `struct device`: the last reference is gone.
///
/// # Safety
///
/// Called by the driver core with an instance's device, once.
unsafe extern "C" fn mdev_device_release(dev: *mut bindings::device) {
    // SAFETY: Only instances use this release callback.
    let mdev = unsafe { kernel::container_of!(dev, bindings::mdev_device, dev) }.cast_mut();
    {
        let mut list = state().instances.lock();
        if let Some(i) = list.iter().position(|e| ptr::eq(e.0, mdev)) {
            let last = list.len() - 1;
            list.as_mut_slice().swap(i, last);
            // SAFETY: Shrinking by one forgets the last element, an `Instance`, which has no
            // destructor.
            unsafe { list.set_len(last) };
        }
        // SAFETY: The type and its parent outlive the instance (type kobject reference below).
        unsafe {
            let parent = (*(*mdev).type_).parent;
            if (*(*parent).mdev_driver).get_available.is_none() {
                bindings::atomic_inc(&mut (*parent).available_instances);
            }
        }
    }
    // SAFETY: Pairs with the get in `mdev_device_create`; the instance was allocated there with
    // `KBox` and this is its last reference.
    unsafe {
        bindings::kobject_put(&mut (*(*mdev).type_).kobj);
        drop(KBox::from_raw(mdev));
    }
    // SAFETY: The instance was counted when it was created; this is its release, done with it.
    unsafe { RELEASES.put() };
}

/// # Safety
///
/// `mdev` is a live instance whose sysfs links were created.
unsafe fn mdev_remove_sysfs_files(mdev: *mut bindings::mdev_device) {
    // SAFETY: By the function's safety requirements.
    unsafe {
        bindings::sysfs_remove_link(&mut (*mdev).dev.kobj, c_str!("mdev_type").as_char_ptr());
        bindings::sysfs_remove_link(
            (*(*mdev).type_).devices_kobj,
            bindings::dev_name(&(*mdev).dev),
        );
    }
}

/// # Safety
///
/// `mdev` is a live instance that was added to the bus.
unsafe fn mdev_create_sysfs_files(mdev: *mut bindings::mdev_device) -> Result {
    // SAFETY: By the function's safety requirements.
    unsafe {
        let mtype = (*mdev).type_;
        let kobj = &mut (*mdev).dev.kobj;
        to_result(bindings::sysfs_create_link(
            (*mtype).devices_kobj,
            kobj,
            bindings::dev_name(&(*mdev).dev),
        ))?;
        if let Err(e) = to_result(bindings::sysfs_create_link(
            kobj,
            &mut (*mtype).kobj,
            c_str!("mdev_type").as_char_ptr(),
        )) {
            bindings::sysfs_remove_link((*mtype).devices_kobj, bindings::dev_name(&(*mdev).dev));
            return Err(e);
        }
    }
    Ok(())
}

/// Removes an instance from sysfs and the bus and drops the creation reference.
///
/// # Safety
///
/// `mdev` is a live, added instance; the caller holds its parent's `unreg_sem`.
unsafe fn mdev_device_remove_common(mdev: *mut bindings::mdev_device) {
    // SAFETY: By the function's safety requirements.
    unsafe {
        mdev_remove_sysfs_files(mdev);
        bindings::device_del(&mut (*mdev).dev);
        // Balances device_initialize().
        bindings::put_device(&mut (*mdev).dev);
    }
}

/// Creates an instance of `mtype` named by `uuid` and binds it to the parent's driver.
fn mdev_device_create(mtype: *mut bindings::mdev_type, uuid: &bindings::guid_t) -> Result {
    // SAFETY: `mtype` is a registered type (we are called from its sysfs file).
    let parent = unsafe { (*mtype).parent };
    // SAFETY: A registered parent has a live driver.
    let drv = unsafe { (*parent).mdev_driver };

    let mdev = {
        let mut list = state().instances.lock();
        // SAFETY: Instances on the list are live: release removes them under this lock.
        if list.iter().any(|e| unsafe { (*e.0).uuid.b } == uuid.b) {
            return Err(EEXIST);
        }
        // Allocate first: once a slot of the budget is taken, nothing can fail before the
        // instance is on the list, where its release callback gives the slot back.
        let new = KBox::<bindings::mdev_device>::new(zeroed(), GFP_KERNEL)?;
        list.reserve(1, GFP_KERNEL)?;
        // SAFETY: As above for `drv` and `parent`.
        unsafe {
            if (*drv).get_available.is_none() {
                // Reading and decrementing separately is fine: all changes happen under the
                // list lock.
                if bindings::atomic_read(&(*parent).available_instances) == 0 {
                    return Err(Error::from_errno(-(bindings::EUSERS as i32)));
                }
                bindings::atomic_dec(&mut (*parent).available_instances);
            }
        }
        let mdev = KBox::into_raw(new);
        // Cannot fail: the capacity was reserved above.
        list.push(Instance(mdev), GFP_KERNEL)?;
        // SAFETY: `mdev` is a fresh allocation; from here on its release callback owns it.
        unsafe {
            RELEASES.get();
            bindings::device_initialize(&mut (*mdev).dev);
            (*mdev).dev.parent = (*parent).dev;
            (*mdev).dev.bus = bus();
            (*mdev).dev.release = Some(mdev_device_release);
            (*mdev).dev.groups = DEVICE_GROUPS.get().cast();
            (*mdev).type_ = mtype;
            // Pairs with the put in `mdev_device_release`.
            bindings::kobject_get(&mut (*mtype).kobj);
            (*mdev).uuid = *uuid;
        }
        mdev
    };

    let name = uuid::format(&uuid.b);
    // SAFETY: `mdev` holds the reference from device_initialize(); on failure, dropping it frees
    // the instance through `mdev_device_release`.
    unsafe {
        let dev = &mut (*mdev).dev;
        let ret = bindings::dev_set_name(dev, c_str!("%s").as_char_ptr(), name.as_ptr());
        if ret != 0 {
            bindings::put_device(dev);
            return Err(Error::from_errno(ret));
        }
        // Creation fails once parent unregistration has started.
        if bindings::down_read_trylock(&mut (*parent).unreg_sem) == 0 {
            bindings::put_device(dev);
            return Err(ENODEV);
        }
        let res = (|| -> Result {
            to_result(bindings::device_add(dev))?;
            let attached = to_result(bindings::device_driver_attach(&(*drv).driver, dev))
                .and_then(|()| mdev_create_sysfs_files(mdev));
            if let Err(e) = attached {
                bindings::device_del(dev);
                return Err(e);
            }
            let _list = state().instances.lock();
            (*mdev).active = true;
            Ok(())
        })();
        bindings::up_read(&mut (*parent).unreg_sem);
        if res.is_err() {
            bindings::put_device(dev);
        }
        res
    }
}

/// Whether the creation of `mdev`, an instance whose device is live, has finished.
fn mdev_is_active(mdev: *mut bindings::mdev_device) -> bool {
    let _list = state().instances.lock();
    // SAFETY: The caller's reference keeps the instance live; `active` changes under the lock.
    unsafe { (*mdev).active }
}

/// Removes an instance on a write to its `remove` file.
fn mdev_device_remove(mdev: *mut bindings::mdev_device) -> Result {
    {
        let list = state().instances.lock();
        if !list.iter().any(|e| ptr::eq(e.0, mdev)) {
            return Err(ENODEV);
        }
        // SAFETY: `mdev` is on the list, so it is live; `active` is only changed under the lock.
        // The caller saw it set and removed the `remove` file, so no other writer gets here.
        unsafe { (*mdev).active = false };
    }
    // SAFETY: The sysfs write holds a reference on the device; its type and parent outlive it.
    unsafe {
        let parent = (*(*mdev).type_).parent;
        // Removal fails once parent unregistration has started: it removes the instance itself.
        if bindings::down_read_trylock(&mut (*parent).unreg_sem) == 0 {
            return Err(ENODEV);
        }
        mdev_device_remove_common(mdev);
        bindings::up_read(&mut (*parent).unreg_sem);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Module

struct MdevCore {
    state: Pin<KBox<CoreState>>,
}

impl kernel::Module for MdevCore {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        init_type_tables();
        let compat_class =
            // SAFETY: FFI call with a static string.
            unsafe { bindings::class_compat_register(c_str!("mdev_bus").as_char_ptr()) };
        if compat_class.is_null() {
            return Err(ENOMEM);
        }
        let state = match KBox::pin_init(
            pin_init!(CoreState {
                instances <- kernel::new_mutex!(KVec::new(), "mdev_list_lock"),
                compat_class,
            }),
            GFP_KERNEL,
        ) {
            Ok(s) => s,
            Err(e) => {
                // SAFETY: Registered above.
                unsafe { bindings::class_compat_unregister(compat_class) };
                return Err(e);
            }
        };
        STATE.store(
            ptr::from_ref::<CoreState>(&*state).cast_mut(),
            core::sync::atomic::Ordering::Release,
        );
        // SAFETY: `MDEV_BUS` is a static, fully initialised bus type.
        if let Err(e) = to_result(unsafe { bindings::bus_register(bus()) }) {
            STATE.store(ptr::null_mut(), core::sync::atomic::Ordering::Release);
            // SAFETY: Registered above.
            unsafe { bindings::class_compat_unregister(compat_class) };
            return Err(e);
        }
        Ok(MdevCore { state })
    }
}

/// Types and instances not yet released: their release callbacks are code of this module.
static RELEASES: kernel::mdev::ReleaseTracker = kernel::mdev::ReleaseTracker::new();

impl Drop for MdevCore {
    fn drop(&mut self) {
        // Parents are gone, but the release callbacks of their types and instances may still
        // be due (with `CONFIG_DEBUG_KOBJECT_RELEASE`, seconds later): they use this module's
        // code and state.
        RELEASES.wait_idle();
        // SAFETY: Registered in `init`. No parent or driver is left: they hold references on
        // this module through the symbols they use.
        unsafe {
            bindings::class_compat_unregister(self.state.compat_class);
            bindings::bus_unregister(bus());
        }
        STATE.store(ptr::null_mut(), core::sync::atomic::Ordering::Release);
    }
}
