// SPDX-License-Identifier: GPL-2.0

//! Virtual memory areas (VMAs) of a user address space.
//!
//! Only the VMA that an `mmap` file operation sets up is covered: [`VmaNew`], whose flags the
//! driver checks before it maps memory into it, either all at once ([`VmaNew::map_vmalloc`]) or
//! page by page as user space touches it ([`VmaNew::set_page_fault`] with a
//! [`PageFaultHandler`]). The shape follows mainline's `kernel::mm::virt`, which 6.12 does not
//! have; mainline has no fault handlers in Rust yet.
//!
//! C header: [`include/linux/mm.h`](srctree/include/linux/mm.h)

use super::VmallocUser;
use crate::{
    bindings,
    error::to_result,
    page::Page,
    prelude::*,
    sync::{Arc, ArcBorrow},
    types::{ARef, Opaque},
};
use core::{marker::PhantomData, mem::MaybeUninit};

/// The flags of a VMA (`VM_*`), as [`VmaNew::flags`] returns them.
pub mod flags {
    use crate::bindings::{self, vm_flags_t};

    /// The mapping may be read.
    pub const READ: vm_flags_t = bindings::VM_READ as vm_flags_t;
    /// The mapping may be written.
    pub const WRITE: vm_flags_t = bindings::VM_WRITE as vm_flags_t;
    /// The mapping may be executed.
    pub const EXEC: vm_flags_t = bindings::VM_EXEC as vm_flags_t;
    /// Writes go to the mapped object and are seen by every other mapping of it
    /// (`MAP_SHARED`); without it, writes are copied on write (`MAP_PRIVATE`).
    pub const SHARED: vm_flags_t = bindings::VM_SHARED as vm_flags_t;
    /// `mprotect` may add [`READ`].
    pub const MAYREAD: vm_flags_t = bindings::VM_MAYREAD as vm_flags_t;
    /// `mprotect` may add [`WRITE`].
    pub const MAYWRITE: vm_flags_t = bindings::VM_MAYWRITE as vm_flags_t;
    /// `mprotect` may add [`EXEC`].
    pub const MAYEXEC: vm_flags_t = bindings::VM_MAYEXEC as vm_flags_t;
    /// `mremap` may not grow the mapping.
    pub const DONTEXPAND: vm_flags_t = bindings::VM_DONTEXPAND as vm_flags_t;
    /// The mapping is left out of core dumps.
    pub const DONTDUMP: vm_flags_t = bindings::VM_DONTDUMP as vm_flags_t;
}

/// A VMA being set up by the `mmap` operation of a file: not yet visible to any other thread,
/// with the address space's mmap lock held for writing.
///
/// # Invariants
///
/// The VMA is valid and in that state for as long as the reference lives; it is only ever
/// reached through raw pointers, since the C side owns and writes it.
#[repr(transparent)]
pub struct VmaNew {
    vma: Opaque<bindings::vm_area_struct>,
}

impl VmaNew {
    /// The VMA that `vma` points to.
    ///
    /// # Safety
    ///
    /// For the whole of `'a`, `vma` must be undergoing its initial setup by a running `mmap`
    /// file operation: not yet visible to other threads, with the mmap lock of its address
    /// space held for writing.
    pub unsafe fn from_raw<'a>(vma: *mut bindings::vm_area_struct) -> &'a Self {
        // SAFETY: `VmaNew` is a transparent wrapper of the C struct; the caller guarantees the
        // VMA valid for `'a`.
        unsafe { &*vma.cast() }
    }

    fn as_ptr(&self) -> *mut bindings::vm_area_struct {
        self.vma.get()
    }

    /// The first address of the mapping.
    pub fn start(&self) -> usize {
        // SAFETY: The VMA is valid by the type invariant; its bounds are set before `mmap`.
        unsafe { (*self.as_ptr()).__bindgen_anon_1.__bindgen_anon_1.vm_start }
    }

    /// The address just past the mapping.
    pub fn end(&self) -> usize {
        // SAFETY: As for `start`.
        unsafe { (*self.as_ptr()).__bindgen_anon_1.__bindgen_anon_1.vm_end }
    }

    /// The length of the mapping in bytes, a multiple of the page size.
    pub fn len(&self) -> usize {
        self.end() - self.start()
    }

    /// Always false: a VMA maps at least one page.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The offset in the file where the mapping starts, in pages (`vm_pgoff`).
    pub fn pgoff(&self) -> usize {
        // SAFETY: The VMA is valid by the type invariant.
        unsafe { (*self.as_ptr()).vm_pgoff }
    }

    /// The offset in the file where the mapping starts, in bytes, or `None` if it does not fit
    /// in 64 bits.
    pub fn offset(&self) -> Option<u64> {
        (self.pgoff() as u64).checked_mul(crate::page::PAGE_SIZE as u64)
    }

