/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A blocking DHCPv6 client for one interface (RFC 8415 §18): stateful (Solicit, Advertise,
 * Request, Reply for an IA_NA address) or information-only (Information-request, Reply for DNS
 * servers), applying the address with rtnetlink and renewing it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "format/dhcp6.h"

/* The client uses a UDP socket on [::]:546 bound to the interface (SO_BINDTODEVICE,
 * SO_REUSEADDR) and sends to ff02::1:2 port 547 on it, so the interface must be up with a
 * link-local address. Functions return 0 or a negative errno and log at debug level only. */

struct dhcp6_client_config {
	int ifindex;
	uint8_t mac[6];	     /* DUID-LL and IAID */
	uint64_t timeout_ms; /* acquire gives up after this; 0: never */
	/* First retransmission interval; 0: 1 s (SOL_TIMEOUT and INF_TIMEOUT, RFC 8415 §7.6),
	 * doubling with ±1/10 jitter up to 30 s. Tests make it short. */
	uint64_t initial_retransmit_ms;
	const volatile int *stop; /* optional: set nonzero to make any call return soon */
};

/* The IAID we use: the low 32 bits of the MAC, stable across runs (RFC 8415 §12). */
uint32_t dhcp6_client_iaid(const struct dhcp6_client_config *c);

/* stateful: Solicit → (first) Advertise with an address → Request → Reply with the address; an
 * Advertise without one (NoAddrsAvail) is ignored. Not stateful: Information-request → Reply.
 * Does not configure anything. Returns 0 and the lease; -ETIMEDOUT after c->timeout_ms;
 * -ECANCELED when *c->stop was set; -ENODEV for a bad ifindex; other socket errors. */
int dhcp6_client_acquire(const struct dhcp6_client_config *c, bool stateful,
			 struct dhcp6_lease *ret);

/* Add the lease's address as a /128 with its lifetimes (on-link prefixes come from router
 * advertisements, RFC 8415 §18.2.10.1 note). Nothing to do for a lease without an address. */
int dhcp6_lease_apply(int ifindex, const struct dhcp6_lease *l);

/* Keep an applied stateful lease alive until *c->stop: Renew (to the server) at T1, Rebind
 * (to any server) at T2, apply each Reply. T1/T2 of 0 become 0.5/0.8 of the preferred
 * lifetime (RFC 8415 §21.4). Returns 0 when stopped, -ETIMEDOUT when the address ran out
 * (the kernel removed it), -EADDRNOTAVAIL when the server no longer gives it. */
int dhcp6_client_maintain(const struct dhcp6_client_config *c, struct dhcp6_lease *lease);
