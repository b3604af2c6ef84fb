// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for src/basic/random-util.c: bytes that differ between calls, and jitter that
 * stays inside its bounds yet moves. */
#include "basic/random-util.h"
#include "tests.h"

TEST(bytes_fill_and_differ)
{
	uint8_t a[64] = { 0 }, b[64] = { 0 };
	size_t zero_a = 0;

	random_bytes(a, sizeof(a));
	random_bytes(b, sizeof(b));
	ASSERT_TRUE(memcmp(a, b, sizeof(a)) != 0);
	for (size_t i = 0; i < sizeof(a); i++)
		zero_a += a[i] == 0;
	ASSERT_TRUE(zero_a < 16); /* 64 bytes from a uniform source: a handful of zeros at most */
	ASSERT_TRUE(random_u64() != random_u64());
}

TEST(jitter_bounds)
{
	uint64_t lo = UINT64_MAX, hi = 0;

	for (int i = 0; i < 2000; i++) {
		uint64_t v = random_jitter(4000, 4);
		ASSERT_TRUE(v >= 3000 && v <= 5000);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	/* 2000 draws over 2001 values: both ends of the range are nearly reached */
	ASSERT_TRUE(lo < 3100 && hi > 4900);
	for (int i = 0; i < 200; i++) {
		uint64_t v = random_jitter(1000, 10);
		ASSERT_TRUE(v >= 900 && v <= 1100);
	}
	ASSERT_EQ(random_jitter(3, 4), 3); /* no room to move */
	ASSERT_EQ(random_jitter(1000, 0), 1000);
}

RUN(T(bytes_fill_and_differ), T(jitter_bounds))
