// SPDX-License-Identifier: GPL-2.0
/*
 * Exports of the Rust mdev core (mdev_core.rs): the C API of
 * include/linux/mdev.h. Rust code cannot export symbols in 6.12, so this
 * file of the same module does it for the functions defined there.
 */
#include <linux/export.h>
#include <linux/mdev.h>

EXPORT_SYMBOL(mdev_register_parent);
EXPORT_SYMBOL(mdev_unregister_parent);
EXPORT_SYMBOL(mdev_register_driver);
EXPORT_SYMBOL(mdev_unregister_driver);
