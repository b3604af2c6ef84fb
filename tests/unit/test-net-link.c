// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for carried network stacks: the job's net-link value, and reading a link's kind,
 * VLAN id, bond mode, master and RA flags from an RTM_NEWLINK message. */
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "format/job.h"
#include "format/net-link.h"
#include "net/netlink.h"
#include "tests.h"

TEST(parse_and_format_round_trip)
{
	static const char *const good[] = {
		"bond0 bond mode=active-backup lower=52:54:00:12:34:56,52:54:00:12:34:57",
		"bond1 bond mode=802.3ad lower=52:54:00:12:34:56",
		"bond0.10 vlan id=10 lower=bond0",
		"eth0.4094 vlan id=4094 lower=52:54:00:AA:bb:cc",
		"br0 bridge lower=bond0.10,52:54:00:12:34:58",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct net_link l, back;
		char buf[512];
		const char *why = NULL;

		if (net_link_parse(good[i], &l, &why) < 0)
			fprintf(stderr, "%s: %s\n", good[i], why);
		ASSERT_EQ(net_link_parse(good[i], &l, &why), 0);
		ASSERT_EQ(net_link_format(&l, buf, sizeof(buf)), 0);
		ASSERT_EQ(net_link_parse(buf, &back, &why), 0);
		ASSERT_TRUE(memcmp(&l, &back, sizeof(l)) == 0);
	}
}

TEST(parse_fields)
{
	struct net_link l;
	uint8_t mac[6];

	ASSERT_EQ(net_link_parse("  bond0   bond  mode=802.3ad lower=52:54:00:12:34:56,eth9 ", &l,
				 NULL),
		  0);
	ASSERT_STREQ(l.name, "bond0");
	ASSERT_STREQ(l.kind, "bond");
	ASSERT_EQ(l.bond_mode, NET_BOND_8023AD);
	ASSERT_EQ(l.n_lower, 2);
	ASSERT_TRUE(net_link_lower_is_mac(l.lower[0], mac));
	ASSERT_EQ(mac[5], 0x56);
	ASSERT_TRUE(!net_link_lower_is_mac(l.lower[1], NULL));
	ASSERT_STREQ(l.lower[1], "eth9");
	ASSERT_EQ(net_link_parse("v vlan id=7 lower=eth0", &l, NULL), 0);
	ASSERT_EQ(l.vlan_id, 7);
	ASSERT_EQ(l.bond_mode, -1);
}

TEST(parse_errors)
{
	static const struct {
		const char *s, *why;
	} bad[] = {
		{ "", "expected NAME KIND" },
		{ "bond0", "expected NAME KIND" },
		{ "bond0 team lower=eth0", "the kind must be vlan, bond or bridge" },
		{ "averyveryverylongname bridge lower=eth0", "expected an interface name first" },
		{ "a/b bridge lower=eth0", "expected an interface name first" },
		{ "v vlan lower=eth0", "a vlan needs id=" },
		{ "v vlan id=0 lower=eth0", "the VLAN id must be 1-4094" },
		{ "v vlan id=4095 lower=eth0", "the VLAN id must be 1-4094" },
		{ "v vlan id=+5 lower=eth0", "the VLAN id must be 1-4094" },
		{ "v vlan id=5 id=6 lower=eth0", "id= is given once" },
		{ "v vlan id=5 lower=eth0,eth1", "a vlan has exactly one lower link" },
		{ "b bond lower=eth0", "a bond needs mode=" },
		{ "b bond mode=balance-rr lower=eth0", "the bond mode must be" },
		{ "b bridge mode=active-backup lower=eth0", "mode= is given once, and only for a bond" },
		{ "b bridge id=3 lower=eth0", "id= is given once, and only for a vlan" },
		{ "b bridge", "lower= is missing" },
		{ "b bridge lower=", "lower= is empty" },
		{ "b bridge lower=eth0,,eth1", "neither a MAC nor an interface name" },
		{ "b bridge lower=52:54:00:12:34:zz", "neither a MAC nor an interface name" },
		{ "b bridge lower=b", "a link cannot be its own lower link" },
		{ "b bridge lower=eth0 lower=eth1", "lower= is given once" },
		{ "b bridge lower=a,b,c,d,e,f,g,h,i", "more than 8 lower links" },
		{ "b bridge stp=on lower=eth0", "unknown parameter" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct net_link l;
		const char *why = NULL;

		memset(&l, 0x5a, sizeof(l));
		ASSERT_EQ(net_link_parse(bad[i].s, &l, &why), -EINVAL);
		if (!why || !strstr(why, bad[i].why))
			fprintf(stderr, "\"%s\": got \"%s\", want \"%s\"\n", bad[i].s,
				why ? why : "(null)", bad[i].why);
		ASSERT_TRUE(why && strstr(why, bad[i].why));
		ASSERT_EQ(((uint8_t *)&l)[0], 0x5a); /* untouched */
	}
}

TEST(job_net_link_lines)
{
	static const char text[] = "src = http://[fd00::1]:8080/x.img\ndst = /dev/vda\n"
				   "net-mac = 52:54:00:12:34:56\n"
				   "net-address = fd00::5/64\n"
				   "net-gateway = fe80::1\n"
				   "net-link = bond0 bond mode=active-backup "
				   "lower=52:54:00:12:34:56,52:54:00:12:34:57\n"
				   "net-link = bond0.7 vlan id=7 lower=bond0\n"
				   "net-link = br0 bridge lower=bond0.7\n";
	struct job j, back;
	char err[256];
	char *out = NULL;

	ASSERT_EQ(job_parse(text, strlen(text), &j, err, sizeof(err)), 0);
	ASSERT_EQ(j.n_links, 3);
	ASSERT_STREQ(j.links[2].lower[0], "bond0.7");
	ASSERT_EQ(j.gateways[0].family, AF_INET6);
	ASSERT_EQ(job_format(&j, &out), 0);
	ASSERT_TRUE(strstr(out, "net-link = bond0.7 vlan id=7 lower=bond0\n"));
	ASSERT_EQ(job_parse(out, strlen(out), &back, err, sizeof(err)), 0);
	ASSERT_EQ(back.n_links, 3);
	ASSERT_TRUE(memcmp(back.links, j.links, sizeof(j.links)) == 0);
	free(out);
	job_done(&j);
	job_done(&back);

	/* a lower name must be an earlier line */
	{
		static const char fwd[] = "src = http://x/y\ndst = /dev/vda\n"
					  "net-link = br0 bridge lower=bond0\n";
		ASSERT_EQ(job_parse(fwd, strlen(fwd), &j, err, sizeof(err)), -EBADMSG);
		ASSERT_TRUE(strstr(err, "line 3") && strstr(err, "earlier net-link line"));
	}
}

/* An RTM_NEWLINK message as the kernel sends it for a VLAN or bond. */
static size_t build_link(uint8_t *buf, size_t cap, const char *kind, bool bad_sizes)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;
	struct nlattr *info, *data, *spec, *in6;
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 9 }, perm[6] = { 2, 0, 0, 0, 0, 7 };

	(void)cap;
	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = 12;
	ifi->ifi_type = 1;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "bond0.42");
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
	mnl_attr_put(nlh, IFLA_PERM_ADDRESS, 6, perm);
	if (bad_sizes)
		mnl_attr_put_u16(nlh, IFLA_MASTER, 3); /* must be 4 bytes: ignored */
	else
		mnl_attr_put_u32(nlh, IFLA_MASTER, 3);
	mnl_attr_put_u32(nlh, IFLA_LINK, 5);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
	mnl_attr_put_strz(nlh, IFLA_INFO_SLAVE_KIND, "bridge");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	if (!strcmp(kind, "vlan")) {
		if (bad_sizes)
			mnl_attr_put_u32(nlh, IFLA_VLAN_ID, 42);
		else
			mnl_attr_put_u16(nlh, IFLA_VLAN_ID, 42);
		mnl_attr_put_u16(nlh, IFLA_VLAN_PROTOCOL, htons(0x8100));
	} else
		mnl_attr_put_u8(nlh, IFLA_BOND_MODE, 4);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	in6 = mnl_attr_nest_start(nlh, AF_INET6);
	mnl_attr_put_u32(nlh, IFLA_INET6_FLAGS, NETLINK_RA_RCVD | NETLINK_RA_MANAGED);
	mnl_attr_nest_end(nlh, in6);
	mnl_attr_nest_end(nlh, spec);
	return nlh->nlmsg_len;
}