    /// The VMA's flags (see [`flags`]).
    pub fn flags(&self) -> bindings::vm_flags_t {
        // SAFETY: The VMA is valid by the type invariant; reading `vm_flags` needs no lock.
        unsafe { (*self.as_ptr()).__bindgen_anon_2.vm_flags }
    }

    /// Whether writes reach the mapped memory itself ([`flags::SHARED`], `MAP_SHARED`).
    pub fn is_shared(&self) -> bool {
        self.flags() & flags::SHARED != 0
    }

    fn set_flags(&self, set: bindings::vm_flags_t) {
        // SAFETY: The VMA is valid, and not yet visible to other threads with the mmap lock
        // held for writing (type invariant), as `vm_flags_set` requires.
        unsafe { bindings::vm_flags_set(self.as_ptr(), set) }
    }

    /// Has the pages of the mapping come from `H` as user space first touches each of them.
    ///
    /// The mapping keeps `data` alive: every VMA it becomes (after a split, a partial `munmap`
    /// or a `fork`) holds a reference to it, and the last one to go drops it. So `data` can
    /// outlive the file and the device; whatever a fault needs must be in it. The mapping must
    /// be shared (`MAP_SHARED`), else `EINVAL`: a private mapping would copy on write and stop
    /// seeing the device's memory. It cannot be grown with `mremap`, is left out of core dumps,
    /// and is never merged with a neighbouring VMA (which would drop one VMA without telling
    /// the handler).
    ///
    /// Call it at most once per VMA. If the driver's `mmap` fails after it, the binding that
    /// called the driver closes the VMA itself, which gives `data`'s reference back.
    pub fn set_page_fault<H: PageFaultHandler>(&self, data: Arc<H::Data>) -> Result {
        if !self.is_shared() {
            return Err(EINVAL);
        }
        // `DONTEXPAND` is one of the `VM_SPECIAL` flags, with which the core merges no VMA.
        self.set_flags(flags::DONTEXPAND | flags::DONTDUMP);
        let vma = self.as_ptr();
        // SAFETY: The VMA is valid and not yet visible to anyone else (type invariant), so its
        // operations and private data may be set. The reference of `data` now belongs to the
        // VMA, and `FaultOps::close` gives it up.
        unsafe {
            (*vma).vm_private_data = Arc::into_raw(data).cast_mut().cast();
            (*vma).vm_ops = &FaultOps::<H>::OPS;
        }
        Ok(())
    }

    /// Gives back what a driver set up in this VMA before its `mmap` failed.
    ///
    /// The core frees a VMA whose `mmap` failed without closing it, so the reference that
    /// [`VmaNew::set_page_fault`] stored would be leaked: this closes the VMA as the core
    /// would have, and leaves it without operations.
    ///
    /// # Safety
    ///
    /// The file's `mmap` is returning an error for this VMA, and nothing calls this again for
    /// it. The VMA's operations are the core's empty ones or were installed by
    /// [`VmaNew::set_page_fault`] (no method of `VmaNew` installs any other): their `close`
    /// expects exactly this.
    pub(crate) unsafe fn close_after_failed_mmap(&self) {
        let vma = self.as_ptr();
        // SAFETY: The VMA is valid (type invariant). By the caller's guarantee, a `close` of
        // its operations is `FaultOps::close`, which gives up the VMA's reference once; the
        // core replaces the operations with its empty ones as the `mmap` fails, so nothing
        // reads the private data again, and it is cleared as well.
        unsafe {
            if let Some(close) = (*vma).vm_ops.as_ref().and_then(|ops| ops.close) {
                close(vma);
            }
            (*vma).vm_private_data = core::ptr::null_mut();
        }
    }

    /// Maps `memory`, from byte `offset` on, into the whole VMA, page by page.
    ///
    /// The checks a driver would otherwise repeat are made here, each with the errno upstream
    /// drivers give: the mapping must be shared (`MAP_SHARED`: a private, copy-on-write mapping
    /// of device memory would silently stop being the device's), `offset` must be page-aligned,
    /// and the VMA must fit in `memory` from `offset` on; else `EINVAL`. The mapping cannot be
    /// grown with `mremap` and is left out of core dumps. `memory` must outlive the mapping
    /// (see [`VmallocUser`]).
    pub fn map_vmalloc(&self, memory: &VmallocUser, offset: usize) -> Result {
        if !self.is_shared() || offset % crate::page::PAGE_SIZE != 0 {
            return Err(EINVAL);
        }
        match offset.checked_add(self.len()) {
            Some(end) if end <= memory.len() => {}
            _ => return Err(EINVAL),
        }
        // SAFETY: The VMA is valid and set up by a running `mmap` (type invariant); `memory`
        // comes from `vmalloc_user` (type invariant of `VmallocUser`) and holds the range
        // checked above. `remap_vmalloc_range` takes a reference on every page it maps, and
        // sets `DONTEXPAND` and `DONTDUMP`.
        to_result(unsafe {
            bindings::remap_vmalloc_range(
                self.as_ptr(),
                memory.as_ptr().cast(),
                (offset / crate::page::PAGE_SIZE) as _,
            )
        })
    }
}

