// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: the decompression front end (detection and every backend), with output capped so
 * that decompression bombs only cost time up to the cap. */
#include "flash/decompress.h"
#include "fuzz.h"

#define OUT_CAP (64U << 10)
#define TOTAL_CAP (8U << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[OUT_CAP];
	struct decompressor *d;
	enum compression c = compression_detect(data, size);
	size_t i = 0, total = 0;
	/* vary the input step with the data so that piece boundaries get exercised */
	size_t step = size > 0 ? (size_t)data[size - 1] % 97 + 1 : 1;

	(void)decompress_declared_size(data, size);
	if (decompressor_new(c, &d) < 0)
		return 0;
	for (;;) {
		size_t give = size - i < step ? size - i : step, consumed, produced;
		if (decompressor_feed(d, data + i, give, &consumed, out, sizeof(out), &produced) < 0)
			goto done;
		i += consumed;
		total += produced;
		if (total > TOTAL_CAP)
			goto done;
		if (i == size && produced < sizeof(out))
			break;
	}
	(void)decompressor_finish(d);
done:
	decompressor_free(d);
	return 0;
}
