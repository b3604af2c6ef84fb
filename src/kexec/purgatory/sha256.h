/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SHA-256 (FIPS 180-4) in freestanding C: no libc, no unaligned accesses, no floating point, so
 * the same file runs in the purgatory (MMU off, before the new kernel) and in reimage, which
 * computes the digest the purgatory checks. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct sha256_ctx {
	uint32_t h[8];
	uint64_t total; /* bytes so far */
	uint8_t block[64];
	uint32_t fill; /* bytes in block */
};

void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
void sha256_final(struct sha256_ctx *c, uint8_t out[32]);
