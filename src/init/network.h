/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Bringing up the flasher's network: the static configuration carried in the job (interface
 * found by MAC, or by bus path and given the recorded MAC again), else DHCPv4 on every link
 * with carrier, plus IPv6 SLAAC with DNS servers from router advertisements. */
#pragma once

#include <stddef.h>

#include "format/job.h"

#define FLASHER_RESOLV_CONF "/etc/resolv.conf"

/* Returns 0 when an address is configured (a line in the log says which way), or -ETIMEDOUT
 * after the job's net-timeout with what it waited for in why. Keeps a DHCP lease renewed in a
 * background thread until network_stop(). */
int network_up(const struct job *j, const volatile int *stop, char *why, size_t whylen);
void network_stop(void);
