// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: arm64 Image headers and the gzip / EFI zboot wrapper headers. */
#include "format/arm64-image.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arm64_image img;
	enum kernel_wrapper w;
	uint64_t off, len;
	char type[40];

	(void)arm64_image_parse(data, size, &img);
	(void)kernel_wrapper_detect(data, size, &w, &off, &len, type, sizeof(type));
	return 0;
}
