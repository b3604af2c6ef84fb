// SPDX-License-Identifier: GPL-2.0-or-later
/* Parsers for the HTTP response header lines that drive resume and retry decisions. */
#include "format/http-header.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

static bool is_tchar(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c);
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static size_t strip_eol(const char *line, size_t n)
{
	if (n > 0 && line[n - 1] == '\n')
		n--;
	if (n > 0 && line[n - 1] == '\r')
		n--;
	return n;
}

/* Parse up to max digits at *p; advances the cursor. */
static int parse_digits(const char **p, const char *end, uint64_t *ret)
{
	uint64_t v = 0;
	const char *s = *p;

	if (s >= end || *s < '0' || *s > '9')
		return -EBADMSG;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -EBADMSG;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*p = s;
	*ret = v;
	return 0;
}

int http_status_line_parse(const char *line, size_t n, unsigned *ret_code)
{
	const char *p = line, *end;
	uint64_t code;

	n = strip_eol(line, n);
	end = line + n;
	if (n < 5 || memcmp(line, "HTTP/", 5) != 0)
		return -ENOMSG;
	p += 5;
	/* version: digit [ "." digit ] */
	if (p >= end || *p < '0' || *p > '9')
		return -EBADMSG;
	p++;
	if (p < end && *p == '.') {
		p++;
		if (p >= end || *p < '0' || *p > '9')
			return -EBADMSG;
		p++;
	}
	if (p >= end || *p != ' ')
		return -EBADMSG;
	p++;
	if (end - p < 3)
		return -EBADMSG;
	for (int i = 0; i < 3; i++)
		if (p[i] < '0' || p[i] > '9')
			return -EBADMSG;
	if (parse_digits(&p, p + 3, &code) < 0 || code < 100)
		return -EBADMSG;
	if (p < end && *p != ' ')
		return -EBADMSG;
	*ret_code = (unsigned)code;
	return 0;
}

int http_field_parse(const char *line, size_t n, struct http_field *ret)
{
	const char *colon, *v, *ve;

	if (n > HTTP_HEADER_LINE_MAX)
		return -EBADMSG;
	n = strip_eol(line, n);
	if (n == 0)
		return -ENODATA;
	colon = memchr(line, ':', n);
	if (!colon || colon == line)
		return -EBADMSG;
	for (const char *p = line; p < colon; p++)
		if (!is_tchar(*p))
			return -EBADMSG;
	v = colon + 1;
	ve = line + n;
	while (v < ve && is_ows(*v))
		v++;
	while (ve > v && is_ows(ve[-1]))
		ve--;
	for (const char *p = v; p < ve; p++)
		if (*p == 0 || *p == '\r' || *p == '\n')
			return -EBADMSG;
	ret->name = line;
	ret->name_len = (size_t)(colon - line);
	ret->value = v;
	ret->value_len = (size_t)(ve - v);
	return 0;
}

bool http_field_is(const struct http_field *f, const char *name)
{
	return strlen(name) == f->name_len && strncasecmp(f->name, name, f->name_len) == 0;
}

int http_content_range_parse(const char *v, size_t n, uint64_t *ret_first, uint64_t *ret_last,
			     uint64_t *ret_total)
{
	const char *p = v, *end = v + n;
	uint64_t first, last, total = UINT64_MAX;

	if (n < 6 || strncasecmp(p, "bytes ", 6) != 0)
		return -EBADMSG;
	p += 6;
	while (p < end && *p == ' ')
		p++;
	if (parse_digits(&p, end, &first) < 0)
		return -EBADMSG;
	if (p >= end || *p++ != '-')
		return -EBADMSG;
	if (parse_digits(&p, end, &last) < 0)
		return -EBADMSG;
	if (p >= end || *p++ != '/')
		return -EBADMSG;
	if (p < end && *p == '*')
		p++;
	else if (parse_digits(&p, end, &total) < 0)
		return -EBADMSG;
	if (p != end || first > last || (total != UINT64_MAX && last >= total))
		return -EBADMSG;
	*ret_first = first;
	*ret_last = last;
	*ret_total = total;
	return 0;
}

int http_retry_after_parse(const char *v, size_t n, uint64_t *ret_seconds)
{
	const char *p = v, *end = v + n;
	uint64_t s;

	if (n == 0)
		return -EBADMSG;
	if (*p < '0' || *p > '9')
		return -EOPNOTSUPP;
	if (parse_digits(&p, end, &s) < 0 || p != end)
		return -EBADMSG;
	*ret_seconds = s > 86400 ? 86400 : s;
	return 0;
}

int http_request_header_validate(const char *s)
{
	const char *colon = strchr(s, ':');
	const char *v;

	if (!colon || colon == s)
		return -EINVAL;
	for (const char *p = s; p < colon; p++)
		if (!is_tchar(*p))
			return -EINVAL;
	for (v = colon + 1; is_ows(*v); v++)
		;
	if (!*v)
		return -EINVAL;
	for (const char *p = v; *p; p++)
		if (*p == '\r' || *p == '\n')
			return -EINVAL;
	return 0;
}
