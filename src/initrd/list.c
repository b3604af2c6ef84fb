// SPDX-License-Identifier: GPL-2.0-or-later
/* Walking the members of an initramfs and the cpio entries inside them. */
#include "initrd/list.h"

#include <errno.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "flash/decompress.h"

/* Double the output buffer, up to the cap. */
static int grow(uint8_t **out, size_t *cap)
{
	uint8_t *n;

	if (*cap >= INITRD_LIST_MAX_UNPACKED)
		return -EFBIG;
	n = realloc(*out, *cap * 2);
	if (!n)
		return -ENOMEM;
	*out = n;
	*cap *= 2;
	return 0;
}

/* Decode exactly one compressed stream at in[0..len): its output and how many input bytes it
 * took, so the next member can be found behind it. */
static int unpack_one(enum compression c, const uint8_t *in, size_t len, uint8_t **ret,
		      size_t *ret_len, size_t *ret_used)
{
	size_t cap = 1U << 20, out_len = 0;
	uint8_t *out = malloc(cap);
	int r = 0;

	if (!out)
		return -ENOMEM;
	if (c == COMPRESSION_ZSTD) {
		size_t frame = ZSTD_findFrameCompressedSize(in, len);
		ZSTD_DCtx *d = ZSTD_createDCtx();
		ZSTD_inBuffer ib;
		if (ZSTD_isError(frame) || !d) {
			ZSTD_freeDCtx(d);
			free(out);
			return d ? -EBADMSG : -ENOMEM;
		}
		ib = (ZSTD_inBuffer){ in, frame, 0 };
		for (;;) {
			ZSTD_outBuffer ob = { out + out_len, cap - out_len, 0 };
			size_t zr = ZSTD_decompressStream(d, &ob, &ib);
			out_len += ob.pos;
			if (ZSTD_isError(zr)) {
				r = -EBADMSG;
				break;
			}
			if (zr == 0)
				break;
			if (ib.pos == ib.size && ob.pos < ob.size) {
				r = -EBADMSG;
				break;
			}
			if (out_len == cap && (r = grow(&out, &cap)) < 0)
				break;
		}
		*ret_used = frame;
		ZSTD_freeDCtx(d);
	} else if (c == COMPRESSION_XZ) {
		lzma_stream x = LZMA_STREAM_INIT;
		if (lzma_stream_decoder(&x, UINT64_MAX, 0) != LZMA_OK) {
			free(out);
			return -ENOMEM;
		}
		x.next_in = in;
		x.avail_in = len;
		for (;;) {
			lzma_ret lr;
			x.next_out = out + out_len;
			x.avail_out = cap - out_len;
			lr = lzma_code(&x, LZMA_FINISH);
			out_len = cap - x.avail_out;
			if (lr == LZMA_STREAM_END)
				break;
			if (lr != LZMA_OK && !(lr == LZMA_BUF_ERROR && x.avail_out == 0)) {
				r = -EBADMSG;
				break;
			}
			if (x.avail_out == 0 && (r = grow(&out, &cap)) < 0)
				break;
		}
		*ret_used = len - x.avail_in;
		lzma_end(&x);
	} else if (c == COMPRESSION_GZIP) {
		z_stream z = { 0 };
		if (inflateInit2(&z, 15 + 16) != Z_OK) {
			free(out);
			return -ENOMEM;
		}
		z.next_in = (Bytef *)in;
		z.avail_in = len > UINT32_MAX ? UINT32_MAX : (uInt)len;
		for (;;) {
			int zr;
			z.next_out = out + out_len;
			z.avail_out = (uInt)(cap - out_len);
			zr = inflate(&z, Z_NO_FLUSH);
			out_len = cap - z.avail_out;
			if (zr == Z_STREAM_END)
				break;
			if (zr != Z_OK && !(zr == Z_BUF_ERROR && z.avail_out == 0)) {
				r = -EBADMSG;
				break;
			}
			if (z.avail_out == 0 && (r = grow(&out, &cap)) < 0)
				break;
		}
		*ret_used = (size_t)(z.next_in - in);
		inflateEnd(&z);
	} else
		r = -EPROTONOSUPPORT;
	if (r < 0) {
		free(out);
		return r;
	}
	*ret = out;
	*ret_len = out_len;
	return 0;
}

static int list_cpio(const uint8_t *buf, size_t len, size_t *off, unsigned member,
		     const char *comp,
		     int (*fn)(unsigned, const char *, const struct cpio_entry *, void *),
		     void *userdata)
{
	struct cpio_entry *e = malloc(sizeof(*e));
	int r;

	if (!e)
		return -ENOMEM;
	for (;;) {
		r = cpio_reader_next(buf, len, off, e);
		if (r <= 0)
			break;
		r = fn(member, comp, e, userdata);
		if (r != 0)
			break;
	}
	free(e);
	return r == -ENODATA ? -EBADMSG : r; /* an archive must end with its trailer */
}

int initrd_list(const uint8_t *buf, size_t len,
		int (*fn)(unsigned member, const char *compression, const struct cpio_entry *e,
			  void *userdata),
		void *userdata)
{
	size_t off = 0;
	unsigned member = 0;
	int r;

	while (cpio_reader_skip_padding(buf, len, &off)) {
		enum compression c = compression_detect(buf + off, len - off);

		if (len - off >= 4 && memcmp(buf + off, "0707", 4) == 0) {
			r = list_cpio(buf, len, &off, member, "none", fn, userdata);
			if (r != 0)
				return r;
		} else if (c == COMPRESSION_RAW || c == COMPRESSION_BZIP2) {
			return -EPROTONOSUPPORT;
		} else {
			uint8_t *out;
			size_t out_len, used, o = 0;

			r = unpack_one(c, buf + off, len - off, &out, &out_len, &used);
			if (r < 0)
				return r;
			/* a compressed member may hold several archives */
			while (r == 0 && cpio_reader_skip_padding(out, out_len, &o))
				r = list_cpio(out, out_len, &o, member, compression_name(c), fn,
					      userdata);
			free(out);
			if (r != 0)
				return r;
			off += used;
		}
		member++;
	}
	return 0;
}
