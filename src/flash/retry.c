// SPDX-License-Identifier: GPL-2.0-or-later
/* Backoff computation for transfer retries. */
#include "flash/retry.h"

uint64_t retry_delay_ms(unsigned attempt, uint64_t retry_after_ms, uint32_t rnd)
{
	uint64_t d = RETRY_BASE_MS;

	if (attempt == 0)
		attempt = 1;
	for (unsigned i = 1; i < attempt && d < RETRY_CAP_MS; i++)
		d *= 2;
	if (d > RETRY_CAP_MS)
		d = RETRY_CAP_MS;
	/* "equal jitter": half fixed, half random */
	d = d / 2 + (uint64_t)((double)(d / 2) * ((double)rnd / 4294967295.0));
	if (retry_after_ms > d)
		d = retry_after_ms > 300000 ? 300000 : retry_after_ms;
	return d;
}
