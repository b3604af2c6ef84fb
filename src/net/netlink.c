// SPDX-License-Identifier: GPL-2.0-or-later
/* rtnetlink requests (links, addresses, routes) built and acknowledged through libmnl. */
#include "net/netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h> /* after net/if.h: adds IFF_LOWER_UP */
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if_arp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "basic/alloc-util.h"
#include "basic/io-util.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/time-util.h"

/* Large enough for one dump datagram of the kernel (it sizes them to our receive buffer, at
 * most 32 KiB since Linux 4.x), so replies are never truncated. */
#define NL_RECV_BUF 32768
/* Our requests carry a header and a few attributes. */
#define NL_REQ_BUF 1024

static void mnl_socket_closep(struct mnl_socket **s)
{
	if (*s)
		mnl_socket_close(*s);
}

static int nl_open(unsigned groups, struct mnl_socket **ret)
{
	struct mnl_socket *nl;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return negative_errno();
	if (mnl_socket_bind(nl, groups, MNL_SOCKET_AUTOPID) < 0) {
		int r = negative_errno();
		mnl_socket_close(nl);
		return r;
	}
	*ret = nl;
	return 0;
}

/* Send one request and run cb over the replies until the kernel's ACK (or NLMSG_DONE for a
 * dump). An NLMSG_ERROR becomes its -errno; callbacks report failure through errno. */
static int nl_transact(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	_cleanup_(mnl_socket_closep) struct mnl_socket *nl = NULL;
	_cleanup_free_ char *buf = NULL;
	uint32_t portid, seq;
	int r;

	r = nl_open(0, &nl);
	if (r < 0)
		return r;
	buf = malloc(NL_RECV_BUF);
	if (!buf)
		return -ENOMEM;
	portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_seq = seq = (uint32_t)time(NULL);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return negative_errno();
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, NL_RECV_BUF);

		if (n < 0)
			return negative_errno();
		errno = 0;
		r = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
		if (r == MNL_CB_ERROR)
			return negative_errno();
		if (r == MNL_CB_STOP)
			return 0;
	}
}

struct link_list {
	struct netlink_link *links;
	size_t n, cap;
	bool skip_loopback;
	int only_ifindex; /* 0: every link */
};

/* IFLA_LINKINFO: the kind, the slave kind, and for VLANs and bonds their settings */
static void linkinfo_parse(const struct nlattr *info, struct netlink_link *l)
{
	const struct nlattr *a, *d;

	mnl_attr_for_each_nested(a, info)
	{
		uint16_t len = mnl_attr_get_payload_len(a);
		const char *p = mnl_attr_get_payload(a);

		switch (mnl_attr_get_type(a)) {
		case IFLA_INFO_KIND:
		case IFLA_INFO_SLAVE_KIND: {
			char *dst = mnl_attr_get_type(a) == IFLA_INFO_KIND ? l->kind : l->slave_kind;
			size_t n = strnlen(p, len);
			if (n > 0 && n < sizeof(l->kind)) {
				memcpy(dst, p, n);
				dst[n] = 0;
			}
			break;
		}
		case IFLA_INFO_DATA:
			if (!strcmp(l->kind, "vlan"))
				mnl_attr_for_each_nested(d, a)
				{
					if (mnl_attr_get_type(d) == IFLA_VLAN_ID &&
					    mnl_attr_get_payload_len(d) == 2)
						l->vlan_id = mnl_attr_get_u16(d);
					else if (mnl_attr_get_type(d) == IFLA_VLAN_PROTOCOL &&
						 mnl_attr_get_payload_len(d) == 2)
						l->vlan_proto = ntohs(mnl_attr_get_u16(d));
				}
			else if (!strcmp(l->kind, "bond"))
				mnl_attr_for_each_nested(d, a)
				{
					if (mnl_attr_get_type(d) == IFLA_BOND_MODE &&
					    mnl_attr_get_payload_len(d) == 1)
						l->bond_mode = mnl_attr_get_u8(d);
				}
			break;
		default:
			break;
		}
	}
}

