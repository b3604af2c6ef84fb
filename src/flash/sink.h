/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The write end of the pipeline: a block device or a regular file, written at any offset.
 * Fail closed: the image's first MiB (partition table, boot sector) and whatever lands in the
 * target's last MiB (the backup GPT, which UEFI firmware uses when the primary header is
 * invalid) are held in memory and written only by sink_commit(), after the body is durable.
 * Before the first byte of the body reaches a block device, the device's first and last MiB
 * are zeroed and flushed, so a crash, SIGKILL or power cut at any point leaves a disk that no
 * firmware boots, never an old partition table pointing at new, unverified data.
 * Zero runs are skipped where the target reads back zeros (holes in a truncated file,
 * BLKZEROOUT on a device that supports write-zeroes) and written elsewhere; dirty data is
 * bounded with sync_file_range. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SINK_BLOCK 4096U
#define SINK_DIRTY_WINDOW (32ULL << 20)
#define SINK_HOLD_SIZE (1U << 20) /* held at each end: the first and the last MiB */

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
	bool armed;	   /* block devices: first and last MiB zeroed and flushed */
	bool committed;	   /* the held ends were written */

	/* the held ends: head is image offsets [0, SINK_HOLD_SIZE); tail is [tail_start,
	 * tail_start + SINK_HOLD_SIZE). With a known end (a block device, or sink_set_size) the
	 * tail window is fixed at the end's last MiB; otherwise (a file of unknown length, written
	 * in increasing offsets) it slides along with the highest offset written so far. */
	uint8_t *head, *tail;
	uint64_t head_len;   /* highest image offset + 1 written into head */
	uint64_t end;	     /* known end of the target or image, UINT64_MAX when unknown */
	uint64_t tail_start; /* image offset of tail[0] */
	uint64_t tail_end;   /* highest image offset + 1 written into the window, or tail_start */

	/* called once, just before the target is first changed (e.g. to record the write for
	 * a supervisor that must fail closed if this process dies) */
	void (*on_touch)(void *userdata);
	void *on_touch_userdata;

	uint64_t zero_start, zero_len; /* pending zero run */
	uint64_t written;	       /* bytes written as data (zeros included where written) */
	uint64_t zeroed;	       /* bytes zeroed with BLKZEROOUT */
	uint64_t flush_start, flush_end, prev_start, prev_end;
};

/* Inspect the target and refuse it when it is unsafe. Block devices are opened exclusively now;
 * files are only looked at (sink_open creates/truncates them). Returns 0, or with a message in
 * why: -EBUSY (in use), -ENOTBLK (neither block device nor regular file nor creatable path),
 * -EACCES, -ENOENT (directory missing), -ENOMEM. */
int sink_prepare(struct sink *s, const char *path, char *why, size_t whylen);

/* The image's size, when it is known before the data (a qcow2's virtual size, a tar member's
 * size): fixes the held tail window of a file target at the image's last MiB, so that writes
 * may come in any order. Before the first write. 0, or -EFBIG when it exceeds a device. */
int sink_set_size(struct sink *s, uint64_t size);

/* Make the target writable: create/truncate a file. Idempotent. 0 or -errno. */
int sink_open(struct sink *s);

/* Write image bytes at offset off (any alignment, any order with a known end; in increasing
 * offsets otherwise); zero 4 KiB blocks are coalesced into runs, the ends are held.
 * 0, -EFBIG (beyond the device's end), or -errno from the write. */
int sink_write(struct sink *s, uint64_t off, const uint8_t *buf, size_t len);

/* The image holds zeros at [off, off + len) (an unallocated or zero cluster). As sink_write. */
int sink_write_zeroes(struct sink *s, uint64_t off, uint64_t len);

/* The image is complete (size bytes) and every check passed: flush the zero run, set a file's
 * length, fdatasync the body, then write the held first and last MiB, then fsync.
 * 0 or -errno. */
int sink_commit(struct sink *s, uint64_t size);

/* The fail-closed path: when the target was touched, zero its first MiB and its last MiB (a
 * block device's, or a file's held tail once committed) and fsync. 0 or -errno. */
int sink_fail_closed(struct sink *s);

/* For a supervisor whose writer died: zero the first and last MiB of the block device (or the
 * first MiB of the file) at path, as sink_fail_closed() would have, and fsync. 0 or -errno. */
int sink_zero_ends(const char *path);

/* Ask the kernel to re-read the partition table of a whole disk. 0, or -errno (ignored by
 * callers but reported). */
int sink_reread_partitions(struct sink *s);

/* SHA-256 of the first size bytes as stored, read past the page cache. 0 or -errno. */
int sink_read_back_sha256(struct sink *s, uint64_t size, uint8_t out[32]);

void sink_close(struct sink *s);
