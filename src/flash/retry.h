/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Backoff for retried transfers: exponential, capped, with jitter so that a fleet reflashing
 * from one server does not come back in lockstep. */
#pragma once

#include <stdint.h>

#define RETRY_BASE_MS 500
#define RETRY_CAP_MS 30000

/* Delay before retry number attempt (1 for the first retry): base * 2^(attempt-1), capped at
 * RETRY_CAP_MS, then scaled into [delay/2, delay] by rnd (any 32-bit random value). A server's
 * Retry-After (retry_after_ms, 0 if none) raises the delay to at least that, up to 5 minutes. */
uint64_t retry_delay_ms(unsigned attempt, uint64_t retry_after_ms, uint32_t rnd);