/// Where the pages of a mapping come from when user space first touches them (see
/// [`VmaNew::set_page_fault`]).
///
/// The handler is called for every page fault on the mapping that the page tables cannot
/// answer yet, with the mmap lock (or the VMA's lock) held for reading: it may sleep and
/// allocate, but it must not take locks that are held around an `mmap` or a copy from user
/// space. It answers with a page and a reference to it, which the page tables take over; the
/// page stays mapped, and allocated, until user space unmaps it.
pub trait PageFaultHandler: 'static {
    /// What the mapping keeps alive, shared with the driver through an [`Arc`].
    type Data: Send + Sync;

    /// The page at `pgoff`, counted in pages from the start of the mapped file (the VMA's
    /// [`VmaNew::pgoff`] plus the page's index in the VMA).
    ///
    /// An error ends the fault: `ENOMEM` as an out-of-memory fault, any other as `SIGBUS` for
    /// the task that touched the page.
    fn page(data: &Self::Data, pgoff: usize) -> Result<ARef<Page>>;
}

/// The `vm_operations_struct` of the mappings whose pages come from `H`.
struct FaultOps<H>(PhantomData<H>);

impl<H: PageFaultHandler> FaultOps<H> {
    const OPS: bindings::vm_operations_struct = bindings::vm_operations_struct {
        open: Some(Self::open),
        close: Some(Self::close),
        fault: Some(Self::fault),
        // SAFETY: All-zero is a valid `vm_operations_struct`: every other slot empty.
        ..unsafe { MaybeUninit::zeroed().assume_init() }
    };

    /// The data of `vma`.
    ///
    /// # Safety
    ///
    /// `vma` is a VMA whose operations are [`Self::OPS`], alive for `'a`.
    unsafe fn data<'a>(vma: *const bindings::vm_area_struct) -> ArcBorrow<'a, H::Data> {
        // SAFETY: With these operations, the private data is a reference of an `Arc<H::Data>`
        // (`set_page_fault`, `open`), which the VMA keeps until `close`.
        unsafe { ArcBorrow::from_raw((*vma).vm_private_data.cast_const().cast()) }
    }

    /// A copy of a VMA (split or fork) takes a reference of its own.
    ///
    /// # Safety
    ///
    /// Called by the core for a VMA copied from one with [`Self::OPS`].
    unsafe extern "C" fn open(vma: *mut bindings::vm_area_struct) {
        // SAFETY: The core calls `open` on a VMA with these operations (copied from one that
        // has them), which is valid during the call.
        let data: Arc<H::Data> = unsafe { Self::data(vma) }.into();
        core::mem::forget(data);
    }

    /// The VMA gives its reference up.
    ///
    /// # Safety
    ///
    /// Called by the core once for each VMA with [`Self::OPS`], as it goes away.
    unsafe extern "C" fn close(vma: *mut bindings::vm_area_struct) {
        // SAFETY: The VMA has these operations and holds one reference of its data, which it
        // gives up here: nothing reads the private data after `close`.
        drop(unsafe { Arc::<H::Data>::from_raw((*vma).vm_private_data.cast_const().cast()) });
    }

    /// Answers a fault with `H`'s page.
    ///
    /// # Safety
    ///
    /// Called by the core for a fault on a VMA with [`Self::OPS`], which it keeps alive and
    /// locked for reading during the call.
    unsafe extern "C" fn fault(vmf: *mut bindings::vm_fault) -> bindings::vm_fault_t {
        // SAFETY: The core passes a valid `vm_fault` for a VMA with these operations, which it
        // keeps alive (and locked for reading) during the call.
        let (vma, pgoff) = unsafe { ((*vmf).__bindgen_anon_1.vma, (*vmf).__bindgen_anon_1.pgoff) };
        // SAFETY: As above.
        let data = unsafe { Self::data(vma) };
        match H::page(&data, pgoff) {
            Ok(page) => {
                // SAFETY: As above. A fault handler that returns 0 hands the core the page with
                // a reference, which the page tables keep: the one `into_raw` gives up.
                unsafe { (*vmf).page = ARef::into_raw(page).as_ptr().cast() };
                0
            }
            Err(e) if e == ENOMEM => bindings::vm_fault_reason_VM_FAULT_OOM,
            Err(_) => bindings::vm_fault_reason_VM_FAULT_SIGBUS,
        }
    }
}
