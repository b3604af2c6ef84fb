// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: the ELF reader (program headers, PT_INTERP, the dynamic section and its strings). */
#include "format/elf.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct elf_info info;
	int r = elf_parse(data, size, &info);

	/* what the reader promises about a successful answer */
	if (r >= 0 && (info.n_needed > ELF_MAX_NEEDED || (r == 1) != info.is_dynamic ||
		       strnlen(info.interp, sizeof(info.interp)) == sizeof(info.interp)))
		abort();
	return 0;
}
