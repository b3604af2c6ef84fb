// SPDX-License-Identifier: GPL-2.0-or-later
/* SLAAC switches, RDNSS from RTM_NEWNDUSEROPT, and waiting for a usable global IPv6 address. */
#include "net/ndisc.h"

#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "basic/io-util.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/time-util.h"
#include "net/netlink.h"

#define ND_OPT_RDNSS 25
#define RECV_BUF 8192

int ndisc_useropt_parse(const uint8_t *payload, size_t len, struct ndisc_rdnss *ret)
{
	struct nduseroptmsg h;
	struct ndisc_rdnss r = { 0 };
	bool found = false;
	const uint8_t *p;
	size_t n;

	if (!payload || len < sizeof(h))
		return -EBADMSG;
	memcpy(&h, payload, sizeof(h));
	if (h.nduseropt_opts_len > len - sizeof(h))
		return -EBADMSG;
	if (h.nduseropt_family != AF_INET6 || h.nduseropt_icmp_type != ND_ROUTER_ADVERT)
		return 0;
	r.ifindex = h.nduseropt_ifindex;
	r.lifetime_s = UINT32_MAX;
	p = payload + sizeof(h);
	n = h.nduseropt_opts_len;
	while (n > 0) {
		size_t olen;

		if (n < 2 || p[1] == 0)
			return -EBADMSG;
		olen = (size_t)p[1] * 8;
		if (olen > n)
			return -EBADMSG;
		/* RFC 8106 §5.1: type, length, 2 reserved, lifetime, then (length - 1) / 2
		 * addresses; an even length or one below 3 makes the option invalid. */
		if (p[0] == ND_OPT_RDNSS && p[1] >= 3 && p[1] % 2 == 1) {
			uint32_t lifetime = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 |
					    (uint32_t)p[6] << 8 | p[7];

			found = true;
			r.lifetime_s = MIN(r.lifetime_s, lifetime);
			for (size_t i = 8; i + 16 <= olen; i += 16) {
				struct in6_addr a;

				memcpy(&a, p + i, 16);
				if (IN6_IS_ADDR_UNSPECIFIED(&a) || IN6_IS_ADDR_MULTICAST(&a))
					continue;
				if (r.n_servers < NDISC_MAX_DNS)
					r.servers[r.n_servers++] = a;
			}
		}
		p += olen;
		n -= olen;
	}
	if (!found)
		return 0;
	*ret = r;
	return 1;
}

static int sysctl_write(const char *ifname, const char *key, const char *value)
{
	char path[128];
	_cleanup_close_ int fd = -EBADF;
	size_t l = strlen(value);

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/%s", ifname, key);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	if (write(fd, value, l) != (ssize_t)l)
		return negative_errno();
	return 0;
}

int ndisc_enable_slaac(const char *ifname)
{
	static const char *const settings[][2] = {
		{ "disable_ipv6", "0" },
		{ "accept_ra", "2" },
		{ "autoconf", "1" },
	};
	size_t l = ifname ? strlen(ifname) : 0;
	int r;

	/* The name becomes a path component. */
	if (l == 0 || l >= IFNAMSIZ || strchr(ifname, '/') || strcmp(ifname, ".") == 0 ||
	    strcmp(ifname, "..") == 0)
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(settings); i++) {
		r = sysctl_write(ifname, settings[i][0], settings[i][1]);
		if (r < 0)
			return log_debug_errno(r, "ndisc: setting %s of %s failed: %m",
					       settings[i][0], ifname);
	}
	return 0;
}

static int netlink_group_socket(unsigned group)
{
	_cleanup_close_ int fd = -EBADF;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int g = (int)group;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return negative_errno();
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return negative_errno();
	if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g)) < 0)
		return negative_errno();
	return TAKE_FD(fd);
}

int ndisc_rdnss_listen(void)
{
	return netlink_group_socket(RTNLGRP_ND_USEROPT);
}

int ndisc_rdnss_wait(int fd, int ifindex, uint64_t timeout_ms, const volatile int *stop,
		     struct ndisc_rdnss *ret)
{
	uint64_t deadline = now_ms() + timeout_ms;
	_cleanup_free_ uint8_t *buf = malloc(RECV_BUF);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		const struct nlmsghdr *nlh;
		ssize_t n;
		int r, left;

		r = fd_wait_readable(fd, deadline, stop);
		if (r < 0)
			return r;
		if (r == 0)
			return -ETIMEDOUT;
		n = recv(fd, buf, RECV_BUF, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ENOBUFS)
				continue;
			return negative_errno();
		}
		left = (int)n;
		for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			struct ndisc_rdnss rd;

			if (nlh->nlmsg_type != RTM_NEWNDUSEROPT)
				continue;
			r = ndisc_useropt_parse(mnl_nlmsg_get_payload(nlh),
						mnl_nlmsg_get_payload_len(nlh), &rd);
			if (r < 0)
				log_debug_errno(r, "ndisc: ignoring malformed ND user option: %m");
			if (r <= 0 || (ifindex > 0 && rd.ifindex != ifindex) || rd.lifetime_s == 0 ||
			    rd.n_servers == 0)
				continue;
			*ret = rd;
			return 0;
		}
	}
}

static int find_global_address(int ifindex, struct in6_addr *ret)
{
	_cleanup_free_ struct netlink_addr *addrs = NULL;
	int n;

	n = netlink_addr_list(AF_INET6, ifindex, &addrs);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		if (addrs[i].scope != RT_SCOPE_UNIVERSE ||
		    (addrs[i].flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)))
			continue;
		if (ret)
			memcpy(ret, addrs[i].addr, 16);
		return 1;
	}
	return 0;
}

int ndisc_wait_global_address(int ifindex, uint64_t timeout_ms, const volatile int *stop,
			      struct in6_addr *ret)
{
	uint64_t deadline = now_ms() + timeout_ms;
	_cleanup_close_ int fd = -EBADF;
	char buf[RECV_BUF];
	int r;

	/* Subscribe first, then look, so that DAD finishing in between is not missed. */
	fd = netlink_group_socket(RTNLGRP_IPV6_IFADDR);
	if (fd < 0)
		return fd;
	for (;;) {
		r = find_global_address(ifindex, ret);
		if (r != 0)
			return r < 0 ? r : 0;
		r = fd_wait_readable(fd, deadline, stop);
		if (r < 0)
			return r;
		if (r == 0)
			return -ETIMEDOUT;
		while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0 || errno == ENOBUFS)
			;
	}
}
