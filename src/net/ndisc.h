/* SPDX-License-Identifier: GPL-2.0-or-later */
/* IPv6 autoconfiguration left to the kernel (SLAAC), plus the DNS servers of router
 * advertisements (RDNSS, RFC 8106) that the kernel passes on without applying. */
#pragma once

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define NDISC_MAX_DNS 4

struct ndisc_rdnss {
	int ifindex;
	uint32_t lifetime_s; /* smallest lifetime of the RDNSS options; 0: servers withdrawn */
	struct in6_addr servers[NDISC_MAX_DNS];
	size_t n_servers;
};

/* Parse the payload of an RTM_NEWNDUSEROPT message: struct nduseroptmsg, then the options of a
 * router advertisement (RFC 4861 §4.6: type, length in units of 8 octets, data). Collects the
 * addresses of every RDNSS option (type 25, RFC 8106 §5.1), the first NDISC_MAX_DNS of them;
 * RDNSS options with a bad length (even, or below 3) are skipped as RFC 8106 says, and so are
 * unspecified and multicast addresses.
 * Returns 1 and ret when there is at least one RDNSS option, 0 when there is none (other
 * options, or not from a router advertisement), -EBADMSG when the header or an option overruns
 * len or an option has length 0. ret is untouched unless 1 is returned. */
int ndisc_useropt_parse(const uint8_t *payload, size_t len, struct ndisc_rdnss *ret);

/* Let the kernel autoconfigure ifname from router advertisements: disable_ipv6=0,
 * accept_ra=2 (also when forwarding is on), autoconf=1 under /proc/sys/net/ipv6/conf/ifname/.
 * The kernel sends its router solicitation when the link comes up, so call this before
 * netlink_link_set_up(). 0, -EINVAL for a bad name, or -errno of the write. */
int ndisc_enable_slaac(const char *ifname);

/* A netlink socket subscribed to RTNLGRP_ND_USEROPT. Open it before the link comes up: an RA
 * arrives once, and then only every few minutes. Returns the fd or -errno. */
int ndisc_rdnss_listen(void);

/* Read fd (from ndisc_rdnss_listen()) until an RA with RDNSS servers for ifindex (0: any link) arrives (with
 * a nonzero lifetime). 0 and the servers; -ETIMEDOUT; -ECANCELED when *stop becomes nonzero. */
int ndisc_rdnss_wait(int fd, int ifindex, uint64_t timeout_ms, const volatile int *stop,
		     struct ndisc_rdnss *ret);

/* Wait until ifindex has a global (scope universe) IPv6 address that is neither tentative nor
 * failed duplicate address detection. 0 and the address (ret may be NULL); -ETIMEDOUT;
 * -ECANCELED. */
int ndisc_wait_global_address(int ifindex, uint64_t timeout_ms, const volatile int *stop,
			      struct in6_addr *ret);
