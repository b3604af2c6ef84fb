// SPDX-License-Identifier: GPL-2.0-or-later
/* Block device and file targets: zero-run skipping, bounded dirty data, read-back. */
#include "flash/sink.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <libgen.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/macro.h"
#include "crypto/digest.h"
#include "flash/target-check.h"

static const uint8_t zero_block[1 << 20];

int sink_prepare(struct sink *s, const char *path, char *why, size_t whylen)
{
	struct stat st;
	int r;

	*s = (struct sink){ .fd = -EBADF, .dev_size = UINT64_MAX };
	s->path = strdup(path);
	if (!s->path)
		return -ENOMEM;

	if (stat(path, &st) < 0) {
		_cleanup_free_ char *dir = NULL;
		struct stat dst;

		if (errno != ENOENT) {
			r = negative_errno();
			snprintf(why, whylen, "cannot access %s: %s", path, strerror(-r));
			return r;
		}
		dir = strdup(path);
		if (!dir)
			return -ENOMEM;
		if (stat(dirname(dir), &dst) < 0 || !S_ISDIR(dst.st_mode)) {
			snprintf(why, whylen,
				 "%s does not exist and its directory does not either; give an "
				 "existing block device or a file path in an existing directory",
				 path);
			return -ENOENT;
		}
		if (strncmp(path, "/dev/", 5) == 0) {
			snprintf(why, whylen,
				 "%s does not exist; refusing to create a regular file under /dev "
				 "(a typo in a device name?)",
				 path);
			return -ENOENT;
		}
		s->zero_skip = true;
		return 0;
	}
	if (S_ISREG(st.st_mode)) {
		s->exists = true;
		s->zero_skip = true; /* truncated before writing */
		return target_check_regular_file(st.st_dev, st.st_ino, path, why, whylen);
	}
	if (!S_ISBLK(st.st_mode)) {
		snprintf(why, whylen, "%s is neither a block device nor a regular file", path);
		return -ENOTBLK;
	}

	s->is_blockdev = true;
	s->devnum = st.st_rdev;
	r = target_check_block_device(st.st_rdev, path, why, whylen);
	if (r < 0)
		return r;
	s->fd = open(path, O_RDWR | O_EXCL | O_CLOEXEC | O_NOCTTY);
	if (s->fd < 0) {
		r = negative_errno();
		if (r == -EBUSY)
			snprintf(why, whylen,
				 "%s is in use (the kernel refused exclusive access: mounted, part "
				 "of a RAID or LVM, or opened by another program)",
				 path);
		else
			snprintf(why, whylen, "cannot open %s for writing: %s", path, strerror(-r));
		return r == -EBUSY ? -EBUSY : r;
	}
	if (ioctl(s->fd, BLKGETSIZE64, &s->dev_size) < 0) {
		r = negative_errno();
		snprintf(why, whylen, "cannot read the size of %s: %s", path, strerror(-r));
		return r;
	}
	{
		unsigned long long wz = 0;
		if (blockdev_queue_attr(s->devnum, "write_zeroes_max_bytes", &wz) == 0 && wz > 0)
			s->zero_skip = s->use_zeroout = true;
	}
	s->opened = true;
	return 0;
}

int sink_open(struct sink *s)
{
	if (s->opened)
		return 0;
	s->fd = open(s->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0666);
	if (s->fd < 0)
		return negative_errno();
	s->opened = true;
	s->touched = true;
	return 0;
}

