// SPDX-License-Identifier: GPL-2.0-or-later
/* Writing all of a buffer, and replacing a file with new contents by a temporary file and
 * rename(2). */
#include "basic/file-util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/macro.h"

int write_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? negative_errno() : -EIO;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int write_file_replace_pieces(const char *path, mode_t mode, const struct file_piece *pieces,
			      size_t n)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -EBADF;
	int r = 0;

	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return -ENOMEM;
	/* mkostemp: O_CREAT|O_EXCL and mode 0600, so the secrets are never readable by others,
	 * not even for a moment, and never written through a name someone else prepared */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	if (fchmod(fd, mode) < 0)
		r = negative_errno();
	for (size_t i = 0; r == 0 && i < n; i++)
		r = write_all(fd, pieces[i].data, pieces[i].len);
	if (r == 0 && fsync(fd) < 0)
		r = negative_errno();
	if (r == 0 && rename(tmp, path) < 0)
		r = negative_errno();
	if (r < 0)
		(void)unlink(tmp);
	return r;
}

int write_file_replace(const char *path, mode_t mode, const void *data, size_t len)
{
	const struct file_piece one = { data, len };

	return write_file_replace_pieces(path, mode, &one, 1);
}
