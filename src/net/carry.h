/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The running system's network, as the flasher should repeat it: the interface holding the
 * default route (by MAC and bus path), its global addresses, the default gateways and the DNS
 * servers, written into a job so that the flasher comes up on the same static address. */
#pragma once

#include <stddef.h>

#include "format/job.h"

/* Fill the net-* fields of j. 0 with a one-line description in desc; -ENETUNREACH when there
 * is no default route (the flasher will use DHCP), other -errno. */
int net_carry_collect(struct job *j, char *desc, size_t desclen);
