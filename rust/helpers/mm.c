// SPDX-License-Identifier: GPL-2.0

/*
 * Helpers for the inline functions and macros behind the kernel crate's
 * memory-mapping bindings (kernel::mm).
 */

#include <linux/mm.h>
#include <linux/vmalloc.h>

void *rust_helper_vmalloc_user(unsigned long size)
{
	return vmalloc_user(size);
}
