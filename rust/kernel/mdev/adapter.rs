// SPDX-License-Identifier: GPL-2.0

//! The VFIO device of an instance: its `vfio_device_ops`, built for each [`Driver`].
//!
//! [`Adapter<T>`] holds the C tables of driver `T`: its `vfio_device_ops`, whose slots are
//! filled only for the callbacks `T` implements, its dirty-logging ops when it has them, and the
//! [`ParentHooks`] through which `vfio_mdev` binds instances. The trampolines are generic, so
//! they are compiled into the vendor module; what does not depend on `T` (ioctl decoding, user
//! copies, chunking, the device's `release`) is not, and stays in the kernel image.
//!
//! C header: [`include/linux/vfio.h`](srctree/include/linux/vfio.h)

use super::{migration, Device, Driver, InstanceRef, ParentHooks, ParentRecord};
use crate::{
    bindings,
    dma_buf::DmaBuf,
    error::{code::*, from_err_ptr, from_result, to_result, Result},
    ffi::{c_char, c_int, c_long, c_uint, c_ulong, c_void},
    mm::virt::VmaNew,
    prelude::*,
    str::CString,
    types::{ForeignOwnable, Opaque},
    uaccess::{UserPtr, UserSlice, UserSliceReader, UserSliceWriter},
    vfio,
};
use core::{
    marker::PhantomData,
    mem::{size_of, MaybeUninit},
    ptr,
};

/// The VFIO device of one instance, as `_vfio_alloc_device` allocates it.
///
/// # Invariants
///
/// - `vdev` is the first field (the VFIO core allocates and frees the whole structure), and is
///   only ever reached through raw pointers: the VFIO core writes it at any time.
/// - `record` is null or the record of the instance's parent; then the device holds a reference
///   on the record's device and is counted in its `devices`, until `release`.
/// - Between a successful `bind` and `unbind`, `mdev` is the instance, `state` comes from
///   `into_foreign` of its [`Driver::Instance`], and `migration` is null or comes from
///   `Arc::into_raw` of its migration state. These are written only by `bind`, before the device
///   is registered.
#[repr(C)]
pub(crate) struct Binding {
    vdev: Opaque<bindings::vfio_device>,
    record: *const ParentRecord,
    mdev: *mut bindings::mdev_device,
    state: *const c_void,
    pub(super) migration: *const migration::Migration,
}

impl Binding {
    /// # Safety
    ///
    /// `vdev` must be the `vfio_device` of a [`Binding`] between `bind` and the end of `unbind`.
    #[inline]
    pub(super) unsafe fn from_vdev<'a>(vdev: *mut bindings::vfio_device) -> &'a Binding {
        // SAFETY: By the type invariant `vdev` is at offset 0; the caller guarantees the binding
        // alive.
        unsafe { &*vdev.cast::<Binding>() }
    }

    /// The VFIO device.
    pub(super) fn vdev(&self) -> *mut bindings::vfio_device {
        self.vdev.get()
    }

    /// The parent's driver data, the instance and a borrow of its state.
    ///
    /// # Safety
    ///
    /// The binding is between `bind` and the end of `unbind`, and the record's driver is `T`.
    #[inline]
    pub(super) unsafe fn parts<T: Driver>(&self) -> (&T, &Device, InstanceRef<'_, T>) {
        // SAFETY: By the type invariant and the caller's guarantee, `record` is the parent's
        // record, registered while it has bound instances, whose `data` is a pinned `T`; `mdev`
        // is bound and `state` came from `into_foreign` of a `T::Instance` that `unbind` has not
        // taken back yet.
        unsafe {
            let data = &*(*self.record).data.cast::<T>();
            let mdev = Device::from_raw(self.mdev);
            let state = <T::Instance as ForeignOwnable>::borrow(self.state);
            (data, mdev, state)
        }
    }
}

/// `release` of every instance's VFIO device: the VFIO core frees the device right after this
/// and never reads its operations again, so once the parent's count of devices drops, the
/// vendor module may go. Part of the kernel image, never of a vendor module.
///
/// # Safety
///
/// Called by the VFIO core, once, for a device allocated by `bind`.
unsafe extern "C" fn release(vdev: *mut bindings::vfio_device) {
    // SAFETY: The device is a `Binding` (allocated with its size by `bind`); `record` is null
    // or holds a reference, by the type invariant.
    unsafe {
        let record = (*vdev.cast::<Binding>()).record;
        if !record.is_null() {
            let dev = (*record).dev();
            // This device's `get` was in `bind`; the VFIO core reads nothing of the vendor's
            // after calling us.
            (*record).devices().put();
            // Our reference kept the record alive up to here.
            bindings::put_device(dev);
        }
    }
}

/// The C tables of driver `T`.
pub(crate) struct Adapter<T>(PhantomData<T>);

