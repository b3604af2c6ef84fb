/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What reimage writes into the purgatory before kexec_load: where the new kernel starts, where
 * its device tree is, and the SHA-256 of every other segment, which the purgatory checks at
 * kexec time before it enters the kernel (as the kernel's own purgatory does for
 * kexec_file_load on x86). The layout is shared by both sides; the loader finds the block by
 * its magic in the purgatory image. */
#pragma once

#include <stdint.h>

#define PURGATORY_MAGIC "RIMGPUR1"
#define PURGATORY_MAX_REGIONS 16

struct purgatory_region {
	uint64_t start; /* physical address */
	uint64_t len;
};

struct purgatory_params {
	char magic[8];         /* PURGATORY_MAGIC, no NUL */
	uint64_t kernel_entry; /* offset 8: physical address the purgatory jumps to */
	uint64_t dtb;          /* offset 16: physical address of the device tree, passed in x0 */
	uint64_t nr_regions;
	struct purgatory_region regions[PURGATORY_MAX_REGIONS];
	uint8_t sha256[32]; /* of the regions, in order, as one stream */
};
