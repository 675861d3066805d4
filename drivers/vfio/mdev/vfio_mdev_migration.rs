// SPDX-License-Identifier: GPL-2.0

//! Live migration of Rust vendor drivers' instances.
//!
//! The VFIO core handles `VFIO_DEVICE_FEATURE` and calls the `vfio_migration_ops` here; this
//! file walks the migration state machine one arc at a time (`vfio_mig_get_next_state`), opens
//! the saving and resuming data files (anonymous-inode stream files), answers
//! `VFIO_MIG_GET_PRECOPY_INFO`, and asks the vendor only to turn its state into bytes and back.
//! Dirty logging is offered and reports nothing: an mdev instance does not DMA by itself.
//!
//! A saving stream read to its end in PRE_COPY answers `ENOMSG` (more comes when the device
//! stops) and polls as not readable until then; only a complete stream (STOP_COPY) ends with
//! 0, as `include/uapi/linux/vfio.h` says. Streams live in vmalloc'd memory reserved once for
//! the most bytes the vendor says a stream holds, and grow in place.
//!
//! Lifetimes: the state machine ([`Migration`]) is shared by the instance and its data files
//! through `Arc`s, so a data file that outlives its device is safe. A file only reaches the
//! vendor while it is enabled, and every file is disabled (under its lock) when the device is
//! closed or reset or leaves the state that opened it, which happens before the vendor's
//! instance state can go away.

use core::ptr;
use kernel::ffi::{c_char, c_int, c_long, c_uint, c_ulong, c_void};
use kernel::{
    alloc::VVec,
    bindings,
    error::from_result,
    mdev::ParentOps,
    new_mutex,
    prelude::*,
    sync::{Arc, ArcBorrow, Mutex},
    types::Opaque,
    uaccess::{UserPtr, UserSlice},
    vfio::migration::SavePhase,
};

use crate::Instance;

const RUNNING: u32 = bindings::vfio_device_mig_state_VFIO_DEVICE_STATE_RUNNING;
const STOP: u32 = bindings::vfio_device_mig_state_VFIO_DEVICE_STATE_STOP;
const STOP_COPY: u32 = bindings::vfio_device_mig_state_VFIO_DEVICE_STATE_STOP_COPY;
const RESUMING: u32 = bindings::vfio_device_mig_state_VFIO_DEVICE_STATE_RESUMING;
const RUNNING_P2P: u32 = bindings::vfio_device_mig_state_VFIO_DEVICE_STATE_RUNNING_P2P;
const PRE_COPY: u32 = bindings::vfio_device_mig_state_VFIO_DEVICE_STATE_PRE_COPY;
const PRE_COPY_P2P: u32 = bindings::vfio_device_mig_state_VFIO_DEVICE_STATE_PRE_COPY_P2P;

/// `VFIO_MIG_GET_PRECOPY_INFO`.
const MIG_GET_PRECOPY_INFO: u32 = kernel::ioctl::_IO(b';' as u32, 100 + 21);

/// The vendor instance a data file reads from or writes to.
#[derive(Clone, Copy)]
struct Vendor {
    ops: *const dyn ParentOps,
    instance: *const c_void,
}

/// What a data file holds.
struct Stream {
    data: VVec<u8>,
    /// Bytes already read (saving) or written (resuming).
    pos: usize,
    /// A saving stream holds everything the vendor will save: its end is the end of the file.
    complete: bool,
    /// Cleared when the file may no longer reach the vendor.
    vendor: Option<Vendor>,
}

/// A saving or resuming data file.
///
/// # Invariants
///
/// `readers` is an initialised wait queue head.
#[pin_data]
struct DataFile {
    migration: Arc<Migration>,
    /// Most bytes a resuming stream may hold.
    limit: usize,
    #[pin]
    stream: Mutex<Stream>,
    /// Pollers of a saving stream, woken when data arrives or the file is disabled.
    #[pin]
    readers: Opaque<bindings::wait_queue_head>,
}

