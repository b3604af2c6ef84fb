/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Choosing kernel modules for the flasher (libkmod), with their dependencies, soft
 * dependencies and firmware, and the module index files for exactly that subset (depmod -b). */
#pragma once

#include <stddef.h>

#include "initrd/initrd.h"

enum modules_mode {
	MODULES_HOST,	     /* what is loaded now (/proc/modules) */
	MODULES_NET_STORAGE, /* every network, block, storage and virtio driver */
	MODULES_NONE,
};

/* "host", "net-storage", "none". 0 or -EINVAL. */
int modules_mode_from_string(const char *s, enum modules_mode *ret);

/* Add the modules of kernel kver found under sysroot/lib/modules/kver (the sysroot's
 * modules.dep must exist), plus the named extra modules (a name starting with '?' only when the
 * kernel has such a module: skipped silently when it is built in or absent, and when only such
 * names were asked for and the kernel has no modules at all), with everything they depend on, under
 * lib/modules/kver in the initrd, and the firmware they name under lib/firmware. Then generate
 * the index files for the subset with depmod -b. Returns 0 and the number of modules in
 * *ret_count, or -errno with a message in err. */
int initrd_add_modules(struct initrd *rd, const char *sysroot, const char *kver,
		       enum modules_mode mode, char *const *extra, size_t n_extra, size_t *ret_count,
		       char *err, size_t errlen);
