// SPDX-License-Identifier: GPL-2.0

/*
 * Helpers for the inline functions behind the kernel crate's dma-buf
 * exporter (kernel::dma_buf).
 */

#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>

void rust_helper_get_dma_buf(struct dma_buf *dmabuf)
{
	get_dma_buf(dmabuf);
}

void rust_helper_dma_unmap_sgtable(struct device *dev, struct sg_table *sgt,
				   enum dma_data_direction dir,
				   unsigned long attrs)
{
	dma_unmap_sgtable(dev, sgt, dir, attrs);
}
