/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Randomness for things that must differ between runs and machines, not for keys: protocol
 * transaction IDs, retry jitter, run and instance IDs. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Fills p with n bytes from getrandom(); if the kernel's pool is not ready yet (early boot in
 * the flasher) or the call fails, from a generator seeded by the clock and the PID, which is
 * enough for the uses above and never blocks. */
void random_bytes(void *p, size_t n);
uint64_t random_u64(void);
/* interval, moved at random by up to interval/fraction either way (fraction 4: ±25%). */
uint64_t random_jitter(uint64_t interval, unsigned fraction);
