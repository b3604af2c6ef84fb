// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: bzImage setup headers, and boot_params built from them. */
#include "format/bzimage.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t bp[BOOT_PARAMS_SIZE];
	struct e820_entry e = { 0x100000, 0x1000000, 1 };
	struct bzimage b;

	(void)bzimage_parse(data, size, &b);
	(void)boot_params_build(bp, data, size, 0x10000, 0x200000, 0x1000, &e, 1, 0);
	return 0;
}
