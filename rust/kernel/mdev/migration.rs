// SPDX-License-Identifier: GPL-2.0

//! Live migration of mdev instances.
//!
//! The VFIO core handles `VFIO_DEVICE_FEATURE` and calls the `vfio_migration_ops` here; this
//! file walks the migration state machine one arc at a time (`vfio_mig_get_next_state`), opens
//! the saving and resuming data files (anonymous-inode stream files), answers
//! `VFIO_MIG_GET_PRECOPY_INFO`, and asks the driver only to turn its state into bytes and back
//! (through [`VendorOps`], built for each driver by the adapter). None of it depends on the
//! driver, so it is part of the kernel image, data files included: a data file that outlives its
//! device, its instance and the vendor module never runs code of that module.
//!
//! A saving stream read to its end in PRE_COPY answers `ENOMSG` (more comes when the device
//! stops) and polls as not readable until then; only a complete stream (STOP_COPY) ends with
//! 0, as `include/uapi/linux/vfio.h` says. Streams live in vmalloc'd memory that grows as they
//! are written (doubling, never past the limit), up to the most bytes the vendor says a stream
//! holds: a stream of a device with 64 MB of video memory that was mostly never touched stays
//! small.
//!
//! Lifetimes: the state machine ([`Migration`]) is shared by the instance and its data files
//! through `Arc`s, so a data file that outlives its device is safe. A file only reaches the
//! vendor while it is enabled, and every file is disabled (under its lock) when the device is
//! closed or reset or leaves the state that opened it, which happens before the vendor's
//! instance state can go away.

use super::adapter::{get32, Binding};
use crate::{
    alloc::VVec,
    bindings,
    error::{from_result, Error},
    ffi::{c_char, c_int, c_long, c_uint, c_ulong, c_void},
    new_mutex,
    prelude::*,
    sync::{Arc, ArcBorrow, Mutex},
    types::Opaque,
    uaccess::{UserPtr, UserSlice},
    vfio::migration::{make_room, SavePhase, StreamWriter},
};
use core::ptr;

const RUNNING: u32 = bindings::vfio_device_mig_state_VFIO_DEVICE_STATE_RUNNING;
const STOP: u32 = bindings::vfio_device_mig_state_VFIO_DEVICE_STATE_STOP;
const STOP_COPY: u32 = bindings::vfio_device_mig_state_VFIO_DEVICE_STATE_STOP_COPY;
const RESUMING: u32 = bindings::vfio_device_mig_state_VFIO_DEVICE_STATE_RESUMING;
const RUNNING_P2P: u32 = bindings::vfio_device_mig_state_VFIO_DEVICE_STATE_RUNNING_P2P;
const PRE_COPY: u32 = bindings::vfio_device_mig_state_VFIO_DEVICE_STATE_PRE_COPY;
const PRE_COPY_P2P: u32 = bindings::vfio_device_mig_state_VFIO_DEVICE_STATE_PRE_COPY_P2P;

/// `VFIO_MIG_GET_PRECOPY_INFO`.
const MIG_GET_PRECOPY_INFO: u32 = crate::ioctl::_IO(b';' as u32, 100 + 21);

/// What the state machine asks of a driver; see the migration callbacks of
/// [`super::Driver`]. Each takes a bound instance of the driver.
pub(crate) struct VendorOps {
    pub(crate) data_size: unsafe fn(&Binding) -> usize,
    pub(crate) stop_copy_size: unsafe fn(&Binding) -> usize,
    pub(crate) save: unsafe fn(&Binding, SavePhase, &mut StreamWriter<'_>) -> Result,
    pub(crate) check: unsafe fn(&Binding, &[u8]) -> Result,
    pub(crate) load: unsafe fn(&Binding, &[u8]) -> Result,
}

/// The instance a data file reads from or writes to.
#[derive(Clone, Copy)]
struct Vendor {
    ops: *const VendorOps,
    binding: *const Binding,
}

impl Vendor {
    /// # Safety
    ///
    /// The instance is bound (its data file is enabled).
    unsafe fn save(&self, phase: SavePhase, out: &mut StreamWriter<'_>) -> Result {
        // SAFETY: Guaranteed by the caller: the instance is bound, so its driver's module is
        // loaded and the binding alive.
        unsafe { ((*self.ops).save)(&*self.binding, phase, out) }
    }

