/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The parts of URLs (RFC 3986) we show to people or match against checksum lists. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* true for "http://" and "https://" (scheme compared case-insensitively). */
bool url_is_http(const char *s);

/* Copy url into buf (size n) with the userinfo ("user:pw@") replaced by "***@" and the
 * value of every query parameter replaced by "***" (presigned URLs carry tokens there). The
 * fragment is dropped. Output is truncated to fit. */
void url_redact(const char *url, char *buf, size_t n);

/* The secret parts of url, each a malloc'ed string for log_add_secret(): the password (or the
 * whole userinfo when it has no colon) and each query value. Calls fn for each. Returns 0 or
 * -ENOMEM. */
int url_foreach_secret(const char *url, int (*fn)(const char *secret));

/* The last non-empty path segment of url, percent-decoded, without query or fragment, into buf
 * (size n). Returns 0, -ENOENT when the path has no segment ("http://host/"), -EINVAL when the
 * decoded name holds '/' or NUL or does not fit. */
int url_file_name(const char *url, char *buf, size_t n);
