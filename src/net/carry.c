// SPDX-License-Identifier: GPL-2.0-or-later
/* Collecting the running system's network configuration for the flasher's job. */
#include "net/carry.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_addr.h>

#include "basic/macro.h"
#include "net/netlink.h"

/* Whether ifname has a global address of family: a default route through a link without one
 * (a stale route left on a NIC that became a bond member, say) is not the one in use. */
static bool has_global_address(const char *ifname, int family)
{
	_cleanup_free_ struct netlink_addr *addrs = NULL;
	int ifindex = (int)if_nametoindex(ifname), n;

	if (ifindex <= 0)
		return false;
	n = netlink_addr_list(family, ifindex, &addrs);
	for (int i = 0; i < n; i++)
		if (addrs[i].scope < 253 /* universe or site (fec0::/10), not link or host */ &&
		    !(addrs[i].flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)))
			return true;
	return false;
}

/* The IPv4 default route from /proc/net/route: interface name and gateway. */
static int default_route4(char *ifname, size_t n, uint32_t *ret_gw)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/net/route", "re");
	char line[256];
	unsigned best_metric = UINT32_MAX;
	int found = 0;

	if (!f)
		return negative_errno();
	while (fgets(line, sizeof(line), f)) {
		char name[IFNAMSIZ + 1];
		unsigned dst, gw, flags, refcnt, use, metric, mask;

		if (sscanf(line, "%16s %x %x %x %u %u %u %x", name, &dst, &gw, &flags, &refcnt, &use,
			   &metric, &mask) != 8)
			continue;
		if (dst != 0 || mask != 0 || !(flags & 0x1 /* RTF_UP */) ||
		    !has_global_address(name, AF_INET))
			continue;
		if (metric < best_metric) {
			best_metric = metric;
			snprintf(ifname, n, "%s", name);
			*ret_gw = gw; /* already in network byte order, as the kernel prints it */
			found = 1;
		}
	}
	return found ? 0 : -ENETUNREACH;
}

/* The interface of the best IPv6 default route with a gateway, from /proc/net/ipv6_route (for
 * a system without IPv4). Unreachable defaults on lo are left out. */
static int default_route6_any(char *ifname, size_t n)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/net/ipv6_route", "re");
	char line[512];
	unsigned best_metric = UINT32_MAX;
	int found = 0;

	if (!f)
		return -ENETUNREACH;
	while (fgets(line, sizeof(line), f)) {
		char dst[33], src[33], next[33], name[IFNAMSIZ + 1];
		unsigned dlen, slen, metric, refcnt, use, flags;

		if (sscanf(line, "%32s %x %32s %x %32s %x %x %x %x %16s", dst, &dlen, src, &slen, next,
			   &metric, &refcnt, &use, &flags, name) != 10)
			continue;
		if (dlen != 0 || strspn(dst, "0") != 32 || !(flags & 0x1 /* RTF_UP */) ||
		    (flags & 0x200 /* RTF_REJECT */) || !strcmp(name, "lo") ||
		    !has_global_address(name, AF_INET6))
			continue;
		if (metric < best_metric) {
			best_metric = metric;
			snprintf(ifname, n, "%s", name);
			found = 1;
		}
	}
	return found ? 0 : -ENETUNREACH;
}

/* The IPv6 default gateway on ifname from /proc/net/ipv6_route. */
static int default_route6(const char *ifname, uint8_t gw[16])
{
	_cleanup_fclose_ FILE *f = fopen("/proc/net/ipv6_route", "re");
	char line[512];

	if (!f)
		return -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		char dst[33], src[33], next[33], name[IFNAMSIZ + 1];
		unsigned dlen, slen, metric, refcnt, use, flags;

		if (sscanf(line, "%32s %x %32s %x %32s %x %x %x %x %16s", dst, &dlen, src, &slen, next,
			   &metric, &refcnt, &use, &flags, name) != 10)
			continue;
		if (dlen != 0 || strcmp(name, ifname) != 0 || strspn(dst, "0") != 32 ||
		    strspn(next, "0") == 32)
			continue;
		for (int i = 0; i < 16; i++) {
			unsigned b;
			sscanf(next + 2 * i, "%2x", &b);
			gw[i] = (uint8_t)b;
		}
		return 0;
	}
	return -ENOENT;
}

static void add_dns(struct job *j, const char *path)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char line[512];

	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && j->n_dns < JOB_MAX_DNS) {
		char addr[256];
		struct job_ip ip;

		if (sscanf(line, "nameserver %255s", addr) != 1)
			continue;
		/* a local stub (systemd-resolved, dnsmasq) does not exist in the flasher */
		if (!strncmp(addr, "127.", 4) || !strcmp(addr, "::1"))
			continue;
		if (job_ip_parse(addr, true, &ip) == 0)
			j->dns[j->n_dns++] = ip;
	}
}

static bool kind_is_stack(const char *kind)
{
	return !strcmp(kind, "vlan") || !strcmp(kind, "bond") || !strcmp(kind, "bridge");
}

