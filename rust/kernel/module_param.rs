// SPDX-License-Identifier: GPL-2.0

//! Module parameters that are set when the module loads and read-only afterwards.
//!
//! C header: [`include/linux/moduleparam.h`](srctree/include/linux/moduleparam.h)
//!
//! A module declares its parameters under the `params` key of [`module!`](macros::module);
//! the macro places each one in the module's `module_parameters` module as a
//! [`ModuleParamAccess`], registers it in the `__param` section with the kernel's own parser
//! for its type, and records its type and description in `.modinfo` (so `modinfo` lists it).
//! The kernel parses `insmod`/`modprobe` arguments (or, for a built-in module, the command
//! line's `module.name=value`) before the module's `init` runs; a value the parser rejects
//! fails the load with `EINVAL`. The parameter shows in `/sys/module/<module>/parameters/`,
//! read-only.
//!
//! ```ignore
//! module! {
//!     type: MyModule,
//!     name: "my_module",
//!     license: "GPL",
//!     params: {
//!         depth: u32 {
//!             default: 16,
//!             description: "Entries in each queue",
//!         },
//!     },
//! }
//!
//! fn queue_depth() -> u32 {
//!     module_parameters::depth.value()
//! }
//! ```

use crate::{bindings, ffi::c_void};
use core::cell::UnsafeCell;

/// A type a module parameter can have, with the C parser that reads and prints it.
///
/// # Safety
///
/// `OPS` must point to a `kernel_param_ops` whose `set` and `get` access exactly one valid
/// `Self` at the parameter's `arg`, and which has no `free` (the value owns no memory).
pub unsafe trait ModuleParam: Copy + Send + Sync + 'static {
    /// The kernel's operations for this type.
    const OPS: *const bindings::kernel_param_ops;
}

macro_rules! impl_module_param {
    ($($t:ty => $ops:ident),* $(,)?) => {$(
        // SAFETY: The C operations of this type read and write exactly one C value of the
        // same size and representation as the Rust type, and have no `free`. (For `bool`, C's
        // parser stores only 0 or 1, both valid Rust `bool`s.)
        unsafe impl ModuleParam for $t {
            const OPS: *const bindings::kernel_param_ops = &raw const bindings::$ops;
        }
    )*};
}

impl_module_param! {
    bool => param_ops_bool,
    i16 => param_ops_short,
    u16 => param_ops_ushort,
    i32 => param_ops_int,
    u32 => param_ops_uint,
    u64 => param_ops_ullong,
}

// C has no `long long` parser; `long` is as wide as `i64` only on 64-bit kernels.
#[cfg(CONFIG_64BIT)]
impl_module_param! {
    i64 => param_ops_long,
}

/// The storage of a read-only module parameter, and the only way to read it.
///
/// Made by [`module!`](macros::module) only: its address is handed to the kernel's parameter
/// parser.
///
/// # Invariants
///
/// The kernel writes `value` only while it parses the module's parameters, before the
/// module's `init` runs and therefore before any code of the module can read it. The
/// parameter is registered read-only (mode 0444, [`KernelParam::new`]): its sysfs file gets
/// no `store` operation, and the kernel does not allow the mode to change at run time, so
/// nothing writes it afterwards.
#[repr(transparent)]
pub struct ModuleParamAccess<T> {
    value: UnsafeCell<T>,
}

// SAFETY: After the module's `init` starts, `value` is only read (type invariant); `T` is
// `Sync`.
unsafe impl<T: ModuleParam> Sync for ModuleParamAccess<T> {}

impl<T: ModuleParam> ModuleParamAccess<T> {
    /// A parameter that is `default` unless the loader gives another value.
    ///
    /// # Safety
    ///
    /// Only [`module!`](macros::module) calls this, for a parameter it registers with
    /// [`KernelParam::new`] (read-only), which upholds the invariant.
    #[doc(hidden)]
    pub const unsafe fn new(default: T) -> Self {
        Self {
            value: UnsafeCell::new(default),
        }
    }

    /// The parameter's value.
    #[inline]
    pub fn value(&self) -> T {
        // SAFETY: By the type invariant, the kernel wrote the value before the module's code
        // could run, and nothing writes it any more.
        unsafe { *self.value.get() }
    }

    /// The address the kernel's parser writes the value to.
    #[doc(hidden)]
    pub const fn as_arg(&self) -> *mut c_void {
        self.value.get().cast()
    }
}

/// A `struct kernel_param` in the `__param` section, as [`module!`](macros::module) emits it.
#[repr(transparent)]
#[doc(hidden)]
pub struct KernelParam(bindings::kernel_param);

impl KernelParam {
    /// The registration of the read-only parameter `name` (with its `.` prefix when built in)
    /// of `module`, stored at `arg`.
    #[doc(hidden)]
    pub const fn new<T: ModuleParam>(
        name: &'static crate::str::CStr,
        module: *mut bindings::module,
        arg: &'static ModuleParamAccess<T>,
    ) -> Self {
        Self(bindings::kernel_param {
            name: name.as_char_ptr(),
            mod_: module,
            ops: T::OPS,
            perm: 0o444,
            level: -1,
            flags: 0,
            __bindgen_anon_1: bindings::kernel_param__bindgen_ty_1 { arg: arg.as_arg() },
        })
    }
}

// SAFETY: The registration is never changed after it is built, and its pointers are to
// `'static` data.
unsafe impl Sync for KernelParam {}
