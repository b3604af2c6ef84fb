/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The two OpenPGP texts reimage reads around gpgv: ASCII-armored keys (RFC 4880 §6, which gpgv
 * will not take as a keyring) and the machine-readable lines gpgv writes to --status-fd
 * (GnuPG's doc/DETAILS, "Format of the --status-fd output"). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OPENPGP_KEYRING_MAX (16U << 20)

/* Is text[0..len) ASCII armor (starts, after blank space, with "-----BEGIN PGP ")? */
bool openpgp_is_armored(const char *text, size_t len);

/* Decode every armored block of text[0..len) and concatenate their binary contents, checking
 * each block's CRC-24 when it has one. 0 with a malloc'ed buffer, -EBADMSG for broken armor
 * (no END line, bad base64, CRC mismatch, no block at all), -EFBIG over OPENPGP_KEYRING_MAX,
 * -ENOMEM. */
int openpgp_dearmor(const char *text, size_t len, uint8_t **ret, size_t *ret_len);

struct gpg_status {
	unsigned n_signatures;	       /* NEWSIG lines */
	bool valid;		       /* VALIDSIG seen */
	bool good;		       /* GOODSIG seen */
	bool bad;		       /* BADSIG: the data or signature was changed */
	bool no_pubkey;		       /* NO_PUBKEY / ERRSIG: not made by a key in the keyring */
	bool expired_key, revoked_key; /* EXPKEYSIG, REVKEYSIG */
	bool expired_sig;	       /* EXPSIG */
	char fingerprint[65];	       /* of the signing (sub)key, from VALIDSIG */
	char primary[65];	       /* of the primary key, from VALIDSIG, when given */
	char uid[256];		       /* from GOODSIG, with non-printable bytes replaced by '?' */
	char keyid[17];		       /* from BADSIG/ERRSIG/NO_PUBKEY/GOODSIG */
};

/* Collect what status lines ("[GNUPG:] KEYWORD args", other lines ignored) say. Never fails:
 * unknown keywords and malformed arguments are skipped; fields stay empty. */
void gpg_status_parse(const char *text, size_t len, struct gpg_status *ret);

/* The same for more lines of the same output, added to what s already holds: a status stream
 * read in pieces, each ending at a line end. */
void gpg_status_feed(const char *text, size_t len, struct gpg_status *s);

/* Every signature good and valid, by a key that is neither expired nor revoked. */
bool gpg_status_is_good(const struct gpg_status *s);