/* A link the flasher finds by MAC: a NIC (no kind), or a veth, which is what a container's or
 * a network namespace's NIC is. */
static bool kind_is_leaf(const char *kind)
{
	return !kind[0] || !strcmp(kind, "veth");
}

static const struct netlink_link *link_by_index(const struct netlink_link *all, int n, int ifindex)
{
	for (int i = 0; i < n; i++)
		if (all[i].ifindex == ifindex)
			return &all[i];
	return NULL;
}

static void mac_text(const uint8_t m[6], char *buf, size_t n)
{
	snprintf(buf, n, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* Append the layers under and including l to j->links, bottom first. The name of an
 * unsupported kind goes to why. */
static int collect_stack(struct job *j, const struct netlink_link *all, int n,
			 const struct netlink_link *l, unsigned depth, char *why, size_t whylen)
{
	struct net_link nl = { .bond_mode = -1 };
	int r;

	if (depth > JOB_MAX_LINKS)
		return snprintf(why, whylen, "%s: the stack is deeper than %d layers", l->name,
				JOB_MAX_LINKS),
		       -ELOOP;
	for (size_t i = 0; i < j->n_links; i++)
		if (!strcmp(j->links[i].name, l->name))
			return 0; /* under two layers (cannot happen with the kernel's rules) */
	snprintf(nl.name, sizeof(nl.name), "%s", l->name);
	snprintf(nl.kind, sizeof(nl.kind), "%s", l->kind);
	if (!strcmp(l->kind, "vlan")) {
		const struct netlink_link *p = link_by_index(all, n, l->parent);

		if (!p)
			return snprintf(why, whylen, "%s: its parent link (ifindex %d) is in another "
						     "network namespace or gone",
					l->name, l->parent),
			       -EPROTONOSUPPORT;
		if (l->vlan_proto && l->vlan_proto != 0x8100)
			return snprintf(why, whylen, "%s is an 802.1ad (QinQ) VLAN", l->name),
			       -EPROTONOSUPPORT;
		nl.vlan_id = l->vlan_id;
		if (kind_is_stack(p->kind)) {
			r = collect_stack(j, all, n, p, depth + 1, why, whylen);
			if (r < 0)
				return r;
			snprintf(nl.lower[0], sizeof(nl.lower[0]), "%s", p->name);
		} else if (kind_is_leaf(p->kind))
			mac_text(p->perm_mac[0] || p->perm_mac[1] || p->perm_mac[2] ||
						 p->perm_mac[3] || p->perm_mac[4] || p->perm_mac[5]
					 ? p->perm_mac
					 : p->mac,
				 nl.lower[0], sizeof(nl.lower[0]));
		else
			return snprintf(why, whylen, "%s is a %s link", p->name, p->kind),
			       -EPROTONOSUPPORT;
		nl.n_lower = 1;
	} else {
		if (!strcmp(l->kind, "bond")) {
			if (!net_bond_mode_to_string(l->bond_mode))
				return snprintf(why, whylen,
						"%s is a bond in mode %d, and the flasher rebuilds "
						"only active-backup (1) and 802.3ad (4)",
						l->name, l->bond_mode),
				       -EPROTONOSUPPORT;
			nl.bond_mode = l->bond_mode;
		}
		for (int i = 0; i < n; i++) {
			const struct netlink_link *m = &all[i];

			if (m->master != l->ifindex)
				continue;
			if (nl.n_lower == NET_LINK_MAX_LOWER)
				return snprintf(why, whylen, "%s has more than %d members", l->name,
						NET_LINK_MAX_LOWER),
				       -EPROTONOSUPPORT;
			if (kind_is_stack(m->kind)) {
				r = collect_stack(j, all, n, m, depth + 1, why, whylen);
				if (r < 0)
					return r;
				snprintf(nl.lower[nl.n_lower++], sizeof(nl.lower[0]), "%s", m->name);
			} else if (kind_is_leaf(m->kind)) {
				static const uint8_t zero[6];
				mac_text(memcmp(m->perm_mac, zero, 6) ? m->perm_mac : m->mac,
					 nl.lower[nl.n_lower++], sizeof(nl.lower[0]));
			} else
				return snprintf(why, whylen, "%s, a member of %s, is a %s link",
						m->name, l->name, m->kind),
				       -EPROTONOSUPPORT;
		}
		if (nl.n_lower == 0)
			return snprintf(why, whylen, "%s %s has no members", l->kind, l->name),
			       -EPROTONOSUPPORT;
	}
	if (j->n_links == JOB_MAX_LINKS)
		return snprintf(why, whylen, "more than %d stacked links", JOB_MAX_LINKS),
		       -EPROTONOSUPPORT;
	j->links[j->n_links++] = nl;
	return 0;
}

int net_carry_collect(struct job *j, char *desc, size_t desclen)
{
	char ifname[IFNAMSIZ + 1], path[PATH_MAX], real[PATH_MAX], gw4s[INET_ADDRSTRLEN];
	struct netlink_link link;
	_cleanup_free_ struct netlink_addr *addrs = NULL;
	uint32_t gw4 = 0;
	uint8_t gw6[16];
	int ifindex, n, r;
	size_t o;

	desc[0] = 0;
	r = default_route4(ifname, sizeof(ifname), &gw4);
	if (r < 0)
		r = default_route6_any(ifname, sizeof(ifname));
	if (r < 0)
		return r;
	ifindex = (int)if_nametoindex(ifname);
	if (ifindex <= 0 || netlink_link_get(ifindex, &link) < 0)
		return -ENODEV;
	j->n_links = 0;
	if (!kind_is_leaf(link.kind)) {
		_cleanup_free_ struct netlink_link *all = NULL;
		int na;

		if (!kind_is_stack(link.kind)) {
			snprintf(desc, desclen, "%s is a %s link", ifname, link.kind);
			return -EPROTONOSUPPORT;
		}
		na = netlink_link_list(true, &all);
		if (na < 0)
			return na;
		r = collect_stack(j, all, na, &link, 0, desc, desclen);
		if (r < 0) {
			j->n_links = 0;
			return r;
		}
	}
	memcpy(j->mac, link.mac, 6);
	j->have_mac = true;
	/* the new system's ifupdown and cloud-init name the interface (udev gives the same
	 * hardware the same name there) */
	free(j->net_ifname);
	j->net_ifname = strdup(ifname);
	snprintf(path, sizeof(path), "/sys/class/net/%s/device", ifname);
	if (realpath(path, real)) {
		const char *last = NULL;
		for (char *s = strtok(real, "/"); s; s = strtok(NULL, "/"))
			if (strchr(s, ':') && strchr(s, '.'))
				last = s;
		if (last) {
			char bp[128];
			snprintf(bp, sizeof(bp), "pci-%s", last);
			free(j->net_path);
			j->net_path = strdup(bp);
		}
	}
	n = netlink_addr_list(AF_UNSPEC, ifindex, &addrs);
	for (int i = 0; i < n && j->n_addresses < JOB_MAX_ADDRESSES; i++) {
		struct job_ip *ip = &j->addresses[j->n_addresses];
		if (addrs[i].scope >= 253 /* link or host; site (fec0::/10) still routes */ ||
		    (addrs[i].flags & (IFA_F_TEMPORARY | IFA_F_DEPRECATED | IFA_F_TENTATIVE |
				       IFA_F_DADFAILED)))
			continue; /* privacy addresses change anyway; the others are unusable */
		*ip = (struct job_ip){ .family = addrs[i].family, .prefix = addrs[i].prefix };
		memcpy(ip->addr, addrs[i].addr, addrs[i].family == AF_INET ? 4 : 16);
		j->n_addresses++;
	}
	if (j->n_addresses == 0)
		return -EADDRNOTAVAIL;
	j->n_gateways = 0;
	if (gw4) {
		j->gateways[j->n_gateways] = (struct job_ip){ .family = AF_INET, .prefix = 32 };
		memcpy(j->gateways[j->n_gateways].addr, &gw4, 4);
		j->n_gateways++;
	}
	if (default_route6(ifname, gw6) == 0) {
		j->gateways[j->n_gateways] = (struct job_ip){ .family = AF_INET6, .prefix = 128 };
		memcpy(j->gateways[j->n_gateways].addr, gw6, 16);
		j->n_gateways++;
	}
	j->n_dns = 0;
	add_dns(j, "/etc/resolv.conf");
	if (j->n_dns == 0)
		add_dns(j, "/run/systemd/resolve/resolv.conf");

	inet_ntop(AF_INET, &gw4, gw4s, sizeof(gw4s));
	o = (size_t)snprintf(desc, desclen, "%s %02x:%02x:%02x:%02x:%02x:%02x%s%s", ifname,
			     link.mac[0], link.mac[1], link.mac[2], link.mac[3], link.mac[4],
			     link.mac[5], j->net_path ? " at " : "", j->net_path ? j->net_path : "");
	for (size_t i = 0; i < j->n_addresses && o < desclen; i++) {
		char a[64];
		job_ip_format(&j->addresses[i], true, a, sizeof(a));
		o += (size_t)snprintf(desc + o, desclen - o, " %s", a);
	}
	for (size_t i = 0; i < j->n_gateways && o < desclen; i++) {
		char a[64];
		job_ip_format(&j->gateways[i], false, a, sizeof(a));
		o += (size_t)snprintf(desc + o, desclen - o, " via %s", a);
	}
	for (size_t i = 0; i < j->n_dns && o < desclen; i++) {
		char a[64];
		job_ip_format(&j->dns[i], false, a, sizeof(a));
		o += (size_t)snprintf(desc + o, desclen - o, "%s%s", i ? ", " : ", DNS ", a);
	}
	for (size_t i = 0; i < j->n_links && o < desclen; i++) {
		char line[512];
		if (net_link_format(&j->links[i], line, sizeof(line)) == 0)
			o += (size_t)snprintf(desc + o, desclen - o, "%s%s", i ? "; " : "; over ",
					      line);
	}
	return 0;
}
