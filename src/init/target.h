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

/* Read what sysfs says about /sys/class/block/NAME. 0 or -errno. */
int disk_identity_read(const char *name, struct disk_identity *ret);

/* Wait up to timeout_ms for the disk: with serial/wwn/model set, the whole disk whose identity
 * matches (all given fields must match; size too when non-zero), else the path dst. Returns 0
 * and "/dev/NAME" (or dst) in path; -ETIMEDOUT with the disks that were seen listed in why;
 * -ENOTUNIQ when several disks match. */
int target_find(const char *dst, const char *serial, const char *wwn, const char *model,
		uint64_t size, uint64_t timeout_ms, char *path, size_t pathlen, char *why,
		size_t whylen);
