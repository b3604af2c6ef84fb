/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Looking up an image's expected SHA-256 in a SHA256SUMS list that is a file or a URL. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "flash/pipeline.h"

/* Read the list `sums` and, when sig is given, check its detached OpenPGP signature with the
 * keys in the local file keyring (gpgv, before anything in the list is believed); find the entry for name (or, when name is NULL, for the file name
 * of src). Request headers in o go with the list's request only when it is on the same server
 * as src. Returns 0 with the digest and a description ("SHA256SUMS entry for NAME in LIST")
 * in origin; otherwise the exit code it deserves (enum flash_exit) with a message in msg. */
int sums_lookup(const struct flash_options *o, const char *sums, const char *name,
		const char *sig, const char *keyring, uint8_t ret_digest[32], char *origin, size_t originlen, char *msg, size_t msglen);