// SAFETY: `Vendor`'s pointers are only used under the stream lock while the file is enabled,
// when they point to a live, `Sync` vendor and instance.
unsafe impl Send for Stream {}

impl DataFile {
    fn disable(&self) {
        {
            let mut stream = self.stream.lock();
            stream.vendor = None;
            stream.data = VVec::new();
            stream.pos = 0;
        }
        self.wake_readers();
    }

    /// Wakes the pollers of the file.
    fn wake_readers(&self) {
        // SAFETY: By the type invariant `readers` is initialised.
        unsafe { bindings::wake_up(self.readers.get()) };
    }
}

/// The migration state of one instance.
struct State {
    state: u32,
    saving: Option<Arc<DataFile>>,
    resuming: Option<Arc<DataFile>>,
}

/// The migration state machine of one instance.
#[pin_data]
pub(crate) struct Migration {
    #[pin]
    state: Mutex<State>,
}

impl Migration {
    /// A state machine in RUNNING.
    pub(crate) fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Migration {
                state <- new_mutex!(State {
                    state: RUNNING,
                    saving: None,
                    resuming: None,
                }),
            }),
            GFP_KERNEL,
        )
    }

    /// Back to RUNNING with no data file: the device was closed or reset.
    pub(crate) fn reset(&self) {
        let mut state = self.state.lock();
        state.state = RUNNING;
        close_files(&mut state);
    }
}

fn close_files(state: &mut State) {
    if let Some(file) = state.saving.take() {
        file.disable();
    }
    if let Some(file) = state.resuming.take() {
        file.disable();
    }
}

/// Opens a `struct file` on a data file.
fn open_file(file: Arc<DataFile>, write: bool) -> Result<*mut bindings::file> {
    let fops = if write { &RESUME_FOPS } else { &SAVE_FOPS };
    let private = Arc::into_raw(file).cast_mut().cast::<c_void>();
    let flags = if write {
        bindings::O_WRONLY
    } else {
        bindings::O_RDONLY
    } as c_int;
    // SAFETY: The name is a static string and the file operations a static table; the file
    // takes the `Arc` in `private` and gives it back in `release`.
    let filp = unsafe {
        bindings::anon_inode_getfile(
            kernel::c_str!("vfio_mdev_mig").as_char_ptr(),
            fops.get(),
            private,
            flags,
        )
    };
    if let Err(e) = kernel::error::from_err_ptr(filp) {
        // SAFETY: No file took `private`, which `Arc::into_raw` made.
        drop(unsafe { Arc::from_raw(private.cast::<DataFile>()) });
        return Err(e);
    }
    // SAFETY: `filp` is the file just created; a data file is a stream, without positions.
    unsafe { bindings::stream_open((*filp).f_inode, filp) };
    Ok(filp)
}

/// A data file whose stream has room for `limit` bytes.
fn new_file(
    migration: ArcBorrow<'_, Migration>,
    vendor: Vendor,
    limit: usize,
) -> Result<Arc<DataFile>> {
    let data = VVec::with_capacity(limit, GFP_KERNEL)?;
    Arc::pin_init(
        // INVARIANT: `readers` is initialised by `__init_waitqueue_head`.
        pin_init!(DataFile {
            migration: migration.into(),
            limit,
            stream <- new_mutex!(Stream {
                data,
                pos: 0,
                complete: false,
                vendor: Some(vendor),
            }),
            // SAFETY: `slot` is the wait queue head to initialise, in place.
            readers <- Opaque::ffi_init(|slot| unsafe {
                bindings::__init_waitqueue_head(
                    slot,
                    kernel::c_str!("vfio_mdev_mig").as_char_ptr(),
                    READERS_KEY.get(),
                )
            }),
        }),
        GFP_KERNEL,
    )
}

/// The lockdep class of the data files' wait queues: lockdep only uses its address.
static READERS_KEY: Table<bindings::lock_class_key> =
    // SAFETY: `lock_class_key` is plain C data: all-zero is its initial state.
    Table::new(unsafe { core::mem::MaybeUninit::zeroed().assume_init() });

