// SPDX-License-Identifier: GPL-2.0

//! VFIO bus driver for mediated devices of Rust vendor drivers.
//!
//! Every parent that a vendor driver registers through `kernel::mdev::Registration` comes here
//! (`vfio_mdev_register_parent`, exported by `vfio_mdev_exports.c`): this module fills in the
//! parent's `struct mdev_driver` and registers driver and parent with the mdev core, either
//! core, through the C API of `include/linux/mdev.h`.
//!
//! When the core binds an instance, `probe` has the vendor's binding create the instance's state
//! and its `vfio_device` (whose `vfio_device_ops` are the vendor driver's own, see
//! `kernel::mdev`), and registers that device with an emulated IOMMU, which gives the instance a
//! VFIO group, an IOMMU group and `/dev/vfio/<n>` (and the iommufd cdev when configured).
//!
//! On removal, `vfio_unregister_group_dev` asks the user of an open device file to release it
//! (the vendor's `request` callback) and waits until it is closed; only then is the vendor's
//! state destroyed.
//!
//! Vendor modules depend on this one, and this one on the mdev core, so neither can be unloaded
//! while a Rust parent is registered. Nothing of this module is reachable from a VFIO device
//! once its instance is unbound.

use core::ptr;
use kernel::ffi::{c_char, c_int, c_uint};
use kernel::{
    bindings,
    error::{from_result, to_result},
    mdev::{ParentRecord, TypeRecord},
    prelude::*,
};

module! {
    type: VfioMdev,
    name: "vfio_mdev",
    author: "mdev-rs developers",
    description: "VFIO bus driver for mediated devices of Rust vendor drivers",
    license: "GPL v2",
}

struct VfioMdev;

impl kernel::Module for VfioMdev {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(VfioMdev)
    }
}

/// The record and type index of an mdev type.
///
/// # Safety
///
/// `mtype` must be a type of a registered parent of this module.
unsafe fn type_of<'a>(mtype: *mut bindings::mdev_type) -> (&'a ParentRecord, usize) {
    // SAFETY: Every parent registered here comes from `kernel::mdev::Registration`, whose types
    // are `TypeRecord`s and whose parent is a `ParentRecord`; the caller guarantees it alive.
    unsafe {
        let index = (*TypeRecord::from_type(mtype)).index;
        (ParentRecord::from_parent((*mtype).parent), index)
    }
}

/// `get_available` of every parent: the vendor's count of the type.
///
/// # Safety
///
/// `mtype` is a type of a parent registered here.
unsafe extern "C" fn get_available(mtype: *mut bindings::mdev_type) -> c_uint {
    // SAFETY: The core only calls this for types of parents registered with this driver, while
    // they are registered.
    unsafe {
        let (record, index) = type_of(mtype);
        (record.hooks().available)(record, index)
    }
    .try_into()
    .unwrap_or(c_uint::MAX)
}

/// `show_description` of parents whose vendor describes its types.
///
/// # Safety
///
/// `mtype` is a type of a parent registered here; `buf` is a sysfs page.
unsafe extern "C" fn show_description(mtype: *mut bindings::mdev_type, buf: *mut c_char) -> isize {
    // SAFETY: The core only calls this for types of parents registered with this driver, while
    // they are registered; only parents with a description get this callback.
    let text = unsafe {
        let (record, index) = type_of(mtype);
        match record.hooks().description {
            Some(description) => description(record, index),
            None => Err(ENODEV),
        }
    };
    // SAFETY: `buf` is a sysfs page.
    unsafe { show_text(text, buf) }
}

/// Binds an instance: the vendor's state and VFIO device, then the device's registration.
///
/// # Safety
///
/// `mdev` is a live instance of a type of a parent registered here.
unsafe extern "C" fn probe(mdev: *mut bindings::mdev_device) -> c_int {
    from_result(|| {
        // SAFETY: The core probes a live instance of one of our parents' types, while the
        // parent is registered.
        let (record, _) = unsafe { type_of((*mdev).type_) };
        // SAFETY: As above.
        let hooks = unsafe { record.hooks() };
        // SAFETY: As above; `mdev` stays bound until `remove`, which unbinds it.
        let vdev = unsafe { (hooks.bind)(record, mdev) }?;
        // SAFETY: `vdev` is the complete, unregistered device `bind` made.
        if let Err(e) = to_result(unsafe { bindings::vfio_register_emulated_iommu_dev(vdev) }) {
            // SAFETY: The device never became visible.
            unsafe { (hooks.unbind)(vdev) };
            return Err(e);
        }
        // SAFETY: `mdev` is live and bound to us.
        unsafe { bindings::dev_set_drvdata(ptr::addr_of_mut!((*mdev).dev), vdev.cast()) };
        Ok(0)
    })
}