static void af_spec_parse(const struct nlattr *spec, struct netlink_link *l)
{
	const struct nlattr *a, *b;

	mnl_attr_for_each_nested(a, spec)
	{
		if (mnl_attr_get_type(a) != AF_INET6)
			continue;
		mnl_attr_for_each_nested(b, a)
		{
			if (mnl_attr_get_type(b) == IFLA_INET6_FLAGS &&
			    mnl_attr_get_payload_len(b) == 4) {
				l->inet6_flags = mnl_attr_get_u32(b);
				l->has_inet6_flags = true;
			}
		}
	}
}

/* nlh has been checked to hold an ifinfomsg within nlmsg_len */
static void link_from_msg(const struct nlmsghdr *nlh, struct netlink_link *l)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	bool has_carrier = false;

	memset(l, 0, sizeof(*l));
	l->ifindex = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	l->type = ifi->ifi_type;
	l->bond_mode = -1;
	mnl_attr_for_each(attr, nlh, sizeof(*ifi))
	{
		uint16_t len = mnl_attr_get_payload_len(attr);
		const void *p = mnl_attr_get_payload(attr);

		switch (mnl_attr_get_type(attr)) {
		case IFLA_IFNAME:
			if (len > 0 && len <= IFNAMSIZ) {
				memcpy(l->name, p, len);
				l->name[IFNAMSIZ - 1] = 0;
			}
			break;
		case IFLA_ADDRESS:
			if (len == 6)
				memcpy(l->mac, p, 6);
			break;
		case IFLA_PERM_ADDRESS:
			if (len == 6)
				memcpy(l->perm_mac, p, 6);
			break;
		case IFLA_MTU:
			if (len == 4)
				l->mtu = mnl_attr_get_u32(attr);
			break;
		case IFLA_CARRIER:
			if (len == 1) {
				l->carrier = mnl_attr_get_u8(attr) != 0;
				has_carrier = true;
			}
			break;
		case IFLA_MASTER:
			if (len == 4)
				l->master = (int)mnl_attr_get_u32(attr);
			break;
		case IFLA_LINK:
			if (len == 4)
				l->parent = (int)mnl_attr_get_u32(attr);
			break;
		case IFLA_LINKINFO:
			linkinfo_parse(attr, l);
			break;
		case IFLA_AF_SPEC:
			af_spec_parse(attr, l);
			break;
		default:
			break;
		}
	}
	if (l->parent == l->ifindex)
		l->parent = 0;
	if (!has_carrier)
		l->carrier = (l->flags & IFF_LOWER_UP) != 0;
}

int netlink_link_parse(const void *msg, size_t len, struct netlink_link *ret)
{
	const struct nlmsghdr *nlh = msg;

	/* libmnl walks attributes up to the aligned end of the message: that must be in len */
	if (len < sizeof(*nlh) || nlh->nlmsg_len < sizeof(*nlh) ||
	    MNL_ALIGN((size_t)nlh->nlmsg_len) > len ||
	    nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct ifinfomsg))
		return -EBADMSG;
	link_from_msg(nlh, ret);
	return 0;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_list *ll = data;
	struct netlink_link l;

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct ifinfomsg))
		return MNL_CB_OK;
	link_from_msg(nlh, &l);
	if (ll->only_ifindex > 0 && l.ifindex != ll->only_ifindex)
		return MNL_CB_OK;
	if (ll->skip_loopback && (l.type == ARPHRD_LOOPBACK || (l.flags & IFF_LOOPBACK)))
		return MNL_CB_OK;
	if (ARRAY_RESERVE(ll->links, ll->cap, ll->n) < 0) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	ll->links[ll->n++] = l;
	return MNL_CB_OK;
}

static int link_cmp(const void *a, const void *b)
{
	const struct netlink_link *x = a, *y = b;

	return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

/* Start a request about one link in buf (NL_REQ_BUF bytes): the header, of type and flags, then
 * an ifinfomsg for ifindex (0 for a link not made yet). Attributes follow with mnl_attr_put*(). */
static struct nlmsghdr *link_request(char *buf, uint16_t type, uint16_t flags, int ifindex,
				     struct ifinfomsg **ret_ifi)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (ret_ifi)
		*ret_ifi = ifi;
	return nlh;
}

