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
	/* what the link is built on (IFLA_LINKINFO), for carrying VLANs, bonds and bridges */
	char kind[16];	     /* IFLA_INFO_KIND: "vlan", "bond", "bridge", "veth", ...; "" for none */
	char slave_kind[16]; /* IFLA_INFO_SLAVE_KIND: "bond" or "bridge" for a member */
	int master;	     /* IFLA_MASTER: the bond or bridge it belongs to; 0 for none */
	int parent;	     /* IFLA_LINK: a VLAN's lower device; 0 when absent or itself */
	uint16_t vlan_id;    /* IFLA_VLAN_ID, 1..4094 for a VLAN */
	uint16_t vlan_proto; /* IFLA_VLAN_PROTOCOL in host order: 0x8100 (802.1Q) or 0x88a8 */
	int bond_mode;	     /* IFLA_BOND_MODE (BOND_MODE_ACTIVEBACKUP = 1, 802.3AD = 4); -1 unknown */
	uint8_t perm_mac[6]; /* IFLA_PERM_ADDRESS (a bond member's own MAC); zero when absent */
	bool has_inet6_flags;
	uint32_t inet6_flags; /* IFLA_INET6_FLAGS: NETLINK_RA_MANAGED, NETLINK_RA_OTHERCONF, ... */
};

/* IFLA_INET6_FLAGS bits (the kernel's include/net/if_inet6.h, not exported to user space) */
#define NETLINK_RA_OTHERCONF 0x80u
#define NETLINK_RA_MANAGED 0x40u
#define NETLINK_RA_RCVD 0x20u

/* Parse one RTM_NEWLINK message msg[0..len) (nlmsghdr, ifinfomsg, attributes) as the kernel
 * sends it, or as anything else might: every attribute length is checked before it is read,
 * and attributes of the wrong size are ignored. Returns 0 and ret; -EBADMSG when the header
 * is short, nlmsg_len rounded up to 4 bytes is not within len, or it is not RTM_NEWLINK. */
int netlink_link_parse(const void *msg, size_t len, struct netlink_link *ret);

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

/* Create a link of kind "vlan" (on parent with vlan_id, 802.1Q), "bond" (with bond_mode) or
 * "bridge", named name, down. -EEXIST when the name is taken; -EOPNOTSUPP when the kernel
 * does not know the kind (its module is not loaded). */
int netlink_link_create(const char *name, const char *kind, int parent, uint16_t vlan_id,
			int bond_mode);

/* Delete a (virtual) link. */
int netlink_link_delete(int ifindex);

/* Make ifindex a member of master (a bond or bridge), or of none with master 0. A bond takes
 * only members that are down. */
int netlink_link_set_master(int ifindex, int master);

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
