// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: URL redaction, secret extraction and file names. */
#include "format/url.h"
#include "fuzz.h"

static int ignore(const char *s)
{
	return s[0] == 1 ? 1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *u = fuzz_strndup(data, size);
	char buf[512], small[8];

	if (!u)
		return 0;
	url_redact(u, buf, sizeof(buf));
	url_redact(u, small, sizeof(small));
	(void)url_foreach_secret(u, ignore);
	(void)url_file_name(u, buf, sizeof(buf));
	(void)url_file_name(u, small, sizeof(small));
	(void)url_is_http(u);
	free(u);
	return 0;
}