impl<T: Driver> Adapter<T> {
    /// Callbacks that only work together, checked when `T`'s tables are built.
    const CONSISTENT: () = {
        assert!(
            T::HAS_LOG_START == T::HAS_LOG_STOP && T::HAS_LOG_STOP == T::HAS_LOG_READ_AND_CLEAR,
            "dirty logging needs log_start, log_stop and log_read_and_clear"
        );
        assert!(
            !T::HAS_SET_IRQS || (T::HAS_DEVICE_INFO && T::HAS_IRQ_INFO),
            "set_irqs is checked against device_info and irq_info"
        );
        assert!(
            T::INSTANCE_ATTRIBUTES.is_empty() || T::HAS_SHOW_INSTANCE_ATTRIBUTE,
            "instance attributes need show_instance_attribute"
        );
        assert!(
            T::MIGRATION_FLAGS == 0
                || (T::HAS_MIGRATION_DATA_SIZE && T::HAS_SAVE_STATE && T::HAS_LOAD_STATE),
            "migration needs migration_data_size, save_state and load_state"
        );
        assert!(
            !T::HAS_MIGRATION_STOP_COPY_SIZE || T::MIGRATION_FLAGS != 0,
            "migration_stop_copy_size goes with MIGRATION_FLAGS"
        );
        assert!(
            (T::MIGRATION_FLAGS == 0) == T::MIGRATION_STREAM.is_none(),
            "MIGRATION_STREAM goes with MIGRATION_FLAGS"
        );
        assert!(
            T::MIGRATION_FLAGS
                & !(vfio::migration::STOP_COPY | vfio::migration::P2P | vfio::migration::PRE_COPY)
                == 0
                && (T::MIGRATION_FLAGS == 0
                    || T::MIGRATION_FLAGS & vfio::migration::STOP_COPY != 0),
            "MIGRATION_FLAGS are STOP_COPY, with P2P and PRE_COPY or not"
        );
        if let Some(stream) = T::MIGRATION_STREAM {
            assert!(
                is_one_word(stream.name.as_bytes_with_nul()),
                "the MIGRATION_STREAM name is one word"
            );
        }
        assert!(
            T::HAS_QUERY_GFX_PLANE == T::GFX_PLANE_TYPE.is_some(),
            "query_gfx_plane and GFX_PLANE_TYPE go together"
        );
        let mut i = 0;
        while i < T::TYPES.len() {
            assert!(
                T::TYPES[i].max_resolution.is_some() == T::GFX_PLANE_TYPE.is_some(),
                "every type of a driver with a display has a max_resolution, and only those"
            );
            if let Some(r) = T::TYPES[i].max_resolution {
                assert!(
                    r.width != 0 && r.height != 0,
                    "a max_resolution is not empty"
                );
            }
            i += 1;
        }
        assert!(
            T::HAS_GET_GFX_DMABUF == matches!(T::GFX_PLANE_TYPE, Some(vfio::GfxPlaneType::Dmabuf)),
            "get_gfx_dmabuf goes with dma-buf planes"
        );
    };

    /// What `vfio_mdev` calls for a parent of `T`; building it checks [`Self::CONSISTENT`].
    pub(crate) const HOOKS: ParentHooks = {
        #[allow(clippy::let_unit_value)]
        let () = Self::CONSISTENT;
        ParentHooks {
            available: Self::available,
            description: if T::HAS_DESCRIPTION {
                Some(Self::description)
            } else {
                None
            },
            bind: Self::bind,
            unbind: Self::unbind,
            show_attribute: Self::show_attribute,
        }
    };

    /// A device that reports its interrupt indexes ([`Driver::device_info`]) but implements
    /// neither [`Driver::irq_info`] nor [`Driver::set_irqs`] (nor its own [`Driver::ioctl`],
    /// which would get them) raises no interrupts: the binding answers every index of it with
    /// no vectors, and refuses every `SET_IRQS` with `EINVAL`.
    const NO_IRQS: bool =
        T::HAS_DEVICE_INFO && !T::HAS_IRQ_INFO && !T::HAS_SET_IRQS && !T::HAS_IOCTL;

    /// Whether the device file takes ioctls: with none of these, the slot stays empty.
    const HAS_IOCTLS: bool = T::HAS_DEVICE_INFO
        || T::HAS_REGION_INFO
        || T::HAS_IRQ_INFO
        || T::HAS_SET_IRQS
        || T::HAS_RESET
        || T::HAS_QUERY_GFX_PLANE
        || T::HAS_GET_GFX_DMABUF
        || T::HAS_IOCTL;

    /// The operations of every VFIO device of `T`.
    const VFIO_OPS: bindings::vfio_device_ops = bindings::vfio_device_ops {
        name: crate::c_str!("vfio-mdev-rs").as_char_ptr().cast_mut(),
        init: None,
        release: Some(release),
        // Without `CONFIG_IOMMUFD` these helpers are null function pointers in C (macros that
        // bindgen does not see): the slots stay empty, as in a C driver built so.
        #[cfg(CONFIG_IOMMUFD)]
        bind_iommufd: Some(bindings::vfio_iommufd_emulated_bind),
        #[cfg(not(CONFIG_IOMMUFD))]
        bind_iommufd: None,
        #[cfg(CONFIG_IOMMUFD)]
        unbind_iommufd: Some(bindings::vfio_iommufd_emulated_unbind),
        #[cfg(not(CONFIG_IOMMUFD))]
        unbind_iommufd: None,
        #[cfg(CONFIG_IOMMUFD)]
        attach_ioas: Some(bindings::vfio_iommufd_emulated_attach_ioas),
        #[cfg(not(CONFIG_IOMMUFD))]
        attach_ioas: None,
        #[cfg(CONFIG_IOMMUFD)]
        detach_ioas: Some(bindings::vfio_iommufd_emulated_detach_ioas),
        #[cfg(not(CONFIG_IOMMUFD))]
        detach_ioas: None,
        open_device: if T::HAS_OPEN {
            Some(Self::open_device)
        } else {
            None
        },
        // Closing also ends a migration in progress.
        close_device: if T::HAS_CLOSE || T::MIGRATION_FLAGS != 0 {
            Some(Self::close_device)
        } else {
            None
        },
        read: if T::HAS_READ { Some(Self::read) } else { None },
        write: if T::HAS_WRITE {
            Some(Self::write)
        } else {
            None
        },
        ioctl: if Self::HAS_IOCTLS {
            Some(Self::ioctl)
        } else {
            None
        },
        mmap: if T::HAS_MMAP { Some(Self::mmap) } else { None },
        request: if T::HAS_REQUEST {
            Some(Self::request)
        } else {
            None
        },
        match_: None,
        dma_unmap: None,
        device_feature: None,
    };