    /// # Safety
    ///
    /// As for [`Vendor::save`].
    unsafe fn check(&self, data: &[u8]) -> Result {
        // SAFETY: As in `save`.
        unsafe { ((*self.ops).check)(&*self.binding, data) }
    }

    /// # Safety
    ///
    /// As for [`Vendor::save`].
    unsafe fn load(&self, data: &[u8]) -> Result {
        // SAFETY: As in `save`.
        unsafe { ((*self.ops).load)(&*self.binding, data) }
    }
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
    /// Most bytes the stream may hold.
    limit: usize,
    #[pin]
    stream: Mutex<Stream>,
    /// Pollers of a saving stream, woken when data arrives or the file is disabled.
    #[pin]
    readers: Opaque<bindings::wait_queue_head>,
}

// SAFETY: `Vendor`'s pointers are only used under the stream lock while the file is enabled,
// when they point to a live, `Sync` driver and instance.
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
    /// The device state, `VFIO_DEVICE_STATE_*`.
    device_state: u32,
    saving: Option<Arc<DataFile>>,
    resuming: Option<Arc<DataFile>>,
}

/// The migration state machine of one instance.
#[pin_data]
pub(crate) struct Migration {
    /// The driver's side of it, valid while the instance is bound.
    ops: *const VendorOps,
    #[pin]
    state: Mutex<State>,
}

// SAFETY: `ops` points to a table of functions, used only while the instance is bound; the
// state is behind a mutex.
unsafe impl Send for Migration {}

// SAFETY: As above.
unsafe impl Sync for Migration {}

impl Migration {
    /// A state machine in RUNNING.
    fn new(ops: &'static VendorOps) -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Migration {
                ops: ptr::from_ref(ops),
                state <- new_mutex!(State {
                    device_state: RUNNING,
                    saving: None,
                    resuming: None,
                }),
            }),
            GFP_KERNEL,
        )
    }

    /// Back to RUNNING with no data file: the device was closed or reset.
    fn reset(&self) {
        let mut state = self.state.lock();
        state.device_state = RUNNING;
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
            crate::c_str!("vfio_mdev_mig").as_char_ptr(),
            fops.get(),
            private,
            flags,
        )
    };
    if let Err(e) = crate::error::from_err_ptr(filp) {
        // SAFETY: No file took `private`, which `Arc::into_raw` made.
        drop(unsafe { Arc::from_raw(private.cast::<DataFile>()) });
        return Err(e);
    }
    // SAFETY: `filp` is the file just created; a data file is a stream, without positions.
    unsafe { bindings::stream_open((*filp).f_inode, filp) };
    Ok(filp)
}

/// A data file whose stream may grow to `limit` bytes.
fn new_file(
    migration: ArcBorrow<'_, Migration>,
    vendor: Vendor,
    limit: usize,
) -> Result<Arc<DataFile>> {
    let data = VVec::new();
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
                    crate::c_str!("vfio_mdev_mig").as_char_ptr(),
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
        let mut out = StreamWriter::new(&mut stream.data, file.limit);
        // SAFETY: The file is enabled, so the instance is bound.
        if let Err(e) = unsafe { vendor.save(phase, &mut out) } {
            // The stream holds whole phases only.
            out.rewind(0);
            return Err(e);
        }
        stream.complete = phase == SavePhase::StopCopy;
    }
    file.wake_readers();
    Ok(())
}

