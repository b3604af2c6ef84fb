// SPDX-License-Identifier: GPL-2.0-or-later
/* Decompressor backends (zlib, liblzma, libzstd, libbz2) behind one feed/finish interface. */
#include "flash/decompress.h"

#include <bzlib.h>
#include <errno.h>
#include <lzma.h>
#include <unistd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>
#if HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

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
#if HAVE_ISAL
		struct inflate_state *isal; /* gzip: ISA-L's inflate, about 2x zlib's speed */
#endif
	};
	size_t zstd_last_ret;
	uint64_t xz_memlimit;
	char xz_error[160];
	unsigned members; /* members started after the first */
};

void decompress_xz_memlimits(uint64_t avail, uint64_t *ret_threading, uint64_t *ret_stop)
{
	uint64_t q = avail / 4;

	*ret_threading = q;
	/* liblzma uses memlimit_stop for both when threading is above it */
	*ret_stop = q > DECOMPRESS_MEMLIMIT ? q : DECOMPRESS_MEMLIMIT;
}

uint64_t decompress_mem_available(void)
{
	char line[256];
	unsigned long long kib;
	FILE *f = fopen("/proc/meminfo", "re");
	long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);

	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1) {
				fclose(f);
				return (uint64_t)kib * 1024;
			}
		fclose(f);
	}
	return pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
}

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
#if HAVE_ISAL
		d->isal = malloc(sizeof(*d->isal));
		if (!d->isal)
			return -ENOMEM;
		isal_inflate_init(d->isal);
		d->isal->crc_flag = ISAL_GZIP; /* parse the header, check the CRC */
		return 0;
#else
		memset(&d->z, 0, sizeof(d->z));
		return inflateInit2(&d->z, 15 + 16) == Z_OK ? 0 : -ENOMEM;
#endif
	case COMPRESSION_XZ: {
		lzma_stream init = LZMA_STREAM_INIT;
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		uint64_t threading, stop;
		/* Blocks of a multi-threaded `xz -T` file decode in parallel; liblzma drops to fewer
		 * threads, or to one, when the blocks would need more than memlimit_threading, and
		 * single-block files decode as before. memlimit_stop is the hard cap. */
		lzma_mt mt = {
			.flags = LZMA_CONCATENATED,
			.threads = cpus > 1 ? (uint32_t)(cpus < 8 ? cpus : 8) : 1,
		};
		/* a quarter of MemAvailable: a 256 MiB flasher stays in budget, a big machine
		 * decodes as many blocks at once as it has threads */
		decompress_xz_memlimits(decompress_mem_available(), &threading, &stop);
		mt.memlimit_threading = threading;
		mt.memlimit_stop = stop;
		d->xz_memlimit = stop;
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
#if HAVE_ISAL
	case COMPRESSION_GZIP: free(d->isal); d->isal = NULL; break;
#else
	case COMPRESSION_GZIP: inflateEnd(&d->z); break;
#endif
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

#if HAVE_ISAL
static int feed_gzip(struct decompressor *d, const uint8_t *in, size_t in_len, size_t *consumed,
		     uint8_t *out, size_t out_cap, size_t *produced)
{
	struct inflate_state *s = d->isal;
	const uint8_t *ip = in;
	uint8_t *op = out;
	size_t il = in_len, ol = out_cap;

	while (ol > 0) {
		uint32_t before_in, before_out;
		size_t ci, co;
		int r;

		if (d->at_boundary) {
			if (il == 0)
				break;
			/* another member must follow; inflate checks its header */
			isal_inflate_reset(s);
			s->crc_flag = ISAL_GZIP;
			d->at_boundary = false;
			d->members++;
		}
		s->next_in = (uint8_t *)ip;
		s->avail_in = (uint32_t)MIN_UINT(il);
		s->next_out = op;
		s->avail_out = (uint32_t)MIN_UINT(ol);
		before_in = s->avail_in;
		before_out = s->avail_out;
		r = isal_inflate(s);
		d->started = true;
		/* at the end of a member ISA-L hands back the input it read ahead */
		ci = before_in - s->avail_in;
		co = before_out - s->avail_out;
		ip += ci;
		il -= ci;
		op += co;
		ol -= co;
		if (r < 0)
			return fail(d, -EBADMSG,
				    d->members > 0 && s->total_out == 0
					    ? "gzip: data after the end of the stream is not gzip"
				    : r == ISAL_INCORRECT_CHECKSUM
					    ? "gzip: CRC mismatch (the data is corrupt)"
					    : "gzip: compressed data is corrupt");
		if (s->block_state == ISAL_BLOCK_FINISH) {
			d->at_boundary = true;
			continue;
		}
		if (ci == 0 && co == 0)
			break;
	}
	*consumed = (size_t)(ip - in);
	*produced = (size_t)(op - out);
	return 0;
}
#else
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
#endif

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
		snprintf(d->xz_error, sizeof(d->xz_error),
			 "xz: the stream needs more than %llu MiB of memory to decode (recompress "
			 "with a dictionary of 64 MiB or less, e.g. xz -6)",
			 (unsigned long long)(d->xz_memlimit >> 20));
		return fail(d, -EFBIG, d->xz_error);
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
