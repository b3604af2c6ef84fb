/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writing files that hold secrets (a flasher image with its job) so that no one else's file or
 * link ever receives them. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Write data to a new file next to path (created with O_EXCL, mode 0600 from the start, then
 * chmod'ed to mode), fsync it and rename it over path. A file, FIFO or symlink already at path
 * is replaced, never opened or followed: whoever had it open keeps the old contents, a link's
 * target is not touched. 0, or a negative errno (the temporary file is removed). */
int write_file_replace(const char *path, mode_t mode, const void *data, size_t len);

/* The same for a file made of pieces, written one after the other. */
struct file_piece {
	const void *data;
	size_t len;
};
int write_file_replace_pieces(const char *path, mode_t mode, const struct file_piece *pieces,
			      size_t n);

/* write(2) until all n bytes are written, restarting after signals. 0, or a negative errno
 * (-EIO for a write that wrote nothing). */
int write_all(int fd, const void *buf, size_t n);