    /// The dirty-logging operations, installed only when `T` implements them.
    const LOG_OPS: bindings::vfio_log_ops = bindings::vfio_log_ops {
        log_start: Some(Self::log_start),
        log_stop: Some(Self::log_stop),
        log_read_and_clear: Some(Self::log_read_and_clear),
    };

    /// What the migration state machine asks of `T`.
    const MIGRATION: migration::VendorOps = migration::VendorOps {
        data_size: Self::migration_data_size,
        stop_copy_size: Self::migration_stop_copy_size,
        save: Self::save_state,
        check: Self::check_state,
        load: Self::load_state,
    };

    /// # Safety
    ///
    /// `record` is a registered parent of `T`.
    unsafe fn data(record: &ParentRecord) -> &T {
        // SAFETY: By the type invariant of `ParentRecord` `data` is the pinned data of the
        // registration of `T`, alive while it is registered, which the caller guarantees.
        unsafe { &*record.data.cast::<T>() }
    }

    /// # Safety
    ///
    /// `record` is a registered parent of `T`.
    unsafe fn available(record: &ParentRecord, type_index: usize) -> usize {
        // SAFETY: Guaranteed by the caller.
        unsafe { Self::data(record) }.available_instances(type_index)
    }

    /// # Safety
    ///
    /// `record` is a registered parent of `T`.
    unsafe fn description(record: &ParentRecord, type_index: usize) -> Result<CString> {
        // SAFETY: Guaranteed by the caller.
        unsafe { Self::data(record) }.description(type_index)
    }

    /// # Safety
    ///
    /// `record` is a registered parent of `T` and `mdev` one of its instances being probed; the
    /// instance stays bound until `unbind`.
    unsafe fn bind(
        record: &ParentRecord,
        mdev: *mut bindings::mdev_device,
    ) -> Result<*mut bindings::vfio_device> {
        // SAFETY: `mdev` is live; the ops are a constant, so they live as long as this module,
        // which stays loaded until every device is released (`Registration::drop`). The
        // allocation is at least as large as `vfio_device`, which starts it, and zeroed.
        let vdev = from_err_ptr(unsafe {
            bindings::_vfio_alloc_device(
                size_of::<Binding>(),
                ptr::addr_of_mut!((*mdev).dev),
                &Self::VFIO_OPS,
            )
        })?;
        let this = vdev.cast::<Binding>();
        // INVARIANT: the device holds a reference on the record and is counted, before anything
        // can drop the device's last reference.
        // SAFETY: `this` is our allocation, not shared yet; the caller keeps `record` alive.
        unsafe {
            bindings::get_device(record.dev());
            record.devices().get();
            (*this).record = record;
            (*this).mdev = mdev;
        }
        // SAFETY: The caller guarantees `mdev` bound for the whole call, and a parent of ours.
        let device = unsafe { Device::from_raw(mdev) };
        // SAFETY: Guaranteed by the caller.
        let data = unsafe { Self::data(record) };
        let state = match data.create(device, device.type_index()) {
            Ok(state) => state,
            Err(e) => {
                // SAFETY: `vdev` was allocated above and never registered.
                unsafe { bindings::put_device(ptr::addr_of_mut!((*vdev).device)) };
                return Err(e);
            }
        };
        // INVARIANT: the instance's state, set before the device is visible.
        // SAFETY: `this` is not shared yet.
        unsafe { (*this).state = state.into_foreign() };
        if T::MIGRATION_FLAGS != 0 {
            // SAFETY: The device is not registered, nothing reads it yet.
            if let Err(e) = unsafe { migration::setup(this, T::MIGRATION_FLAGS, &Self::MIGRATION) }
            {
                // SAFETY: The instance's state is set and its device was never registered.
                unsafe { Self::unbind(vdev) };
                return Err(e);
            }
        }
        if T::HAS_LOG_START {
            // SAFETY: As above; the table is a constant of this module.
            unsafe { (*vdev).log_ops = &Self::LOG_OPS };
        }
        Ok(vdev)
    }

    /// # Safety
    ///
    /// `vdev` was returned by `bind` and is not registered (any more).
    unsafe fn unbind(vdev: *mut bindings::vfio_device) {
        // SAFETY: Guaranteed by the caller: the binding is complete, and no device operation
        // runs any more (the device was unregistered, which waits for its file to be closed).
        unsafe {
            let this = vdev.cast::<Binding>();
            migration::teardown(this);
            let data = Self::data(&*(*this).record);
            let state = <T::Instance as ForeignOwnable>::from_foreign((*this).state);
            data.remove(Device::from_raw((*this).mdev), state);
            bindings::put_device(ptr::addr_of_mut!((*vdev).device));
        }
    }

    /// # Safety
    ///
    /// `vdev` is the device of a bound instance of `T`.
    unsafe fn show_attribute(vdev: *mut bindings::vfio_device, index: usize) -> Result<CString> {
        if !T::HAS_SHOW_INSTANCE_ATTRIBUTE {
            return Err(EIO);
        }
        // SAFETY: Guaranteed by the caller.
        let (data, mdev, state) = unsafe { Binding::from_vdev(vdev).parts::<T>() };
        data.show_instance_attribute(mdev, state, index)
    }

    /// # Safety
    ///
    /// `vdev` is the registered VFIO device of an instance of `T`: the VFIO core calls device
    /// operations only then.
    unsafe extern "C" fn open_device(vdev: *mut bindings::vfio_device) -> c_int {
        // SAFETY: Guaranteed by the caller.
        let (data, mdev, state) = unsafe { Binding::from_vdev(vdev).parts::<T>() };
        from_result(|| data.open(mdev, state).map(|()| 0))
    }

