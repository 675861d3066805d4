// SPDX-License-Identifier: GPL-2.0

//! VFIO bus driver for mediated devices of Rust vendor drivers.
//!
//! Every parent that a vendor driver registers through `kernel::mdev::Registration` comes here
//! (`vfio_mdev_register_parent`, exported by `vfio_mdev_exports.c`): this module fills in the
//! parent's `struct mdev_driver` and registers driver and parent with the mdev core, either
//! core, through the C API of `include/linux/mdev.h`.
//!
//! When the core binds an instance, `probe` creates the vendor's instance state and a
//! `vfio_device` with an emulated IOMMU, which gives the instance a VFIO group, an IOMMU group
//! and `/dev/vfio/<n>` (and the iommufd cdev when configured). The device file's operations come
//! back here and go to the vendor's callbacks; the standard `VFIO_DEVICE_*` ioctls are decoded
//! here (argument size checks, copies from and to userspace), so vendor drivers see plain values.
//!
//! On removal, `vfio_unregister_group_dev` asks the user of an open device file to release it
//! (the vendor's `request` callback) and waits until it is closed; only then is the vendor's
//! state destroyed.
//!
//! Vendor modules depend on this one, and this one on the mdev core, so neither can be unloaded
//! while a Rust parent is registered.

use core::{
    mem::{size_of, MaybeUninit},
    ptr,
};
use kernel::ffi::{c_char, c_int, c_long, c_uint, c_ulong, c_void};
use kernel::{
    bindings,
    error::{from_err_ptr, from_result, to_result},
    mdev::{ParentOps, ParentRecord, ReleaseTracker, TypeRecord},
    prelude::*,
    types::Opaque,
    uaccess::{UserPtr, UserSlice, UserSliceReader},
    vfio,
};

#[path = "vfio_mdev_migration.rs"]
mod migration;

module! {
    type: VfioMdev,
    name: "vfio_mdev",
    author: "mdev-rs developers",
    description: "VFIO bus driver for mediated devices of Rust vendor drivers",
    license: "GPL v2",
}

struct VfioMdev;

impl kernel::Module for VfioMdev {
    fn init(module: &'static ThisModule) -> Result<Self> {
        migration::init(module);
        Ok(VfioMdev)
    }
}

impl Drop for VfioMdev {
    fn drop(&mut self) {
        // The VFIO core reads `OPS` and calls `release` when a device's last reference goes,
        // possibly after its parent is gone (vendors can unload first): wait for those.
        DEVICES.wait_idle();
    }
}

/// The VFIO devices not yet released.
static DEVICES: ReleaseTracker = ReleaseTracker::new();

/// The VFIO device of one instance.
///
/// # Invariants
///
/// `vdev` is the first field (the VFIO core allocates and frees the whole structure); between a
/// successful `probe` and the end of `remove`, `record` is the instance's parent, `instance`
/// the vendor's state for it and `migration` null or an `Arc` of its migration state. Those
/// three are written only by `probe`, before the device is registered, and never change
/// afterwards; everything the VFIO core writes is inside the `Opaque` `vdev`, so a shared
/// reference to an `Instance` never covers memory that changes under it.
#[repr(C)]
struct Instance {
    /// Written by the VFIO core at any time: only ever reached through raw pointers.
    vdev: Opaque<bindings::vfio_device>,
    record: *const ParentRecord,
    instance: *const c_void,
    /// The migration state machine, when the vendor supports migration; null otherwise.
    migration: *const migration::Migration,
}

impl Instance {
    /// # Safety
    ///
    /// `vdev` must be the `vfio_device` of an `Instance` between `probe` and the end of `remove`.
    pub(crate) unsafe fn from_vdev<'a>(vdev: *mut bindings::vfio_device) -> &'a Instance {
        // SAFETY: By the type invariant `vdev` is at offset 0; the caller guarantees the
        // instance alive.
        unsafe { &*vdev.cast::<Instance>() }
    }

