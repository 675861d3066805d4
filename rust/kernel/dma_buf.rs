// SPDX-License-Identifier: GPL-2.0

//! Buffers shared between drivers and with user space (dma-buf), as their exporter makes them.
//!
//! A driver exports memory it owns as a [`DmaBuf`]: a file that other drivers import (they
//! attach their device and map the buffer for DMA) and that user space maps. The exporter here
//! shares pages: the driver gives an object that lists the buffer's pages ([`DmaBufPages`]),
//! and the binding answers every dma-buf operation from it, so the driver writes no callback.
//! The object lives as long as the dma-buf and every mapping of it, which may be long after the
//! driver's own device is gone; the exporting module stays loaded meanwhile.
//!
//! C header: [`include/linux/dma-buf.h`](srctree/include/linux/dma-buf.h)

use crate::{
    bindings,
    error::{from_err_ptr, to_result},
    mm::virt::{PageFaultHandler, VmaNew},
    page::{Page, PAGE_SIZE},
    prelude::*,
    sync::{Arc, ArcBorrow},
    types::{ARef, AlwaysRefCounted, Opaque},
    ThisModule,
};
use core::{marker::PhantomData, mem::MaybeUninit, ptr::NonNull};

/// The pages a dma-buf is made of, in order: what a driver exports with [`DmaBuf::export`].
///
/// The list must not change while the dma-buf exists (the pages' contents may: that is what
/// sharing them is for). Each page is held by its [`ARef`], so the driver may drop its own
/// references at any time.
pub trait DmaBufPages: Send + Sync + 'static {
    /// The buffer's pages; the buffer is `pages().len()` pages long.
    fn pages(&self) -> &[ARef<Page>];
}

/// A dma-buf (`struct dma_buf`): a buffer that drivers and user space share through a file.
///
/// # Invariants
///
/// The dma-buf is valid while a reference to its file is held; [`ARef<DmaBuf>`] holds one.
#[repr(transparent)]
pub struct DmaBuf(Opaque<bindings::dma_buf>);

// SAFETY: A dma-buf is used from any thread; its state is protected by the dma-buf core.
unsafe impl Send for DmaBuf {}
// SAFETY: As above.
unsafe impl Sync for DmaBuf {}

// SAFETY: A reference to the dma-buf's file keeps the dma-buf alive (the file's release is what
// frees it), and `get_dma_buf`/`dma_buf_put` take and drop such a reference.
unsafe impl AlwaysRefCounted for DmaBuf {
    fn inc_ref(&self) {
        // SAFETY: The dma-buf is valid while `self` exists (type invariant).
        unsafe { bindings::get_dma_buf(self.0.get()) };
    }

    // Out of line, in the kernel image: the dma-buf symbols are in the `DMA_BUF` namespace,
    // which modules would have to import.
    #[inline(never)]
    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller gives up a reference it holds.
        unsafe { bindings::dma_buf_put(obj.cast().as_ptr()) };
    }
}

impl DmaBuf {
    /// Exports the pages of `pages` as a new dma-buf, readable and writable, of
    /// `pages.pages().len()` pages.
    ///
    /// `module` is the module whose code `pages` runs (normally `&THIS_MODULE`): it cannot be
    /// unloaded while the dma-buf exists. The dma-buf keeps `pages` alive, and with it the
    /// pages, until the last reference to it is gone: its file descriptors, importers'
    /// attachments and user mappings, which stay valid after the exporting device is removed.
    ///
    /// Importers get a scatter list of the pages mapped for their device; user space maps the
    /// buffer with `MAP_SHARED` (a private mapping is `EINVAL`), and its pages are mapped as
    /// they are touched. An empty buffer is `EINVAL`.
    pub fn export<T: DmaBufPages>(
        module: &'static ThisModule,
        pages: Arc<T>,
    ) -> Result<ARef<Self>> {
        let size = pages.pages().len().checked_mul(PAGE_SIZE).ok_or(EINVAL)?;
        if size == 0 {
            return Err(EINVAL);
        }
        let data = Arc::into_raw(pages);
        let exported = export_raw(module, &Exporter::<T>::OPS, size, data.cast_mut().cast());
        if exported.is_err() {
            // SAFETY: The export failed, so the reference `into_raw` gave up is still ours.
            drop(unsafe { Arc::from_raw(data) });
        }
        exported
    }