    /// # Safety
    ///
    /// As for `open_device`.
    unsafe extern "C" fn close_device(vdev: *mut bindings::vfio_device) {
        // SAFETY: Guaranteed by the caller.
        let this = unsafe { Binding::from_vdev(vdev) };
        migration::reset(this);
        if T::HAS_CLOSE {
            // SAFETY: Guaranteed by the caller.
            let (data, mdev, state) = unsafe { this.parts::<T>() };
            data.close(mdev, state);
        }
    }

    /// # Safety
    ///
    /// As for `open_device`; `ppos` is valid.
    unsafe extern "C" fn read(
        vdev: *mut bindings::vfio_device,
        buf: *mut c_char,
        count: usize,
        ppos: *mut bindings::loff_t,
    ) -> isize {
        // SAFETY: Guaranteed by the caller.
        let this = unsafe { Binding::from_vdev(vdev) };
        // SAFETY: Guaranteed by the caller.
        let start = unsafe { *ppos } as u64;
        let result = if (1..=SHORT).contains(&count) {
            // SAFETY: Guaranteed by the caller.
            let (data, mdev, state) = unsafe { this.parts::<T>() };
            let mut bytes = [0u8; SHORT];
            let n = match moved(data.read(mdev, state, &mut bytes[..count], start), count) {
                Ok(n) => n,
                Err(e) => return e.to_errno() as isize,
            };
            copy_out(buf as UserPtr, &bytes, n).map(|()| n)
        } else {
            let mut out = UserSlice::new(buf as UserPtr, count).writer();
            read_chunks(&mut out, count, start, &mut |chunk, offset| {
                // SAFETY: Guaranteed by the caller.
                let (data, mdev, state) = unsafe { this.parts::<T>() };
                data.read(mdev, state, chunk, offset)
            })
        };
        // SAFETY: Guaranteed by the caller.
        unsafe { finish(result, ppos, start) }
    }

    /// # Safety
    ///
    /// As for `open_device`; `ppos` is valid.
    unsafe extern "C" fn write(
        vdev: *mut bindings::vfio_device,
        buf: *const c_char,
        count: usize,
        ppos: *mut bindings::loff_t,
    ) -> isize {
        // SAFETY: Guaranteed by the caller.
        let this = unsafe { Binding::from_vdev(vdev) };
        // SAFETY: Guaranteed by the caller.
        let start = unsafe { *ppos } as u64;
        let result = if (1..=SHORT).contains(&count) {
            // SAFETY: Guaranteed by the caller.
            let (data, mdev, state) = unsafe { this.parts::<T>() };
            let bytes = match copy_in(buf as UserPtr, count) {
                Ok(bytes) => bytes,
                Err(e) => return e.to_errno() as isize,
            };
            moved(data.write(mdev, state, &bytes[..count], start), count)
        } else {
            let mut input = UserSlice::new(buf as UserPtr, count).reader();
            write_chunks(&mut input, count, start, &mut |chunk, offset| {
                // SAFETY: Guaranteed by the caller.
                let (data, mdev, state) = unsafe { this.parts::<T>() };
                data.write(mdev, state, chunk, offset)
            })
        };
        // SAFETY: Guaranteed by the caller.
        unsafe { finish(result, ppos, start) }
    }

    /// # Safety
    ///
    /// As for `open_device`.
    unsafe extern "C" fn ioctl(
        vdev: *mut bindings::vfio_device,
        cmd: c_uint,
        arg: c_ulong,
    ) -> c_long {
        // SAFETY: Guaranteed by the caller.
        let this = unsafe { Binding::from_vdev(vdev) };
        // SAFETY: Guaranteed by the caller.
        from_result(|| Ok(unsafe { Self::dispatch(this, cmd, arg as UserPtr) }? as c_long))
    }

    /// The standard ioctls, decoded for the callbacks `T` has; the others go to
    /// [`Driver::ioctl`].
    ///
    /// # Safety
    ///
    /// `this` is a bound instance of `T`.
    unsafe fn dispatch(this: &Binding, cmd: u32, arg: UserPtr) -> Result<isize> {
        // SAFETY: Guaranteed by the caller.
        let parts = || unsafe { this.parts::<T>() };
        match cmd {
            vfio::DEVICE_GET_INFO if T::HAS_DEVICE_INFO => device_info_ioctl(arg, &mut || {
                let (data, mdev, state) = parts();
                data.device_info(mdev, state)
            }),
            vfio::DEVICE_GET_REGION_INFO if T::HAS_REGION_INFO => {
                region_info_ioctl(arg, &mut |index, caps| {
                    let (data, mdev, state) = parts();
                    data.region_info(mdev, state, index, caps)
                })
            }
            vfio::DEVICE_GET_IRQ_INFO if T::HAS_IRQ_INFO => irq_info_ioctl(arg, &mut |index| {
                let (data, mdev, state) = parts();
                data.irq_info(mdev, state, index)
            }),
            vfio::DEVICE_SET_IRQS if T::HAS_SET_IRQS => set_irqs_ioctl(
                arg,
                &mut |index| {
                    let (data, mdev, state) = parts();
                    let num_irqs = data.device_info(mdev, state)?.num_irqs;
                    // An index out of range is refused with `EINVAL` by the VFIO core's checks,
                    // as vfio-pci does.
                    if index >= num_irqs {
                        return Ok((num_irqs, 0));
                    }
                    let (data, mdev, state) = parts();
                    Ok((num_irqs, data.irq_info(mdev, state, index)?.count))
                },
                &mut |set| {
                    let (data, mdev, state) = parts();
                    data.set_irqs(mdev, state, set)
                },
            )
            .map(|()| 0),
            vfio::DEVICE_GET_IRQ_INFO if Self::NO_IRQS => irq_info_ioctl(arg, &mut |index| {
                let (data, mdev, state) = parts();
                if index >= data.device_info(mdev, state)?.num_irqs {
                    return Err(EINVAL);
                }
                Ok(vfio::IrqInfo { flags: 0, count: 0 })
            }),
            // With no vectors on any index, the VFIO core's checks refuse every request.
            vfio::DEVICE_SET_IRQS if Self::NO_IRQS => set_irqs_ioctl(
                arg,
                &mut |_| {
                    let (data, mdev, state) = parts();
                    Ok((data.device_info(mdev, state)?.num_irqs, 0))
                },
                &mut |_| Err(EINVAL),
            )
            .map(|()| 0),
            vfio::DEVICE_QUERY_GFX_PLANE if T::HAS_QUERY_GFX_PLANE => match T::GFX_PLANE_TYPE {
                Some(kind) => gfx_plane_ioctl(arg, kind, |plane_type| {
                    let (data, mdev, state) = parts();
                    data.query_gfx_plane(mdev, state, plane_type)
                }),
                None => Err(ENOTTY),
            },
            vfio::DEVICE_GET_GFX_DMABUF if T::HAS_GET_GFX_DMABUF => {
                // The argument is the id itself (`__u32`), as upstream's mbochs reads it.
                let id = UserSlice::new(arg, 4).reader().read::<u32>()?;
                let (data, mdev, state) = parts();
                let buf = data.get_gfx_dmabuf(mdev, state, id)?;
                DmaBuf::into_fd(buf).map(|fd| fd as isize)
            }
            vfio::DEVICE_RESET if T::HAS_RESET => {
                let (data, mdev, state) = parts();
                migration::reset_device(this, || data.reset(mdev, state)).map(|()| 0)
            }
            _ if T::HAS_IOCTL => {
                let (data, mdev, state) = parts();
                data.ioctl(mdev, state, cmd, arg)
            }
            _ => Err(ENOTTY),
        }
    }

