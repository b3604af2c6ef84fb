/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which server a URL points to (its origin, RFC 6454 §4: scheme, host, port), through libcurl's
 * URL API, so that secrets meant for one server (custom headers, credentials) go to no other. */
#pragma once

#include <stdbool.h>

/* true when a and b are http(s) URLs with the same scheme, host (compared case-insensitively)
 * and port (the scheme's default port when none is written). false for anything that is not an
 * http(s) URL, or that libcurl cannot parse: when in doubt, not the same server. */
bool url_same_origin(const char *a, const char *b);

/* A copy of url with its userinfo ("user:password@") removed, malloc'ed; NULL on a URL libcurl
 * cannot parse or out of memory. */
char *url_without_userinfo(const char *url);
