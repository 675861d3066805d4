// SPDX-License-Identifier: GPL-2.0

//! Virtual memory areas (VMAs) of a user address space.
//!
//! Only the VMA that an `mmap` file operation sets up is covered: [`VmaNew`], whose flags the
//! driver checks and adjusts before it maps memory into it. The shape follows mainline's
//! `kernel::mm::virt`, which 6.12 does not have.
//!
//! C header: [`include/linux/mm.h`](srctree/include/linux/mm.h)

use super::VmallocUser;
use crate::{bindings, error::to_result, prelude::*, types::Opaque};

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