    /// # Safety
    ///
    /// As for `open_device`; `vma` is the VMA the device file's `mmap` is setting up.
    unsafe extern "C" fn mmap(
        vdev: *mut bindings::vfio_device,
        vma: *mut bindings::vm_area_struct,
    ) -> c_int {
        // SAFETY: Guaranteed by the caller: the device file is open, so the device is bound.
        let (data, mdev, state) = unsafe { Binding::from_vdev(vdev).parts::<T>() };
        // SAFETY: Guaranteed by the caller; the reference does not outlive this call.
        let vma = unsafe { VmaNew::from_raw(vma) };
        from_result(|| {
            let ret = data.mmap(mdev, state, vma);
            if ret.is_err() {
                // SAFETY: This `mmap` is failing, and this is the only call for the VMA.
                unsafe { vma.close_after_failed_mmap() };
            }
            ret.map(|()| 0)
        })
    }

    /// # Safety
    ///
    /// As for `open_device`.
    unsafe extern "C" fn request(vdev: *mut bindings::vfio_device, count: c_uint) {
        // SAFETY: Guaranteed by the caller: the VFIO core calls `request` from
        // `vfio_unregister_group_dev`, before `unbind`.
        let (data, mdev, state) = unsafe { Binding::from_vdev(vdev).parts::<T>() };
        data.request(mdev, state, count)
    }

    /// # Safety
    ///
    /// As for `open_device`; `page_size` is valid.
    unsafe extern "C" fn log_start(
        vdev: *mut bindings::vfio_device,
        _ranges: *mut bindings::rb_root_cached,
        _nnodes: u32,
        page_size: *mut u64,
    ) -> c_int {
        // SAFETY: Guaranteed by the caller.
        let (data, mdev, state) = unsafe { Binding::from_vdev(vdev).parts::<T>() };
        // SAFETY: Guaranteed by the caller: the VFIO core passes its own variable.
        let page_size = unsafe { &mut *page_size };
        from_result(|| data.log_start(mdev, state, page_size).map(|()| 0))
    }

    /// # Safety
    ///
    /// As for `open_device`.
    unsafe extern "C" fn log_stop(vdev: *mut bindings::vfio_device) -> c_int {
        // SAFETY: Guaranteed by the caller.
        let (data, mdev, state) = unsafe { Binding::from_vdev(vdev).parts::<T>() };
        from_result(|| data.log_stop(mdev, state).map(|()| 0))
    }

    /// # Safety
    ///
    /// As for `open_device`.
    unsafe extern "C" fn log_read_and_clear(
        vdev: *mut bindings::vfio_device,
        iova: c_ulong,
        length: c_ulong,
        _dirty: *mut bindings::iova_bitmap,
    ) -> c_int {
        // SAFETY: Guaranteed by the caller.
        let (data, mdev, state) = unsafe { Binding::from_vdev(vdev).parts::<T>() };
        from_result(|| {
            data.log_read_and_clear(mdev, state, iova as u64, length as u64)
                .map(|()| 0)
        })
    }

    /// # Safety
    ///
    /// `this` is a bound instance of `T`.
    unsafe fn migration_data_size(this: &Binding) -> usize {
        // SAFETY: Guaranteed by the caller.
        let (data, mdev, state) = unsafe { this.parts::<T>() };
        data.migration_data_size(mdev, state)
    }

    /// # Safety
    ///
    /// `this` is a bound instance of `T`.
    unsafe fn migration_stop_copy_size(this: &Binding) -> usize {
        // SAFETY: Guaranteed by the caller.
        let (data, mdev, state) = unsafe { this.parts::<T>() };
        if T::HAS_MIGRATION_STOP_COPY_SIZE {
            data.migration_stop_copy_size(mdev, state)
        } else {
            data.migration_data_size(mdev, state)
        }
    }

