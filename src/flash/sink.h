/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The write end of the pipeline: a block device or a regular file. Zero runs are skipped where
 * the target reads back zeros (holes in a truncated file, BLKZEROOUT on a device that
 * supports write-zeroes) and written elsewhere; dirty data is bounded with sync_file_range. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SINK_BLOCK 4096U
#define SINK_DIRTY_WINDOW (32ULL << 20)

struct sink {
	char *path;
	int fd;
	bool is_blockdev;
	bool exists; /* the file existed before (files only) */
	dev_t devnum;
	uint64_t dev_size; /* block devices: capacity; files: UINT64_MAX */
	bool zero_skip;	   /* zero runs need not be written as data */
	bool use_zeroout;  /* ... because BLKZEROOUT is cheap here */
	bool opened;	   /* files: created/truncated */
	bool touched;	   /* anything changed on the target */

	uint64_t zero_start, zero_len; /* pending zero run */
	uint64_t written;	       /* bytes written as data (zeros included where written) */
	uint64_t zeroed;	       /* bytes zeroed with BLKZEROOUT */
	uint64_t flush_start, flush_end, prev_start, prev_end;
};

/* Inspect the target and refuse it when it is unsafe. Block devices are opened exclusively now;
 * files are only looked at (sink_open creates/truncates them). Returns 0, or with a message in
 * why: -EBUSY (in use), -ENOTBLK (neither block device nor regular file nor creatable path),
 * -EACCES, -ENOENT (directory missing). */
int sink_prepare(struct sink *s, const char *path, char *why, size_t whylen);

/* Make the target writable: create/truncate a file. Idempotent. 0 or -errno. */
int sink_open(struct sink *s);

/* Write image bytes at offset off (any alignment); zero 4 KiB blocks are coalesced into runs.
 * 0, -EFBIG (beyond the device's end), or -errno from the write. */
int sink_write(struct sink *s, uint64_t off, const uint8_t *buf, size_t len);

/* [off, off+len) must read back as zeros: joined to the pending zero run (a hole, BLKZEROOUT or
 * written zeros, as for zero blocks in sink_write); unaligned ends are written as data.
 * 0, -EFBIG, or -errno. */
int sink_write_zeroes(struct sink *s, uint64_t off, uint64_t len);

/* Write bytes verbatim (no zero skipping), e.g. the held first MiB. */
int sink_write_raw(struct sink *s, uint64_t off, const uint8_t *buf, size_t len);

/* End of the image at size bytes: flush the zero run, set a file's length, fsync.
 * 0 or -errno. */
int sink_finish(struct sink *s, uint64_t size);

/* Overwrite the first min(len, size) bytes with zeros and fsync (the fail-closed path). */
int sink_zero_head(struct sink *s, uint64_t len);

/* Ask the kernel to re-read the partition table of a whole disk. 0, or -errno (ignored by
 * callers but reported). */
int sink_reread_partitions(struct sink *s);

/* SHA-256 of the first size bytes as stored, read past the page cache. 0 or -errno. */
int sink_read_back_sha256(struct sink *s, uint64_t size, uint8_t out[32]);

void sink_close(struct sink *s);
