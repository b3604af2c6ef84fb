// SPDX-License-Identifier: GPL-2.0-or-later
/* Placeholder for kexec into the newly written system: this build cannot do it, so callers
 * fall back to a reboot. */
#include "init/boot-new.h"

#include <errno.h>
#include <stdio.h>

int boot_new_system(const char *target, char *err, size_t errlen)
{
	snprintf(err, errlen, "kexec into the new system is not in this build");
	return -EOPNOTSUPP;
}