TEST(link_parse_vlan_and_bond)
{
	uint8_t buf[1024];
	struct netlink_link l;
	size_t n = build_link(buf, sizeof(buf), "vlan", false);

	ASSERT_EQ(netlink_link_parse(buf, n, &l), 0);
	ASSERT_STREQ(l.name, "bond0.42");
	ASSERT_STREQ(l.kind, "vlan");
	ASSERT_STREQ(l.slave_kind, "bridge");
	ASSERT_EQ(l.vlan_id, 42);
	ASSERT_EQ(l.vlan_proto, 0x8100);
	ASSERT_EQ(l.master, 3);
	ASSERT_EQ(l.parent, 5);
	ASSERT_EQ(l.perm_mac[5], 7);
	ASSERT_EQ(l.mac[5], 9);
	ASSERT_EQ(l.bond_mode, -1);
	ASSERT_TRUE(l.has_inet6_flags && (l.inet6_flags & NETLINK_RA_MANAGED));

	n = build_link(buf, sizeof(buf), "bond", false);
	ASSERT_EQ(netlink_link_parse(buf, n, &l), 0);
	ASSERT_STREQ(l.kind, "bond");
	ASSERT_EQ(l.bond_mode, 4);
	ASSERT_EQ(l.vlan_id, 0);

	/* attributes of the wrong size are not read */
	n = build_link(buf, sizeof(buf), "vlan", true);
	ASSERT_EQ(netlink_link_parse(buf, n, &l), 0);
	ASSERT_EQ(l.vlan_id, 0);
	ASSERT_EQ(l.master, 0);
}

TEST(link_parse_rejects_and_truncations)
{
	uint8_t buf[1024];
	struct netlink_link l;
	size_t n = build_link(buf, sizeof(buf), "vlan", false);
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;

	ASSERT_EQ(netlink_link_parse(buf, 8, &l), -EBADMSG);
	ASSERT_EQ(netlink_link_parse(buf, n - 1, &l), -EBADMSG); /* nlmsg_len beyond len */
	/* a message cut anywhere (nlmsg_len adjusted) parses without reading past the end (ASan
	 * builds check that), or is refused when its length is not a multiple of 4 */
	for (size_t cut = sizeof(*nlh) + sizeof(struct ifinfomsg); cut < n; cut++) {
		uint8_t *copy = malloc(cut);
		memcpy(copy, buf, cut);
		((struct nlmsghdr *)copy)->nlmsg_len = (uint32_t)cut;
		ASSERT_EQ(netlink_link_parse(copy, cut, &l), cut % 4 == 0 ? 0 : -EBADMSG);
		free(copy);
	}
	nlh->nlmsg_type = RTM_NEWADDR;
	ASSERT_EQ(netlink_link_parse(buf, n, &l), -EBADMSG);
}

RUN(T(parse_and_format_round_trip), T(parse_fields), T(parse_errors), T(job_net_link_lines),
    T(link_parse_vlan_and_bond), T(link_parse_rejects_and_truncations))
