// SPDX-License-Identifier: GPL-2.0-or-later
/* Reading kernels, initramfs files and /proc, /sys files whole, with a cap, for the kexec_load
 * loaders. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/macro.h"
#include "kexec/kexec-internal.h"

int kexec_read_fd(int fd, uint64_t max, uint8_t **ret, size_t *ret_len)
{
	_cleanup_free_ uint8_t *buf = NULL;
	struct stat st;
	size_t done = 0;

	if (fstat(fd, &st) < 0)
		return negative_errno();
	if ((uint64_t)st.st_size > max)
		return -EFBIG;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (done < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + done, (size_t)st.st_size - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negative_errno();
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	buf[done] = 0;
	*ret = TAKE_PTR(buf);
	*ret_len = done;
	return 0;
}

int kexec_read_path(const char *path, uint64_t max, uint8_t **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len = 0, cap = 0;

	if (fd < 0)
		return negative_errno();
	/* proc and sysfs files have no size up front */
	for (;;) {
		ssize_t n;
		if (len == cap) {
			uint8_t *b;
			if (cap >= max)
				return -EFBIG;
			cap = cap ? cap * 2 : 65536;
			b = realloc(buf, cap + 1);
			if (!b)
				return -ENOMEM;
			buf = b;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negative_errno();
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (!buf && !(buf = malloc(1)))
		return -ENOMEM;
	buf[len] = 0;
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}
