/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The parts of URLs (RFC 3986) we show to people, hide from them, or compare; split by libcurl's
 * URL API (CURLU), the same parser the transfers use, and nowhere else. A raw '@' in the user
 * info (a pasted password) is taken as the person meant it: the last '@' ends the user info. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* true for "http://" and "https://" (scheme compared case-insensitively). */
bool url_is_http(const char *s);

/* Copy url into buf (size n) with the userinfo ("user:pw@") replaced by "***@" and the
 * value of every query parameter replaced by "***" (presigned URLs carry tokens there). The
 * fragment is dropped. A string without "://" (a path) is copied as it is; a URL libcurl
 * cannot parse shows only its scheme. Output is truncated to fit. */
void url_redact(const char *url, char *buf, size_t n);

/* The secret parts of url, each a malloc'ed string for log_add_secret(): the password (or the
 * user name when there is no password) and each query value, each as written and, when it
 * holds %XX escapes, decoded too; for a URL libcurl cannot parse, everything after "://".
 * Calls fn for each. Returns 0 or -ENOMEM. */
int url_foreach_secret(const char *url, int (*fn)(const char *secret));

/* The last non-empty path segment of url, percent-decoded, without query or fragment, into buf
 * (size n); for a string without "://", its last path component. Returns 0, -ENOENT when the
 * path has no segment ("http://host/"), -EINVAL when url does not parse or the decoded name
 * holds '/' or NUL or does not fit. */
int url_file_name(const char *url, char *buf, size_t n);

/* The host of url (an IPv6 literal with its brackets), without user info or port, into buf.
 * Returns 0, -EINVAL when url does not parse, -ENOENT without a host, -ENOBUFS if n is too
 * small. */
int url_host(const char *url, char *buf, size_t n);

/* Whether a and b are http(s) URLs with the same origin (RFC 6454 §4: scheme, host compared
 * without case, port with the scheme's default filled in), so that secrets meant for one
 * server (headers, credentials) may go to the other. false for anything that is not an http(s)
 * URL or does not parse: when in doubt, not the same server. */
bool url_same_origin(const char *a, const char *b);

/* A copy of url with its user info ("user:password@") removed, malloc'ed; NULL on a URL
 * libcurl cannot parse or out of memory. */
char *url_without_userinfo(const char *url);
