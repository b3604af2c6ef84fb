// SPDX-License-Identifier: GPL-2.0-or-later
/* openat2-based opening inside a foreign file system. */
#include "basic/open-util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/macro.h"

int open_in_root(int root_fd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	long fd;

	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
	return fd < 0 ? negative_errno() : (int)fd;
}

int open_regular_in_root(int root_fd, const char *path)
{
	_cleanup_close_ int pfd = open_in_root(root_fd, path, O_PATH);
	char proc[64];
	struct stat st;
	int fd;

	if (pfd < 0)
		return pfd;
	if (fstat(pfd, &st) < 0)
		return negative_errno();
	if (!S_ISREG(st.st_mode))
		return -EBADFD;
	/* the same inode, now for reading; O_NONBLOCK in case it is not what fstat said */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	fd = open(proc, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EBADFD;
	}
	(void)fcntl(fd, F_SETFL, 0); /* a regular file: plain blocking reads again */
	return fd;
}
