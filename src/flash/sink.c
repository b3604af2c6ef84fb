// SPDX-License-Identifier: GPL-2.0-or-later
/* Block device and file targets: the held ends, zero-run skipping, bounded dirty data,
 * read-back. */
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

static void set_end(struct sink *s, uint64_t end);

int sink_prepare(struct sink *s, const char *path, char *why, size_t whylen)
{
	struct stat st;
	int r;

	*s = (struct sink){ .fd = -EBADF, .dev_size = UINT64_MAX, .end = UINT64_MAX,
			    .tail_start = SINK_HOLD_SIZE, .tail_end = SINK_HOLD_SIZE };
	s->path = strdup(path);
	s->head = calloc(1, SINK_HOLD_SIZE);
	s->tail = calloc(1, SINK_HOLD_SIZE);
	if (!s->path || !s->head || !s->tail) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}

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
	set_end(s, s->dev_size);
	return 0;
}

/* Fix the tail window at the last MiB before end (never overlapping the head). */
static void set_end(struct sink *s, uint64_t end)
{
	s->end = end;
	s->tail_start = end > 2ULL * SINK_HOLD_SIZE ? end - SINK_HOLD_SIZE : SINK_HOLD_SIZE;
	if (s->tail_start > end)
		s->tail_start = end; /* a device of less than 1 MiB: all of it is head */
	s->tail_end = s->tail_start;
}

int sink_set_size(struct sink *s, uint64_t size)
{
	if (s->dev_size != UINT64_MAX) {
		/* a device keeps its own end: its last MiB is where firmware looks */
		return size > s->dev_size ? -EFBIG : 0;
	}
	if (s->tail_end > s->tail_start || s->written > 0 || s->zero_len > 0)
		return -EBUSY; /* data was already placed in a sliding window */
	set_end(s, size);
	return 0;
}

