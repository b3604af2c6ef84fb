// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for JSON string quoting. */
#include "format/json.h"
#include "tests.h"

TEST(quote)
{
	char b[128];
	json_quote("plain", b, sizeof(b));
	ASSERT_STREQ(b, "\"plain\"");
	json_quote("a\"b\\c\nd\te\x01", b, sizeof(b));
	ASSERT_STREQ(b, "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
	json_quote("caf\xc3\xa9", b, sizeof(b));
	ASSERT_STREQ(b, "\"caf\xc3\xa9\"");
	json_quote("bad\xff\xc3", b, sizeof(b));
	ASSERT_STREQ(b, "\"bad\\ufffd\\ufffd\"");
	/* overlong encoding of '/' is invalid UTF-8 */
	json_quote("\xc0\xaf", b, sizeof(b));
	ASSERT_STREQ(b, "\"\\ufffd\\ufffd\"");
}

TEST(truncation)
{
	char b[6];
	size_t need = json_quote("abcdefgh", b, sizeof(b));
	ASSERT_EQ(need, 10);
	ASSERT_EQ(strlen(b), 5);
}

RUN(T(quote), T(truncation))
