// SPDX-License-Identifier: GPL-2.0-or-later
/* minisign signature checks (Ed25519 with libcrypto). */
#include "crypto/minisign-verify.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int minisign_check_params(const struct minisign_pubkey *pk, const struct minisign_sig *sig,
			  char *why, size_t whylen)
{
	char a[17], b[17];

	if (memcmp(pk->keynum, sig->keynum, 8) != 0) {
		minisign_keynum_format(sig->keynum, a);
		minisign_keynum_format(pk->keynum, b);
		snprintf(why, whylen,
			 "the signature was made with key %s, but the public key given is %s", a, b);
		return -EKEYREJECTED;
	}
	if (!sig->prehashed) {
		snprintf(why, whylen,
			 "the signature is the legacy \"Ed\" kind, which needs the whole file in memory; "
			 "re-sign with a current minisign (minisign -S makes prehashed \"ED\" "
			 "signatures)");
		return -EPROTONOSUPPORT;
	}
	return 0;
}

static int ed25519_verify(const uint8_t key[32], const uint8_t sig[64], const uint8_t *msg,
			  size_t len)
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, key, 32);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = 0;

	if (pkey && ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1)
		ok = EVP_DigestVerify(ctx, sig, 64, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return ok ? 0 : -EKEYREJECTED;
}

int minisign_verify_comment(const struct minisign_pubkey *pk, const struct minisign_sig *sig,
			    char *why, size_t whylen)
{
	size_t clen = strlen(sig->trusted_comment);
	uint8_t *global;
	int r = minisign_check_params(pk, sig, why, whylen);

	if (r < 0)
		return r;
	/* the global signature covers the signature and the comment's bytes exactly as signed */
	global = malloc(64 + clen);
	if (!global)
		return -ENOMEM;
	memcpy(global, sig->sig, 64);
	memcpy(global + 64, sig->trusted_comment, clen);
	r = ed25519_verify(pk->key, sig->global_sig, global, 64 + clen);
	free(global);
	if (r < 0) {
		snprintf(why, whylen,
			 "the trusted comment of the signature was altered (global signature invalid)");
		return -EKEYREJECTED;
	}
	return 0;
}

int minisign_verify_prehashed(const struct minisign_pubkey *pk, const struct minisign_sig *sig,
			      const uint8_t blake2b[BLAKE2B512_DIGEST_SIZE], char *why,
			      size_t whylen)
{
	int r = minisign_check_params(pk, sig, why, whylen);

	if (r < 0)
		return r;
	if (ed25519_verify(pk->key, sig->sig, blake2b, BLAKE2B512_DIGEST_SIZE) < 0) {
		snprintf(why, whylen, "the minisign signature does not match the data");
		return -EKEYREJECTED;
	}
	return minisign_verify_comment(pk, sig, why, whylen);
}
