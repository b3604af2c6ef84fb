// SPDX-License-Identifier: GPL-2.0-or-later
/* Replacing a file with new contents by a temporary file and rename(2). */
#include "basic/file-util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/macro.h"

int write_file_replace(const char *path, mode_t mode, const void *data, size_t len)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -EBADF;
	const char *p = data;
	size_t done = 0;
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
	while (r == 0 && done < len) {
		ssize_t n = write(fd, p + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			r = n < 0 ? negative_errno() : -EIO;
		else
			done += (size_t)n;
	}
	if (r == 0 && fsync(fd) < 0)
		r = negative_errno();
	if (r == 0 && rename(tmp, path) < 0)
		r = negative_errno();
	if (r < 0)
		(void)unlink(tmp);
	return r;
}
