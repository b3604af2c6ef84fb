// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the HTTP response header parsers and request header validation. */
#include <errno.h>

#include "format/http-header.h"
#include "tests.h"

#define S(x) x, strlen(x)

TEST(status)
{
	unsigned c = 0;
	ASSERT_EQ(http_status_line_parse(S("HTTP/1.1 206 Partial Content\r\n"), &c), 0);
	ASSERT_EQ(c, 206);
	ASSERT_EQ(http_status_line_parse(S("HTTP/2 200\r\n"), &c), 0);
	ASSERT_EQ(c, 200);
	ASSERT_EQ(http_status_line_parse(S("HTTP/1.0 404\r\n"), &c), 0);
	ASSERT_EQ(c, 404);
	ASSERT_EQ(http_status_line_parse(S("Content-Length: 5\r\n"), &c), -ENOMSG);
	ASSERT_EQ(http_status_line_parse(S("HTTP/1.1 20 OK\r\n"), &c), -EBADMSG);
	ASSERT_EQ(http_status_line_parse(S("HTTP/1.1 2000 OK\r\n"), &c), -EBADMSG);
	ASSERT_EQ(http_status_line_parse(S("HTTP/x 200 OK"), &c), -EBADMSG);
	ASSERT_EQ(http_status_line_parse(S("HTTP/1.1 099 X"), &c), -EBADMSG);
	ASSERT_EQ(http_status_line_parse(S("HTTP/"), &c), -EBADMSG);
}

TEST(field)
{
	struct http_field f;
	ASSERT_EQ(http_field_parse(S("ETag:   \"abc-123\"  \r\n"), &f), 0);
	ASSERT_TRUE(http_field_is(&f, "etag"));
	ASSERT_EQ(f.value_len, 9);
	ASSERT_TRUE(memcmp(f.value, "\"abc-123\"", 9) == 0);
	ASSERT_EQ(http_field_parse(S("X-Empty:\r\n"), &f), 0);
	ASSERT_EQ(f.value_len, 0);
	ASSERT_EQ(http_field_parse(S("\r\n"), &f), -ENODATA);
	ASSERT_EQ(http_field_parse(S("no colon here\r\n"), &f), -EBADMSG);
	ASSERT_EQ(http_field_parse(S(": value\r\n"), &f), -EBADMSG);
	ASSERT_EQ(http_field_parse(S("Bad Name: v\r\n"), &f), -EBADMSG);
}

TEST(content_range)
{
	uint64_t a, b, t;
	ASSERT_EQ(http_content_range_parse(S("bytes 100-199/1000"), &a, &b, &t), 0);
	ASSERT_EQ(a, 100);
	ASSERT_EQ(b, 199);
	ASSERT_EQ(t, 1000);
	ASSERT_EQ(http_content_range_parse(S("bytes 0-0/*"), &a, &b, &t), 0);
	ASSERT_TRUE(t == UINT64_MAX);
	ASSERT_EQ(http_content_range_parse(S("bytes */1000"), &a, &b, &t), -EBADMSG);
	ASSERT_EQ(http_content_range_parse(S("bytes 5-4/10"), &a, &b, &t), -EBADMSG);
	ASSERT_EQ(http_content_range_parse(S("bytes 5-10/10"), &a, &b, &t), -EBADMSG);
	ASSERT_EQ(http_content_range_parse(S("items 1-2/3"), &a, &b, &t), -EBADMSG);
	ASSERT_EQ(http_content_range_parse(S("bytes 1-2/3x"), &a, &b, &t), -EBADMSG);
	ASSERT_EQ(http_content_range_parse(S("bytes 99999999999999999999-1/2"), &a, &b, &t),
		  -EBADMSG);
}

TEST(retry_after)
{
	uint64_t s;
	ASSERT_EQ(http_retry_after_parse(S("120"), &s), 0);
	ASSERT_EQ(s, 120);
	ASSERT_EQ(http_retry_after_parse(S("9999999"), &s), 0);
	ASSERT_EQ(s, 86400);
	ASSERT_EQ(http_retry_after_parse(S("Wed, 21 Oct 2015 07:28:00 GMT"), &s), -EOPNOTSUPP);
	ASSERT_EQ(http_retry_after_parse(S("12a"), &s), -EBADMSG);
	ASSERT_EQ(http_retry_after_parse(S(""), &s), -EBADMSG);
}

TEST(request_header)
{
	ASSERT_EQ(http_request_header_validate("Authorization: Bearer x"), 0);
	ASSERT_EQ(http_request_header_validate("X-Token:abc"), 0);
	ASSERT_EQ(http_request_header_validate("Authorization Bearer x"), -EINVAL);
	ASSERT_EQ(http_request_header_validate("X-Token:   "), -EINVAL);
	ASSERT_EQ(http_request_header_validate("X-Token: a\r\nHost: evil"), -EINVAL);
	ASSERT_EQ(http_request_header_validate("Bad Name: v"), -EINVAL);
	ASSERT_EQ(http_request_header_validate(": v"), -EINVAL);
}

RUN(T(status), T(field), T(content_range), T(retry_after), T(request_header))
