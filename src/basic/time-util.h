/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Monotonic clock helpers in milliseconds and nanoseconds. */
#pragma once

#include <stdint.h>

uint64_t now_ms(void);
uint64_t now_ns(void);
/* Sleep for ms milliseconds, restarting after signals unless *stop becomes nonzero. */
void sleep_ms(uint64_t ms, const volatile int *stop);
