/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "basic/io-util.h"

#include <errno.h>
#include <poll.h>

#include "basic/macro.h"
#include "basic/time-util.h"

#define STOP_CHECK_MS 200

int fd_wait_readable(int fd, uint64_t deadline_ms, const volatile int *stop)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now;
		int r;

		if (stop && *stop)
			return -ECANCELED;
		now = now_ms();
		if (now >= deadline_ms)
			return 0;
		r = poll(&pfd, 1, (int)MIN(deadline_ms - now, (uint64_t)STOP_CHECK_MS));
		if (r < 0 && errno != EINTR)
			return negative_errno();
		if (r > 0)
			return 1;
	}
}
