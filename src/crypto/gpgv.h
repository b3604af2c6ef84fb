/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Checking a detached OpenPGP signature (a distribution's SHA256SUMS.gpg / .sign / .asc) with
 * gpgv, the verify-only tool every Debian and Ubuntu system has: OpenPGP packet parsing and
 * its key handling are better left to GnuPG than written again here. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "format/openpgp.h"

/* Verify sig (binary or armored) over data[0..len) with the keys of keyring (the file's
 * contents, binary or armored; armored keys are decoded here since gpgv takes only binary
 * keyrings). Nothing touches the disk: data, signature and keyring go to gpgv as memfds.
 * Returns 0 when every signature is good (ret filled: signer's fingerprint and user id);
 * -EKEYREJECTED for a bad, unknown-key, expired or revoked signature (ret says which, msg
 * explains); -ENOENT when gpgv is not installed; -EBADMSG for a keyring that is neither;
 * other -errno when gpgv cannot be run. */
int gpgv_verify(const uint8_t *keyring, size_t keyring_len, const uint8_t *sig, size_t sig_len,
		const uint8_t *data, size_t len, struct gpg_status *ret, char *msg, size_t msglen);
