// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: a bundle's trailer, its meta section, the bzImage header check, and the reader's
 * bounds (the whole input as a bundle file, with a stand-in digest). */
#include <sys/mman.h>
#include <unistd.h>

#include "bundle/reader.h"
#include "format/bundle.h"
#include "fuzz.h"

static void upd(void *ctx, const uint8_t *b, size_t n)
{
	uint8_t *x = ctx;
	for (size_t i = 0; i < n; i++)
		x[i % 32] ^= b[i];
}

static void fin(void *ctx, uint8_t out[32])
{
	memcpy(out, ctx, 32);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bundle_trailer t;
	struct bundle_meta m;
	struct bundle_contents c;
	uint8_t state[32] = { 0 };
	struct bundle_hash h = { state, upd, fin };
	char v[128], why[512], buf[BUNDLE_TEXT_MAX];
	int fd, kfd, ifd;

	if (size >= BUNDLE_TRAILER_SIZE && bundle_trailer_parse(data, size, size, &t) == 0) {
		/* what parses fits inside the input */
		for (int s = 0; s < _BUNDLE_SECTION_MAX; s++)
			if (t.offset[s] + t.length[s] > size - BUNDLE_TRAILER_SIZE)
				abort();
	}
	if (bundle_meta_parse((const char *)data, size, &m) == 0) {
		int l = bundle_meta_format(&m, buf, sizeof(buf));
		struct bundle_meta n;
		/* what we write, we read back the same */
		if (l < 0 || bundle_meta_parse(buf, (size_t)l, &n) != 0 || strcmp(n.dst, m.dst) != 0 ||
		    n.dst_size != m.dst_size)
			abort();
	}
	(void)bundle_kernel_probe(data, size, v, sizeof(v));

	fd = memfd_create("fuzz-bundle", MFD_CLOEXEC);
	kfd = memfd_create("fuzz-kernel", MFD_CLOEXEC);
	ifd = memfd_create("fuzz-initrd", MFD_CLOEXEC);
	if (fd >= 0 && kfd >= 0 && ifd >= 0 && write(fd, data, size) == (ssize_t)size &&
	    bundle_read(fd, &h, kfd, ifd, &c, why, sizeof(why)) == 0)
		bundle_contents_done(&c);
	if (fd >= 0)
		close(fd);
	if (kfd >= 0)
		close(kfd);
	if (ifd >= 0)
		close(ifd);
	return 0;
}