/// Unbinds an instance bound by `probe`, once its device file is closed.
///
/// # Safety
///
/// `mdev` was bound by a successful `probe`.
unsafe extern "C" fn remove(mdev: *mut bindings::mdev_device) {
    // SAFETY: `probe` succeeded for `mdev`, so its driver data is the VFIO device it registered;
    // the parent is registered while it has bound instances.
    unsafe {
        let vdev = bindings::dev_get_drvdata(ptr::addr_of_mut!((*mdev).dev))
            .cast::<bindings::vfio_device>();
        let (record, _) = type_of((*mdev).type_);
        // Asks the user to close the device file and waits until it has.
        bindings::vfio_unregister_group_dev(vdev);
        (record.hooks().unbind)(vdev);
    }
}

/// `show` of the instance attributes of Rust parents.
///
/// # Safety
///
/// `dev` is an instance bound by `probe` and `attr` one of its parent's instance attributes;
/// `buf` is a sysfs page.
unsafe extern "C" fn show_attribute(
    dev: *mut bindings::device,
    attr: *mut bindings::device_attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: Instance attributes exist only while the instance is bound (the driver core adds
    // them after `probe` and removes them before `remove`), so its driver data is the VFIO
    // device `probe` registered, and its parent is registered.
    let text = unsafe {
        let mdev = kernel::container_of!(dev, bindings::mdev_device, dev);
        let (record, _) = type_of((*mdev).type_);
        let vdev = bindings::dev_get_drvdata(dev).cast::<bindings::vfio_device>();
        match record
            .attributes()
            .iter()
            .position(|a| ptr::eq(a.get().cast_const(), attr.cast_const()))
        {
            Some(index) => (record.hooks().show_attribute)(vdev, index),
            None => Err(EIO),
        }
    };
    // SAFETY: `buf` is a sysfs page.
    unsafe { show_text(text, buf) }
}

/// Writes `text` and a newline to a sysfs page; returns its length or the error.
///
/// # Safety
///
/// `buf` is a sysfs page.
unsafe fn show_text(text: Result<kernel::str::CString>, buf: *mut c_char) -> isize {
    from_result(|| {
        let text = text?;
        let bytes = text.as_bytes();
        let len = bytes.len().min(kernel::page::PAGE_SIZE - 2);
        // SAFETY: sysfs hands `show` a page-sized buffer; `len + 2 <= PAGE_SIZE`.
        unsafe {
            ptr::copy_nonoverlapping(bytes.as_ptr(), buf.cast::<u8>(), len);
            *buf.add(len) = b'\n';
            *buf.add(len + 1) = 0;
        }
        Ok((len + 1) as isize)
    })
}

/// Registers a parent of `kernel::mdev::Registration` with the mdev core.
///
/// # Safety
///
/// `parent` must be the `mdev_parent` of the `ParentRecord` of a pinned registration, `dev` its
/// parent device and `types` its `nr_types` types; the registration holds a reference on the
/// record's device until after `vfio_mdev_unregister_parent`.
#[no_mangle]
pub unsafe extern "C" fn vfio_mdev_register_parent(
    parent: *mut bindings::mdev_parent,
    dev: *mut bindings::device,
    types: *mut *mut bindings::mdev_type,
    nr_types: c_uint,
) -> c_int {
    // SAFETY: Guaranteed by the caller; the record is not registered yet, so nothing else
    // accesses its driver or attributes.
    unsafe {
        let record = ParentRecord::from_parent(parent);
        let drv = record.driver.get();
        (*drv).probe = Some(probe);
        (*drv).remove = Some(remove);
        (*drv).get_available = Some(get_available);
        for attr in record.attributes() {
            (*attr.get()).show = Some(show_attribute);
        }
        (*drv).show_description = if record.hooks().description.is_some() {
            Some(show_description)
        } else {
            None
        };
        let ret = bindings::mdev_register_driver(drv);
        if ret != 0 {
            return ret;
        }
        let ret = bindings::mdev_register_parent(parent, dev, drv, types, nr_types);
        if ret != 0 {
            bindings::mdev_unregister_driver(drv);
        }
        ret
    }
}

/// Unregisters a parent registered with [`vfio_mdev_register_parent`], removing its instances.
///
/// # Safety
///
/// `parent` must have been registered with [`vfio_mdev_register_parent`] and not unregistered.
#[no_mangle]
pub unsafe extern "C" fn vfio_mdev_unregister_parent(parent: *mut bindings::mdev_parent) {
    // SAFETY: Guaranteed by the caller.
    unsafe {
        let record = ParentRecord::from_parent(parent);
        bindings::mdev_unregister_parent(parent);
        bindings::mdev_unregister_driver(record.driver.get());
    }
}

/// The definitions above have the signatures of their one declaration (`vfio_mdev.h`, as
/// bindgen gives it to the kernel crate): two function items coerce to one function pointer
/// type only when their signatures are the same.
#[allow(dead_code)]
fn _signatures_match_vfio_mdev_h() {
    let _ = [
        vfio_mdev_register_parent,
        bindings::vfio_mdev_register_parent,
    ];
    let _ = [
        vfio_mdev_unregister_parent,
        bindings::vfio_mdev_unregister_parent,
    ];
}