    /// Gives the dma-buf a file descriptor in the current task (close-on-exec), to which the
    /// reference `this` holds passes.
    #[inline(never)]
    pub fn into_fd(this: ARef<Self>) -> Result<i32> {
        // SAFETY: The dma-buf is valid (type invariant). On success, the file reference that
        // `this` holds passes to the new descriptor; on failure `this` still holds it.
        let fd = unsafe { bindings::dma_buf_fd(this.0.get(), bindings::O_CLOEXEC as i32) };
        to_result(fd)?;
        core::mem::forget(this);
        Ok(fd)
    }
}

/// `dma_buf_export` for an exporter whose operations are `ops`, with `data` as private data.
/// Out of line for the same reason as [`DmaBuf::dec_ref`].
#[inline(never)]
fn export_raw(
    module: &'static ThisModule,
    ops: &'static bindings::dma_buf_ops,
    size: usize,
    data: *mut core::ffi::c_void,
) -> Result<ARef<DmaBuf>> {
    let owner = module.as_ptr();
    let exp_name = if owner.is_null() {
        crate::c_str!("kernel").as_char_ptr()
    } else {
        // SAFETY: `owner` is a loaded module (it runs this code), whose name lives as long
        // as it does; the dma-buf pins it.
        unsafe { (*owner).name.as_ptr() }
    };
    let info = bindings::dma_buf_export_info {
        exp_name,
        owner,
        ops,
        size,
        flags: bindings::O_RDWR as i32,
        resv: core::ptr::null_mut(),
        priv_: data,
    };
    // SAFETY: `info` is complete: the operations are the mandatory ones at least (`Exporter`),
    // and `data` is what they expect. The core takes a reference to `owner`.
    let buf = from_err_ptr(unsafe { bindings::dma_buf_export(&info) })?;
    // SAFETY: A new dma-buf comes with one reference to its file, which the `ARef` takes over.
    Ok(unsafe { ARef::from_raw(NonNull::new_unchecked(buf.cast())) })
}

/// The dma-buf operations of buffers exported from a `T`.
struct Exporter<T>(PhantomData<T>);

impl<T: DmaBufPages> Exporter<T> {
    const OPS: bindings::dma_buf_ops = bindings::dma_buf_ops {
        map_dma_buf: Some(Self::map_dma_buf),
        unmap_dma_buf: Some(Self::unmap_dma_buf),
        release: Some(Self::release),
        mmap: Some(Self::mmap),
        // SAFETY: All-zero is a valid `dma_buf_ops`: every other slot empty.
        ..unsafe { MaybeUninit::zeroed().assume_init() }
    };

    /// The object exported as `buf`.
    ///
    /// # Safety
    ///
    /// `buf` is a live dma-buf exported with [`Self::OPS`].
    unsafe fn data<'a>(buf: *const bindings::dma_buf) -> ArcBorrow<'a, T> {
        // SAFETY: Its private data is the reference of an `Arc<T>` that `export` gave it and
        // `release` takes back.
        unsafe { ArcBorrow::from_raw((*buf).priv_.cast_const().cast()) }
    }

    /// A scatter list of the buffer's pages, mapped for the importer's device.
    ///
    /// # Safety
    ///
    /// Called by the dma-buf core with a live attachment of a dma-buf exported with
    /// [`Self::OPS`].
    unsafe extern "C" fn map_dma_buf(
        attach: *mut bindings::dma_buf_attachment,
        dir: bindings::dma_data_direction,
    ) -> *mut bindings::sg_table {
        // SAFETY: The core passes a live attachment of a dma-buf exported with these
        // operations, both valid during the call.
        let (buf, dev) = unsafe { ((*attach).dmabuf, (*attach).dev) };
        // SAFETY: As above.
        let data = unsafe { Self::data(buf) };
        match map_pages(data.pages(), dev, dir) {
            Ok(table) => table,
            Err(e) => e.to_ptr(),
        }
    }

    /// Unmaps and frees a table [`Self::map_dma_buf`] made.
    ///
    /// # Safety
    ///
    /// Called by the dma-buf core with a table `map_dma_buf` made for `attach` and `dir`.
    unsafe extern "C" fn unmap_dma_buf(
        attach: *mut bindings::dma_buf_attachment,
        table: *mut bindings::sg_table,
        dir: bindings::dma_data_direction,
    ) {
        // SAFETY: The core passes back a table that `map_dma_buf` made for this attachment,
        // with the same direction, and never uses it again.
        unsafe { unmap_pages(table, (*attach).dev, dir) };
    }

