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

void rust_helper_vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vm_flags_set(vma, flags);
}

void rust_helper_get_page(struct page *page)
{
	get_page(page);
}

void rust_helper_put_page(struct page *page)
{
	put_page(page);
}
