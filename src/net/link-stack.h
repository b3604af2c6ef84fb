/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Rebuilding a carried network stack (VLANs, bonds, bridges; format/net-link.h) over the
 * NICs found by MAC, so that the carried address can go on its top. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "format/net-link.h"

/* The kernel module that provides kind ("8021q", "bonding", "bridge"), or NULL. */
const char *link_stack_module(const char *kind);

/* Wait (up to timeout_ms, or until *stop) for every NIC named by MAC in links to appear,
 * matched by its permanent address, else its current one; then create each layer in order
 * (reusing a link of that name and kind that exists already), enslave bond members and
 * bridge ports (down first, as bonding requires), give the top layer top_mac when it is a
 * bond or bridge and top_mac is not NULL, and bring everything up.
 * Returns 0 and the top layer's ifindex in *ret_top; -ENODEV when a NIC did not appear,
 * -EOPNOTSUPP when the kernel lacks a kind, -EEXIST when the name is taken by another kind,
 * other -errno from netlink; on failure why says which link and what went wrong. */
int link_stack_build(const struct net_link *links, size_t n, const uint8_t *top_mac,
		     uint64_t timeout_ms, const volatile int *stop, int *ret_top, char *why,
		     size_t whylen);
