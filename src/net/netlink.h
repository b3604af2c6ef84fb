/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rtnetlink requests through libmnl: links, addresses and routes of the flasher's interfaces. */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every function opens its own netlink socket, so they may be called from any thread. They
 * return 0 (or a count) on success and a negative errno otherwise; an NLMSG_ERROR from the
 * kernel is returned as its -errno. */

/* Address lifetime that never expires (IFA_CACHEINFO). */
#define NETLINK_LIFETIME_FOREVER UINT32_MAX

struct netlink_link {
	int ifindex;
	char name[IFNAMSIZ];
	uint8_t mac[6];	  /* zero when the hardware address is not 6 bytes long */
	unsigned flags;	  /* IFF_UP, IFF_LOWER_UP, IFF_LOOPBACK, ... */
	bool carrier;	  /* IFLA_CARRIER, or IFF_LOWER_UP on kernels without it */
	uint16_t type;	  /* ARPHRD_ETHER, ARPHRD_LOOPBACK, ... */
	uint32_t mtu;
};

struct netlink_addr {
	int family; /* AF_INET or AF_INET6 */
	int ifindex;
	uint8_t addr[16]; /* network byte order; first 4 bytes for AF_INET */
	uint8_t prefix;
	uint8_t scope;	  /* RT_SCOPE_UNIVERSE, RT_SCOPE_LINK, ... */
	uint32_t flags;	  /* IFA_F_TENTATIVE, IFA_F_DADFAILED, IFA_F_PERMANENT, ... */
	uint32_t valid_s; /* remaining lifetimes; NETLINK_LIFETIME_FOREVER when permanent */
	uint32_t preferred_s;
};

struct netlink_route {
	int family;	    /* AF_INET or AF_INET6 */
	uint8_t dst[16];    /* network byte order */
	uint8_t dst_prefix; /* 0 for a default route */
	uint8_t gateway[16];/* all zero for a route on the link (scope link) */
	uint8_t prefsrc[16];/* all zero for none */
	int oif;
	uint8_t protocol;   /* RTPROT_DHCP, RTPROT_STATIC, RTPROT_RA, ... */
	uint32_t priority;  /* the metric; 0 is the kernel's default */
	bool onlink;	    /* RTNH_F_ONLINK: use the gateway even if no route covers it */
};

/* All links, sorted by ifindex, loopback ones left out when skip_loopback. Returns the number
 * of links and a malloc'ed array in *ret (NULL when there are none). */
int netlink_link_list(bool skip_loopback, struct netlink_link **ret);

/* One link by index: 0, or -ENODEV. */
int netlink_link_get(int ifindex, struct netlink_link *ret);

/* Set or clear IFF_UP. */
int netlink_link_set_up(int ifindex);
int netlink_link_set_down(int ifindex);

/* Change the hardware address. The link must be down (many drivers refuse otherwise): -EBUSY
 * when it is up. */
int netlink_link_set_mac(int ifindex, const uint8_t mac[6]);

/* Set the MTU; -EINVAL for values the device refuses. */
int netlink_link_set_mtu(int ifindex, uint32_t mtu);

/* Wait until the link reports carrier (it must be up for that). 0, -ETIMEDOUT after timeout_ms,
 * -ECANCELED when *stop becomes nonzero, -ENODEV when the link disappears. */
int netlink_link_wait_carrier(int ifindex, uint64_t timeout_ms, const volatile int *stop);

/* Add an address, or update its lifetimes if it exists (NLM_F_REPLACE). valid_s and
 * preferred_s are seconds, NETLINK_LIFETIME_FOREVER for a permanent address; the kernel
 * deletes the address when valid_s runs out, so a leased address must be renewed in time.
 * For AF_INET the broadcast address is derived from the prefix. -EINVAL for a bad family,
 * prefix, valid_s == 0 or preferred_s > valid_s. */
int netlink_addr_add(int ifindex, int family, const void *addr, uint8_t prefix, uint32_t valid_s,
		     uint32_t preferred_s);

/* Remove an address: 0, or -EADDRNOTAVAIL when it is not there. */
int netlink_addr_del(int ifindex, int family, const void *addr, uint8_t prefix);

/* Addresses of family (AF_INET, AF_INET6, or AF_UNSPEC for both) on ifindex (0 for all links).
 * Returns the count and a malloc'ed array in *ret (NULL when there are none). */
int netlink_addr_list(int family, int ifindex, struct netlink_addr **ret);

/* Add a route in the main table, replacing one with the same destination and metric. Scope is
 * link without a gateway and universe with one. */
int netlink_route_add(const struct netlink_route *r);