    /// # Safety
    ///
    /// `this` is a bound instance of `T`.
    unsafe fn save_state(
        this: &Binding,
        phase: vfio::migration::SavePhase,
        out: &mut vfio::migration::StreamWriter<'_>,
    ) -> Result {
        // SAFETY: Guaranteed by the caller.
        let (data, mdev, state) = unsafe { this.parts::<T>() };
        data.save_state(mdev, state, phase, out)
    }

    /// # Safety
    ///
    /// `this` is a bound instance of `T`.
    unsafe fn check_state(this: &Binding, bytes: &[u8]) -> Result {
        if !T::HAS_CHECK_STATE {
            return Ok(());
        }
        // SAFETY: Guaranteed by the caller.
        let (data, mdev, state) = unsafe { this.parts::<T>() };
        data.check_state(mdev, state, bytes)
    }

    /// # Safety
    ///
    /// `this` is a bound instance of `T`.
    unsafe fn load_state(this: &Binding, bytes: &[u8]) -> Result {
        // SAFETY: Guaranteed by the caller.
        let (data, mdev, state) = unsafe { this.parts::<T>() };
        data.load_state(mdev, state, bytes)
    }
}

// Region accesses. A register access (1 to [`SHORT`] bytes) is one driver call on a small
// zeroed buffer in the generic trampoline: no loop and no indirect call, since it is the path
// whose every instruction shows (`make bench`, `make profile`). Longer accesses go in chunks of
// [`CHUNK`] bytes through a stack buffer, by code shared by every driver.

/// The longest access that takes the short path.
const SHORT: usize = 8;

/// Bytes moved per driver call on the chunked path: small enough for the stack.
const CHUNK: usize = 256;

/// Whether `name` (with its NUL) is one word: not empty, printable ASCII without spaces.
const fn is_one_word(name: &[u8]) -> bool {
    let mut i = 0;
    while i + 1 < name.len() {
        if !name[i].is_ascii_graphic() {
            return false;
        }
        i += 1;
    }
    name.len() > 1
}

/// What one driver call moved of the `want` bytes it was given: never more, and never nothing
/// (`EIO`), so that a non-empty `read` or `write` never returns 0, which `write`-all loops would
/// retry forever.
#[inline]
fn moved(result: Result<usize>, want: usize) -> Result<usize> {
    match result {
        Ok(0) => Err(EIO),
        Ok(n) => Ok(n.min(want)),
        Err(e) => Err(e),
    }
}

/// Copies `bytes[..n]` (`n` at most [`SHORT`]) to user address `to`.
///
/// The short path's copy: `_copy_to_user` as [`UserSliceWriter::write`] calls it for a value of
/// fixed size, without the slice's bookkeeping (the access is one copy of at most the length
/// the caller gave, at the address it gave).
#[inline(always)]
fn copy_out(to: UserPtr, bytes: &[u8; SHORT], n: usize) -> Result {
    copy_to(to, &bytes[..n.min(SHORT)])
}

/// The first `n` bytes (at most [`SHORT`]) at user address `from`, zero-padded; the short
/// path's copy, as [`copy_out`].
#[inline(always)]
fn copy_in(from: UserPtr, n: usize) -> Result<[u8; SHORT]> {
    let mut bytes = [0u8; SHORT];
    copy_from(from, &mut bytes[..n.min(SHORT)])?;
    Ok(bytes)
}

/// Copies `src` to user address `to`, or `EFAULT` if any of it faults: one `_copy_to_user`,
/// for the short register path and the ioctls (the `UserSlice` API adds a call and a helper
/// thunk to each copy, which those hot paths would pay on every access).
#[inline(always)]
fn copy_to(to: UserPtr, src: &[u8]) -> Result {
    // SAFETY: `src` is valid for reading its length; `_copy_to_user` checks that the user
    // range is accessible and handles faults.
    let left =
        unsafe { bindings::_copy_to_user(to as *mut c_void, src.as_ptr().cast(), src.len() as _) };
    if left != 0 {
        return Err(EFAULT);
    }
    Ok(())
}

/// Fills `dst` from user address `from`, or `EFAULT` if any of it faults (what could not be
/// copied is zeroed), as [`copy_to`].
#[inline(always)]
fn copy_from(from: UserPtr, dst: &mut [u8]) -> Result {
    // SAFETY: `dst` is valid for writing its length; `_copy_from_user` checks that the user
    // range is accessible, handles faults and zeroes what it could not copy.
    let left = unsafe {
        bindings::_copy_from_user(
            dst.as_mut_ptr().cast(),
            from as *const c_void,
            dst.len() as _,
        )
    };
    if left != 0 {
        return Err(EFAULT);
    }
    Ok(())
}

/// The return value of a device file's `read` or `write` that started at `start`, advancing
/// `*ppos` past the bytes moved.
///
/// # Safety
///
/// `ppos` is valid.
#[inline]
unsafe fn finish(result: Result<usize>, ppos: *mut bindings::loff_t, start: u64) -> isize {
    match result {
        Ok(done) => {
            // `start` is a file position (at most `i64::MAX`) and `done` at most the access's
            // length, so the sum cannot wrap.
            // SAFETY: Guaranteed by the caller.
            unsafe { *ppos = start.wrapping_add(done as u64) as bindings::loff_t };
            done as isize
        }
        Err(e) => e.to_errno() as isize,
    }
}

/// A stack buffer for one chunk. Only the part an access uses gets initialised.
struct Bounce([MaybeUninit<u8>; CHUNK]);

impl Bounce {
    const fn new() -> Self {
        Self([MaybeUninit::uninit(); CHUNK])
    }

    /// The first `len` bytes (at most [`CHUNK`]), zeroed.
    fn zeroed(&mut self, len: usize) -> &mut [u8] {
        let prefix = &mut self.0[..len];
        for byte in prefix.iter_mut() {
            byte.write(0);
        }
        // SAFETY: The first `len` bytes were just initialised.
        unsafe { core::slice::from_raw_parts_mut(prefix.as_mut_ptr().cast::<u8>(), len) }
    }