static int pwrite_all(int fd, const uint8_t *buf, size_t len, uint64_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, buf, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		if (n == 0)
			return -ENOSPC;
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Keep at most two windows of dirty data: start writeback of the newest, wait for the one
 * before it. Progress then reflects what is on its way to the disk. */
static void bound_dirty(struct sink *s, uint64_t off, uint64_t len)
{
	if (s->flush_end == 0 && s->flush_start == 0)
		s->flush_start = off;
	if (off < s->flush_start)
		s->flush_start = off;
	if (off + len > s->flush_end)
		s->flush_end = off + len;
	if (s->flush_end - s->flush_start < SINK_DIRTY_WINDOW)
		return;
	(void)sync_file_range(s->fd, (off_t)s->flush_start, (off_t)(s->flush_end - s->flush_start),
			      SYNC_FILE_RANGE_WRITE);
	if (s->prev_end > s->prev_start)
		(void)sync_file_range(s->fd, (off_t)s->prev_start,
				      (off_t)(s->prev_end - s->prev_start),
				      SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
					      SYNC_FILE_RANGE_WAIT_AFTER);
	s->prev_start = s->flush_start;
	s->prev_end = s->flush_end;
	s->flush_start = s->flush_end;
}

static int write_data(struct sink *s, uint64_t off, const uint8_t *buf, size_t len)
{
	int r;

	if (len == 0)
		return 0;
	if (s->dev_size != UINT64_MAX && off + len > s->dev_size)
		return -EFBIG;
	r = pwrite_all(s->fd, buf, len, off);
	if (r < 0)
		return r;
	s->touched = true;
	s->written += len;
	bound_dirty(s, off, len);
	return 0;
}

static int flush_zero_run(struct sink *s)
{
	uint64_t off = s->zero_start, len = s->zero_len;
	int r;

	if (len == 0)
		return 0;
	s->zero_len = 0;
	if (s->dev_size != UINT64_MAX && off + len > s->dev_size)
		return -EFBIG;
	if (s->use_zeroout) {
		uint64_t range[2] = { off, len };
		if (ioctl(s->fd, BLKZEROOUT, range) == 0) {
			s->touched = true;
			s->zeroed += len;
			return 0;
		}
		/* fall back to writing zeros below */
		s->use_zeroout = false;
		s->zero_skip = false;
	} else if (s->zero_skip)
		return 0; /* a hole in a truncated file */
	while (len > 0) {
		size_t n = len > sizeof(zero_block) ? sizeof(zero_block) : (size_t)len;
		r = write_data(s, off, zero_block, n);
		if (r < 0)
			return r;
		off += n;
		len -= n;
	}
	return 0;
}

static bool is_zero(const uint8_t *p, size_t n)
{
	const uint64_t *w = (const uint64_t *)(const void *)p;

	if ((uintptr_t)p % 8 != 0 || n % 64 != 0)
		return p[0] == 0 && memcmp(p, p + 1, n - 1) == 0;
	for (size_t i = 0; i < n / 8; i += 8)
		if (w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7])
			return false;
	return true;
}

int sink_write(struct sink *s, uint64_t off, const uint8_t *buf, size_t len)
{
	uint64_t data_start = off;
	size_t data_len = 0;
	int r;

	if (s->dev_size != UINT64_MAX && off + len > s->dev_size)
		return -EFBIG;
	while (len > 0) {
		/* blocks aligned to the image offset, so holes line up with file system blocks */
		size_t n = SINK_BLOCK - (size_t)(off % SINK_BLOCK);
		if (n > len)
			n = len;
		if (n == SINK_BLOCK && is_zero(buf, n)) {
			if (data_len) {
				r = write_data(s, data_start, buf - data_len, data_len);
				if (r < 0)
					return r;
				data_len = 0;
			}
			if (s->zero_len && s->zero_start + s->zero_len == off)
				s->zero_len += n;
			else {
				r = flush_zero_run(s);
				if (r < 0)
					return r;
				s->zero_start = off;
				s->zero_len = n;
			}
		} else {
			if (s->zero_len) {
				r = flush_zero_run(s);
				if (r < 0)
					return r;
			}
			if (data_len == 0)
				data_start = off;
			data_len += n;
		}
		buf += n;
		off += n;
		len -= n;
	}
	if (data_len)
		return write_data(s, data_start, buf - data_len, data_len);
	return 0;
}

