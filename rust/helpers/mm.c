// SPDX-License-Identifier: GPL-2.0

/*
 * Helpers for the inline functions and macros behind the kernel crate's
 * memory-mapping bindings (kernel::mm).
 */

#include <linux/mm.h>
#include <linux/vmalloc.h>

void rust_helper_vm_flags_clear(struct vm_area_struct *vma, vm_flags_t flags)
{
	vm_flags_clear(vma, flags);
}

void *rust_helper_vmalloc_user(unsigned long size)
{
	return vmalloc_user(size);
}