    /// The first `len` bytes (at most [`CHUNK`]), filled from `input`.
    fn read_from(&mut self, input: &mut UserSliceReader, len: usize) -> Result<&[u8]> {
        let prefix = &mut self.0[..len];
        input.read_raw(prefix)?;
        // SAFETY: `read_raw` initialised all of `prefix` since it succeeded.
        Ok(unsafe { core::slice::from_raw_parts(prefix.as_ptr().cast::<u8>(), len) })
    }
}

/// Runs an access of `count` bytes in chunks of at most [`CHUNK`] bytes: `step(done, want)`
/// moves the next `want` bytes and returns how many it moved. The access stops at the first
/// short or failed chunk, with the usual `read`/`write` result: the bytes moved so far if there
/// are any, else the error.
fn chunked(count: usize, step: &mut dyn FnMut(usize, usize) -> Result<usize>) -> Result<usize> {
    let mut done = 0;
    while done < count {
        let want = (count - done).min(CHUNK);
        match moved(step(done, want), want) {
            Ok(n) => {
                done += n;
                if n < want {
                    break;
                }
            }
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(done)
}

/// A `read` of `count` bytes at `start` in chunks: `access(chunk, offset)` fills `chunk` from
/// the device, and the bytes go to `out`.
fn read_chunks(
    out: &mut UserSliceWriter,
    count: usize,
    start: u64,
    access: &mut dyn FnMut(&mut [u8], u64) -> Result<usize>,
) -> Result<usize> {
    let mut bounce = Bounce::new();
    chunked(count, &mut |done, want| {
        let chunk = bounce.zeroed(want);
        let got = access(chunk, start.wrapping_add(done as u64))?.min(want);
        out.write_slice(&chunk[..got])?;
        Ok(got)
    })
}

/// A `write` of `count` bytes at `start` in chunks, read from `input`: `access(chunk, offset)`
/// writes `chunk` to the device.
fn write_chunks(
    input: &mut UserSliceReader,
    count: usize,
    start: u64,
    access: &mut dyn FnMut(&[u8], u64) -> Result<usize>,
) -> Result<usize> {
    let mut bounce = Bounce::new();
    chunked(count, &mut |done, want| {
        let chunk = bounce.read_from(input, want)?;
        access(chunk, start.wrapping_add(done as u64))
    })
}

/// The native-endian `u32` at `at` of an ioctl argument.
#[inline]
pub(super) fn get32(bytes: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

#[inline]
fn put32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_ne_bytes());
}

#[inline]
fn put64(bytes: &mut [u8], at: usize, value: u64) {
    bytes[at..at + 8].copy_from_slice(&value.to_ne_bytes());
}

/// Reads the first `N` bytes of an ioctl argument that starts with `argsz` into `bytes`,
/// checking that userspace claims at least that size. (Filled in place, not returned: a
/// returned array is copied once more on its way out.)
#[inline]
fn read_arg<const N: usize>(arg: UserPtr, bytes: &mut [u8; N]) -> Result {
    copy_from(arg, bytes)?;
    if (get32(bytes, 0) as usize) < N {
        return Err(EINVAL);
    }
    Ok(())
}

#[inline]
fn write_arg(arg: UserPtr, bytes: &[u8]) -> Result<isize> {
    copy_to(arg, bytes)?;
    Ok(0)
}

/// `VFIO_DEVICE_GET_INFO` (`struct vfio_device_info`: argsz, flags, num_regions, num_irqs).
fn device_info_ioctl(
    arg: UserPtr,
    answer: &mut dyn FnMut() -> Result<vfio::DeviceInfo>,
) -> Result<isize> {
    let mut info = [0u8; 16];
    read_arg(arg, &mut info)?;
    let answer = answer()?;
    put32(&mut info, 4, answer.flags);
    put32(&mut info, 8, answer.num_regions);
    put32(&mut info, 12, answer.num_irqs);
    write_arg(arg, &info)
}

/// `VFIO_DEVICE_GET_REGION_INFO` (`struct vfio_region_info`: argsz, flags, index, cap_offset,
/// size, offset), with the region's capability chain after it when `argsz` leaves room, as
/// vfio-pci answers: else `argsz` tells the room needed and `cap_offset` stays 0.
fn region_info_ioctl(
    arg: UserPtr,
    answer: &mut dyn FnMut(u32, &mut vfio::CapChain) -> Result<vfio::RegionInfo>,
) -> Result<isize> {
    const MINSZ: usize = 32;
    let mut info = [0u8; MINSZ];
    read_arg(arg, &mut info)?;
    let mut caps = vfio::CapChain::new();
    let answer = answer(get32(&info, 8), &mut caps)?;
    let mut flags = answer.flags;
    put32(&mut info, 12, 0);
    if !caps.is_empty() {
        flags |= bindings::VFIO_REGION_INFO_FLAG_CAPS;
        let needed = MINSZ.checked_add(caps.len()).ok_or(EINVAL)?;
        if (get32(&info, 0) as usize) < needed {
            put32(&mut info, 0, u32::try_from(needed)?);
        } else {
            let chain = caps.finish(MINSZ)?;
            UserSlice::new(arg + MINSZ, chain.len())
                .writer()
                .write_slice(chain)?;
            put32(&mut info, 12, MINSZ as u32);
        }
    }
    put32(&mut info, 4, flags);
    put64(&mut info, 16, answer.size);
    put64(&mut info, 24, answer.offset);
    write_arg(arg, &info)
}

/// `VFIO_DEVICE_GET_IRQ_INFO` (`struct vfio_irq_info`: argsz, flags, index, count).
fn irq_info_ioctl(
    arg: UserPtr,
    answer: &mut dyn FnMut(u32) -> Result<vfio::IrqInfo>,
) -> Result<isize> {
    let mut info = [0u8; 16];
    read_arg(arg, &mut info)?;
    let answer = answer(get32(&info, 8))?;
    put32(&mut info, 4, answer.flags);
    put32(&mut info, 12, answer.count);
    write_arg(arg, &info)
}

/// `VFIO_DEVICE_QUERY_GFX_PLANE` (`struct vfio_device_gfx_plane_info`) for a device whose planes
/// are of type `kind`. As upstream, `argsz` must cover the answer up to the region index or
/// dma-buf id (60 bytes) and only that much is copied back. A probe (`PROBE` with one type)
/// succeeds for `kind` and fails with `EINVAL` for the other type; a query must name exactly
/// `kind`; any other combination of flags is `EINVAL`, as the uAPI says, and so is a query for
/// a value that is no DRM plane type. A region device's zero plane type is its primary plane.
///
/// Generic over the answer, unlike the other info ioctls: VMMs query the plane on every display
/// refresh, so the query is a hot path, compiled into the driver without an indirect call.
#[inline]
fn gfx_plane_ioctl(
    arg: UserPtr,
    kind: vfio::GfxPlaneType,
    answer: impl FnOnce(vfio::DrmPlaneType) -> Result<vfio::GfxPlane>,
) -> Result<isize> {
    let mut info = [0u8; 60];
    read_arg(arg, &mut info)?;
    let flags = get32(&info, 4);
    if flags & bindings::VFIO_GFX_PLANE_TYPE_PROBE != 0 {
        return if flags == bindings::VFIO_GFX_PLANE_TYPE_PROBE | kind.flag() {
            Ok(0)
        } else {
            Err(EINVAL)
        };
    }
    if flags != kind.flag() {
        return Err(EINVAL);
    }
    let plane_type = match (kind, get32(&info, 8)) {
        // What QEMU's region display sends: the field left zero (see `GfxPlaneType::Region`).
        (vfio::GfxPlaneType::Region, 0) => vfio::DrmPlaneType::Primary,
        (_, raw) => vfio::DrmPlaneType::from_raw(raw).ok_or(EINVAL)?,
    };
    let plane = answer(plane_type)?;
    put32(&mut info, 12, plane.drm_format);
    put64(&mut info, 16, plane.drm_format_mod);
    put32(&mut info, 24, plane.width);
    put32(&mut info, 28, plane.height);
    put32(&mut info, 32, plane.stride);
    put32(&mut info, 36, plane.size);
    put32(&mut info, 40, plane.x_pos);
    put32(&mut info, 44, plane.y_pos);
    put32(&mut info, 48, plane.x_hot);
    put32(&mut info, 52, plane.y_hot);
    put32(&mut info, 56, plane.id);
    write_arg(arg, &info)
}

/// Decodes `VFIO_DEVICE_SET_IRQS` (`struct vfio_irq_set`: argsz, flags, index, start, count,
/// then `count` entries of data) with the VFIO core's checks: the index against the device's
/// `num_irqs`, `start` and `count` against the vectors of that index, as vfio-pci does.
/// `vectors(index)` gives `num_irqs` and the vectors of `index`; `apply` gets the request.
fn set_irqs_ioctl(
    arg: UserPtr,
    vectors: &mut dyn FnMut(u32) -> Result<(u32, u32)>,
    apply: &mut dyn FnMut(vfio::IrqSet<'_>) -> Result,
) -> Result {
    use crate::vfio::irq_set_flags::*;
    const MINSZ: usize = 20;

    let mut header = [0u8; MINSZ];
    UserSlice::new(arg, MINSZ)
        .reader()
        .read_slice(&mut header)?;
    let (num_irqs, count) = vectors(get32(&header, 8))?;
    // SAFETY: `vfio_irq_set` is plain C data: all-zero is a valid value.
    let mut hdr: bindings::vfio_irq_set = unsafe { core::mem::zeroed() };
    hdr.argsz = get32(&header, 0);
    hdr.flags = get32(&header, 4);
    hdr.index = get32(&header, 8);
    hdr.start = get32(&header, 12);
    hdr.count = get32(&header, 16);
    let mut data_size = 0usize;
    let indexes = c_int::try_from(num_irqs)?;
    let count = c_int::try_from(count)?;
    // SAFETY: `hdr` and `data_size` are valid for the call.
    to_result(unsafe {
        bindings::vfio_set_irqs_validate_and_prepare(&mut hdr, count, indexes, &mut data_size)
    })?;
    let action = match hdr.flags & ACTION_TYPE_MASK {
        ACTION_MASK => vfio::IrqAction::Mask,
        ACTION_UNMASK => vfio::IrqAction::Unmask,
        ACTION_TRIGGER => vfio::IrqAction::Trigger,
        _ => return Err(EINVAL),
    };
    let mut bytes = KVec::from_elem(0u8, data_size, GFP_KERNEL)?;
    UserSlice::new(arg + MINSZ, data_size)
        .reader()
        .read_slice(&mut bytes)?;
    let mut fds = KVec::new();
    let data = match hdr.flags & DATA_TYPE_MASK {
        DATA_BOOL => vfio::IrqData::Bool(&bytes),
        DATA_EVENTFD => {
            for fd in bytes.chunks_exact(4) {
                fds.push(get32(fd, 0) as i32, GFP_KERNEL)?;
            }
            vfio::IrqData::Eventfd(&fds)
        }
        _ => vfio::IrqData::None,
    };
    apply(vfio::IrqSet {
        index: hdr.index,
        start: hdr.start,
        count: hdr.count,
        action,
        data,
    })
}