int sink_write_zeroes(struct sink *s, uint64_t off, uint64_t len)
{
	uint64_t end = off + len, a, b;
	int r;

	if (len == 0)
		return 0;
	if (s->dev_size != UINT64_MAX && end > s->dev_size)
		return -EFBIG;
	a = (off + SINK_BLOCK - 1) / SINK_BLOCK * SINK_BLOCK;
	b = end / SINK_BLOCK * SINK_BLOCK;
	if (a >= b) /* no whole block inside */
		return write_data(s, off, zero_block, (size_t)len);
	if (a > off) {
		r = write_data(s, off, zero_block, (size_t)(a - off));
		if (r < 0)
			return r;
	}
	if (s->zero_len && s->zero_start + s->zero_len == a)
		s->zero_len += b - a;
	else {
		r = flush_zero_run(s);
		if (r < 0)
			return r;
		s->zero_start = a;
		s->zero_len = b - a;
	}
	if (end > b)
		return write_data(s, b, zero_block, (size_t)(end - b));
	return 0;
}

int sink_write_raw(struct sink *s, uint64_t off, const uint8_t *buf, size_t len)
{
	return write_data(s, off, buf, len);
}

int sink_finish(struct sink *s, uint64_t size)
{
	int r = flush_zero_run(s);

	if (r < 0)
		return r;
	if (!s->is_blockdev && ftruncate(s->fd, (off_t)size) < 0)
		return negative_errno();
	if (fsync(s->fd) < 0)
		return negative_errno();
	return 0;
}

int sink_zero_head(struct sink *s, uint64_t len)
{
	struct stat st;
	int r;

	if (s->fd < 0)
		return 0;
	if (s->is_blockdev) {
		if (len > s->dev_size)
			len = s->dev_size;
	} else {
		if (fstat(s->fd, &st) == 0 && (uint64_t)st.st_size < len)
			len = (uint64_t)st.st_size;
		/* A hole needs no space, so this works on a full file system too. */
		if (len == 0 || fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
					  (off_t)len) == 0)
			return fsync(s->fd) < 0 ? negative_errno() : 0;
	}
	r = pwrite_all(s->fd, zero_block, (size_t)MIN(len, (uint64_t)sizeof(zero_block)), 0);
	if (r < 0)
		return r;
	return fsync(s->fd) < 0 ? negative_errno() : 0;
}

int sink_reread_partitions(struct sink *s)
{
	if (!s->is_blockdev)
		return 0;
	return ioctl(s->fd, BLKRRPART) < 0 ? negative_errno() : 0;
}

int sink_read_back_sha256(struct sink *s, uint64_t size, uint8_t out[32])
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_(digest_freep) struct digest *d = NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	const size_t bufsz = 4U << 20;
	uint64_t off = 0;
	bool direct = true;
	int r;

	fd = open(s->path, O_RDONLY | O_DIRECT | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == EINVAL) {
		/* no O_DIRECT (tmpfs): drop the cached pages instead, after they are on disk */
		direct = false;
		fd = open(s->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd >= 0) {
			(void)fdatasync(s->fd);
			(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		}
	}
	if (fd < 0)
		return negative_errno();
	if (s->is_blockdev && !direct)
		(void)ioctl(fd, BLKFLSBUF, 0);
	if (posix_memalign((void **)&buf, 4096, bufsz) != 0)
		return -ENOMEM;
	r = digest_new_sha256(&d);
	if (r < 0)
		return r;
	while (off < size) {
		size_t want = (size_t)MIN((uint64_t)bufsz, size - off);
		/* O_DIRECT wants whole blocks: read up, hash only what belongs to the image */
		size_t ask = direct ? (want + 4095) & ~(size_t)4095 : want;
		ssize_t n = pread(fd, buf, ask, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		if (n == 0)
			return -EIO; /* shorter than what was written */
		if ((size_t)n > want)
			n = (ssize_t)want;
		r = digest_update(d, buf, (size_t)n);
		if (r < 0)
			return r;
		off += (uint64_t)n;
	}
	return digest_final(d, out, 32);
}

void sink_close(struct sink *s)
{
	s->fd = safe_close(s->fd);
	free(s->path);
	s->path = NULL;
}
