/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The running system's network, as the flasher should repeat it: the interface holding the
 * default route (IPv4, else IPv6; by MAC and bus path), its global addresses, the default
 * gateways (a link-local IPv6 one too) and the DNS servers, and when that interface is a VLAN,
 * bond or bridge the stack under it, written into a job so that the flasher comes up on the
 * same static address. */
#pragma once

#include <stddef.h>

#include "format/job.h"

/* Fill the net-* fields of j. 0 with a one-line description in desc; -ENETUNREACH when there
 * is no default route (the flasher will use DHCP); -EPROTONOSUPPORT with the reason in desc
 * when the interface is built on a kind of link the flasher cannot rebuild (the caller must
 * refuse: DHCP would come up on the bare NIC, outside the VLAN or bond); other -errno. */
int net_carry_collect(struct job *j, char *desc, size_t desclen);
