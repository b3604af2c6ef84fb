// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: the qcow2 header and table parsers through the streaming qcow2 container, with
 * tables from the stream and from random access. Properties (fuzz-container.h): writes inside
 * the virtual size, each disk byte once, all of it on success. */
#include "format/qcow2.h"
#include "fuzz-container.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qcow2_header h;
	char why[512];

	if (qcow2_header_parse(data, size, &h, why, sizeof(why)) == 0) {
		if (h.cluster_size < 512 || h.cluster_size > (2U << 20) || h.size > QCOW2_MAX_SIZE)
			abort();
	}
	fuzz_container(CONTAINER_QCOW2, data, size, false, NULL);
	fuzz_container(CONTAINER_QCOW2, data, size, true, NULL);
	return 0;
}
