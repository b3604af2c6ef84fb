/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A blocking DHCPv4 client for one interface (RFC 2131 §4.4): acquire a lease, apply it with
 * rtnetlink, renew and rebind it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "format/dhcp.h"

/* The client uses a UDP socket on 0.0.0.0:68 bound to the interface (SO_BINDTODEVICE,
 * SO_BROADCAST, SO_REUSEADDR) and asks for broadcast replies while it has no address, so the
 * interface must be up, and rp_filter must not drop the server's packets. No ARP probe
 * (DHCPDECLINE) is done. Functions return 0 or a negative errno; they log at debug level only. */

struct dhcp_client_config {
	int ifindex;
	uint8_t mac[6];	     /* chaddr and client identifier */
	uint64_t timeout_ms; /* dhcp_client_acquire() gives up after this; 0: never */
	/* First retransmission interval; 0: 4 s (RFC 2131 §4.1). ±1/4 jitter, doubling up to
	 * 64 s. Tests make it short. */
	uint64_t initial_retransmit_ms;
	/* dhcp_client_maintain() rewrites it after each ACK; NULL: never written. */
	const char *resolv_conf;
	const volatile int *stop; /* optional: set nonzero to make any call return soon */
};

/* DISCOVER → OFFER → REQUEST → ACK; a NAK, or no answer to four REQUESTs, starts over with a
 * new DISCOVER. Takes the first OFFER. Does not configure anything.
 * Returns 0 and the lease; -ETIMEDOUT after c->timeout_ms; -ECANCELED when *c->stop was set;
 * other errors from setting up the socket (-ENODEV for a bad ifindex). */
int dhcp_client_acquire(const struct dhcp_client_config *c, struct dhcp_lease *ret);

/* One renewal exchange for lease: a REQUEST with ciaddr = lease->address unicast to
 * lease->server_id (RENEWING) or, when rebind, broadcast (REBINDING), retransmitted like a
 * DISCOVER until timeout_ms has passed. Does not configure anything.
 * Returns 0 and the new lease in *lease (ACK); -EADDRNOTAVAIL for a NAK (the address must be
 * given up); -ETIMEDOUT; -ECANCELED. *lease is untouched unless 0 is returned. */
int dhcp_client_renew(const struct dhcp_client_config *c, bool rebind, uint64_t timeout_ms,
		      struct dhcp_lease *lease);

/* Configure the interface from a lease: MTU (option 26, failure ignored), the address with the
 * lease time as valid and preferred lifetime (replacing the lifetimes of an existing one), then
 * the option 121 routes, or without them a default route via the router; a gateway outside the
 * leased subnet (e.g. a /32 lease) gets RTNH_F_ONLINK. Routes have protocol RTPROT_DHCP. When
 * resolv_conf is not NULL and the lease has DNS servers or a domain, the file is replaced
 * (atomically) by nameserver and search lines. */
int dhcp_lease_apply(int ifindex, const struct dhcp_lease *l, const char *resolv_conf);

/* Write "nameserver" lines and a "search" line for the lease to path, through a temporary file
 * and rename(). 0 or -errno. */
int dhcp_lease_write_resolv_conf(const struct dhcp_lease *l, const char *path);

/* Keep a lease applied by dhcp_lease_apply() alive until *c->stop: sleep until T1, renew
 * (unicast) until T2, then rebind (broadcast) until the lease ends; apply every ACK (new
 * lifetimes, routes, resolv.conf) and update *lease. Lease times count from the call and then
 * from each renewal's first REQUEST, so call it right after applying. Meant to run in its own
 * thread; *lease must not be read concurrently.
 * Returns 0 when stopped; -EADDRNOTAVAIL after a NAK and -ETIMEDOUT when the lease ran out (in
 * both cases the address has been removed and the caller should acquire a new lease); other
 * errors from the socket or netlink. An infinite lease just waits for *c->stop. */
int dhcp_client_maintain(const struct dhcp_client_config *c, struct dhcp_lease *lease);
