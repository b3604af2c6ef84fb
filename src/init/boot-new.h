/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kexec straight from the flasher into the system it just wrote to target. */
#pragma once

#include <stddef.h>

/* Find the new system's kernel on target and kexec into it. Returns only on failure: -errno
 * with what went wrong in err. */
int boot_new_system(const char *target, char *err, size_t errlen);
