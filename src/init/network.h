/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Bringing up the flasher's network: the static configuration carried in the job (interface
 * found by MAC, or by bus path and given the recorded MAC again, or the top of a rebuilt
 * VLAN/bond/bridge stack), else on every Ethernet link at once DHCPv4, IPv6 SLAAC with DNS
 * servers from router advertisements, and DHCPv6 when the router's M or O flag asks for it. */
#pragma once

#include <stddef.h>

#include "format/job.h"

#define FLASHER_RESOLV_CONF "/etc/resolv.conf"
/* Where network_up() writes the DNS servers; FLASHER_RESOLV_CONF unless a test points it
 * elsewhere. */
extern const char *network_resolv_conf;

/* Returns 0 as soon as the kernel has a route to the source's address (for a host name: to a
 * DNS server; without a source: any default route), with a log line naming the source address,
 * its link and the method that gave it; or -ETIMEDOUT after the job's net-timeout with what
 * each link got in why. The methods that have not finished keep going, and DHCP leases are
 * renewed, in background threads until network_stop(). */
int network_up(const struct job *j, const volatile int *stop, char *why, size_t whylen);
void network_stop(void);
