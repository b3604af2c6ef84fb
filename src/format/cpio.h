/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The "newc" cpio archive the kernel unpacks into its initramfs, as the kernel's
 * Documentation/driver-api/early-userspace/buffer-format.rst describes it: a writer into a
 * growing memory buffer and a reader of hostile memory buffers. No file I/O here. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "070701" and 13 fields of 8 hex digits. */
#define CPIO_HEADER_SIZE 110
/* Longest name including its NUL: the kernel's PATH_MAX; the kernel skips longer ones. */
#define CPIO_NAME_MAX 4096
#define CPIO_TRAILER "TRAILER!!!"
/* Each entry's data must fit the format's 32-bit filesize field; the whole archive is capped at
 * the same size, which is more than a bootloader hands to a kernel. */
#define CPIO_WRITER_MAX_SIZE UINT32_MAX

struct cpio_writer;

/* A writer whose entries all carry this mtime, uid and gid 0, and inode numbers 1, 2, 3, … in
 * call order, so that the same calls always give the same bytes. 0 or -ENOMEM. */
int cpio_writer_new(uint32_t mtime, struct cpio_writer **ret);
void cpio_writer_free(struct cpio_writer *w);
/* For _cleanup_(cpio_writer_freep). */
static inline void cpio_writer_freep(struct cpio_writer **w)
{
	cpio_writer_free(*w);
}

/* The add functions append one entry in call order: the caller sorts, and creates parents
 * before children, because the writer does not invent directories.
 *
 * path is relative to the initramfs root ("dev/console"); one leading "/" is dropped. It must
 * not be empty, end in "/", hold "//" or a "." or ".." component (the lone path "." names the
 * root itself, and is allowed), must be shorter than CPIO_NAME_MAX, and must not be
 * TRAILER!!!, which would end the archive early. perm holds only permission bits (07777).
 *
 * Header fields are written as upper-case hex, as the kernel's usr/gen_init_cpio and GNU cpio
 * write them; header+name and data are each padded with NULs to a multiple of 4.
 *
 * Each returns 0, -EINVAL for a bad path, mode or device number or a finished writer, -EFBIG
 * when the entry or the archive would exceed CPIO_WRITER_MAX_SIZE, -ENOMEM. On failure the
 * archive is unchanged. */

/* A directory: mode S_IFDIR|perm, nlink 2. */
int cpio_writer_add_dir(struct cpio_writer *w, const char *path, uint32_t perm);
/* A regular file holding data[0..len): mode S_IFREG|perm, nlink 1. */
int cpio_writer_add_file(struct cpio_writer *w, const char *path, uint32_t perm,
			 const void *data, size_t len);
/* A symbolic link: mode S_IFLNK|0777, the data is target without its NUL. target must not be
 * empty and must be shorter than CPIO_NAME_MAX (-EINVAL). */
int cpio_writer_add_symlink(struct cpio_writer *w, const char *path, const char *target);
/* A device node, FIFO or socket: mode is S_IFCHR, S_IFBLK, S_IFIFO or S_IFSOCK with permission
 * bits; major and minor go into rdevmajor and rdevminor and must fit the kernel's dev_t (12 and
 * 20 bits), and must be 0 for FIFOs and sockets. */
int cpio_writer_add_node(struct cpio_writer *w, const char *path, uint32_t mode, unsigned major,
			 unsigned minor);

/* Append the TRAILER!!! entry and hand over the archive (free() it). The archive is not padded
 * to a block size: the kernel needs none, and skips NULs between concatenated archives. On
 * success the writer only accepts cpio_writer_free(). 0, -EINVAL when already finished, -EFBIG,
 * -ENOMEM; on failure nothing is handed over and the writer is unchanged. */
int cpio_writer_finish(struct cpio_writer *w, uint8_t **ret_buf, size_t *ret_len);

struct cpio_entry {
	char name[CPIO_NAME_MAX]; /* NUL-terminated, holds no other NUL */
	uint32_t ino, mode, uid, gid, nlink, mtime, devmajor, devminor, rdevmajor, rdevminor;
	const uint8_t *data; /* points into the buffer given to cpio_reader_next() */
	uint64_t size;
};

/* Parse the entry at *offset in buf[0..len). Accepts the magic 070701 and 070702 (the variant
 * with a checksum of the data, which is not verified here); the hex digits may be of either
 * case, but there must be exactly 8 of them per field.
 *
 * Returns 1 with the entry in ret and *offset advanced past the entry and the padding of its
 * data; 0 when the entry is TRAILER!!! (ret filled, *offset advanced past it); -ENODATA when
 * *offset == len; -EINVAL when *offset > len; -EBADMSG for a malformed entry: a truncated
 * header, bad magic, a field that is not 8 hex digits, a namesize of 0 or over CPIO_NAME_MAX,
 * a name without its final NUL or with a NUL inside, a name or data beyond the end of buf, and
 * an *offset that is not a multiple of 4 (the kernel counts padding from the start of the whole
 * initramfs, so pass all of it as buf). Padding that the buffer cuts short at its very end is
 * tolerated. On failure *offset and ret are unchanged. The file type in mode is reported, not
 * checked. */
int cpio_reader_next(const uint8_t *buf, size_t len, size_t *offset, struct cpio_entry *ret);

/* Between concatenated archives (after a trailer) there may be NUL padding: advance *offset
 * over NUL bytes. Returns true when data follows. The next archive must start 4-byte aligned,
 * which cpio_reader_next() checks, as the kernel does. */
bool cpio_reader_skip_padding(const uint8_t *buf, size_t len, size_t *offset);
