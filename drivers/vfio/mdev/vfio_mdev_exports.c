// SPDX-License-Identifier: GPL-2.0
/*
 * Exports of vfio_mdev (vfio_mdev_core.rs) for the kernel crate's mdev
 * bindings, which call them from code compiled into each Rust vendor
 * module. Rust code cannot export symbols in 6.12.
 */
#include <linux/export.h>

#include "vfio_mdev.h"

EXPORT_SYMBOL_GPL(vfio_mdev_register_parent);
EXPORT_SYMBOL_GPL(vfio_mdev_unregister_parent);
