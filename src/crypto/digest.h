/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Streaming digests on top of OpenSSL's libcrypto (SHA-NI/AVX code paths where available). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32

struct digest;

/* Create a SHA-256 context. 0 or -ENOMEM. */
int digest_new_sha256(struct digest **ret);
/* BLAKE2b-512 (unkeyed), as minisign prehashes. 0 or -ENOMEM/-EPROTONOSUPPORT. */
int digest_new_blake2b512(struct digest **ret);
void digest_free(struct digest *d);
/* 0 or -EIO (libcrypto failure). */
int digest_update(struct digest *d, const void *buf, size_t n);
/* Write the digest; the context may not be updated afterwards. 0 or -EIO. */
int digest_final(struct digest *d, uint8_t *out, size_t outsz);

static inline void digest_freep(struct digest **d)
{
	if (*d)
		digest_free(*d);
}