/// Appends the vendor's bytes for `phase` to a saving file; after [`SavePhase::StopCopy`] the
/// stream is complete.
fn append(file: &DataFile, phase: SavePhase) -> Result {
    {
        let mut stream = file.stream.lock();
        let vendor = stream.vendor.ok_or(ENODEV)?;
        // SAFETY: The file is enabled, so the vendor and its instance are alive.
        let bytes = unsafe { (*vendor.ops).save_state(vendor.instance, phase) }?;
        stream.data.extend_from_slice(&bytes, GFP_KERNEL)?;
        stream.complete = phase == SavePhase::StopCopy;
    }
    file.wake_readers();
    Ok(())
}

impl Instance {
    fn migration(&self) -> ArcBorrow<'_, Migration> {
        // SAFETY: `set_state` and friends are only installed on devices whose `migration` was
        // set by `setup` (with `Arc::into_raw`); that reference lives until `teardown`.
        unsafe { ArcBorrow::from_raw(self.migration) }
    }

    fn vendor(&self) -> Vendor {
        Vendor {
            // SAFETY: By the type invariant `record` is the instance's live parent.
            ops: unsafe { (*self.record).ops_ptr() },
            instance: self.instance,
        }
    }

    /// Takes one arc of the state machine; returns the data file it opens, if any.
    fn step(&self, state: &mut State, next: u32) -> Result<*mut bindings::file> {
        let migration = self.migration();
        let cur = state.state;
        let mut opened = ptr::null_mut();
        match (cur, next) {
            // Nothing to do: the device does no DMA and needs no quiescing.
            (RUNNING, RUNNING_P2P)
            | (RUNNING_P2P, RUNNING)
            | (RUNNING_P2P, STOP)
            | (PRE_COPY, PRE_COPY_P2P)
            | (PRE_COPY_P2P, PRE_COPY)
            | (STOP, RUNNING_P2P) => {}
            (RESUMING, STOP) => {
                let file = state.resuming.clone().ok_or(EINVAL)?;
                {
                    let stream = file.stream.lock();
                    let vendor = stream.vendor.ok_or(ENODEV)?;
                    // SAFETY: The file is enabled, so the vendor and its instance are alive.
                    unsafe { (*vendor.ops).load_state(vendor.instance, &stream.data) }?;
                }
                close_files(state);
            }
            (PRE_COPY, RUNNING) | (PRE_COPY_P2P, RUNNING_P2P) | (STOP_COPY, STOP) => {
                close_files(state)
            }
            (RUNNING, PRE_COPY) | (RUNNING_P2P, PRE_COPY_P2P) | (STOP, STOP_COPY) => {
                // SAFETY: By the type invariant `instance` is live.
                let size = unsafe { self.ops().migration_data_size(self.instance) };
                let file = new_file(migration, self.vendor(), size)?;
                append(&file, SavePhase::Initial)?;
                if next == STOP_COPY {
                    append(&file, SavePhase::StopCopy)?;
                }
                opened = open_file(file.clone(), false)?;
                state.saving = Some(file);
            }
            (PRE_COPY_P2P, STOP_COPY) => {
                let file = state.saving.clone().ok_or(EINVAL)?;
                append(&file, SavePhase::StopCopy)?;
            }
            (STOP, RESUMING) => {
                // SAFETY: By the type invariant `instance` is live.
                let limit = unsafe { self.ops().migration_data_size(self.instance) };
                let file = new_file(migration, self.vendor(), limit)?;
                opened = open_file(file.clone(), true)?;
                state.resuming = Some(file);
            }
            _ => return Err(EINVAL),
        }
        state.state = next;
        Ok(opened)
    }
}

