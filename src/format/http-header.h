/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The few pieces of HTTP/1.1 response headers we read (RFC 9110, RFC 9112), and checks of the
 * request headers users hand us. Inputs are (pointer, length); nothing needs a NUL. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_HEADER_LINE_MAX 8192

struct http_field {
	const char *name;
	size_t name_len;
	const char *value; /* leading and trailing whitespace removed */
	size_t value_len;
};

/* "HTTP/1.1 206 Partial Content" or "HTTP/2 200": 0 and the status code, -ENOMSG when the
 * line is not a status line, -EBADMSG when it starts like one but is malformed. */
int http_status_line_parse(const char *line, size_t n, unsigned *ret_code);

/* "Name: value" (CRLF or LF optional at the end): 0 and the split; -ENODATA for the empty line
 * that ends the header block; -EBADMSG for anything else (no colon, bad name character, over
 * HTTP_HEADER_LINE_MAX). */
int http_field_parse(const char *line, size_t n, struct http_field *ret);

/* Case-insensitive comparison of the field name. */
bool http_field_is(const struct http_field *f, const char *name);

/* Content-Range value "bytes FIRST-LAST/TOTAL" (TOTAL may be "*"). 0 and the numbers
 * (ret_total = UINT64_MAX when "*"), -EBADMSG when malformed or FIRST > LAST. */
int http_content_range_parse(const char *v, size_t n, uint64_t *ret_first, uint64_t *ret_last,
			     uint64_t *ret_total);

/* Retry-After as delta-seconds (the HTTP-date form is not used by the servers we care about;
 * it gives -EOPNOTSUPP). Values are capped at one day. */
int http_retry_after_parse(const char *v, size_t n, uint64_t *ret_seconds);

/* A user-supplied request header "Name: value": the name must be an RFC 9110 token, the value
 * must not hold CR, LF or NUL and must not be empty. 0 or -EINVAL. */
int http_request_header_validate(const char *s);
