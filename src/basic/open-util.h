/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Opening files of an untrusted file system (the image just written) as if its root were "/",
 * and only when they are regular files. */
#pragma once

/* openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV) of path below root_fd,
 * with O_CLOEXEC added to flags: symlinks and ".." never leave that file system. An fd, or a
 * negative errno. */
int open_in_root(int root_fd, const char *path, int flags);

/* The same, read-only, for a regular file only: path is first opened with O_PATH (which opens
 * nothing: a FIFO cannot block us, a device's driver is never called), checked to be a regular
 * file, and only then reopened for reading. An fd; -EBADFD when it is anything but a regular
 * file (a FIFO, a device node, a directory, a socket); or another negative errno. */
int open_regular_in_root(int root_fd, const char *path);
