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

#include "basic/macro.h"
#include "net/netlink.h"

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
		if (dst != 0 || mask != 0 || !(flags & 0x1 /* RTF_UP */))
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

int net_carry_collect(struct job *j, char *desc, size_t desclen)
{
	char ifname[IFNAMSIZ + 1], path[PATH_MAX], real[PATH_MAX], gw4s[INET_ADDRSTRLEN];
	struct netlink_link link;
	_cleanup_free_ struct netlink_addr *addrs = NULL;
	uint32_t gw4 = 0;
	uint8_t gw6[16];
	int ifindex, n, r;
	size_t o;

	r = default_route4(ifname, sizeof(ifname), &gw4);
	if (r < 0)
		return r;
	ifindex = (int)if_nametoindex(ifname);
	if (ifindex <= 0 || netlink_link_get(ifindex, &link) < 0)
		return -ENODEV;
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
		if (addrs[i].scope != 0 /* RT_SCOPE_UNIVERSE */)
			continue;
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
	if (o < desclen && gw4)
		o += (size_t)snprintf(desc + o, desclen - o, " via %s", gw4s);
	for (size_t i = 0; i < j->n_dns && o < desclen; i++) {
		char a[64];
		job_ip_format(&j->dns[i], false, a, sizeof(a));
		o += (size_t)snprintf(desc + o, desclen - o, "%s%s", i ? ", " : ", DNS ", a);
	}
	return 0;
}