    /// Drops the exported object.
    ///
    /// # Safety
    ///
    /// Called by the dma-buf core once, when the last reference to `buf` is gone.
    unsafe extern "C" fn release(buf: *mut bindings::dma_buf) {
        // SAFETY: The last reference to the dma-buf is gone: nothing uses its private data
        // again, and the reference `export` gave it is given up.
        drop(unsafe { Arc::<T>::from_raw((*buf).priv_.cast_const().cast()) });
    }

    /// Maps the buffer into a user address space, page by page as it is touched.
    ///
    /// # Safety
    ///
    /// Called by the dma-buf core for a live dma-buf exported with [`Self::OPS`] and a VMA it
    /// is setting up, with the mmap lock held for writing.
    unsafe extern "C" fn mmap(
        buf: *mut bindings::dma_buf,
        vma: *mut bindings::vm_area_struct,
    ) -> core::ffi::c_int {
        // SAFETY: The core calls this from the `mmap` of the dma-buf's file (or an importer's
        // `dma_buf_mmap`) on a VMA being set up, with the mmap lock held for writing, after it
        // checked that the VMA lies within the buffer.
        let vma = unsafe { VmaNew::from_raw(vma) };
        // SAFETY: As for `map_dma_buf`.
        let data: Arc<T> = unsafe { Self::data(buf) }.into();
        match vma.set_page_fault::<Self>(data) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }
}

impl<T: DmaBufPages> PageFaultHandler for Exporter<T> {
    type Data = T;

    fn page(data: &T, pgoff: usize) -> Result<ARef<Page>> {
        // Past the end only after an `mremap` the mapping's flags forbid: no page there.
        data.pages().get(pgoff).cloned().ok_or(EFAULT)
    }
}

/// A scatter list of `pages`, mapped for DMA by `dev` in direction `dir`. Out of line and not
/// generic: one copy for every exporter.
#[inline(never)]
fn map_pages(
    pages: &[ARef<Page>],
    dev: *mut bindings::device,
    dir: bindings::dma_data_direction,
) -> Result<*mut bindings::sg_table> {
    let mut raw = KVec::with_capacity(pages.len(), GFP_KERNEL)?;
    for page in pages {
        raw.push(page.as_ptr(), GFP_KERNEL)?;
    }
    // SAFETY: All-zero is the state `sg_alloc_table_from_pages_segment` expects.
    let zeroed = unsafe { MaybeUninit::<bindings::sg_table>::zeroed().assume_init() };
    let table = KBox::new(zeroed, GFP_KERNEL)?;
    let table = KBox::into_raw(table);
    // SAFETY: `table` is a zeroed table we own, `raw` holds `pages.len()` pages, each kept
    // alive by `pages` (and, for as long as the table is mapped, by the dma-buf's object).
    let made = to_result(unsafe {
        bindings::sg_alloc_table_from_pages_segment(
            table,
            raw.as_mut_ptr(),
            pages.len() as u32,
            0,
            pages.len() * PAGE_SIZE,
            u32::MAX,
            GFP_KERNEL.as_raw(),
        )
    });
    let mapped = made.and_then(|()| {
        // SAFETY: `dev` is the importer's device, valid during the attachment, and the table
        // is complete.
        let mapped = to_result(unsafe { bindings::dma_map_sgtable(dev, table, dir, 0) });
        if mapped.is_err() {
            // SAFETY: The table is complete and not mapped.
            unsafe { bindings::sg_free_table(table) };
        }
        mapped
    });
    if let Err(e) = mapped {
        // SAFETY: `table` came from `KBox::into_raw` above and nothing else refers to it (a
        // failed `sg_alloc_table_from_pages_segment` frees what it allocated).
        drop(unsafe { KBox::from_raw(table) });
        return Err(e);
    }
    Ok(table)
}

/// Undoes [`map_pages`].
///
/// # Safety
///
/// `table` was returned by [`map_pages`] for `dev` and `dir`, and is not used afterwards.
#[inline(never)]
unsafe fn unmap_pages(
    table: *mut bindings::sg_table,
    dev: *mut bindings::device,
    dir: bindings::dma_data_direction,
) {
    // SAFETY: By the function's contract, `table` is mapped for `dev` in `dir`, was made by
    // `sg_alloc_table_from_pages_segment` and came from `KBox::into_raw`.
    unsafe {
        bindings::dma_unmap_sgtable(dev, table, dir, 0);
        bindings::sg_free_table(table);
        drop(KBox::from_raw(table));
    }
}
