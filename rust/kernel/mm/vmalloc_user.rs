// SPDX-License-Identifier: GPL-2.0

//! Virtually contiguous kernel memory that user space may map (`vmalloc_user`).

use crate::{bindings, prelude::*};
use core::ptr::NonNull;

/// Zeroed, page-aligned, virtually contiguous memory that may be mapped into user space with
/// [`VmaNew::map_vmalloc`](super::virt::VmaNew::map_vmalloc), e.g. a framebuffer.
///
/// Once mapped, user space may change the contents at any time, so they are never borrowed as
/// Rust slices: they are read and written by copying, with offsets checked, and only by the C
/// `memcpy` and `memset`. Copies that run at the same time (user space, or two kernel threads)
/// may interleave and tear, as in C; that is the only consequence.
///
/// A mapping takes its own references on the pages, so they stay valid while mapped; but a
/// driver keeps this memory until every mapping is gone (for a device file: until the file is
/// released), or the pages escape its accounting.
///
/// # Invariants
///
/// `ptr` comes from `vmalloc_user(len)` and is freed only by `drop`; `len` is a non-zero
/// multiple of the page size.
pub struct VmallocUser {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: The memory is plain kernel memory owned by this value; every access is a C `memcpy` or
// `memset` at a checked offset, never a Rust reference, so the owner may move between threads.
unsafe impl Send for VmallocUser {}
// SAFETY: As above: concurrent accesses through `&self` are C copies, which may tear but have
// no other effect.
unsafe impl Sync for VmallocUser {}

impl VmallocUser {
    /// Allocates `len` bytes rounded up to whole pages, all zero.
    pub fn new(len: usize) -> Result<Self> {
        let page = crate::page::PAGE_SIZE;
        let len = len.checked_next_multiple_of(page).ok_or(ENOMEM)?.max(page);
        // SAFETY: `vmalloc_user` has no preconditions; it returns null on failure.
        let ptr = unsafe { bindings::vmalloc_user(len as _) };
        // INVARIANT: `ptr` comes from `vmalloc_user(len)`, `len` is a non-zero page multiple.
        Ok(Self {
            ptr: NonNull::new(ptr.cast()).ok_or(ENOMEM)?,
            len,
        })
    }

    /// The size in bytes, a multiple of the page size.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: the memory holds at least one page.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The start of the memory, for the mapping code.
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// A pointer to `len` bytes at `offset`, or `EINVAL` if they are not all inside.
    fn range(&self, offset: usize, len: usize) -> Result<*mut u8> {
        match offset.checked_add(len) {
            // SAFETY: `offset` is at most `self.len`, so the result stays inside the allocation
            // or one past its end.
            Some(end) if end <= self.len => Ok(unsafe { self.ptr.as_ptr().add(offset) }),
            _ => Err(EINVAL),
        }
    }

    /// Copies `out.len()` bytes at `offset` into `out`.
    pub fn read(&self, offset: usize, out: &mut [u8]) -> Result {
        let src = self.range(offset, out.len())?;
        // SAFETY: `src` holds `out.len()` bytes of the allocation (checked by `range`), which is
        // not part of `out`, and `out` is valid for writing them.
        unsafe { bindings::memcpy(out.as_mut_ptr().cast(), src.cast(), out.len()) };
        Ok(())
    }

    /// Copies `data` to `offset`.
    pub fn write(&self, offset: usize, data: &[u8]) -> Result {
        let dst = self.range(offset, data.len())?;
        // SAFETY: As in `read`, the other way round.
        unsafe { bindings::memcpy(dst.cast(), data.as_ptr().cast(), data.len()) };
        Ok(())
    }

    /// Sets `len` bytes at `offset` to `byte`.
    pub fn fill(&self, offset: usize, len: usize, byte: u8) -> Result {
        let dst = self.range(offset, len)?;
        // SAFETY: `dst` holds `len` bytes of the allocation (checked by `range`).
        unsafe { bindings::memset(dst.cast(), byte.into(), len) };
        Ok(())
    }
}

impl Drop for VmallocUser {
    fn drop(&mut self) {
        // SAFETY: `ptr` comes from `vmalloc_user` and is freed only here (type invariant).
        unsafe { bindings::vfree(self.ptr.as_ptr().cast()) };
    }
}
