// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the retry backoff. */
#include "flash/retry.h"
#include "tests.h"

TEST(backoff)
{
	/* rnd 0 gives the lower half, rnd max the full delay */
	ASSERT_EQ(retry_delay_ms(1, 0, 0), 250);
	ASSERT_EQ(retry_delay_ms(1, 0, UINT32_MAX), 500);
	ASSERT_EQ(retry_delay_ms(2, 0, UINT32_MAX), 1000);
	ASSERT_EQ(retry_delay_ms(3, 0, UINT32_MAX), 2000);
	ASSERT_EQ(retry_delay_ms(7, 0, UINT32_MAX), 30000);
	ASSERT_EQ(retry_delay_ms(100, 0, UINT32_MAX), 30000);
	ASSERT_EQ(retry_delay_ms(100, 0, 0), 15000);
	ASSERT_EQ(retry_delay_ms(0, 0, UINT32_MAX), 500);
}

TEST(jitter_range)
{
	for (uint32_t r = 0; r < 1000; r++) {
		uint64_t d = retry_delay_ms(4, 0, r * 4294967u);
		ASSERT_TRUE(d >= 2000 && d <= 4000);
	}
}

TEST(retry_after)
{
	ASSERT_EQ(retry_delay_ms(1, 10000, 0), 10000);
	ASSERT_EQ(retry_delay_ms(1, 100, UINT32_MAX), 500);
	ASSERT_EQ(retry_delay_ms(1, 999999999, 0), 300000);
}

RUN(T(backoff), T(jitter_range), T(retry_after))
