// SPDX-License-Identifier: GPL-2.0-or-later
/* SHA256SUMS lookup for reimage flash and reimage go. */
#include "flash/sums.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "basic/macro.h"
#include "flash/source.h"
#include "format/sha256sums.h"
#include "format/url.h"

/* scheme://authority of a URL, for deciding whether headers may go to it too */
static size_t origin_len(const char *url)
{
	const char *p = strstr(url, "://");
	return p ? (size_t)(p + 3 - url) + strcspn(p + 3, "/?#") : 0;
}

int sums_lookup(const struct flash_options *o, const char *sums, const char *name_override,
		uint8_t ret_digest[32], char *origin, size_t originlen, char *msg, size_t msglen)
{
	struct source_config cfg = {
		.location = sums,
		.retries = o->retries,
		.retry_for_ms = o->retry_for_ms,
		.connect_timeout_ms = o->connect_timeout_ms,
		.stall_timeout_ms = o->stall_timeout_ms,
		.low_speed = o->low_speed,
		.tls = o->tls,
	};
	_cleanup_free_ char *text = NULL;
	char name[1024], err[1024] = "", shown[2048];
	unsigned count = 0;
	size_t len;
	int r;

	if (name_override)
		snprintf(name, sizeof(name), "%s", name_override);
	else if (strcmp(o->src, "-") == 0) {
		snprintf(msg, msglen, "--sums needs --name NAME when SRC is standard input");
		return FLASH_EXIT_USAGE;
	} else if (url_is_http(o->src)) {
		if (url_file_name(o->src, name, sizeof(name)) < 0) {
			snprintf(msg, msglen,
				 "cannot tell the file name of SRC to look up in --sums; give --name");
			return FLASH_EXIT_USAGE;
		}
	} else {
		_cleanup_free_ char *copy = strdup(o->src);
		if (!copy)
			return FLASH_EXIT_INTERNAL;
		snprintf(name, sizeof(name), "%s", basename(copy));
	}

	/* Send the user's headers only to the server SRC lives on. */
	if (url_is_http(sums) && url_is_http(o->src) && origin_len(sums) == origin_len(o->src) &&
	    strncasecmp(sums, o->src, origin_len(sums)) == 0) {
		cfg.headers = o->headers;
		cfg.n_headers = o->n_headers;
	}
	if (url_is_http(sums))
		url_redact(sums, shown, sizeof(shown));
	else
		snprintf(shown, sizeof(shown), "%s", sums);

	r = source_read_all(&cfg, SHA256SUMS_MAX_SIZE, &text, &len, err, sizeof(err));
	if (r < 0) {
		snprintf(msg, msglen, "cannot read the checksum list %s: %s", shown,
			 err[0] ? err : strerror(-r));
		/* a local list that cannot be read is a bad option; a URL is a source like SRC */
		if (!url_is_http(sums) && r != -EFBIG)
			return FLASH_EXIT_USAGE;
		return r == -EFBIG ? FLASH_EXIT_VERIFY : FLASH_EXIT_SOURCE;
	}
	r = sha256sums_find(text, len, name, ret_digest, &count);
	if (r == -ENOENT) {
		snprintf(msg, msglen,
			 "no entry for '%s' in the checksum list %s (%u entr%s read); pick another "
			 "name with --name",
			 name, shown, count, count == 1 ? "y" : "ies");
		return FLASH_EXIT_VERIFY;
	}
	if (r == -ENOTUNIQ) {
		snprintf(msg, msglen,
			 "the checksum list %s has several different entries for '%s'; give the exact "
			 "path with --name",
			 shown, name);
		return FLASH_EXIT_VERIFY;
	}
	if (r < 0) {
		snprintf(msg, msglen, "cannot parse the checksum list %s: %s", shown, strerror(-r));
		return FLASH_EXIT_VERIFY;
	}
	snprintf(origin, originlen, "SHA256SUMS entry for %s in %s", name, shown);
	return 0;
}
