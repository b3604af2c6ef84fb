/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "basic/alloc-util.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#define FIRST_CAPACITY 16

int array_reserve(void **p, size_t *cap, size_t n, size_t size)
{
	size_t want;
	void *q;

	if (n < *cap)
		return 0;
	if (size == 0)
		return -EINVAL;
	want = *cap ? *cap : FIRST_CAPACITY;
	while (want <= n) {
		if (want > SIZE_MAX / 2)
			return -ENOMEM;
		want *= 2;
	}
	if (want > SIZE_MAX / size)
		return -ENOMEM;
	q = realloc(*p, want * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = want;
	return 0;
}
