/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Is a block device safe to overwrite? Reads /proc/self/mountinfo, /proc/swaps and sysfs
 * (holders/, partitions) and compares against the device and every partition on it. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Check the block device devnum (path is only used in messages). Returns 0 when nothing uses
 * it; -EBUSY with an explanation in why (e.g. "/dev/sdb1 (partition of /dev/sdb) is mounted on
 * /boot") when it is mounted, has a mounted partition, is active swap, is held by
 * device-mapper/md/LVM, or holds the running root file system. */
int target_check_block_device(dev_t devnum, const char *path, char *why, size_t whylen);

/* Check a regular file target: refuse an active swap file. 0 or -EBUSY with why. */
int target_check_regular_file(dev_t dev, ino_t ino, const char *path, char *why, size_t whylen);

/* Read /sys/dev/block/MAJ:MIN/queue/<attr> (or the parent disk's queue for a partition) as an
 * unsigned number. 0 and the value, or -errno. */
int blockdev_queue_attr(dev_t devnum, const char *attr, unsigned long long *ret);