    pub(crate) fn ops(&self) -> &dyn ParentOps {
        // SAFETY: By the type invariant `record` is the parent, registered while it has bound
        // instances.
        unsafe { (*self.record).ops() }
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
    let (record, index) = unsafe { type_of(mtype) };
    // SAFETY: As above.
    unsafe { record.ops() }
        .available(index)
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
    // they are registered.
    let (record, index) = unsafe { type_of(mtype) };
    // SAFETY: As above; `buf` is a sysfs page.
    unsafe { show_text(record.ops().description(index), buf) }
}

/// Binds an instance: vendor state, then the VFIO device.
///
/// # Safety
///
/// `mdev` is a live instance of a type of a parent registered here.
unsafe extern "C" fn probe(mdev: *mut bindings::mdev_device) -> c_int {
    from_result(|| {
        // SAFETY: The core probes a live instance of one of our parents' types.
        let (record, _) = unsafe { type_of((*mdev).type_) };
        // SAFETY: `mdev` is live; `OPS` is static. The allocation is at least as large as
        // `vfio_device`, which starts it.
        let vdev = from_err_ptr(unsafe {
            bindings::_vfio_alloc_device(
                size_of::<Instance>(),
                ptr::addr_of_mut!((*mdev).dev),
                OPS.get(),
            )
        })?;
        // Its release callback is armed: `release` puts this.
        DEVICES.get();
        let this = vdev.cast::<Instance>();
        // SAFETY: The instance outlives the vendor state: it is destroyed in `remove`. The
        // parent is registered while the core probes its instances.
        let state = match unsafe { record.ops().create(mdev) } {
            Ok(state) => state,
            Err(e) => {
                // SAFETY: `vdev` was allocated above and never registered.
                unsafe { bindings::put_device(ptr::addr_of_mut!((*vdev).device)) };
                return Err(e);
            }
        };
        // INVARIANT: record and state of this instance, set before the device is visible.
        // SAFETY: `this` is our zeroed allocation, not shared yet.
        unsafe {
            (*this).record = record;
            (*this).instance = state;
        }
        // SAFETY: `vdev` is ours, initialised and unregistered, and so is `this`; then its ops
        // give the emulated IOMMU callbacks.
        let registered = unsafe { migration::setup(vdev, this) }
            .and_then(|()| to_result(unsafe { bindings::vfio_register_emulated_iommu_dev(vdev) }));
        if let Err(e) = registered {
            // SAFETY: The device never became visible.
            unsafe { migration::teardown(this) };
            // SAFETY: `state` came from `create` and the device never became visible.
            unsafe { record.ops().destroy(state) };
            // SAFETY: `vdev` is ours and unregistered.
            unsafe { bindings::put_device(ptr::addr_of_mut!((*vdev).device)) };
            return Err(e);
        }
        // SAFETY: `mdev` is live and bound to us.
        unsafe { bindings::dev_set_drvdata(ptr::addr_of_mut!((*mdev).dev), this.cast()) };
        Ok(0)
    })
}

/// Unbinds an instance bound by `probe`, once its device file is closed.
///
/// # Safety
///
/// `mdev` was bound by a successful `probe`.
unsafe extern "C" fn remove(mdev: *mut bindings::mdev_device) {
    // SAFETY: `probe` succeeded for `mdev`, so its driver data is our instance.
    let this =
        unsafe { bindings::dev_get_drvdata(ptr::addr_of_mut!((*mdev).dev)) }.cast::<Instance>();
    // SAFETY: `this` is live until the `put_device` below.
    unsafe {
        let vdev = (*this).vdev.get();
        // Asks the user to close the device file and waits until it has.
        bindings::vfio_unregister_group_dev(vdev);
        migration::teardown(this);
        (*(*this).record).ops().destroy((*this).instance);
        bindings::put_device(ptr::addr_of_mut!((*vdev).device));
    }
}

/// Release of a VFIO device: its last reference is gone; the VFIO core frees it after this.
extern "C" fn release(_vdev: *mut bindings::vfio_device) {
    DEVICES.put();
}

/// # Safety
///
/// `vdev` is the registered VFIO device of an `Instance`.
unsafe extern "C" fn open_device(vdev: *mut bindings::vfio_device) -> c_int {
    // SAFETY: The VFIO core calls device operations only while the device is registered.
    let this = unsafe { Instance::from_vdev(vdev) };
    // SAFETY: By the type invariant `instance` is live.
    from_result(|| unsafe { this.ops().open(this.instance) }.map(|()| 0))
}

/// # Safety
///
/// As for `open_device`.
unsafe extern "C" fn close_device(vdev: *mut bindings::vfio_device) {
    // SAFETY: As in `open_device`.
    let this = unsafe { Instance::from_vdev(vdev) };
    migration::reset(this);
    // SAFETY: By the type invariant `instance` is live.
    unsafe { this.ops().close(this.instance) }
}

/// Bytes moved per vendor call: enough for any register access, small enough for the stack.
const CHUNK: usize = 256;

/// A stack buffer for one chunk. Only the part an access uses gets initialised, so a 1-byte
/// register access does not pay for clearing the whole chunk (measurable under TCG).
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

/// Runs a device-file access in chunks of at most [`CHUNK`] bytes: `step(done, want)` moves the
/// next `want` bytes and returns how many it moved. The access stops at the first short or
/// failed chunk, with the usual `read`/`write` result: the bytes moved so far if there are any,
/// else the error. A vendor that moves nothing of a non-empty chunk gets `EIO`, so that the
/// access never returns 0 for a non-empty buffer (which `write`-all loops would retry forever).
fn chunked(count: usize, mut step: impl FnMut(usize, usize) -> Result<usize>) -> Result<usize> {
    let mut done = 0;
    while done < count {
        let want = (count - done).min(CHUNK);
        let moved = match step(done, want) {
            Ok(0) => Err(EIO),
            Ok(n) => Ok(n.min(want)),
            Err(e) => Err(e),
        };
        match moved {
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

/// # Safety
///
/// As for `open_device`; `ppos` is valid.
unsafe extern "C" fn read(
    vdev: *mut bindings::vfio_device,
    buf: *mut c_char,
    count: usize,
    ppos: *mut bindings::loff_t,
) -> isize {
    // SAFETY: As in `open_device`.
    let this = unsafe { Instance::from_vdev(vdev) };
    // SAFETY: The VFIO core passes a valid position.
    let start = unsafe { *ppos } as u64;
    let mut out = UserSlice::new(buf as UserPtr, count).writer();
    let mut bounce = Bounce::new();
    let done = chunked(count, |done, want| {
        let chunk = bounce.zeroed(want);
        // SAFETY: By the type invariant `instance` is live.
        let got = unsafe { this.ops().read(this.instance, chunk, start + done as u64) }?;
        let got = got.min(want);
        out.write_slice(&chunk[..got])?;
        Ok(got)
    });
    from_result(|| {
        let done = done?;
        // SAFETY: As above.
        unsafe { *ppos = (start + done as u64) as bindings::loff_t };
        Ok(done as isize)
    })
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
    // SAFETY: As in `open_device`.
    let this = unsafe { Instance::from_vdev(vdev) };
    // SAFETY: The VFIO core passes a valid position.
    let start = unsafe { *ppos } as u64;
    let mut input = UserSlice::new(buf as UserPtr, count).reader();
    let mut bounce = Bounce::new();
    let done = chunked(count, |done, want| {
        let chunk = bounce.read_from(&mut input, want)?;
        // SAFETY: By the type invariant `instance` is live.
        unsafe { this.ops().write(this.instance, chunk, start + done as u64) }
    });
    from_result(|| {
        let done = done?;
        // SAFETY: As above.
        unsafe { *ppos = (start + done as u64) as bindings::loff_t };
        Ok(done as isize)
    })
}

/// The native-endian `u32` at `at` of an ioctl argument.
pub(crate) fn get32(bytes: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn put32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_ne_bytes());
}

fn put64(bytes: &mut [u8], at: usize, value: u64) {
    bytes[at..at + 8].copy_from_slice(&value.to_ne_bytes());
}

/// Reads the first `N` bytes of an ioctl argument that starts with `argsz`, checking that
/// userspace claims at least that size.
fn read_arg<const N: usize>(arg: UserPtr) -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    UserSlice::new(arg, N).reader().read_slice(&mut bytes)?;
    if (get32(&bytes, 0) as usize) < N {
        return Err(EINVAL);
    }
    Ok(bytes)
}

fn write_arg(arg: UserPtr, bytes: &[u8]) -> Result<isize> {
    UserSlice::new(arg, bytes.len())
        .writer()
        .write_slice(bytes)?;
    Ok(0)
}

/// Decodes `VFIO_DEVICE_SET_IRQS` (`struct vfio_irq_set`: argsz, flags, index, start, count,
/// then `count` entries of data) with the VFIO core's checks: the index against the device's
/// `num_irqs`, `start` and `count` against the vectors of that index (its `irq_info` count), as
/// vfio-pci does.
fn set_irqs(this: &Instance, arg: UserPtr) -> Result {
    use kernel::vfio::irq_set_flags::*;
    const MINSZ: usize = 20;

    let mut header = [0u8; MINSZ];
    UserSlice::new(arg, MINSZ)
        .reader()
        .read_slice(&mut header)?;
    // SAFETY: By the type invariant `instance` is live.
    let num_irqs = unsafe { this.ops().device_info(this.instance) }?.num_irqs;
    let index = get32(&header, 8);
    // An index out of range, or one the vendor does not describe, has no vectors: refused
    // below with `EINVAL`, as vfio-pci does.
    let vectors = if index < num_irqs {
        // SAFETY: By the type invariant `instance` is live.
        unsafe { this.ops().irq_info(this.instance, index) }.map_or(0, |info| info.count)
    } else {
        0
    };
    // SAFETY: `vfio_irq_set` is plain C data: all-zero is a valid value.
    let mut hdr: bindings::vfio_irq_set = unsafe { core::mem::zeroed() };
    hdr.argsz = get32(&header, 0);
    hdr.flags = get32(&header, 4);
    hdr.index = get32(&header, 8);
    hdr.start = get32(&header, 12);
    hdr.count = get32(&header, 16);
    let mut data_size = 0usize;
    let indexes = c_int::try_from(num_irqs)?;
    let vectors = c_int::try_from(vectors)?;
    // SAFETY: `hdr` and `data_size` are valid for the call.
    to_result(unsafe {
        bindings::vfio_set_irqs_validate_and_prepare(&mut hdr, vectors, indexes, &mut data_size)
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
    let set = vfio::IrqSet {
        index: hdr.index,
        start: hdr.start,
        count: hdr.count,
        action,
        data,
    };
    // SAFETY: By the type invariant `instance` is live.
    unsafe { this.ops().set_irqs(this.instance, set) }
}

/// Decodes the standard ioctls (`struct vfio_device_info`, `vfio_region_info`,
/// `vfio_irq_info`: argsz, flags, then the fields below) and passes the others on.
fn dispatch(this: &Instance, cmd: u32, arg: UserPtr) -> Result<isize> {
    let ops = this.ops();
    let state = this.instance;
    match cmd {
        vfio::DEVICE_GET_INFO => {
            // argsz, flags, num_regions, num_irqs
            let mut info = read_arg::<16>(arg)?;
            // SAFETY: By the type invariant `state` is live.
            let answer = unsafe { ops.device_info(state) }?;
            put32(&mut info, 4, answer.flags);
            put32(&mut info, 8, answer.num_regions);
            put32(&mut info, 12, answer.num_irqs);
            write_arg(arg, &info)
        }
        vfio::DEVICE_GET_REGION_INFO => {
            // argsz, flags, index, cap_offset, size, offset
            let mut info = read_arg::<32>(arg)?;
            // SAFETY: By the type invariant `state` is live.
            let answer = unsafe { ops.region_info(state, get32(&info, 8)) }?;
            put32(&mut info, 4, answer.flags);
            put32(&mut info, 12, 0);
            put64(&mut info, 16, answer.size);
            put64(&mut info, 24, answer.offset);
            write_arg(arg, &info)
        }
        vfio::DEVICE_GET_IRQ_INFO => {
            // argsz, flags, index, count
            let mut info = read_arg::<16>(arg)?;
            // SAFETY: By the type invariant `state` is live.
            let answer = unsafe { ops.irq_info(state, get32(&info, 8)) }?;
            put32(&mut info, 4, answer.flags);
            put32(&mut info, 12, answer.count);
            write_arg(arg, &info)
        }
        // SAFETY: By the type invariant `state` is live.
        vfio::DEVICE_SET_IRQS if ops.has_set_irqs() => set_irqs(this, arg).map(|()| 0),
        vfio::DEVICE_RESET => {
            // SAFETY: By the type invariant `state` is live.
            unsafe { ops.reset(state) }?;
            migration::reset(this);
            Ok(0)
        }
        // SAFETY: By the type invariant `state` is live.
        _ => unsafe { ops.ioctl(state, cmd, arg) },
    }
}

/// # Safety
///
/// As for `open_device`.
unsafe extern "C" fn ioctl(vdev: *mut bindings::vfio_device, cmd: c_uint, arg: c_ulong) -> c_long {
    // SAFETY: As in `open_device`.
    let this = unsafe { Instance::from_vdev(vdev) };
    from_result(|| Ok(dispatch(this, cmd, arg as UserPtr)? as c_long))
}

/// # Safety
///
/// As for `open_device`.
unsafe extern "C" fn request(vdev: *mut bindings::vfio_device, count: c_uint) {
    // SAFETY: As in `open_device`.
    let this = unsafe { Instance::from_vdev(vdev) };
    // SAFETY: By the type invariant `instance` is live until `remove` returns, and the VFIO core
    // calls `request` from `vfio_unregister_group_dev` in `remove`.
    unsafe { this.ops().request(this.instance, count) }
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
    // them after `probe` and removes them before `remove`), so its driver data is our instance.
    let (mdev, this) = unsafe {
        let mdev = kernel::container_of!(dev, bindings::mdev_device, dev).cast_mut();
        let this = Instance::from_vdev(bindings::dev_get_drvdata(dev).cast());
        (mdev, this)
    };
    // SAFETY: As above; `instance` is live.
    let text = unsafe { this.ops().show_attribute(mdev, this.instance, attr) };
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

static OPS: migration::Table<bindings::vfio_device_ops> =
    migration::Table::new(bindings::vfio_device_ops {
        name: kernel::c_str!("vfio-mdev-rs").as_char_ptr().cast_mut(),
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
        open_device: Some(open_device),
        close_device: Some(close_device),
        read: Some(read),
        write: Some(write),
        ioctl: Some(ioctl),
        request: Some(request),
        init: None,
        release: Some(release),
        mmap: None,
        match_: None,
        dma_unmap: None,
        device_feature: None,
    });

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
        (*drv).show_description = if record.ops().has_description() {
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