/// # Safety
///
/// `vdev` is the registered VFIO device of an `Instance` with migration.
unsafe extern "C" fn set_state(
    vdev: *mut bindings::vfio_device,
    new: c_uint,
) -> *mut bindings::file {
    // SAFETY: Guaranteed by the caller.
    let this = unsafe { Instance::from_vdev(vdev) };
    let migration = this.migration();
    let mut state = migration.state.lock();
    let mut opened = ptr::null_mut();
    while state.state != new {
        let mut next = 0;
        // SAFETY: `vdev` is valid; `next` is written on success.
        let ret = unsafe { bindings::vfio_mig_get_next_state(vdev, state.state, new, &mut next) };
        if ret != 0 {
            return kernel::error::Error::from_errno(ret).to_ptr();
        }
        match this.step(&mut state, next) {
            Err(e) => return e.to_ptr(),
            // Only the last arc of a transition may open a file (vfio_mig_get_next_state
            // guarantees it); it is handed to the VFIO core, which installs it.
            Ok(file) => opened = file,
        }
    }
    opened
}

/// # Safety
///
/// As for [`set_state`]; `cur` is valid for writes.
unsafe extern "C" fn get_state(vdev: *mut bindings::vfio_device, cur: *mut c_uint) -> c_int {
    // SAFETY: Guaranteed by the caller.
    let this = unsafe { Instance::from_vdev(vdev) };
    let migration = this.migration();
    let state = migration.state.lock().state;
    // SAFETY: Guaranteed by the caller.
    unsafe { *cur = state };
    0
}

/// # Safety
///
/// As for [`set_state`]; `len` is valid for writes.
unsafe extern "C" fn get_data_size(vdev: *mut bindings::vfio_device, len: *mut c_ulong) -> c_int {
    // SAFETY: Guaranteed by the caller.
    let this = unsafe { Instance::from_vdev(vdev) };
    // SAFETY: By the type invariant `instance` is live; `len` is valid.
    unsafe { *len = this.ops().migration_data_size(this.instance) as c_ulong };
    0
}

extern "C" fn log_start(
    _vdev: *mut bindings::vfio_device,
    _ranges: *mut bindings::rb_root_cached,
    _nnodes: u32,
    _page_size: *mut u64,
) -> c_int {
    0
}

extern "C" fn log_stop(_vdev: *mut bindings::vfio_device) -> c_int {
    0
}

extern "C" fn log_read_and_clear(
    _vdev: *mut bindings::vfio_device,
    _iova: c_ulong,
    _length: c_ulong,
    _dirty: *mut bindings::iova_bitmap,
) -> c_int {
    0
}

/// A C operations table in static storage, read-only for the C code it is handed to.
///
/// # Invariants
///
/// The table is only written by this module's `init`, before any user can reach it.
pub(crate) struct Table<T>(core::cell::UnsafeCell<T>);

// SAFETY: By the type invariant the table is read-only once anyone else can see it.
unsafe impl<T> Sync for Table<T> {}

impl<T> Table<T> {
    pub(crate) const fn new(value: T) -> Self {
        Self(core::cell::UnsafeCell::new(value))
    }

    pub(crate) fn get(&self) -> *mut T {
        self.0.get()
    }
}

pub(crate) static MIG_OPS: Table<bindings::vfio_migration_ops> =
    Table::new(bindings::vfio_migration_ops {
        migration_set_state: Some(set_state),
        migration_get_state: Some(get_state),
        migration_get_data_size: Some(get_data_size),
    });

pub(crate) static LOG_OPS: Table<bindings::vfio_log_ops> = Table::new(bindings::vfio_log_ops {
    log_start: Some(log_start),
    log_stop: Some(log_stop),
    log_read_and_clear: Some(log_read_and_clear),
});

/// Borrows the data file of a `struct file`.
///
/// # Safety
///
/// `filp` is one of our data files, not yet released.
unsafe fn data_file<'a>(filp: *mut bindings::file) -> &'a DataFile {
    // SAFETY: `private_data` holds the `Arc` `open_file` gave the file, until `release`.
    unsafe { &*(*filp).private_data.cast::<DataFile>() }
}

