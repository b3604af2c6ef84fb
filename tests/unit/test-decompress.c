// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the decompression front end: detection, every backend, concatenated members,
 * truncation and corruption, fed in awkward piece sizes. */
#include <bzlib.h>
#include <errno.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "flash/decompress.h"
#include "tests.h"

#define IMG_SIZE (600 * 1024)

static uint8_t img[IMG_SIZE];

static void make_image(void)
{
	uint32_t x = 12345;
	for (size_t i = 0; i < IMG_SIZE; i++) {
		x = x * 1103515245 + 12345;
		/* compressible but not trivial, with a zero run in the middle */
		img[i] = (i > 200000 && i < 300000) ? 0 : (uint8_t)((x >> 16) & 0x0f);
	}
}

static size_t compress_gzip(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	z_stream z = { 0 };
	ASSERT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	ASSERT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
	deflateEnd(&z);
	return cap - z.avail_out;
}

static size_t compress_xz(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	size_t pos = 0;
	ASSERT_EQ(lzma_easy_buffer_encode(3, LZMA_CHECK_CRC64, NULL, in, n, out, &pos, cap), LZMA_OK);
	return pos;
}

static size_t compress_zstd(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	/* with a content checksum, as the zstd tool writes by default: without one, corruption
	 * inside literals is undetectable by design */
	ZSTD_CCtx *c = ZSTD_createCCtx();
	size_t r;
	ASSERT_TRUE(c != NULL);
	ASSERT_TRUE(!ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1)));
	r = ZSTD_compress2(c, out, cap, in, n);
	ASSERT_TRUE(!ZSTD_isError(r));
	ZSTD_freeCCtx(c);
	return r;
}

static size_t compress_bzip2(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	unsigned len = (unsigned)cap;
	ASSERT_EQ(BZ2_bzBuffToBuffCompress((char *)out, &len, (char *)in, (unsigned)n, 1, 0, 0),
		  BZ_OK);
	return len;
}

typedef size_t (*compress_fn)(const uint8_t *, size_t, uint8_t *, size_t);

/* Decode buf fed in pieces of in_step bytes with out_step bytes of room; returns the result. */
static int decode(enum compression c, const uint8_t *buf, size_t n, size_t in_step, size_t out_step,
		  uint8_t *out, size_t cap, size_t *ret_len)
{
	struct decompressor *d;
	size_t o = 0, i = 0;
	int r;

	ASSERT_EQ(decompressor_new(c, &d), 0);
	for (;;) {
		size_t give = n - i < in_step ? n - i : in_step;
		size_t consumed, produced, room = cap - o < out_step ? cap - o : out_step;

		r = decompressor_feed(d, buf + i, give, &consumed, out + o, room, &produced);
		if (r < 0)
			goto done;
		i += consumed;
		o += produced;
		if (i == n && produced < room)
			break;
		ASSERT_TRUE(o <= cap);
		if (o == cap && i == n)
			break;
	}
	r = decompressor_finish(d);
done:
	*ret_len = o;
	decompressor_free(d);
	return r;
}

static uint8_t comp[2 * IMG_SIZE + 4096], out[3 * IMG_SIZE];

static void roundtrip(compress_fn fn, enum compression c, bool twice)
{
	size_t n = fn(img, IMG_SIZE, comp, sizeof(comp)), len;
	int r;
	size_t steps[][2] = { { 1 << 20, 1 << 20 }, { 1, 4096 }, { 4096, 1 }, { 7, 13 } };

	if (twice)
		n += fn(img, IMG_SIZE, comp + n, sizeof(comp) - n);
	ASSERT_EQ(compression_detect(comp, n), c);
	for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
		/* byte-at-a-time output is slow for bzip2; one pass of the small steps is enough */
		if (c == COMPRESSION_BZIP2 && s == 2)
			continue;
		ASSERT_EQ(decode(c, comp, n, steps[s][0], steps[s][1], out, sizeof(out), &len), 0);
		ASSERT_EQ(len, twice ? 2 * IMG_SIZE : IMG_SIZE);
		ASSERT_TRUE(memcmp(out, img, IMG_SIZE) == 0);
		if (twice)
			ASSERT_TRUE(memcmp(out + IMG_SIZE, img, IMG_SIZE) == 0);
	}
	/* truncated: every format notices a missing tail */
	ASSERT_EQ(decode(c, comp, n - 10, 65536, 65536, out, sizeof(out), &len), -EPIPE);
	ASSERT_EQ(decode(c, comp, n / 2 + 7, 65536, 65536, out, sizeof(out), &len), -EPIPE);
	/* corrupt: flip bytes in the middle */
	for (size_t i = n / 3; i < n / 3 + 64; i++)
		comp[i] ^= 0x5a;
	r = decode(c, comp, n, 65536, 65536, out, sizeof(out), &len);
	ASSERT_EQ(r, -EBADMSG);
	/* junk after a complete stream */
	n = fn(img, IMG_SIZE, comp, sizeof(comp));
	memcpy(comp + n, "garbage-garbage!", 16);
	ASSERT_EQ(decode(c, comp, n + 16, 65536, 65536, out, sizeof(out), &len), -EBADMSG);
}

