/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Entry points of vfio_mdev (vfio_mdev_core.rs) for the kernel crate's mdev
 * bindings (rust/kernel/mdev.rs). @record is a kernel::mdev::ParentRecord,
 * @types an array of @nr_types struct mdev_type pointers; both stay valid
 * until vfio_mdev_unregister_parent().
 */
#ifndef VFIO_MDEV_H
#define VFIO_MDEV_H

int vfio_mdev_register_parent(void *record, void *dev, void *types,
			      unsigned int nr_types);
void vfio_mdev_unregister_parent(void *record);

#endif /* VFIO_MDEV_H */
