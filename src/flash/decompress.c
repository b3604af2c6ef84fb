// SPDX-License-Identifier: GPL-2.0-or-later
/* Decompressor backends (zlib, liblzma, libzstd, libbz2) behind one feed/finish interface. */
#include "flash/decompress.h"

#include <bzlib.h>
#include <errno.h>
#include <lzma.h>
#include <unistd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

/* zlib and libbz2 count in unsigned int; feed at most this much per call. */
#define MIN_UINT(n) ((n) > 0x40000000U ? 0x40000000U : (n))

struct decompressor {
	enum compression kind;
	/* true between the end of one member and the first byte of the next */
	bool at_boundary;
	bool started;
	const char *error;
	union {
		z_stream z;
		lzma_stream x;
		ZSTD_DCtx *zs;
		bz_stream b;
	};
	size_t zstd_last_ret;
	unsigned members; /* members started after the first */
};

enum compression compression_detect(const uint8_t *b, size_t n)
{
	if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b)
		return COMPRESSION_GZIP;
	if (n >= 6 && memcmp(b, "\xfd" "7zXZ\0", 6) == 0)
		return COMPRESSION_XZ;
	if (n >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd)
		return COMPRESSION_ZSTD;
	/* "BZh" + block size digit + the first block's magic (pi) */
	if (n >= 6 && b[0] == 'B' && b[1] == 'Z' && b[2] == 'h' && b[3] >= '1' && b[3] <= '9' &&
	    b[4] == 0x31 && b[5] == 0x41)
		return COMPRESSION_BZIP2;
	return COMPRESSION_RAW;
}

const char *compression_name(enum compression c)
{
	switch (c) {
	case COMPRESSION_GZIP: return "gzip";
	case COMPRESSION_XZ: return "xz";
	case COMPRESSION_ZSTD: return "zstd";
	case COMPRESSION_BZIP2: return "bzip2";
	default: return "raw";
	}
}

static int backend_init(struct decompressor *d)
{
	switch (d->kind) {
	case COMPRESSION_GZIP:
		memset(&d->z, 0, sizeof(d->z));
		return inflateInit2(&d->z, 15 + 16) == Z_OK ? 0 : -ENOMEM;
	case COMPRESSION_XZ: {
		lzma_stream init = LZMA_STREAM_INIT;
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
		uint64_t avail = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
		/* Blocks of a multi-threaded `xz -T` file decode in parallel; liblzma drops to fewer
		 * threads, or to one, when the blocks would need more than memlimit_threading, and
		 * single-block files decode as before. memlimit_stop is the hard cap. */
		lzma_mt mt = {
			.flags = LZMA_CONCATENATED,
			.threads = cpus > 1 ? (uint32_t)(cpus < 8 ? cpus : 8) : 1,
			/* at most a quarter of free memory: a 256 MiB flasher stays in budget */
			.memlimit_threading = avail / 4 < DECOMPRESS_XZ_THREADS_MEMLIMIT
						      ? avail / 4
						      : DECOMPRESS_XZ_THREADS_MEMLIMIT,
			.memlimit_stop = DECOMPRESS_MEMLIMIT,
		};
		d->x = init;
		return lzma_stream_decoder_mt(&d->x, &mt) == LZMA_OK ? 0 : -ENOMEM;
	}
	case COMPRESSION_ZSTD:
		d->zs = ZSTD_createDCtx();
		if (!d->zs)
			return -ENOMEM;
		if (ZSTD_isError(ZSTD_DCtx_setParameter(d->zs, ZSTD_d_windowLogMax,
							DECOMPRESS_ZSTD_WINDOW_LOG_MAX)))
			return -ENOMEM;
		d->zstd_last_ret = 0;
		return 0;
	case COMPRESSION_BZIP2:
		memset(&d->b, 0, sizeof(d->b));
		return BZ2_bzDecompressInit(&d->b, 0, 0) == BZ_OK ? 0 : -ENOMEM;
	default:
		return 0;
	}
}

static void backend_end(struct decompressor *d)
{
	switch (d->kind) {
	case COMPRESSION_GZIP: inflateEnd(&d->z); break;
	case COMPRESSION_XZ: lzma_end(&d->x); break;
	case COMPRESSION_ZSTD: ZSTD_freeDCtx(d->zs); d->zs = NULL; break;
	case COMPRESSION_BZIP2: BZ2_bzDecompressEnd(&d->b); break;
	default: break;
	}
}

