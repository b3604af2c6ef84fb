// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: OpenPGP armor (keyrings given with --keyring) and gpgv status lines. */
#include <stdlib.h>

#include "format/base64.h"
#include "format/openpgp.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gpg_status st;
	uint8_t *out = NULL, buf[256];
	size_t n;

	if (openpgp_dearmor((const char *)data, size, &out, &n) == 0)
		free(out);
	(void)openpgp_is_armored((const char *)data, size);
	gpg_status_parse((const char *)data, size, &st);
	(void)gpg_status_is_good(&st);
	(void)base64_decode_lines((const char *)data, size, buf, sizeof(buf), &n);
	return 0;
}
