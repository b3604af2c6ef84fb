// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for src/basic/alloc-util.c: arrays that grow keep what they held, and a size that
 * would overflow fails without losing the array. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "basic/alloc-util.h"
#include "tests.h"

TEST(grows_and_keeps)
{
	int *a = NULL;
	size_t cap = 0, n = 0;

	for (int i = 0; i < 1000; i++) {
		ASSERT_EQ(ARRAY_RESERVE(a, cap, n), 0);
		ASSERT_TRUE(cap > n);
		a[n++] = i * 7;
	}
	for (int i = 0; i < 1000; i++)
		ASSERT_EQ(a[i], i * 7);
	/* doubling: 16, 32, ... 1024 */
	ASSERT_EQ(cap, 1024);
	/* room already there: nothing moves */
	int *before = a;
	ASSERT_EQ(ARRAY_RESERVE(a, cap, 5), 0);
	ASSERT_TRUE(a == before);
	free(a);
}

TEST(overflow_keeps_the_old_array)
{
	uint64_t *a = NULL;
	size_t cap = 0;

	ASSERT_EQ(ARRAY_RESERVE(a, cap, 0), 0);
	a[0] = 42;
	uint64_t *old = a;
	size_t old_cap = cap;
	/* an index whose doubled capacity times 8 bytes overflows size_t */
	ASSERT_EQ(ARRAY_RESERVE(a, cap, SIZE_MAX / 4), -ENOMEM);
	ASSERT_TRUE(a == old);
	ASSERT_EQ(cap, old_cap);
	ASSERT_EQ(a[0], 42);
	ASSERT_EQ(ARRAY_RESERVE(a, cap, SIZE_MAX), -ENOMEM);
	ASSERT_EQ(array_reserve((void **)&a, &cap, cap, 0), -EINVAL);
	free(a);
}

RUN(T(grows_and_keeps), T(overflow_keeps_the_old_array))
