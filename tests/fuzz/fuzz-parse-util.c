// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: numbers, durations, sizes and hex digests given on the command line. */
#include "basic/parse-util.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_strndup(data, size);
	uint64_t v;
	unsigned u;
	uint8_t d[32];

	if (!s)
		return 0;
	(void)parse_u64(s, &v);
	(void)parse_uint(s, &u);
	(void)parse_duration_ms(s, &v);
	(void)parse_size(s, &v);
	(void)hex_decode_exact(s, strlen(s), d, sizeof(d));
	free(s);
	return 0;
}
