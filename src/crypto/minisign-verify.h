/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Checking minisign signatures with libcrypto, in minisign's order: key id first (before any
 * crypto), then the signature over the BLAKE2b-512 of the data, then the global signature over
 * the signature and the trusted comment; only then is the comment to be trusted. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "format/minisign.h"

#define BLAKE2B512_DIGEST_SIZE 64

/* Before streaming: -EKEYREJECTED when the key ids differ (why says both), -EPROTONOSUPPORT for
 * a legacy "Ed" signature, which cannot be checked while streaming (why says how to re-sign). */
int minisign_check_params(const struct minisign_pubkey *pk, const struct minisign_sig *sig,
			  char *why, size_t whylen);

/* The global signature over the signature and its trusted comment, which needs no data: check
 * it before the comment is shown anywhere. 0, or -EKEYREJECTED (or check_params' errors) with
 * why. */
int minisign_verify_comment(const struct minisign_pubkey *pk, const struct minisign_sig *sig,
			    char *why, size_t whylen);

/* After streaming, with the BLAKE2b-512 of the data: 0, or -EKEYREJECTED with why. */
int minisign_verify_prehashed(const struct minisign_pubkey *pk, const struct minisign_sig *sig,
			      const uint8_t blake2b[BLAKE2B512_DIGEST_SIZE], char *why,
			      size_t whylen);
