/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Finding the disk to write without udev: by the stable identity recorded where the job was
 * made (serial, WWN, or model and size), else by name, waiting for it to appear. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct disk_identity {
	char name[64];	 /* sda, vda, nvme0n1 */
	char serial[128];
	char wwn[128];
	char model[128];
	uint64_t size; /* bytes */
};

/* For tests: look for /sys and /dev under this directory ("" or NULL: the real ones). */
void target_set_root(const char *root);

/* Read what sysfs says about /sys/class/block/NAME. 0 or -errno. */
int disk_identity_read(const char *name, struct disk_identity *ret);

/* Wait up to timeout_ms for the disk: with serial/wwn/model set, the whole disk whose identity
 * matches (all given fields must match; size too when non-zero), else the path dst, accepted
 * only when its size is the recorded one (when size is non-zero). A model and size without
 * serial or WWN is chosen only after the list of disks has stopped changing for a few seconds.
 * Returns 0 and "/dev/NAME" (or dst) in path; -ETIMEDOUT with the disks that were seen listed
 * in why; -ENOTUNIQ when several disks match; -ENXIO when dst has another size than recorded
 * (why says both). */
int target_find(const char *dst, const char *serial, const char *wwn, const char *model,
		uint64_t size, uint64_t timeout_ms, char *path, size_t pathlen, char *why,
		size_t whylen);
