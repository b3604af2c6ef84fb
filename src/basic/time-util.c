// SPDX-License-Identifier: GPL-2.0-or-later
/* Monotonic clock helpers. */
#include "basic/time-util.h"

#include <errno.h>
#include <time.h>

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t now_ms(void)
{
	return now_ns() / 1000000ULL;
}

void sleep_ms(uint64_t ms, const volatile int *stop)
{
	/* Sleep in short slices so that an interrupt request is noticed quickly. */
	while (ms > 0 && !(stop && *stop)) {
		uint64_t slice = ms > 100 ? 100 : ms;
		struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)(slice * 1000000ULL) };

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		ms -= slice;
	}
}
