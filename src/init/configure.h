/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The step after a verified write and before `then`: fit the partition table to the disk (the
 * backup GPT at the disk's end, the last root partition and its file system grown when the
 * job says grow), then give the new system this machine's identity (host keys, authorized
 * keys, network, name, cloud-init seed, copied files). */
#pragma once

#include <stddef.h>

#include "format/job.h"
#include "initrd/flasher.h"

/* Where the flasher finds the identity files of the job archive. */
#define IDENTITY_DIR "/etc/reimage/identity"

/* The identity files: from files[] (paths etc/reimage/identity/NAME, as collected by
 * initrd/identity.c), else from dir/NAME. */
struct identity_source {
	const struct flasher_secret *files;
	size_t n_files;
	const char *dir;
};

/* Configure the system written on disk (a whole disk). Every check that can refuse (no root
 * found, a file system that cannot grow, a destination through a link, a missing identity
 * file) runs before anything is written. 0; or -errno with "STEP: what went wrong" in err. */
int configure_new_system(const struct job *j, const struct identity_source *src, const char *disk,
			 char *err, size_t errlen);

/* Wipe and remove the identity files under dir (after configuring, or when the flasher gives
 * up: they are secrets). */
void identity_dir_wipe(const char *dir);
