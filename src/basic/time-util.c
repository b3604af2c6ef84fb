// SPDX-License-Identifier: GPL-2.0-or-later
/* Monotonic clock helpers. */
#include "basic/time-util.h"

#include <errno.h>
#include <stdio.h>
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

void format_duration(uint64_t ms, char *buf, size_t n)
{
	uint64_t s = (ms + 999) / 1000;

	if (s >= 3600)
		snprintf(buf, n, "%lluh%02llum", (unsigned long long)(s / 3600),
			 (unsigned long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(buf, n, "%llum%02llus", (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
	else
		snprintf(buf, n, "%llus", (unsigned long long)s);
}