int sink_open(struct sink *s)
{
	if (s->opened)
		return 0;
	if (s->on_touch && !s->touched)
		s->on_touch(s->on_touch_userdata);
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

/* Zero the ends of a block device and make that durable (fdatasync on a block device also
 * flushes its write cache), before anything else on it changes. */
static int arm(struct sink *s)
{
	int r;

	if (s->armed || !s->is_blockdev)
		return 0;
	if (s->on_touch && !s->touched)
		s->on_touch(s->on_touch_userdata);
	s->touched = true;
	r = pwrite_all(s->fd, zero_block, (size_t)MIN((uint64_t)SINK_HOLD_SIZE, s->dev_size), 0);
	if (r < 0)
		return r;
	if (s->end > s->tail_start) {
		r = pwrite_all(s->fd, zero_block, (size_t)(s->end - s->tail_start), s->tail_start);
		if (r < 0)
			return r;
	}
	if (fdatasync(s->fd) < 0)
		return negative_errno();
	s->armed = true;
	return 0;
}

static int write_data(struct sink *s, uint64_t off, const uint8_t *buf, size_t len)
{
	int r;

	if (len == 0)
		return 0;
	if (s->dev_size != UINT64_MAX && off + len > s->dev_size)
		return -EFBIG;
	r = arm(s);
	if (r < 0)
		return r;
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
		r = arm(s);
		if (r < 0)
			return r;
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

/* The body: everything between the held ends. */
static int body_write(struct sink *s, uint64_t off, const uint8_t *buf, size_t len)
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

/* A file of unknown length: keep the last MiB written so far in the window, and send what
 * falls out of it to the body. Offsets must not go below the window once it has moved on
 * (they go straight to the body: they cannot be in the image's last MiB any more). */
static int slide(struct sink *s, uint64_t end)
{
	uint64_t ns, flush_end, kept;
	int r;

	if (end <= s->tail_end)
		return 0;
	ns = end > 2ULL * SINK_HOLD_SIZE ? end - SINK_HOLD_SIZE : SINK_HOLD_SIZE;
	if (ns > s->tail_start) {
		flush_end = MIN(ns, s->tail_end);
		if (flush_end > s->tail_start) {
			r = body_write(s, s->tail_start, s->tail, (size_t)(flush_end - s->tail_start));
			if (r < 0)
				return r;
		}
		kept = s->tail_end > ns ? s->tail_end - ns : 0;
		if (kept)
			memmove(s->tail, s->tail + (ns - s->tail_start), (size_t)kept);
		memset(s->tail + kept, 0, SINK_HOLD_SIZE - kept);
		s->tail_start = ns;
	}
	s->tail_end = end;
	return 0;
}

/* Place [off, off + len) of the image: buf, or zeros when buf is NULL. */
static int place(struct sink *s, uint64_t off, const uint8_t *buf, uint64_t len)
{
	uint64_t n;
	int r;

	if (len == 0)
		return 0;
	if ((s->dev_size != UINT64_MAX && off + len > s->dev_size) || off + len < off)
		return -EFBIG;
	if (s->end != UINT64_MAX && s->dev_size == UINT64_MAX && off + len > s->end)
		return -EFBIG; /* past the size the image declared */
	if (s->committed)
		return -EBUSY;
	if (off < SINK_HOLD_SIZE) {
		n = MIN(len, SINK_HOLD_SIZE - off);
		if (buf)
			memcpy(s->head + off, buf, (size_t)n);
		else
			memset(s->head + off, 0, (size_t)n);
		s->head_len = MAX(s->head_len, off + n);
		off += n;
		len -= n;
		if (buf)
			buf += n;
		if (len == 0)
			return 0;
	}
	if (s->end == UINT64_MAX) {
		r = slide(s, off + len);
		if (r < 0)
			return r;
	}
	if (off < s->tail_start) {
		n = MIN(len, s->tail_start - off);
		if (buf)
			r = body_write(s, off, buf, (size_t)n);
		else {
			/* zeros: as a zero run, in blocks the body's zero detection recognises */
			uint64_t o = off, left = n;
			r = 0;
			while (left > 0 && r >= 0) {
				size_t k = (size_t)MIN(left, (uint64_t)sizeof(zero_block));
				r = body_write(s, o, zero_block, k);
				o += k;
				left -= k;
			}
		}
		if (r < 0)
			return r;
		off += n;
		len -= n;
		if (buf)
			buf += n;
	}
	if (len > 0) {
		uint64_t at = off - s->tail_start;
		if (at + len > SINK_HOLD_SIZE)
			return -EFBIG; /* cannot happen: the window ends at the end */
		if (buf)
			memcpy(s->tail + at, buf, (size_t)len);
		else
			memset(s->tail + at, 0, (size_t)len);
		s->tail_end = MAX(s->tail_end, off + len);
	}
	return 0;
}

int sink_write(struct sink *s, uint64_t off, const uint8_t *buf, size_t len)
{
	return place(s, off, buf, len);
}

int sink_write_zeroes(struct sink *s, uint64_t off, uint64_t len)
{
	return place(s, off, NULL, len);
}

int sink_commit(struct sink *s, uint64_t size)
{
	int r;

	r = sink_open(s);
	if (r < 0)
		return r;
	r = flush_zero_run(s);
	if (r < 0)
		return r;
	/* nothing past the head was written yet (a small image): the ends still go zero first */
	r = arm(s);
	if (r < 0)
		return r;
	if (!s->is_blockdev && ftruncate(s->fd, (off_t)size) < 0)
		return negative_errno();
	/* the body is on the disk before the head that makes it bootable */
	if (fdatasync(s->fd) < 0)
		return negative_errno();
	s->committed = true;
	if (s->head_len > 0) {
		r = body_write(s, 0, s->head, (size_t)MIN(s->head_len, size));
		if (r < 0)
			return r;
	}
	if (s->tail_end > s->tail_start && s->tail_start < size) {
		r = body_write(s, s->tail_start, s->tail,
			       (size_t)(MIN(s->tail_end, size) - s->tail_start));
		if (r < 0)
			return r;
	}
	r = flush_zero_run(s);
	if (r < 0)
		return r;
	if (fsync(s->fd) < 0)
		return negative_errno();
	return 0;
}

/* Zero [off, off + len) of the target as stored: a hole in a file, zeros on a device. */
static int zero_range(struct sink *s, uint64_t off, uint64_t len)
{
	struct stat st;
	int r;

	if (!s->is_blockdev) {
		if (fstat(s->fd, &st) < 0)
			return negative_errno();
		if ((uint64_t)st.st_size <= off)
			return 0;
		len = MIN(len, (uint64_t)st.st_size - off);
		/* a hole needs no space, so this works on a full file system too */
		if (len == 0 || fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					  (off_t)off, (off_t)len) == 0)
			return 0;
	}
	while (len > 0) {
		size_t n = (size_t)MIN(len, (uint64_t)sizeof(zero_block));
		r = pwrite_all(s->fd, zero_block, n, off);
		if (r < 0)
			return r;
		off += n;
		len -= n;
	}
	return 0;
}

int sink_fail_closed(struct sink *s)
{
	int r, r2 = 0;

	if (s->fd < 0 || !s->touched)
		return 0;
	r = zero_range(s, 0, SINK_HOLD_SIZE);
	if (s->is_blockdev) {
		if (s->end > s->tail_start)
			r2 = zero_range(s, s->tail_start, s->end - s->tail_start);
	} else if (s->committed && s->tail_end > s->tail_start)
		r2 = zero_range(s, s->tail_start, s->tail_end - s->tail_start);
	if (fsync(s->fd) < 0 && r >= 0)
		r = negative_errno();
	return r < 0 ? r : r2;
}

int sink_zero_ends(const char *path)
{
	struct sink s = { .fd = -EBADF, .dev_size = UINT64_MAX, .end = UINT64_MAX,
			  .touched = true };
	struct stat st;
	int r;

	s.fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (s.fd < 0)
		return negative_errno();
	if (fstat(s.fd, &st) < 0) {
		r = negative_errno();
		goto out;
	}
	if (S_ISBLK(st.st_mode)) {
		s.is_blockdev = true;
		if (ioctl(s.fd, BLKGETSIZE64, &s.dev_size) < 0) {
			r = negative_errno();
			goto out;
		}
		set_end(&s, s.dev_size);
	} else if (!S_ISREG(st.st_mode)) {
		r = -ENOTBLK;
		goto out;
	} else {
		/* a file's tail is only ever written at the commit, which a dead writer never
		 * reached with an unverified image: the head is what matters */
		s.tail_start = s.tail_end = SINK_HOLD_SIZE;
	}
	r = sink_fail_closed(&s);
out:
	s.fd = safe_close(s.fd);
	return r;
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
	/* the held ends are image data, which may be secret: wipe before freeing */
	if (s->head)
		explicit_bzero(s->head, SINK_HOLD_SIZE);
	if (s->tail)
		explicit_bzero(s->tail, SINK_HOLD_SIZE);
	free(s->head);
	free(s->tail);
	s->head = s->tail = NULL;
}
