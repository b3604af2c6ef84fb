// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: HTTP status lines, header fields, Content-Range, Retry-After, request headers. */
#include "format/http-header.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct http_field f;
	unsigned code;
	uint64_t a, b, c;
	char *z;

	(void)http_status_line_parse(s, size, &code);
	if (http_field_parse(s, size, &f) == 0) {
		(void)http_field_is(&f, "ETag");
		(void)http_content_range_parse(f.value, f.value_len, &a, &b, &c);
		(void)http_retry_after_parse(f.value, f.value_len, &a);
	}
	(void)http_content_range_parse(s, size, &a, &b, &c);
	(void)http_retry_after_parse(s, size, &a);
	z = fuzz_strndup(data, size);
	if (z) {
		(void)http_request_header_validate(z);
		free(z);
	}
	return 0;
}
