/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Decompression front end: the format is chosen by magic bytes (RFC 1952 gzip, the .xz file
 * format, RFC 8878 zstd, bzip2), never by name. Concatenated members, streams and frames are
 * decoded as one image, as `gzip -dc`, `xz -dc` and `zstd -dc` do. */
#pragma once

#include <stddef.h>
#include <stdint.h>

enum compression {
	COMPRESSION_RAW,
	COMPRESSION_GZIP,
	COMPRESSION_XZ,
	COMPRESSION_ZSTD,
	COMPRESSION_BZIP2,
};

/* Bytes compression_detect() wants to see (fewer is fine at the end of a short stream). */
#define COMPRESSION_MAGIC_MAX 6
/* Memory a single decoder may take at least (more where a quarter of MemAvailable is more):
 * keeps the flasher inside its RAM budget. */
#define DECOMPRESS_MEMLIMIT (80ULL << 20)
#define DECOMPRESS_ZSTD_WINDOW_LOG_MAX 26

/* The xz decoder's memory limits for avail bytes of MemAvailable: threads may use a quarter of
 * it (liblzma decodes the blocks of a multi-threaded `xz -T` file in parallel up to that, with
 * fewer threads or one above it), and a stream is refused above the larger of that and
 * DECOMPRESS_MEMLIMIT. */
void decompress_xz_memlimits(uint64_t avail, uint64_t *ret_threading, uint64_t *ret_stop);

/* MemAvailable from /proc/meminfo in bytes (free pages when it cannot be read). */
uint64_t decompress_mem_available(void);

enum compression compression_detect(const uint8_t *buf, size_t n);
const char *compression_name(enum compression c);

struct decompressor;

/* 0 or -ENOMEM. */
int decompressor_new(enum compression c, struct decompressor **ret);
void decompressor_free(struct decompressor *d);

/* Decode from in[0..in_len) into out[0..out_cap). Sets the bytes consumed and produced.
 * When all input was consumed and produced < out_cap, nothing is pending inside the decoder.
 * Returns 0; -EBADMSG for corrupt data (also: data after the end that is not another member);
 * -EFBIG when the stream needs more memory than decompress_xz_memlimits() allows;
 * -EPROTONOSUPPORT for an option this build cannot decode. decompressor_error() says more. */
int decompressor_feed(struct decompressor *d, const uint8_t *in, size_t in_len, size_t *consumed,
		      uint8_t *out, size_t out_cap, size_t *produced);

/* The input ended: 0 if it ended at the end of a member/frame/stream, -EPIPE if truncated. */
int decompressor_finish(struct decompressor *d);

/* Human-readable detail of the last error ("xz: compressed data is corrupt"). */
const char *decompressor_error(const struct decompressor *d);

/* For zstd: the decompressed size declared by the first frame header in buf, or UINT64_MAX when
 * not declared or not a zstd frame. A lower bound for the image size (more frames may follow). */
uint64_t decompress_declared_size(const uint8_t *buf, size_t n);
