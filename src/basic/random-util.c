/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "basic/random-util.h"

#include <sys/random.h>
#include <unistd.h>

#include "basic/time-util.h"

void random_bytes(void *p, size_t n)
{
	uint8_t *b = p;
	size_t done = 0;

	while (done < n) {
		ssize_t k = getrandom(b + done, n - done, GRND_NONBLOCK);
		if (k <= 0)
			break;
		done += (size_t)k;
	}
	if (done == n)
		return;
	/* 64-bit LCG (Knuth's MMIX constants), top byte of each step */
	uint64_t t = now_ns() ^ ((uint64_t)getpid() << 32);
	for (; done < n; done++) {
		t = t * 6364136223846793005ULL + 1442695040888963407ULL;
		b[done] = (uint8_t)(t >> 56);
	}
}

uint64_t random_u64(void)
{
	uint64_t v;

	random_bytes(&v, sizeof(v));
	return v;
}

uint64_t random_jitter(uint64_t interval, unsigned fraction)
{
	uint64_t span = fraction ? interval / fraction : 0;

	if (span == 0)
		return interval;
	return interval - span + random_u64() % (2 * span + 1);
}
