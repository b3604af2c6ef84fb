// SPDX-License-Identifier: GPL-2.0-or-later
/* The preflight look at an image's first bytes. */
#include "flash/image-probe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/parse-util.h"
#include "format/qcow2.h"

#define OUT_MAX (64U << 10)

int image_probe(const uint8_t *head, size_t n, uint64_t src_size, struct image_probe *ret,
		char *why, size_t whylen)
{
	struct image_probe p = { .compression = compression_detect(head, n),
				 .min_size = UINT64_MAX };
	_cleanup_free_ uint8_t *out = NULL;
	const uint8_t *img = head;
	size_t img_len = n;
	char sz[32];
	int r;

	if (p.compression != COMPRESSION_RAW) {
		struct decompressor *d = NULL;
		size_t consumed = 0, produced = 0;

		out = malloc(OUT_MAX);
		if (!out)
			return -ENOMEM;
		img = out;
		img_len = 0;
		if (decompressor_new(p.compression, &d) == 0) {
			/* a head cut anywhere: whatever decodes is enough to look at */
			if (decompressor_feed(d, head, n, &consumed, out, OUT_MAX, &produced) == 0)
				img_len = produced;
			decompressor_free(d);
		}
		p.min_size = decompress_declared_size(head, n);
	}
	r = container_detect(img, img_len, &p.container, why, whylen);
	if (r < 0)
		return r;
	if (p.container == CONTAINER_QCOW2) {
		struct qcow2_header h;

		r = qcow2_header_parse(img, img_len, &h, why, whylen);
		if (r < 0)
			return r;
		p.min_size = h.size;
		snprintf(p.what, sizeof(p.what), "qcow2 version %u, virtual size %s%s%s", h.version,
			 format_bytes(sz, sizeof(sz), h.size),
			 h.compression == QCOW2_COMPRESSION_ZSTD ? ", zstd clusters" : "",
			 h.extended_l2 ? ", extended L2" : "");
	} else if (p.container == CONTAINER_TAR) {
		/* the member's size is known only once the archive is read: no minimum here */
		p.min_size = UINT64_MAX;
		snprintf(p.what, sizeof(p.what), "tar archive");
	} else {
		if (p.compression == COMPRESSION_RAW)
			p.min_size = src_size;
		snprintf(p.what, sizeof(p.what), "raw disk image");
	}
	*ret = p;
	return 0;
}