int netlink_link_list(bool skip_loopback, struct netlink_link **ret)
{
	char buf[NL_REQ_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct link_list ll = { .skip_loopback = skip_loopback };
	struct rtgenmsg *g;
	int r;

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->rtgen_family = AF_PACKET;
	r = nl_transact(nlh, link_cb, &ll);
	if (r < 0) {
		free(ll.links);
		return r;
	}
	if (ll.n > 1)
		qsort(ll.links, ll.n, sizeof(*ll.links), link_cmp);
	*ret = ll.links;
	return (int)ll.n;
}

int netlink_link_get(int ifindex, struct netlink_link *ret)
{
	char buf[NL_REQ_BUF];
	struct link_list ll = { .only_ifindex = ifindex };
	int r;

	if (ifindex <= 0)
		return -ENODEV;
	/* Without NLM_F_ACK the answer would not be followed by anything that ends the wait. */
	r = nl_transact(link_request(buf, RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, ifindex, NULL),
			link_cb, &ll);
	if (r == -ENODEV || (r >= 0 && ll.n == 0)) {
		free(ll.links);
		return -ENODEV;
	}
	if (r < 0) {
		free(ll.links);
		return r;
	}
	*ret = ll.links[0];
	free(ll.links);
	return 0;
}

static int link_change(int ifindex, unsigned change, unsigned flags, const uint8_t *mac,
		       uint32_t mtu)
{
	char buf[NL_REQ_BUF];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	if (ifindex <= 0)
		return -ENODEV;
	nlh = link_request(buf, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, ifindex, &ifi);
	ifi->ifi_change = change;
	ifi->ifi_flags = flags;
	if (mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return nl_transact(nlh, NULL, NULL);
}

int netlink_link_set_up(int ifindex)
{
	return link_change(ifindex, IFF_UP, IFF_UP, NULL, 0);
}

int netlink_link_set_down(int ifindex)
{
	return link_change(ifindex, IFF_UP, 0, NULL, 0);
}

int netlink_link_set_mac(int ifindex, const uint8_t mac[6])
{
	struct netlink_link l;
	int r;

	if (!mac)
		return -EINVAL;
	r = netlink_link_get(ifindex, &l);
	if (r < 0)
		return r;
	if (l.flags & IFF_UP)
		return -EBUSY;
	return link_change(ifindex, 0, 0, mac, 0);
}

int netlink_link_set_mtu(int ifindex, uint32_t mtu)
{
	if (mtu == 0)
		return -EINVAL;
	return link_change(ifindex, 0, 0, NULL, mtu);
}

int netlink_link_create(const char *name, const char *kind, int parent, uint16_t vlan_id,
			int bond_mode)
{
	char buf[NL_REQ_BUF];
	struct nlmsghdr *nlh;
	struct nlattr *info, *data;
	int r;

	if (!name || !name[0] || strlen(name) >= IFNAMSIZ || !kind)
		return -EINVAL;
	if (strcmp(kind, "vlan") && strcmp(kind, "bond") && strcmp(kind, "bridge"))
		return -EOPNOTSUPP;
	if (!strcmp(kind, "vlan") && (parent <= 0 || vlan_id == 0 || vlan_id > 4094))
		return -EINVAL;
	nlh = link_request(buf, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
			   0, NULL);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (!strcmp(kind, "vlan"))
		mnl_attr_put_u32(nlh, IFLA_LINK, (uint32_t)parent);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
	if (!strcmp(kind, "vlan")) {
		data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
		mnl_attr_put_u16(nlh, IFLA_VLAN_ID, vlan_id);
		mnl_attr_nest_end(nlh, data);
	} else if (!strcmp(kind, "bond") && bond_mode >= 0) {
		data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
		mnl_attr_put_u8(nlh, IFLA_BOND_MODE, (uint8_t)bond_mode);
		/* without link monitoring an active-backup bond never notices a dead member */
		mnl_attr_put_u32(nlh, IFLA_BOND_MIIMON, 100);
		mnl_attr_nest_end(nlh, data);
	}
	mnl_attr_nest_end(nlh, info);
	r = nl_transact(nlh, NULL, NULL);
	/* the kernel says EOPNOTSUPP, or ENODEV on some versions, for a kind it has no module for */
	return r == -ENODEV ? -EOPNOTSUPP : r;
}

int netlink_link_delete(int ifindex)
{
	char buf[NL_REQ_BUF];

	if (ifindex <= 0)
		return -ENODEV;
	return nl_transact(link_request(buf, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, ifindex, NULL),
			   NULL, NULL);
}

int netlink_link_set_master(int ifindex, int master)
{
	char buf[NL_REQ_BUF];
	struct nlmsghdr *nlh;

	if (ifindex <= 0 || master < 0)
		return -ENODEV;
	nlh = link_request(buf, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, ifindex, NULL);
	mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
	return nl_transact(nlh, NULL, NULL);
}

int netlink_link_wait_carrier(int ifindex, uint64_t timeout_ms, const volatile int *stop)
{
	_cleanup_(mnl_socket_closep) struct mnl_socket *mon = NULL;
	uint64_t deadline = now_ms() + timeout_ms;
	char buf[NL_REQ_BUF];
	int r;

	/* Subscribe before looking, so that a change in between is not missed. */
	r = nl_open(RTMGRP_LINK, &mon);
	if (r < 0)
		return r;
	for (;;) {
		struct netlink_link l;

		r = netlink_link_get(ifindex, &l);
		if (r < 0)
			return r;
		if (l.carrier)
			return 0;
		/* Wait for any link event. */
		r = fd_wait_readable(mnl_socket_get_fd(mon), deadline, stop);
		if (r < 0)
			return r;
		if (r == 0)
			return -ETIMEDOUT;
		/* Drain; an overrun (ENOBUFS) only means we look again. */
		while (recv(mnl_socket_get_fd(mon), buf, sizeof(buf), MSG_DONTWAIT) >= 0 ||
		       errno == ENOBUFS)
			;
	}
}

static size_t family_addr_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

static int addr_change(uint16_t type, uint16_t flags, int ifindex, int family, const void *addr,
		       uint8_t prefix, bool lifetimes, uint32_t valid_s, uint32_t preferred_s)
{
	char buf[NL_REQ_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	size_t alen = family_addr_len(family);
	struct ifaddrmsg *ifa;

	if (alen == 0 || !addr || prefix > alen * 8)
		return -EINVAL;
	if (ifindex <= 0)
		return -ENODEV;
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, alen, addr);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, addr);
	if (type == RTM_NEWADDR && family == AF_INET && prefix <= 30) {
		uint32_t a, mask = prefix == 0 ? 0 : htonl(~(UINT32_MAX >> prefix));

		memcpy(&a, addr, 4);
		a |= ~mask;
		mnl_attr_put(nlh, IFA_BROADCAST, 4, &a);
	}
	if (lifetimes) {
		struct ifa_cacheinfo ci = { .ifa_prefered = preferred_s, .ifa_valid = valid_s };
		mnl_attr_put(nlh, IFA_CACHEINFO, sizeof(ci), &ci);
	}
	return nl_transact(nlh, NULL, NULL);
}

int netlink_addr_add(int ifindex, int family, const void *addr, uint8_t prefix, uint32_t valid_s,
		     uint32_t preferred_s)
{
	if (valid_s == 0 || preferred_s > valid_s)
		return -EINVAL;
	return addr_change(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, ifindex, family, addr, prefix,
			   true, valid_s, preferred_s);
}

int netlink_addr_del(int ifindex, int family, const void *addr, uint8_t prefix)
{
	return addr_change(RTM_DELADDR, 0, ifindex, family, addr, prefix, false, 0, 0);
}

struct addr_list {
	struct netlink_addr *addrs;
	size_t n, cap;
	int ifindex;
};

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct addr_list *al = data;
	const struct ifaddrmsg *ifa;
	const struct nlattr *attr;
	struct netlink_addr a = { 0 };
	bool has_local = false, has_addr = false;
	size_t alen;

	if (nlh->nlmsg_type != RTM_NEWADDR ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct ifaddrmsg))
		return MNL_CB_OK;
	ifa = mnl_nlmsg_get_payload(nlh);
	alen = family_addr_len(ifa->ifa_family);
	if (alen == 0 || (al->ifindex > 0 && (int)ifa->ifa_index != al->ifindex))
		return MNL_CB_OK;
	a.family = ifa->ifa_family;
	a.ifindex = (int)ifa->ifa_index;
	a.prefix = ifa->ifa_prefixlen;
	a.scope = ifa->ifa_scope;
	a.flags = ifa->ifa_flags;
	a.valid_s = a.preferred_s = NETLINK_LIFETIME_FOREVER;
	mnl_attr_for_each(attr, nlh, sizeof(*ifa))
	{
		uint16_t len = mnl_attr_get_payload_len(attr);

		switch (mnl_attr_get_type(attr)) {
		case IFA_LOCAL:
			/* IFA_LOCAL is our address; IFA_ADDRESS is the peer on point-to-point. */
			if (len == alen) {
				memcpy(a.addr, mnl_attr_get_payload(attr), alen);
				has_local = true;
			}
			break;
		case IFA_ADDRESS:
			if (len == alen && !has_local) {
				memcpy(a.addr, mnl_attr_get_payload(attr), alen);
				has_addr = true;
			}
			break;
		case IFA_FLAGS:
			if (len == 4)
				a.flags = mnl_attr_get_u32(attr);
			break;
		case IFA_CACHEINFO:
			if (len >= sizeof(struct ifa_cacheinfo)) {
				const struct ifa_cacheinfo *ci = mnl_attr_get_payload(attr);
				a.valid_s = ci->ifa_valid;
				a.preferred_s = ci->ifa_prefered;
			}
			break;
		default:
			break;
		}
	}
	if (!has_local && !has_addr)
		return MNL_CB_OK;
	if (ARRAY_RESERVE(al->addrs, al->cap, al->n) < 0) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	al->addrs[al->n++] = a;
	return MNL_CB_OK;
}

