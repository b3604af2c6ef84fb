// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: minisign public keys and signature files, and base64. */
#include "format/base64.h"
#include "format/minisign.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct minisign_pubkey pk;
	struct minisign_sig sig;
	uint8_t out[74];

	(void)minisign_pubkey_parse((const char *)data, size, &pk);
	(void)minisign_sig_parse((const char *)data, size, &sig);
	(void)base64_decode_exact((const char *)data, size, out, size * 3 / 4 < sizeof(out) ? size * 3 / 4 : sizeof(out));
	return 0;
}
