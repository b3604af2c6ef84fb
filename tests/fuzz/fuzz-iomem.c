// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: /proc/iomem text, and placing segments in the RAM it describes. */
#include "format/iomem.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct iomem_ram ram;
	uint64_t a;

	if (iomem_parse_usable_ram((const char *)data, size, &ram) < 0)
		return 0;
	/* the loader's sequence: a 2 MiB aligned kernel, then pages */
	(void)iomem_ram_take(&ram, 0x1ab0000, 0x200000, 0, &a);
	(void)iomem_ram_take(&ram, 0x800000, 0x1000, 0, &a);
	(void)iomem_ram_take(&ram, 0x2000, 0x200000, 0, &a);
	(void)iomem_ram_take(&ram, 0x5000, 0x1000, UINT64_MAX - 0x1000, &a);
	return 0;
}