impl Binding {
    /// The instance's migration state machine, if its driver migrates.
    fn migration(&self) -> Option<ArcBorrow<'_, Migration>> {
        if self.migration.is_null() {
            return None;
        }
        // SAFETY: By the type invariant of `Binding` a non-null `migration` comes from
        // `Arc::into_raw` in `setup`; `teardown` drops that reference only when the binding is
        // being taken apart, when no reference to it is in use any more.
        Some(unsafe { ArcBorrow::from_raw(self.migration) })
    }

    /// What a data file of the instance calls.
    fn vendor(&self, migration: &Migration) -> Vendor {
        Vendor {
            ops: migration.ops,
            binding: self,
        }
    }

    /// The most bytes a stream of the instance holds.
    ///
    /// # Safety
    ///
    /// The instance is bound, and `migration` is its state machine.
    unsafe fn data_size(&self, migration: &Migration) -> usize {
        // SAFETY: Guaranteed by the caller: the driver's module is loaded and the instance
        // bound.
        unsafe { ((*migration.ops).data_size)(self) }
    }

    /// The driver's estimate of the stop-copy part of a stream of the instance.
    ///
    /// # Safety
    ///
    /// The instance is bound, and `migration` is its state machine.
    unsafe fn stop_copy_size(&self, migration: &Migration) -> usize {
        // SAFETY: Guaranteed by the caller: the driver's module is loaded and the instance
        // bound.
        unsafe { ((*migration.ops).stop_copy_size)(self) }
    }

    /// Takes one arc of the state machine; returns the data file it opens, if any.
    ///
    /// # Safety
    ///
    /// The instance is bound, and `migration` is its state machine, whose lock `state` is.
    unsafe fn step(
        &self,
        migration: ArcBorrow<'_, Migration>,
        state: &mut State,
        next: u32,
    ) -> Result<*mut bindings::file> {
        let cur = state.device_state;
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
                    // SAFETY: The file is enabled, so the instance is bound.
                    unsafe { vendor.load(&stream.data) }?;
                }
                close_files(state);
            }
            (PRE_COPY, RUNNING) | (PRE_COPY_P2P, RUNNING_P2P) | (STOP_COPY, STOP) => {
                close_files(state)
            }
            (RUNNING, PRE_COPY) | (RUNNING_P2P, PRE_COPY_P2P) | (STOP, STOP_COPY) => {
                // SAFETY: Guaranteed by the caller.
                let size = unsafe { self.data_size(&migration) };
                let file = new_file(migration, self.vendor(&migration), size)?;
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
                // SAFETY: Guaranteed by the caller.
                let limit = unsafe { self.data_size(&migration) };
                let file = new_file(migration, self.vendor(&migration), limit)?;
                opened = open_file(file.clone(), true)?;
                state.resuming = Some(file);
            }
            _ => return Err(EINVAL),
        }
        state.device_state = next;
        Ok(opened)
    }
}