int decompressor_new(enum compression c, struct decompressor **ret)
{
	struct decompressor *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return -ENOMEM;
	d->kind = c;
	r = backend_init(d);
	if (r < 0) {
		backend_end(d);
		free(d);
		return r;
	}
	*ret = d;
	return 0;
}

void decompressor_free(struct decompressor *d)
{
	if (!d)
		return;
	backend_end(d);
	free(d);
}

const char *decompressor_error(const struct decompressor *d)
{
	return d->error ? d->error : "no error";
}

static int fail(struct decompressor *d, int r, const char *msg)
{
	d->error = msg;
	return r;
}

static int feed_gzip(struct decompressor *d, const uint8_t *in, size_t in_len, size_t *consumed,
		     uint8_t *out, size_t out_cap, size_t *produced)
{
	z_stream *z = &d->z;

	z->next_in = (Bytef *)in;
	z->avail_in = (uInt)MIN_UINT(in_len);
	z->next_out = out;
	z->avail_out = (uInt)MIN_UINT(out_cap);
	while (z->avail_out > 0) {
		uInt before_in, before_out;
		int zr;

		if (d->at_boundary) {
			if (z->avail_in == 0)
				break;
			/* Another member must follow; inflate checks its header. */
			if (inflateReset(z) != Z_OK)
				return fail(d, -EBADMSG, "gzip: cannot start the next member");
			d->at_boundary = false;
			d->members++;
		}
		before_in = z->avail_in;
		before_out = z->avail_out;
		zr = inflate(z, Z_NO_FLUSH);
		d->started = true;
		if (zr == Z_STREAM_END) {
			d->at_boundary = true;
			continue;
		}
		if (zr == Z_BUF_ERROR)
			break;
		if (zr == Z_MEM_ERROR)
			return fail(d, -ENOMEM, "gzip: out of memory");
		if (zr != Z_OK)
			return fail(d, -EBADMSG,
				    d->members > 0 && z->total_out == 0
					    ? "gzip: data after the end of the stream is not gzip"
					    : "gzip: compressed data is corrupt");
		if (z->avail_in == before_in && z->avail_out == before_out)
			break;
	}
	*consumed = (size_t)(z->next_in - in);
	*produced = (size_t)(z->next_out - out);
	return 0;
}

static int feed_xz(struct decompressor *d, const uint8_t *in, size_t in_len, size_t *consumed,
		   uint8_t *out, size_t out_cap, size_t *produced)
{
	lzma_stream *x = &d->x;
	lzma_ret lr;

	x->next_in = in;
	x->avail_in = in_len;
	x->next_out = out;
	x->avail_out = out_cap;
	lr = lzma_code(x, LZMA_RUN);
	d->started = true;
	*consumed = in_len - x->avail_in;
	*produced = out_cap - x->avail_out;
	switch (lr) {
	case LZMA_OK:
	case LZMA_BUF_ERROR:
		return 0;
	case LZMA_STREAM_END:
		d->at_boundary = true;
		return 0;
	case LZMA_MEMLIMIT_ERROR:
		return fail(d, -EFBIG, "xz: the stream needs more than 80 MiB of memory to decode "
				       "(recompress with a dictionary of 64 MiB or less, e.g. xz -6)");
	case LZMA_MEM_ERROR:
		return fail(d, -ENOMEM, "xz: out of memory");
	case LZMA_OPTIONS_ERROR:
		return fail(d, -EPROTONOSUPPORT, "xz: unsupported options in the stream");
	case LZMA_FORMAT_ERROR:
		return fail(d, -EBADMSG, "xz: data after the end of the stream is not xz");
	default:
		return fail(d, -EBADMSG, "xz: compressed data is corrupt");
	}
}

static int feed_zstd(struct decompressor *d, const uint8_t *in, size_t in_len, size_t *consumed,
		     uint8_t *out, size_t out_cap, size_t *produced)
{
	ZSTD_inBuffer ib = { in, in_len, 0 };
	ZSTD_outBuffer ob = { out, out_cap, 0 };

	while (ob.pos < ob.size && (ib.pos < ib.size || d->zstd_last_ret != 0)) {
		size_t before_in = ib.pos, before_out = ob.pos;
		size_t zr = ZSTD_decompressStream(d->zs, &ob, &ib);

		d->started = true;
		if (ZSTD_isError(zr)) {
			if (ZSTD_getErrorCode(zr) == ZSTD_error_frameParameter_windowTooLarge)
				return fail(d, -EFBIG,
					    "zstd: the frame needs a window over 64 MiB (made with "
					    "--long or --ultra); recompress without them");
			if (ZSTD_getErrorCode(zr) == ZSTD_error_prefix_unknown)
				return fail(d, -EBADMSG,
					    "zstd: data after the end of a frame is not zstd");
			return fail(d, -EBADMSG, "zstd: compressed data is corrupt");
		}
		d->zstd_last_ret = zr;
		if (ib.pos == before_in && ob.pos == before_out)
			break;
	}
	*consumed = ib.pos;
	*produced = ob.pos;
	return 0;
}