/// # Safety
///
/// Called by the VFS for one of our data files.
unsafe extern "C" fn save_read(
    filp: *mut bindings::file,
    buf: *mut c_char,
    len: usize,
    _pos: *mut bindings::loff_t,
) -> isize {
    // SAFETY: Guaranteed by the caller.
    let file = unsafe { data_file(filp) };
    from_result(|| {
        let mut stream = file.stream.lock();
        if stream.vendor.is_none() {
            return Err(ENODEV);
        }
        let start = stream.pos;
        if start == stream.data.len() && len > 0 && !stream.complete {
            // The end for now: the rest comes when the device stops.
            return Err(Error::from_errno(-(bindings::ENOMSG as i32)));
        }
        let n = len.min(stream.data.len() - start);
        UserSlice::new(buf as UserPtr, n)
            .writer()
            .write_slice(&stream.data[start..start + n])?;
        stream.pos += n;
        Ok(n as isize)
    })
}

/// # Safety
///
/// Called by the VFS for one of our data files.
unsafe extern "C" fn resume_write(
    filp: *mut bindings::file,
    buf: *const c_char,
    len: usize,
    _pos: *mut bindings::loff_t,
) -> isize {
    // SAFETY: Guaranteed by the caller.
    let file = unsafe { data_file(filp) };
    from_result(|| {
        let mut stream = file.stream.lock();
        let vendor = stream.vendor.ok_or(ENODEV)?;
        let old = stream.data.len();
        let end = old
            .checked_add(len)
            .filter(|&end| end <= file.limit)
            .ok_or(ENOMEM)?;
        // Within the room reserved at open: no reallocation, no copy of what came before.
        stream.data.extend_with(len, 0, GFP_KERNEL)?;
        let taken = UserSlice::new(buf as UserPtr, len)
            .reader()
            .read_slice(&mut stream.data[old..])
            // SAFETY: The file is enabled, so the vendor and its instance are alive.
            .and_then(|()| unsafe { (*vendor.ops).check_state(vendor.instance, &stream.data) });
        if let Err(e) = taken {
            // The stream grows only by writes the vendor accepts.
            // SAFETY: `old` is at most the length, and bytes need no dropping.
            unsafe { stream.data.set_len(old) };
            return Err(e);
        }
        stream.pos = end;
        Ok(len as isize)
    })
}

/// `VFIO_MIG_GET_PRECOPY_INFO` (`struct vfio_precopy_info`: argsz, flags, initial_bytes,
/// dirty_bytes).
///
/// # Safety
///
/// Called by the VFS for one of our data files.
unsafe extern "C" fn save_ioctl(filp: *mut bindings::file, cmd: c_uint, arg: c_ulong) -> c_long {
    // SAFETY: Guaranteed by the caller.
    let file = unsafe { data_file(filp) };
    from_result(|| {
        if cmd != MIG_GET_PRECOPY_INFO {
            return Err(ENOTTY);
        }
        let mut info = [0u8; 24];
        UserSlice::new(arg as UserPtr, info.len())
            .reader()
            .read_slice(&mut info)?;
        if (crate::get32(&info, 0) as usize) < info.len() {
            return Err(EINVAL);
        }
        let state = file.migration.state.lock();
        if state.state != PRE_COPY && state.state != PRE_COPY_P2P {
            return Err(EINVAL);
        }
        let stream = file.stream.lock();
        if stream.vendor.is_none() {
            return Err(ENODEV);
        }
        let initial = (stream.data.len() - stream.pos) as u64;
        info[8..16].copy_from_slice(&initial.to_ne_bytes());
        info[16..24].copy_from_slice(&0u64.to_ne_bytes());
        UserSlice::new(arg as UserPtr, info.len())
            .writer()
            .write_slice(&info)?;
        Ok(0)
    })
}

