/* SPDX-License-Identifier: GPL-2.0-or-later */
/* minisign public keys and signatures (minisign 0.11+ file formats: src/minisign.h). A public
 * key is "Ed" + key id[8] + Ed25519 key[32]; a signature file has four lines: an untrusted
 * comment, base64(algorithm[2] + key id[8] + signature[64]), "trusted comment: TEXT", and
 * base64(global signature[64]) over signature[64] + TEXT. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MINISIGN_COMMENT_MAX 1024

struct minisign_pubkey {
	uint8_t keynum[8];
	uint8_t key[32];
};

struct minisign_sig {
	bool prehashed; /* "ED": Ed25519 over BLAKE2b-512 of the data; "Ed": over the data */
	uint8_t keynum[8];
	uint8_t sig[64];
	char trusted_comment[MINISIGN_COMMENT_MAX];
	uint8_t global_sig[64];
};

/* A public key file ("untrusted comment: ..." then the key line) or the bare base64 key line.
 * 0, or -EBADMSG. */
int minisign_pubkey_parse(const char *text, size_t len, struct minisign_pubkey *ret);

/* A .minisig file. 0; -EBADMSG when malformed; -EPROTONOSUPPORT for an unknown algorithm. */
int minisign_sig_parse(const char *text, size_t len, struct minisign_sig *ret);

/* The key id as minisign prints it (16 upper-case hex digits, little-endian). */
void minisign_keynum_format(const uint8_t keynum[8], char out[17]);