static int feed_bzip2(struct decompressor *d, const uint8_t *in, size_t in_len, size_t *consumed,
		      uint8_t *out, size_t out_cap, size_t *produced)
{
	bz_stream *b = &d->b;
	char *next_in = (char *)in, *next_out = (char *)out;
	unsigned avail_in = (unsigned)MIN_UINT(in_len), avail_out = (unsigned)MIN_UINT(out_cap);

	while (avail_out > 0) {
		int br;

		if (d->at_boundary) {
			if (avail_in == 0)
				break;
			BZ2_bzDecompressEnd(b);
			memset(b, 0, sizeof(*b));
			if (BZ2_bzDecompressInit(b, 0, 0) != BZ_OK)
				return fail(d, -ENOMEM, "bzip2: out of memory");
			d->at_boundary = false;
		}
		b->next_in = next_in;
		b->avail_in = avail_in;
		b->next_out = next_out;
		b->avail_out = avail_out;
		br = BZ2_bzDecompress(b);
		d->started = true;
		if (br == BZ_MEM_ERROR)
			return fail(d, -ENOMEM, "bzip2: out of memory");
		if (br != BZ_OK && br != BZ_STREAM_END)
			return fail(d, -EBADMSG, "bzip2: compressed data is corrupt");
		if (b->avail_in == avail_in && b->avail_out == avail_out && br != BZ_STREAM_END)
			break;
		next_in = b->next_in;
		avail_in = b->avail_in;
		next_out = b->next_out;
		avail_out = b->avail_out;
		if (br == BZ_STREAM_END)
			d->at_boundary = true;
	}
	*consumed = (size_t)(next_in - (char *)in);
	*produced = (size_t)(next_out - (char *)out);
	return 0;
}

int decompressor_feed(struct decompressor *d, const uint8_t *in, size_t in_len, size_t *consumed,
		      uint8_t *out, size_t out_cap, size_t *produced)
{
	*consumed = *produced = 0;
	switch (d->kind) {
	case COMPRESSION_GZIP:
		return feed_gzip(d, in, in_len, consumed, out, out_cap, produced);
	case COMPRESSION_XZ:
		return feed_xz(d, in, in_len, consumed, out, out_cap, produced);
	case COMPRESSION_ZSTD:
		return feed_zstd(d, in, in_len, consumed, out, out_cap, produced);
	case COMPRESSION_BZIP2:
		return feed_bzip2(d, in, in_len, consumed, out, out_cap, produced);
	default: {
		size_t n = in_len < out_cap ? in_len : out_cap;
		memcpy(out, in, n);
		*consumed = *produced = n;
		return 0;
	}
	}
}

int decompressor_finish(struct decompressor *d)
{
	switch (d->kind) {
	case COMPRESSION_GZIP:
	case COMPRESSION_BZIP2:
		if (!d->at_boundary)
			return fail(d, -EPIPE, d->kind == COMPRESSION_GZIP
						       ? "gzip: the compressed stream is truncated"
						       : "bzip2: the compressed stream is truncated");
		return 0;
	case COMPRESSION_XZ: {
		uint8_t dummy[1];
		lzma_ret lr;

		d->x.next_in = NULL;
		d->x.avail_in = 0;
		d->x.next_out = dummy;
		d->x.avail_out = 0;
		lr = lzma_code(&d->x, LZMA_FINISH);
		if (lr == LZMA_STREAM_END)
			return 0;
		return fail(d, -EPIPE, "xz: the compressed stream is truncated");
	}
	case COMPRESSION_ZSTD:
		if (!d->started || d->zstd_last_ret != 0)
			return fail(d, -EPIPE, "zstd: the compressed stream is truncated");
		return 0;
	default:
		return 0;
	}
}

uint64_t decompress_declared_size(const uint8_t *buf, size_t n)
{
	unsigned long long s;

	if (compression_detect(buf, n) != COMPRESSION_ZSTD)
		return UINT64_MAX;
	s = ZSTD_getFrameContentSize(buf, n);
	if (s == ZSTD_CONTENTSIZE_UNKNOWN || s == ZSTD_CONTENTSIZE_ERROR)
		return UINT64_MAX;
	return (uint64_t)s;
}
