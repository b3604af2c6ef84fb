// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: URL redaction, secret extraction and file names. */
#include "format/url.h"
#include "fuzz.h"

static const char *cur_url, *cur_redacted;

static size_t occurrences(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* Property: every secret url_foreach_secret() names (the logger hides those of 3 bytes or
 * more) has at least one occurrence fewer in the redacted URL than in the URL itself: the one
 * in its secret place. A secret with '*' is skipped: "***" itself could form one. */
static int check_hidden(const char *secret)
{
	if (strlen(secret) < 3 || strchr(secret, '*'))
		return 0;
	if (occurrences(cur_redacted, secret) >= occurrences(cur_url, secret))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *u = fuzz_strndup(data, size);
	char buf[512], small[8];

	if (!u)
		return 0;
	url_redact(u, buf, sizeof(buf));
	cur_url = u;
	cur_redacted = buf;
	(void)url_foreach_secret(u, check_hidden);
	url_redact(u, small, sizeof(small));
	(void)url_file_name(u, buf, sizeof(buf));
	(void)url_file_name(u, small, sizeof(small));
	(void)url_is_http(u);
	free(u);
	return 0;
}
