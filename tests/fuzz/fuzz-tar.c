// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: tar headers, pax records and GNU sparse maps through the streaming tar
 * container, with and without --member. Properties (fuzz-container.h): writes inside the
 * member's size, each byte once, all of it on success. */
#include "format/tar.h"
#include "fuzz-container.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tar_pax pax = { 0 };
	char why[512];

	if (tar_pax_parse((const char *)data, size > 4096 ? 4096 : size, &pax, why, sizeof(why)) == 0)
		for (size_t i = 0; i < pax.n_regions; i++)
			(void)pax.regions[i];
	tar_pax_done(&pax);
	fuzz_container(CONTAINER_TAR, data, size, false, NULL);
	fuzz_container(CONTAINER_TAR, data, size, false, "disk.raw");
	return 0;
}