int netlink_addr_list(int family, int ifindex, struct netlink_addr **ret)
{
	char buf[NL_REQ_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct addr_list al = { .ifindex = ifindex };
	struct ifaddrmsg *ifa;
	int r;

	if (family != AF_UNSPEC && family_addr_len(family) == 0)
		return -EINVAL;
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)family;
	r = nl_transact(nlh, addr_cb, &al);
	if (r < 0) {
		free(al.addrs);
		return r;
	}
	*ret = al.addrs;
	return (int)al.n;
}

static bool bytes_are_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

int netlink_route_add(const struct netlink_route *rt)
{
	char buf[NL_REQ_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	size_t alen;
	bool has_gateway;
	struct rtmsg *rtm;

	if (!rt)
		return -EINVAL;
	alen = family_addr_len(rt->family);
	if (alen == 0 || rt->dst_prefix > alen * 8)
		return -EINVAL;
	if (rt->oif <= 0)
		return -ENODEV;
	has_gateway = !bytes_are_zero(rt->gateway, alen);
	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)rt->family;
	rtm->rtm_dst_len = rt->dst_prefix;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = rt->protocol;
	rtm->rtm_scope = has_gateway || rt->family == AF_INET6 ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	rtm->rtm_flags = rt->onlink && has_gateway ? RTNH_F_ONLINK : 0;
	if (rt->dst_prefix > 0)
		mnl_attr_put(nlh, RTA_DST, alen, rt->dst);
	if (has_gateway)
		mnl_attr_put(nlh, RTA_GATEWAY, alen, rt->gateway);
	if (!bytes_are_zero(rt->prefsrc, alen))
		mnl_attr_put(nlh, RTA_PREFSRC, alen, rt->prefsrc);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)rt->oif);
	if (rt->priority)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, rt->priority);
	return nl_transact(nlh, NULL, NULL);
}
