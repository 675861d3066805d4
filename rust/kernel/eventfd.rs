// SPDX-License-Identifier: GPL-2.0

//! Eventfd contexts: signalling userspace through an eventfd it passed in.
//!
//! C header: [`include/linux/eventfd.h`](srctree/include/linux/eventfd.h)

use crate::{bindings, error::from_err_ptr, prelude::*};
use core::ptr::NonNull;

/// A reference to the context of an eventfd.
///
/// # Invariants
///
/// `ctx` is a valid `struct eventfd_ctx` on which this object holds a reference.
pub struct EventFd {
    ctx: NonNull<bindings::eventfd_ctx>,
}

// SAFETY: An eventfd context may be signalled and released from any thread.
unsafe impl Send for EventFd {}

// SAFETY: Signalling takes the context's own lock; `&EventFd` allows nothing else.
unsafe impl Sync for EventFd {}

impl EventFd {
    /// Takes a reference to the context of the eventfd that is file descriptor `fd` of the
    /// current process.
    ///
    /// Fails with `EBADF` if `fd` is not an open file descriptor and with `EINVAL` if it is
    /// not an eventfd.
    pub fn from_fd(fd: i32) -> Result<Self> {
        // SAFETY: Any integer may be passed; the function looks it up in the current task's
        // file table and takes a reference on success.
        let ctx = from_err_ptr(unsafe { bindings::eventfd_ctx_fdget(fd) })?;
        let ctx = NonNull::new(ctx).ok_or(EINVAL)?;
        // INVARIANT: `eventfd_ctx_fdget` returned a context with a reference for us.
        Ok(Self { ctx })
    }

    /// Adds one to the eventfd's counter, waking its readers and pollers.
    pub fn signal(&self) {
        // SAFETY: By the type invariant the context is valid.
        unsafe { bindings::eventfd_signal_mask(self.ctx.as_ptr(), 0) }
    }
}

impl Drop for EventFd {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we own a reference on the context.
        unsafe { bindings::eventfd_ctx_put(self.ctx.as_ptr()) }
    }
}
