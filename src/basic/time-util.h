/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Monotonic clock helpers in milliseconds and nanoseconds. */
#pragma once

#include <stddef.h>
#include <stdint.h>

uint64_t now_ms(void);
uint64_t now_ns(void);
/* Sleep for ms milliseconds, restarting after signals unless *stop becomes nonzero. */
void sleep_ms(uint64_t ms, const volatile int *stop);
/* A duration for people: "42s", "3m05s", "1h15m" (rounded up to the second). */
void format_duration(uint64_t ms, char *buf, size_t n);