/// Readable when a saving stream has bytes to read or has ended; an error once it is disabled.
///
/// # Safety
///
/// Called by the VFS for one of our data files; `table` is null or a valid poll table.
unsafe extern "C" fn save_poll(
    filp: *mut bindings::file,
    table: *mut bindings::poll_table_struct,
) -> bindings::__poll_t {
    // SAFETY: Guaranteed by the caller.
    let file = unsafe { data_file(filp) };
    // SAFETY: `filp` and `table` come from the VFS; `readers` lives as long as the file,
    // which outlives every poll table entry (epoll drops its entries before `release`).
    unsafe { bindings::poll_wait(filp, file.readers.get(), table) };
    let stream = file.stream.lock();
    if stream.vendor.is_none() {
        bindings::EPOLLERR
    } else if stream.pos < stream.data.len() || stream.complete {
        bindings::EPOLLIN | bindings::EPOLLRDNORM
    } else {
        0
    }
}

/// # Safety
///
/// Called by the VFS once, when the last reference to one of our data files goes.
unsafe extern "C" fn release(_inode: *mut bindings::inode, filp: *mut bindings::file) -> c_int {
    // SAFETY: `private_data` holds the `Arc` `open_file` gave the file; nothing uses it after.
    drop(unsafe { Arc::from_raw((*filp).private_data.cast::<DataFile>()) });
    0
}

/// A `file_operations` table with no operation.
const fn empty_fops() -> bindings::file_operations {
    // SAFETY: `file_operations` is plain C data: all-zero is its empty table.
    unsafe { core::mem::MaybeUninit::zeroed().assume_init() }
}

pub(crate) static SAVE_FOPS: Table<bindings::file_operations> = Table::new({
    let mut fops = empty_fops();
    fops.read = Some(save_read);
    fops.poll = Some(save_poll);
    fops.unlocked_ioctl = Some(save_ioctl);
    fops.release = Some(release);
    fops
});

pub(crate) static RESUME_FOPS: Table<bindings::file_operations> = Table::new({
    let mut fops = empty_fops();
    fops.write = Some(resume_write);
    fops.release = Some(release);
    fops
});

/// Makes the data files hold a reference on this module while they are open.
pub(crate) fn init(module: &'static ThisModule) {
    // SAFETY: Module init runs before any parent can register, so nobody reads the tables yet.
    unsafe {
        (*SAVE_FOPS.get()).owner = module.as_ptr();
        (*RESUME_FOPS.get()).owner = module.as_ptr();
    }
}

/// Sets up migration on a new VFIO device if the vendor supports it.
///
/// # Safety
///
/// `vdev` is the unregistered `vfio_device` of `this`.
pub(crate) unsafe fn setup(vdev: *mut bindings::vfio_device, this: *mut Instance) -> Result {
    // SAFETY: Guaranteed by the caller: `this` has its record and instance set.
    let flags = unsafe { (*this).ops().migration_flags() };
    if flags == 0 {
        return Ok(());
    }
    let migration = Migration::new()?;
    // SAFETY: Guaranteed by the caller: the device is not registered, nothing reads it yet.
    unsafe {
        (*this).migration = Arc::into_raw(migration);
        (*vdev).migration_flags = flags;
        (*vdev).mig_ops = MIG_OPS.get();
        (*vdev).log_ops = LOG_OPS.get();
    }
    Ok(())
}

/// Drops the migration state of a device that is gone.
///
/// # Safety
///
/// `this` is unregistered, and `setup` ran for it.
pub(crate) unsafe fn teardown(this: *mut Instance) {
    // SAFETY: Guaranteed by the caller.
    let migration = unsafe { (*this).migration };
    if !migration.is_null() {
        // SAFETY: `setup` made it with `Arc::into_raw`; nothing uses it any more.
        let migration = unsafe { Arc::from_raw(migration) };
        migration.reset();
    }
}

/// Ends migration on close or reset: back to RUNNING, data files disabled.
pub(crate) fn reset(this: &Instance) {
    if !this.migration.is_null() {
        this.migration().reset();
    }
}
