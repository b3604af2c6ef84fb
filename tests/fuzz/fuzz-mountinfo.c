// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: /proc/self/mountinfo and /proc/swaps lines. */
#include "format/mountinfo.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mountinfo_entry e;
	char buf[256];

	(void)mountinfo_line_parse((const char *)data, size, &e);
	(void)swaps_line_parse((const char *)data, size, buf, sizeof(buf));
	return 0;
}
