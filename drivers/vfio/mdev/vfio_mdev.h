/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Entry points of vfio_mdev (vfio_mdev_core.rs) for the kernel crate's mdev
 * bindings (rust/kernel/mdev.rs), exported by vfio_mdev_exports.c.
 *
 * The one declaration of these functions: bindgen reads it for the kernel
 * crate (rust/bindings/mdev_rs.h includes this file), and vfio_mdev checks
 * its definitions against those bindings at compile time.
 *
 * @parent is the mdev_parent of a kernel::mdev::ParentRecord, @dev its
 * parent device, @types its @nr_types types; the record outlives the
 * registration.
 */
#ifndef VFIO_MDEV_H
#define VFIO_MDEV_H

struct device;
struct mdev_parent;
struct mdev_type;

int vfio_mdev_register_parent(struct mdev_parent *parent, struct device *dev,
			      struct mdev_type **types, unsigned int nr_types);
void vfio_mdev_unregister_parent(struct mdev_parent *parent);

#endif /* VFIO_MDEV_H */
