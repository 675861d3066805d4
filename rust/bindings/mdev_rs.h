/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Headers of the mdev stack for which bindgen generates Rust bindings,
 * included by rust/bindings/bindings_helper.h (patches/0002-*). Every C
 * symbol the Rust mdev core, vfio_mdev and the kernel crate's mdev, vfio,
 * eventfd, mm and dma_buf modules call is declared by one of these: no
 * hand-written prototypes on the Rust side.
 *
 * Sorted alphabetically.
 */

#include <linux/anon_inodes.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/eventfd.h>
#include <linux/fcntl.h>
#include <linux/kobject.h>
#include <linux/mdev.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/scatterlist.h>
#include <linux/sysfs.h>
#include <linux/uuid.h>
#include <linux/vfio.h>
#include <linux/vmalloc.h>

/* vfio_mdev's entry points, from the project's tree (src/mdev-rs/). */
#include "../../mdev-rs/drivers/vfio/mdev/vfio_mdev.h"

/* bindgen cannot evaluate the casts in these. */
const __poll_t RUST_CONST_HELPER_EPOLLIN = EPOLLIN;
const __poll_t RUST_CONST_HELPER_EPOLLRDNORM = EPOLLRDNORM;
const __poll_t RUST_CONST_HELPER_EPOLLERR = EPOLLERR;
