// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: JSON string quoting of arbitrary bytes. */
#include "format/json.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_strndup(data, size);
	char out[256];

	if (!s)
		return 0;
	(void)json_quote(s, out, sizeof(out));
	(void)json_quote(s, out, 1);
	free(s);
	return 0;
}
