// SPDX-License-Identifier: GPL-2.0

//! Memory management for drivers that map memory into user space.
//!
//! [`virt`] has the VMA as a driver's `mmap` sees it; [`VmallocUser`] is virtually contiguous
//! kernel memory that may be mapped there.
//!
//! C headers: [`include/linux/mm.h`](srctree/include/linux/mm.h),
//! [`include/linux/vmalloc.h`](srctree/include/linux/vmalloc.h)

pub mod virt;
mod vmalloc_user;

pub use vmalloc_user::VmallocUser;
