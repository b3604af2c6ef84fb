// SPDX-License-Identifier: GPL-2.0-or-later
/* Compressors for initramfs members, with the parameters the kernel's decoders need. */
#include "initrd/compress.h"

#include <errno.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

int initrd_compression_from_string(const char *s, enum initrd_compression *ret)
{
	if (!strcmp(s, "zstd"))
		*ret = INITRD_COMPRESSION_ZSTD;
	else if (!strcmp(s, "xz"))
		*ret = INITRD_COMPRESSION_XZ;
	else if (!strcmp(s, "gzip"))
		*ret = INITRD_COMPRESSION_GZIP;
	else if (!strcmp(s, "none"))
		*ret = INITRD_COMPRESSION_NONE;
	else
		return -EINVAL;
	return 0;
}

const char *initrd_compression_to_string(enum initrd_compression c)
{
	switch (c) {
	case INITRD_COMPRESSION_ZSTD: return "zstd";
	case INITRD_COMPRESSION_XZ: return "xz";
	case INITRD_COMPRESSION_GZIP: return "gzip";
	default: return "none";
	}
}

static int compress_zstd(const uint8_t *in, size_t len, uint8_t **ret, size_t *ret_len)
{
	size_t cap = ZSTD_compressBound(len), n;
	ZSTD_CCtx *c = ZSTD_createCCtx();
	uint8_t *out = malloc(cap);
	int r = 0;

	if (!c || !out) {
		r = -ENOMEM;
		goto out;
	}
	/* one frame with a known content size and a 2^23 window, as the kernel allocates it */
	if (ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 9)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, 23)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1))) {
		r = -EIO;
		goto out;
	}
	n = ZSTD_compress2(c, out, cap, in, len);
	if (ZSTD_isError(n)) {
		r = -EIO;
		goto out;
	}
	*ret = out;
	*ret_len = n;
	out = NULL;
out:
	free(out);
	ZSTD_freeCCtx(c);
	return r;
}

static int compress_xz(const uint8_t *in, size_t len, uint8_t **ret, size_t *ret_len)
{
	lzma_options_lzma opt;
	lzma_filter filters[2];
	size_t cap = lzma_stream_buffer_bound(len), pos = 0;
	uint8_t *out;

	if (lzma_lzma_preset(&opt, 9))
		return -EIO;
	opt.dict_size = 1U << 20;
	filters[0] = (lzma_filter){ .id = LZMA_FILTER_LZMA2, .options = &opt };
	filters[1] = (lzma_filter){ .id = LZMA_VLI_UNKNOWN };
	out = malloc(cap);
	if (!out)
		return -ENOMEM;
	if (lzma_stream_buffer_encode(filters, LZMA_CHECK_CRC32, NULL, in, len, out, &pos, cap) !=
	    LZMA_OK) {
		free(out);
		return -EIO;
	}
	*ret = out;
	*ret_len = pos;
	return 0;
}

static int compress_gzip(const uint8_t *in, size_t len, uint8_t **ret, size_t *ret_len)
{
	z_stream z = { 0 };
	uint8_t *out;
	size_t cap;

	if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	cap = deflateBound(&z, (uLong)len);
	out = malloc(cap);
	if (!out) {
		deflateEnd(&z);
		return -ENOMEM;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		free(out);
		return -EIO;
	}
	*ret_len = z.total_out;
	*ret = out;
	deflateEnd(&z);
	return 0;
}

int initrd_compress(enum initrd_compression c, const uint8_t *in, size_t len, uint8_t **ret,
		    size_t *ret_len)
{
	switch (c) {
	case INITRD_COMPRESSION_ZSTD:
		return compress_zstd(in, len, ret, ret_len);
	case INITRD_COMPRESSION_XZ:
		return compress_xz(in, len, ret, ret_len);
	case INITRD_COMPRESSION_GZIP:
		if (len > 0xffffffffU)
			return -EFBIG;
		return compress_gzip(in, len, ret, ret_len);
	default:
		*ret = malloc(len ? len : 1);
		if (!*ret)
			return -ENOMEM;
		memcpy(*ret, in, len);
		*ret_len = len;
		return 0;
	}
}
