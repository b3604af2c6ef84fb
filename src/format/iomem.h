/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Usable RAM from /proc/iomem (kernel/resource.c, r_show: "%*s%0*llx-%0*llx : %s", two spaces
 * of indent per nesting level), and taking aligned pieces of it: where kexec_load segments may
 * go. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define IOMEM_MAX_RANGES 256

struct mem_range {
	uint64_t start, end; /* [start, end) */
};

struct iomem_ram {
	struct mem_range r[IOMEM_MAX_RANGES]; /* sorted, disjoint */
	size_t n;
};

/* The top-level "System RAM" ranges of text[0..len), minus every range nested in them except
 * the running kernel's own ("Kernel code", "Kernel data", "Kernel bss": the new kernel may
 * replace it; kexec copies the segments into place last). "reserved" children (firmware
 * tables, the device tree, EFI runtime memory) are left alone. 0 and *ret; -EPERM when every
 * address reads 0 (the kernel hides them from non-root readers); -ENOENT when there is no
 * System RAM; -EBADMSG for a line that is not "start-end : name" with start <= end;
 * -EFBIG for more ranges than IOMEM_MAX_RANGES. */
int iomem_parse_usable_ram(const char *text, size_t len, struct iomem_ram *ret);

/* Take the lowest [addr, addr+size) that lies in one range of ram, starts at a multiple of
 * align (a power of two) and at or above min; remove it from ram. 0 and *ret_addr, or
 * -EADDRNOTAVAIL when nothing fits (ram is unchanged); -EINVAL for size 0 or a bad align;
 * -EFBIG when splitting a range needs more than IOMEM_MAX_RANGES. */
int iomem_ram_take(struct iomem_ram *ram, uint64_t size, uint64_t align, uint64_t min,
		   uint64_t *ret_addr);
