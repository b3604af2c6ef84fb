// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: SHA256SUMS lists. The first line of the input is the name to look up. */
#include "format/sha256sums.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	char *name;
	uint8_t d[32];
	unsigned n;

	if (!nl)
		return 0;
	name = fuzz_strndup(data, (size_t)(nl - data));
	if (!name)
		return 0;
	(void)sha256sums_find((const char *)nl + 1, size - (size_t)(nl - data) - 1, name, d, &n);
	free(name);
	return 0;
}
