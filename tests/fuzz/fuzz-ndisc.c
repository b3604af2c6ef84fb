// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: RTM_NEWNDUSEROPT payloads (router advertisement options, RDNSS). */
#include <string.h>

#include "fuzz.h"
#include "net/ndisc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ndisc_rdnss rd;
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (ndisc_useropt_parse(copy, size, &rd) == 1 && rd.n_servers > NDISC_MAX_DNS)
		abort();
	free(copy);
	return 0;
}
