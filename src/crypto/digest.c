// SPDX-License-Identifier: GPL-2.0-or-later
/* Streaming digests: a thin layer over EVP_MD_CTX that speaks negative errno. */
#include "crypto/digest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>

struct digest {
	EVP_MD_CTX *ctx;
	size_t size;
};

int digest_new_sha256(struct digest **ret)
{
	struct digest *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->ctx = EVP_MD_CTX_new();
	if (!d->ctx || EVP_DigestInit_ex(d->ctx, EVP_sha256(), NULL) != 1) {
		digest_free(d);
		return -ENOMEM;
	}
	d->size = SHA256_DIGEST_SIZE;
	*ret = d;
	return 0;
}

int digest_new_blake2b512(struct digest **ret)
{
	struct digest *d = calloc(1, sizeof(*d));
	const EVP_MD *md = EVP_blake2b512();

	if (!d)
		return -ENOMEM;
	if (!md) {
		free(d);
		return -EPROTONOSUPPORT;
	}
	d->ctx = EVP_MD_CTX_new();
	if (!d->ctx || EVP_DigestInit_ex(d->ctx, md, NULL) != 1) {
		digest_free(d);
		return -ENOMEM;
	}
	d->size = 64;
	*ret = d;
	return 0;
}

void digest_free(struct digest *d)
{
	if (!d)
		return;
	EVP_MD_CTX_free(d->ctx);
	free(d);
}

int digest_update(struct digest *d, const void *buf, size_t n)
{
	return EVP_DigestUpdate(d->ctx, buf, n) == 1 ? 0 : -EIO;
}

int digest_final(struct digest *d, uint8_t *out, size_t outsz)
{
	unsigned len = 0;

	if (outsz < d->size)
		return -EINVAL;
	return EVP_DigestFinal_ex(d->ctx, out, &len) == 1 && len == d->size ? 0 : -EIO;
}