/// # Safety
///
/// `vdev` is the registered VFIO device of a bound instance with migration.
unsafe extern "C" fn set_state(
    vdev: *mut bindings::vfio_device,
    new: c_uint,
) -> *mut bindings::file {
    // SAFETY: Guaranteed by the caller.
    let this = unsafe { Binding::from_vdev(vdev) };
    let Some(migration) = this.migration() else {
        return EINVAL.to_ptr();
    };
    let mut state = migration.state.lock();
    let mut opened = ptr::null_mut();
    while state.device_state != new {
        let mut next = 0;
        // SAFETY: `vdev` is valid; `next` is written on success.
        let ret =
            unsafe { bindings::vfio_mig_get_next_state(vdev, state.device_state, new, &mut next) };
        if ret != 0 {
            return Error::from_errno(ret).to_ptr();
        }
        // SAFETY: Guaranteed by the caller: the VFIO core calls migration ops only for a
        // registered device, whose instance is bound.
        match unsafe { this.step(migration, &mut state, next) } {
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
    let this = unsafe { Binding::from_vdev(vdev) };
    let Some(migration) = this.migration() else {
        return EINVAL.to_errno();
    };
    let state = migration.state.lock().device_state;
    // SAFETY: Guaranteed by the caller.
    unsafe { *cur = state };
    0
}

/// # Safety
///
/// As for [`set_state`]; `len` is valid for writes.
unsafe extern "C" fn get_data_size(vdev: *mut bindings::vfio_device, len: *mut c_ulong) -> c_int {
    // SAFETY: Guaranteed by the caller.
    let this = unsafe { Binding::from_vdev(vdev) };
    let Some(migration) = this.migration() else {
        return EINVAL.to_errno();
    };
    // SAFETY: Guaranteed by the caller: the instance is bound; `len` is valid.
    unsafe { *len = this.stop_copy_size(&migration) as c_ulong };
    0
}

/// A C table in static storage (so that lockdep accepts a key in it), handed to C code as a
/// pointer.
///
/// # Invariants
///
/// Rust code never reads or writes the value after building it.
struct Table<T>(core::cell::UnsafeCell<T>);

// SAFETY: By the type invariant Rust code only hands out the table's address.
unsafe impl<T> Sync for Table<T> {}

impl<T> Table<T> {
    const fn new(value: T) -> Self {
        Self(core::cell::UnsafeCell::new(value))
    }

    fn get(&self) -> *mut T {
        self.0.get()
    }
}

static MIG_OPS: Table<bindings::vfio_migration_ops> = Table::new(bindings::vfio_migration_ops {
    migration_set_state: Some(set_state),
    migration_get_state: Some(get_state),
    migration_get_data_size: Some(get_data_size),
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
        make_room(&mut stream.data, end, file.limit)?;
        // Within the room just made: no reallocation.
        stream.data.extend_with(len, 0, GFP_KERNEL)?;
        let taken = UserSlice::new(buf as UserPtr, len)
            .reader()
            .read_slice(&mut stream.data[old..])
            // SAFETY: The file is enabled, so the instance is bound.
            .and_then(|()| unsafe { vendor.check(&stream.data) });
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
        if (get32(&info, 0) as usize) < info.len() {
            return Err(EINVAL);
        }
        let state = file.migration.state.lock();
        if state.device_state != PRE_COPY && state.device_state != PRE_COPY_P2P {
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

static SAVE_FOPS: Table<bindings::file_operations> = Table::new({
    let mut fops = empty_fops();
    fops.read = Some(save_read);
    fops.poll = Some(save_poll);
    fops.unlocked_ioctl = Some(save_ioctl);
    fops.release = Some(release);
    fops
});

static RESUME_FOPS: Table<bindings::file_operations> = Table::new({
    let mut fops = empty_fops();
    fops.write = Some(resume_write);
    fops.release = Some(release);
    fops
});

/// Sets up migration on a new VFIO device of a driver with the given `VFIO_MIGRATION_*` flags.
///
/// # Safety
///
/// `this` is a complete binding whose device is not registered yet.
pub(super) unsafe fn setup(this: *mut Binding, flags: u32, ops: &'static VendorOps) -> Result {
    let migration = Migration::new(ops)?;
    // SAFETY: Guaranteed by the caller: the device is not registered, nothing reads it yet.
    unsafe {
        (*this).migration = Arc::into_raw(migration);
        let vdev = (*this).vdev();
        (*vdev).migration_flags = flags;
        (*vdev).mig_ops = MIG_OPS.get();
    }
    Ok(())
}

/// Drops the migration state of a device whose instance is being unbound: its data files are
/// disabled, so they never reach the instance again.
///
/// # Safety
///
/// `this` is unregistered (or never was), and no migration op runs on it any more.
pub(super) unsafe fn teardown(this: *mut Binding) {
    // SAFETY: Guaranteed by the caller.
    let migration = unsafe { (*this).migration };
    if !migration.is_null() {
        // SAFETY: `setup` made it with `Arc::into_raw`; nothing uses it any more.
        let migration = unsafe { Arc::from_raw(migration) };
        migration.reset();
    }
}

/// Ends migration on close: back to RUNNING, data files disabled.
pub(super) fn reset(this: &Binding) {
    if let Some(migration) = this.migration() {
        migration.reset();
    }
}

/// `VFIO_DEVICE_RESET`: ends migration as [`reset`] does, whatever `reset_driver` (the driver's
/// reset) answers, and runs `reset_driver` under the state machine's lock, so that no save or
/// resume of the instance runs beside it.
pub(super) fn reset_device(this: &Binding, reset_driver: impl FnOnce() -> Result) -> Result {
    let Some(migration) = this.migration() else {
        return reset_driver();
    };
    let mut state = migration.state.lock();
    state.device_state = RUNNING;
    close_files(&mut state);
    reset_driver()
}
