// SPDX-License-Identifier: GPL-2.0-or-later
/* Tests of the rtnetlink layer and of applying a DHCP lease, on a veth pair in a private network
 * namespace of the test process (skipped without the privilege to create one). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <linux/if.h> /* after net/if.h: adds IFF_LOWER_UP */
#include <net/if_arp.h>
#include <unistd.h>

#include "basic/macro.h"
#include "net/dhcp-client.h"
#include "net/netlink.h"
#include "netns.h"
#include "tests.h"

static int if0, if1;

/* Output of a shell command (in our namespace), for checking what the kernel has. */
static char *sh_output(const char *cmd)
{
	static char out[8192];
	FILE *p = popen(cmd, "r");
	size_t n;

	ASSERT_TRUE(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	pclose(p);
	return out;
}

static int count_addrs(int family, int ifindex)
{
	struct netlink_addr *a = NULL;
	int n = netlink_addr_list(family, ifindex, &a);

	free(a);
	return n;
}

static bool find_addr(int family, int ifindex, const char *s, struct netlink_addr *ret)
{
	_cleanup_free_ struct netlink_addr *a = NULL;
	uint8_t want[16] = { 0 };
	int n = netlink_addr_list(family, ifindex, &a);

	ASSERT_TRUE(n >= 0);
	ASSERT_EQ(inet_pton(family, s, want), 1);
	for (int i = 0; i < n; i++)
		if (a[i].family == family &&
		    memcmp(a[i].addr, want, family == AF_INET ? 4 : 16) == 0) {
			if (ret)
				*ret = a[i];
			return true;
		}
	return false;
}

TEST(setup)
{
	netns_enter_private_or_skip();
	netns_sh_or_skip("ip link add rnl0 type veth peer name rnl1");
	if0 = (int)if_nametoindex("rnl0");
	if1 = (int)if_nametoindex("rnl1");
	ASSERT_TRUE(if0 > 0 && if1 > 0);
}

TEST(link_list)
{
	_cleanup_free_ struct netlink_link *l = NULL;
	struct netlink_link *all = NULL;
	int n, found = 0;

	/* Kernels with tunnel modules loaded add fallback devices (sit0, ...) to every namespace,
	 * so look only for ours. */
	n = netlink_link_list(false, &all);
	ASSERT_TRUE(n >= 3);
	ASSERT_STREQ(all[0].name, "lo");
	ASSERT_EQ(all[0].type, ARPHRD_LOOPBACK);
	for (int i = 1; i < n; i++)
		ASSERT_TRUE(all[i - 1].ifindex < all[i].ifindex);
	free(all);

	n = netlink_link_list(true, &l);
	ASSERT_TRUE(n >= 2);
	for (int i = 0; i < n; i++) {
		ASSERT_TRUE(l[i].type != ARPHRD_LOOPBACK);
		if (strncmp(l[i].name, "rnl", 3) != 0)
			continue;
		found++;
		ASSERT_EQ(l[i].type, ARPHRD_ETHER);
		ASSERT_TRUE(memcmp(l[i].mac, "\0\0\0\0\0\0", 6) != 0);
		ASSERT_TRUE(!(l[i].flags & IFF_UP));
		ASSERT_TRUE(!l[i].carrier);
		ASSERT_EQ(l[i].mtu, 1500);
	}
	ASSERT_EQ(found, 2);
}

TEST(link_get)
{
	struct netlink_link l;

	ASSERT_EQ(netlink_link_get(if0, &l), 0);
	ASSERT_EQ(l.ifindex, if0);
	ASSERT_STREQ(l.name, "rnl0");
	ASSERT_EQ(netlink_link_get(99999, &l), -ENODEV);
	ASSERT_EQ(netlink_link_get(0, &l), -ENODEV);
	ASSERT_EQ(netlink_link_set_up(99999), -ENODEV);
}

TEST(link_mac_mtu)
{
	static const uint8_t mac[6] = { 0x02, 0x00, 0x00, 0xaa, 0xbb, 0xcc };
	struct netlink_link l;

	ASSERT_EQ(netlink_link_set_up(if0), 0);
	ASSERT_EQ(netlink_link_set_mac(if0, mac), -EBUSY);
	ASSERT_EQ(netlink_link_set_down(if0), 0);
	ASSERT_EQ(netlink_link_set_mac(if0, mac), 0);
	ASSERT_EQ(netlink_link_get(if0, &l), 0);
	ASSERT_TRUE(memcmp(l.mac, mac, 6) == 0);
	ASSERT_TRUE(!(l.flags & IFF_UP));

	ASSERT_EQ(netlink_link_set_mtu(if0, 1400), 0);
	ASSERT_EQ(netlink_link_get(if0, &l), 0);
	ASSERT_EQ(l.mtu, 1400);
	ASSERT_EQ(netlink_link_set_mtu(if0, 10), -EINVAL);
	ASSERT_EQ(netlink_link_set_mtu(if0, 0), -EINVAL);
	ASSERT_EQ(netlink_link_set_mtu(if0, 1500), 0);
}

TEST(link_carrier)
{
	volatile int stop = 1;
	struct netlink_link l;

	ASSERT_EQ(netlink_link_set_up(if0), 0);
	ASSERT_EQ(netlink_link_get(if0, &l), 0);
	ASSERT_TRUE(l.flags & IFF_UP);
	ASSERT_TRUE(!l.carrier); /* the peer is down */
	ASSERT_EQ(netlink_link_wait_carrier(if0, 300, NULL), -ETIMEDOUT);
	ASSERT_EQ(netlink_link_wait_carrier(if0, 5000, &stop), -ECANCELED);
	ASSERT_EQ(netlink_link_set_up(if1), 0);
	ASSERT_EQ(netlink_link_wait_carrier(if0, 5000, NULL), 0);
	ASSERT_EQ(netlink_link_get(if0, &l), 0);
	ASSERT_TRUE(l.carrier && (l.flags & IFF_LOWER_UP));
	ASSERT_EQ(netlink_link_wait_carrier(99999, 100, NULL), -ENODEV);
}

TEST(addr)
{
	struct netlink_addr a;
	uint32_t v4;
	uint8_t v6[16];

	ASSERT_EQ(inet_pton(AF_INET, "10.50.0.2", &v4), 1);
	ASSERT_EQ(netlink_addr_add(if0, AF_INET, &v4, 24, 100, 50), 0);
	ASSERT_TRUE(find_addr(AF_INET, if0, "10.50.0.2", &a));
	ASSERT_EQ(a.prefix, 24);
	ASSERT_EQ(a.ifindex, if0);
	ASSERT_EQ(a.scope, RT_SCOPE_UNIVERSE);
	ASSERT_TRUE(a.valid_s <= 100 && a.valid_s >= 95);
	ASSERT_TRUE(a.preferred_s <= 50 && a.preferred_s >= 45);
	ASSERT_TRUE(strstr(sh_output("ip -4 addr show dev rnl0"), "brd 10.50.0.255"));

	/* adding it again renews the lifetimes instead of failing */
	ASSERT_EQ(netlink_addr_add(if0, AF_INET, &v4, 24, 300, 300), 0);
	ASSERT_TRUE(find_addr(AF_INET, if0, "10.50.0.2", &a));
	ASSERT_TRUE(a.valid_s <= 300 && a.valid_s >= 295);
	ASSERT_EQ(count_addrs(AF_INET, if0), 1);
	ASSERT_EQ(netlink_addr_add(if0, AF_INET, &v4, 24, NETLINK_LIFETIME_FOREVER,
				   NETLINK_LIFETIME_FOREVER),
		  0);
	ASSERT_TRUE(find_addr(AF_INET, if0, "10.50.0.2", &a));
	ASSERT_TRUE(a.valid_s == NETLINK_LIFETIME_FOREVER && (a.flags & IFA_F_PERMANENT));

	ASSERT_EQ(netlink_addr_add(if0, AF_INET, &v4, 24, 0, 0), -EINVAL);
	ASSERT_EQ(netlink_addr_add(if0, AF_INET, &v4, 24, 10, 20), -EINVAL);
	ASSERT_EQ(netlink_addr_add(if0, AF_INET, &v4, 33, 10, 10), -EINVAL);
	ASSERT_EQ(netlink_addr_add(if0, AF_PACKET, &v4, 24, 10, 10), -EINVAL);
	ASSERT_EQ(netlink_addr_add(99999, AF_INET, &v4, 24, 10, 10), -ENODEV);

	ASSERT_EQ(netlink_addr_del(if0, AF_INET, &v4, 24), 0);
	ASSERT_TRUE(!find_addr(AF_INET, if0, "10.50.0.2", NULL));
	ASSERT_EQ(netlink_addr_del(if0, AF_INET, &v4, 24), -EADDRNOTAVAIL);

	ASSERT_EQ(inet_pton(AF_INET6, "2001:db8:5::2", v6), 1);
	ASSERT_EQ(netlink_addr_add(if0, AF_INET6, v6, 64, 600, 600), 0);
	ASSERT_TRUE(find_addr(AF_INET6, if0, "2001:db8:5::2", &a));
	ASSERT_EQ(a.prefix, 64);
	ASSERT_TRUE(a.valid_s <= 600 && a.valid_s >= 595);
	ASSERT_EQ(netlink_addr_add(if0, AF_INET6, v6, 64, 900, 900), 0);
	ASSERT_TRUE(find_addr(AF_INET6, if0, "2001:db8:5::2", &a));
	ASSERT_TRUE(a.valid_s >= 895);
	ASSERT_EQ(netlink_addr_add(if0, AF_INET6, v6, 129, 10, 10), -EINVAL);
	ASSERT_EQ(netlink_addr_del(if0, AF_INET6, v6, 64), 0);
	ASSERT_TRUE(count_addrs(AF_UNSPEC, 0) >= 1); /* at least a link-local one */
}

TEST(route)
{
	struct netlink_route rt = {
		.family = AF_INET,
		.dst_prefix = 24,
		.oif = if0,
		.protocol = RTPROT_STATIC,
	};
	uint32_t v4;
	int r;

	ASSERT_EQ(inet_pton(AF_INET, "10.50.0.2", &v4), 1);
	ASSERT_EQ(netlink_addr_add(if0, AF_INET, &v4, 24, 600, 600), 0);

	/* a gateway that no route covers: refused, unless on-link */
	ASSERT_EQ(inet_pton(AF_INET, "192.168.7.0", rt.dst), 1);
	ASSERT_EQ(inet_pton(AF_INET, "10.60.0.1", rt.gateway), 1);
	r = netlink_route_add(&rt);
	fprintf(stderr, "route via an unreachable gateway: %d (%s)\n", r, strerror(-r));
	ASSERT_TRUE(r == -ENETUNREACH || r == -EINVAL);
	rt.onlink = true;
	ASSERT_EQ(netlink_route_add(&rt), 0);
	ASSERT_TRUE(strstr(sh_output("ip -4 route show dev rnl0"),
			   "192.168.7.0/24 via 10.60.0.1 proto static onlink"));

	/* default route via a gateway in the subnet, with a metric; again replaces */
	memset(&rt, 0, sizeof(rt));
	rt.family = AF_INET;
	rt.oif = if0;
	rt.protocol = RTPROT_DHCP;
	rt.priority = 50;
	ASSERT_EQ(inet_pton(AF_INET, "10.50.0.1", rt.gateway), 1);
	ASSERT_EQ(netlink_route_add(&rt), 0);
	ASSERT_EQ(netlink_route_add(&rt), 0);
	ASSERT_TRUE(strstr(sh_output("ip -4 route show dev rnl0"),
			   "default via 10.50.0.1 proto dhcp metric 50"));

	/* a route on the link */
	memset(&rt, 0, sizeof(rt));
	rt.family = AF_INET;
	rt.oif = if0;
	rt.dst_prefix = 16;
	rt.protocol = RTPROT_STATIC;
	ASSERT_EQ(inet_pton(AF_INET, "172.20.0.0", rt.dst), 1);
	ASSERT_EQ(netlink_route_add(&rt), 0);
	ASSERT_TRUE(strstr(sh_output("ip -4 route show dev rnl0"),
			   "172.20.0.0/16 proto static scope link"));

	/* IPv6 */
	memset(&rt, 0, sizeof(rt));
	rt.family = AF_INET6;
	rt.oif = if0;
	rt.dst_prefix = 48;
	rt.protocol = RTPROT_STATIC;
	rt.onlink = true;
	ASSERT_EQ(inet_pton(AF_INET6, "2001:db8:77::", rt.dst), 1);
	ASSERT_EQ(inet_pton(AF_INET6, "fe80::1", rt.gateway), 1);
	ASSERT_EQ(netlink_route_add(&rt), 0);
	ASSERT_TRUE(strstr(sh_output("ip -6 route show dev rnl0"), "2001:db8:77::/48 via fe80::1"));

	rt.dst_prefix = 129;
	ASSERT_EQ(netlink_route_add(&rt), -EINVAL);
	rt.dst_prefix = 48;
	rt.oif = 0;
	ASSERT_EQ(netlink_route_add(&rt), -ENODEV);
	ASSERT_EQ(netlink_addr_del(if0, AF_INET, &v4, 24), 0);
}

static void lease_base(struct dhcp_lease *l, const char *address, uint8_t prefix)
{
	memset(l, 0, sizeof(*l));
	ASSERT_EQ(inet_pton(AF_INET, address, &l->address), 1);
	l->prefix = prefix;
	l->lease_s = 3600;
	l->t1_s = 1800;
	l->t2_s = 3150;
}

TEST(lease_apply_cloud)
{
	/* a /32 lease with the router outside it, as clouds hand out */
	char dir[] = "/tmp/test-netlink-XXXXXX", path[64], *out;
	struct dhcp_lease l;
	struct netlink_addr a;
	FILE *f;
	char text[256] = { 0 };

	ASSERT_TRUE(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/resolv.conf", dir);
	lease_base(&l, "10.70.0.5", 32);
	ASSERT_EQ(inet_pton(AF_INET, "10.70.0.1", &l.router), 1);
	ASSERT_EQ(inet_pton(AF_INET, "10.70.0.53", &l.dns[0]), 1);
	ASSERT_EQ(inet_pton(AF_INET, "1.1.1.1", &l.dns[1]), 1);
	l.n_dns = 2;
	strcpy(l.domain, "cloud.internal");
	l.mtu = 1460;
	ASSERT_EQ(dhcp_lease_apply(if0, &l, path), 0);

	ASSERT_TRUE(find_addr(AF_INET, if0, "10.70.0.5", &a));
	ASSERT_EQ(a.prefix, 32);
	ASSERT_TRUE(a.valid_s <= 3600 && a.valid_s > 3590);
	out = sh_output("ip -4 route show dev rnl0");
	ASSERT_TRUE(strstr(out, "default via 10.70.0.1 proto dhcp src 10.70.0.5 onlink"));
	out = sh_output("ip link show dev rnl0");
	ASSERT_TRUE(strstr(out, "mtu 1460"));

	f = fopen(path, "r");
	ASSERT_TRUE(f);
	ASSERT_TRUE(fread(text, 1, sizeof(text) - 1, f) > 0);
	fclose(f);
	ASSERT_TRUE(strstr(text, "\nnameserver 10.70.0.53\nnameserver 1.1.1.1\n"
				 "search cloud.internal\n"));

	/* applying again (a renewal) succeeds and keeps one address */
	l.lease_s = 7200;
	ASSERT_EQ(dhcp_lease_apply(if0, &l, path), 0);
	ASSERT_TRUE(find_addr(AF_INET, if0, "10.70.0.5", &a));
	ASSERT_TRUE(a.valid_s > 7000);
	ASSERT_EQ(count_addrs(AF_INET, if0), 1);
	ASSERT_EQ(netlink_addr_del(if0, AF_INET, &l.address, 32), 0);
	unlink(path);
	rmdir(dir);
}

TEST(lease_apply_classless)
{
	struct dhcp_lease l;
	char *out;

	lease_base(&l, "10.80.0.20", 24);
	l.lease_s = DHCP_INFINITE;
	/* option 121: a link route, a default route behind it, a host route via the subnet */
	ASSERT_EQ(inet_pton(AF_INET, "192.168.99.0", &l.routes[0].dst), 1);
	l.routes[0].prefix = 24;
	ASSERT_EQ(inet_pton(AF_INET, "192.168.99.1", &l.routes[1].gateway), 1);
	ASSERT_EQ(inet_pton(AF_INET, "8.8.4.4", &l.routes[2].dst), 1);
	l.routes[2].prefix = 32;
	ASSERT_EQ(inet_pton(AF_INET, "10.80.0.254", &l.routes[2].gateway), 1);
	l.n_routes = 3;
	ASSERT_EQ(inet_pton(AF_INET, "10.80.0.1", &l.router), 1); /* ignored with routes */
	ASSERT_EQ(dhcp_lease_apply(if0, &l, "/nonexistent/resolv.conf"), 0); /* no DNS: no file */

	out = sh_output("ip -4 route show dev rnl0");
	fprintf(stderr, "%s", out);
	ASSERT_TRUE(strstr(out, "192.168.99.0/24 proto dhcp scope link src 10.80.0.20"));
	ASSERT_TRUE(strstr(out, "default via 192.168.99.1 proto dhcp src 10.80.0.20 onlink"));
	ASSERT_TRUE(strstr(out, "8.8.4.4 via 10.80.0.254 proto dhcp src 10.80.0.20"));
	ASSERT_TRUE(!strstr(out, "10.80.0.1 "));
	out = sh_output("ip -4 addr show dev rnl0");
	ASSERT_TRUE(strstr(out, "valid_lft forever"));

	l.address = 0;
	ASSERT_EQ(dhcp_lease_apply(if0, &l, NULL), -EINVAL);
}

RUN(T(setup), T(link_list), T(link_get), T(link_mac_mtu), T(link_carrier), T(addr), T(route),
    T(lease_apply_cloud), T(lease_apply_classless))