TEST(gzip) { roundtrip(compress_gzip, COMPRESSION_GZIP, false); }
TEST(gzip_multi) { roundtrip(compress_gzip, COMPRESSION_GZIP, true); }
TEST(xz) { roundtrip(compress_xz, COMPRESSION_XZ, false); }
TEST(xz_multi) { roundtrip(compress_xz, COMPRESSION_XZ, true); }
TEST(zstd) { roundtrip(compress_zstd, COMPRESSION_ZSTD, false); }
TEST(zstd_multi) { roundtrip(compress_zstd, COMPRESSION_ZSTD, true); }
TEST(bzip2) { roundtrip(compress_bzip2, COMPRESSION_BZIP2, false); }
TEST(bzip2_multi) { roundtrip(compress_bzip2, COMPRESSION_BZIP2, true); }

TEST(raw)
{
	size_t len;
	ASSERT_EQ(compression_detect(img, IMG_SIZE), COMPRESSION_RAW);
	ASSERT_EQ(decode(COMPRESSION_RAW, img, IMG_SIZE, 333, 777, out, sizeof(out), &len), 0);
	ASSERT_EQ(len, IMG_SIZE);
	ASSERT_TRUE(memcmp(out, img, IMG_SIZE) == 0);
}

TEST(detect)
{
	ASSERT_EQ(compression_detect((const uint8_t *)"\x1f\x8b", 2), COMPRESSION_GZIP);
	ASSERT_EQ(compression_detect((const uint8_t *)"\x1f", 1), COMPRESSION_RAW);
	ASSERT_EQ(compression_detect((const uint8_t *)"\xfd" "7zXZ\0", 6), COMPRESSION_XZ);
	ASSERT_EQ(compression_detect((const uint8_t *)"\xfd" "7zXZ", 5), COMPRESSION_RAW);
	ASSERT_EQ(compression_detect((const uint8_t *)"\x28\xb5\x2f\xfd", 4), COMPRESSION_ZSTD);
	ASSERT_EQ(compression_detect((const uint8_t *)"BZh91AY", 7), COMPRESSION_BZIP2);
	ASSERT_EQ(compression_detect((const uint8_t *)"BZhx1AY", 7), COMPRESSION_RAW);
	ASSERT_STREQ(compression_name(COMPRESSION_ZSTD), "zstd");
}

TEST(declared_size)
{
	size_t n = compress_zstd(img, IMG_SIZE, comp, sizeof(comp));
	ASSERT_EQ(decompress_declared_size(comp, n), IMG_SIZE);
	ASSERT_TRUE(decompress_declared_size(img, 100) == UINT64_MAX);
}

TEST(empty)
{
	size_t len;
	/* no input at all is a truncated stream for every compressed format */
	ASSERT_EQ(decode(COMPRESSION_ZSTD, comp, 0, 1, 1, out, sizeof(out), &len), -EPIPE);
	ASSERT_EQ(decode(COMPRESSION_GZIP, comp, 0, 1, 1, out, sizeof(out), &len), -EPIPE);
	ASSERT_EQ(decode(COMPRESSION_XZ, comp, 0, 1, 1, out, sizeof(out), &len), -EPIPE);
}

TEST(xz_memlimits)
{
	uint64_t threading, stop;

	/* a machine with memory to spare: a quarter of MemAvailable for parallel blocks */
	decompress_xz_memlimits(20ULL << 30, &threading, &stop);
	ASSERT_EQ(threading, 5ULL << 30);
	ASSERT_EQ(stop, 5ULL << 30);
	/* a 256 MiB flasher (~200 MiB available): threads within 50 MiB, streams up to 80 MiB */
	decompress_xz_memlimits(200ULL << 20, &threading, &stop);
	ASSERT_EQ(threading, 50ULL << 20);
	ASSERT_EQ(stop, DECOMPRESS_MEMLIMIT);
	ASSERT_TRUE(decompress_mem_available() > 0);
}

TEST(gzip_corrupt_crc)
{
	size_t n = compress_gzip(img, 100000, comp, sizeof(comp)), len;

	comp[n - 6] ^= 0x55; /* the CRC-32 in the trailer */
	ASSERT_EQ(decode(COMPRESSION_GZIP, comp, n, 4096, 4096, out, sizeof(out), &len), -EBADMSG);
}

int main(void)
{
	static const struct test_case cases[] = { T(detect), T(raw), T(gzip), T(gzip_multi), T(xz),
						  T(xz_multi), T(zstd), T(zstd_multi), T(bzip2),
						  T(bzip2_multi), T(declared_size), T(empty),
						  T(xz_memlimits), T(gzip_corrupt_crc) };
	make_image();
	return run_tests(cases, sizeof(cases) / sizeof(cases[0]));
}
