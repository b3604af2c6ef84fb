// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the strict number, duration, size and hex parsers. */
#include <errno.h>

#include "basic/parse-util.h"
#include "tests.h"

TEST(u64)
{
	uint64_t v;
	ASSERT_EQ(parse_u64("0", &v), 0);
	ASSERT_EQ(v, 0);
	ASSERT_EQ(parse_u64("18446744073709551615", &v), 0);
	ASSERT_TRUE(v == UINT64_MAX);
	ASSERT_EQ(parse_u64("18446744073709551616", &v), -ERANGE);
	ASSERT_EQ(parse_u64("", &v), -EINVAL);
	ASSERT_EQ(parse_u64("-1", &v), -EINVAL);
	ASSERT_EQ(parse_u64("12 ", &v), -EINVAL);
	ASSERT_EQ(parse_u64("0x10", &v), -EINVAL);
}

TEST(duration)
{
	uint64_t ms;
	ASSERT_EQ(parse_duration_ms("30", &ms), 0);
	ASSERT_EQ(ms, 30000);
	ASSERT_EQ(parse_duration_ms("2.5", &ms), 0);
	ASSERT_EQ(ms, 2500);
	ASSERT_EQ(parse_duration_ms("0.001", &ms), 0);
	ASSERT_EQ(ms, 1);
	ASSERT_EQ(parse_duration_ms("15m", &ms), 0);
	ASSERT_EQ(ms, 900000);
	ASSERT_EQ(parse_duration_ms("1h", &ms), 0);
	ASSERT_EQ(ms, 3600000);
	ASSERT_EQ(parse_duration_ms("90s", &ms), 0);
	ASSERT_EQ(ms, 90000);
	ASSERT_EQ(parse_duration_ms("1.5m", &ms), 0);
	ASSERT_EQ(ms, 90000);
	ASSERT_EQ(parse_duration_ms("", &ms), -EINVAL);
	ASSERT_EQ(parse_duration_ms("s", &ms), -EINVAL);
	ASSERT_EQ(parse_duration_ms("1.", &ms), -EINVAL);
	ASSERT_EQ(parse_duration_ms("5d", &ms), -EINVAL);
	ASSERT_EQ(parse_duration_ms("-3", &ms), -EINVAL);
	ASSERT_EQ(parse_duration_ms("99999999999999", &ms), -ERANGE);
}

TEST(size)
{
	uint64_t v;
	ASSERT_EQ(parse_size("1024", &v), 0);
	ASSERT_EQ(v, 1024);
	ASSERT_EQ(parse_size("64K", &v), 0);
	ASSERT_EQ(v, 65536);
	ASSERT_EQ(parse_size("2MiB", &v), 0);
	ASSERT_EQ(v, 2 << 20);
	ASSERT_EQ(parse_size("1G", &v), 0);
	ASSERT_EQ(v, 1 << 30);
	ASSERT_EQ(parse_size("1X", &v), -EINVAL);
	ASSERT_EQ(parse_size("1KB ", &v), -EINVAL);
	ASSERT_EQ(parse_size("99999999999T", &v), -ERANGE);
	ASSERT_EQ(parse_size("", &v), -EINVAL);
}

TEST(hex)
{
	uint8_t b[4];
	char s[9];
	ASSERT_EQ(hex_decode_exact("00fFa5C3", 8, b, 4), 0);
	ASSERT_EQ(b[0], 0);
	ASSERT_EQ(b[1], 0xff);
	ASSERT_EQ(b[2], 0xa5);
	ASSERT_EQ(b[3], 0xc3);
	hex_encode(b, 4, s);
	ASSERT_STREQ(s, "00ffa5c3");
	ASSERT_EQ(hex_decode_exact("00fFa5C", 7, b, 4), -EINVAL);
	ASSERT_EQ(hex_decode_exact("00fFa5Cg", 8, b, 4), -EINVAL);
	ASSERT_EQ(hex_decode_exact("00fFa5C3aa", 10, b, 4), -EINVAL);
}

TEST(format_bytes)
{
	char b[32];
	ASSERT_STREQ(format_bytes(b, sizeof(b), 0), "0 B");
	ASSERT_STREQ(format_bytes(b, sizeof(b), 1023), "1023 B");
	ASSERT_STREQ(format_bytes(b, sizeof(b), 1536), "1.5 KiB");
	ASSERT_STREQ(format_bytes(b, sizeof(b), 3ULL << 30), "3.0 GiB");
}

RUN(T(u64), T(duration), T(size), T(hex), T(format_bytes))
