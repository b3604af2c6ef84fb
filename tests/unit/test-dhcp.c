// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for DHCPv4 message building and parsing: layouts, hand-made replies, replies
 * captured from dnsmasq 2.90, and every malformed case the parser must reject. */
#include <errno.h>

#include "basic/macro.h"
#include "dhcp-reply.h"
#include "format/dhcp.h"
#include "tests.h"

static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint32_t xid = 0x11223344;

/* Captured on a veth pair from `dnsmasq --dhcp-range=10.77.0.100,10.77.0.150,255.255.255.0,2m
 * --dhcp-option=option:dns-server,10.77.0.53 --dhcp-option=option:domain-name,test.example
 * --dhcp-option=121,0.0.0.0/0,10.77.0.1,192.168.50.0/24,10.77.0.254` answering our DISCOVER and
 * REQUEST (xid 0xd7299dea, chaddr 22:98:70:83:81:5e). */
static const uint8_t dnsmasq_mac[6] = { 0x22, 0x98, 0x70, 0x83, 0x81, 0x5e };
static const uint32_t dnsmasq_xid = 0xd7299dea;
static const uint8_t dnsmasq_offer[321] = {
	0x02, 0x01, 0x06, 0x00, 0xd7, 0x29, 0x9d, 0xea, 0x00, 0x00, 0x80, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x0a, 0x4d, 0x00, 0x78, 0x0a, 0x4d, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x22, 0x98, 0x70, 0x83, 0x81, 0x5e, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x63, 0x82, 0x53, 0x63,
	0x35, 0x01, 0x02, 0x36, 0x04, 0x0a, 0x4d, 0x00, 0x01, 0x33, 0x04, 0x00,
	0x00, 0x00, 0x78, 0x3a, 0x04, 0x00, 0x00, 0x00, 0x3c, 0x3b, 0x04, 0x00,
	0x00, 0x00, 0x69, 0x01, 0x04, 0xff, 0xff, 0xff, 0x00, 0x1c, 0x04, 0x0a,
	0x4d, 0x00, 0xff, 0x03, 0x04, 0x0a, 0x4d, 0x00, 0x01, 0x79, 0x0d, 0x00,
	0x0a, 0x4d, 0x00, 0x01, 0x18, 0xc0, 0xa8, 0x32, 0x0a, 0x4d, 0x00, 0xfe,
	0x0f, 0x0c, 0x74, 0x65, 0x73, 0x74, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70,
	0x6c, 0x65, 0x06, 0x04, 0x0a, 0x4d, 0x00, 0x35, 0xff,
};
static const uint8_t dnsmasq_ack[321] = {
	0x02, 0x01, 0x06, 0x00, 0xd7, 0x29, 0x9d, 0xea, 0x00, 0x03, 0x80, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x0a, 0x4d, 0x00, 0x78, 0x0a, 0x4d, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x22, 0x98, 0x70, 0x83, 0x81, 0x5e, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x63, 0x82, 0x53, 0x63,
	0x35, 0x01, 0x05, 0x36, 0x04, 0x0a, 0x4d, 0x00, 0x01, 0x33, 0x04, 0x00,
	0x00, 0x00, 0x78, 0x3a, 0x04, 0x00, 0x00, 0x00, 0x3c, 0x3b, 0x04, 0x00,
	0x00, 0x00, 0x69, 0x01, 0x04, 0xff, 0xff, 0xff, 0x00, 0x1c, 0x04, 0x0a,
	0x4d, 0x00, 0xff, 0x03, 0x04, 0x0a, 0x4d, 0x00, 0x01, 0x79, 0x0d, 0x00,
	0x0a, 0x4d, 0x00, 0x01, 0x18, 0xc0, 0xa8, 0x32, 0x0a, 0x4d, 0x00, 0xfe,
	0x0f, 0x0c, 0x74, 0x65, 0x73, 0x74, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70,
	0x6c, 0x65, 0x06, 0x04, 0x0a, 0x4d, 0x00, 0x35, 0xff,
};

/* Offset of the options after the header and the cookie. */
#define OPTS 240

/* Find option code in a message we built; returns its offset or 0. */
static size_t find_option(const uint8_t *b, size_t n, uint8_t code)
{
	for (size_t i = OPTS; i < n && b[i] != 255;) {
		if (b[i] == 0) {
			i++;
			continue;
		}
		if (b[i] == code)
			return i;
		i += 2 + b[i + 1];
	}
	return 0;
}

static void check_common(const uint8_t *b, int n, uint8_t type, uint16_t secs)
{
	static const uint8_t prl[] = { 1, 3, 6, 15, 26, 28, 51, 54, 121 };
	size_t o;

	ASSERT_TRUE(n >= 300);
	ASSERT_EQ(b[0], 1);
	ASSERT_EQ(b[1], 1);
	ASSERT_EQ(b[2], 6);
	ASSERT_EQ(b[3], 0);
	ASSERT_TRUE(memcmp(b + 4, "\x11\x22\x33\x44", 4) == 0);
	ASSERT_EQ(b[8] << 8 | b[9], secs);
	ASSERT_TRUE(memcmp(b + 28, mac, 6) == 0);
	for (int i = 34; i < 236; i++) /* rest of chaddr, sname, file */
		ASSERT_EQ(b[i], 0);
	ASSERT_TRUE(memcmp(b + 236, "\x63\x82\x53\x63", 4) == 0);
	o = find_option(b, (size_t)n, 53);
	ASSERT_TRUE(o && b[o + 1] == 1 && b[o + 2] == type);
	o = find_option(b, (size_t)n, 61);
	ASSERT_TRUE(o && b[o + 1] == 7 && b[o + 2] == 1 && memcmp(b + o + 3, mac, 6) == 0);
	o = find_option(b, (size_t)n, 57);
	ASSERT_TRUE(o && b[o + 1] == 2 && (b[o + 2] << 8 | b[o + 3]) == 576);
	o = find_option(b, (size_t)n, 55);
	ASSERT_TRUE(o && b[o + 1] == sizeof(prl) && memcmp(b + o + 2, prl, sizeof(prl)) == 0);
}

TEST(build_discover)
{
	uint8_t b[600];
	int n = dhcp_build_discover(b, sizeof(b), xid, mac, 7);

	ASSERT_EQ(n, 300);
	check_common(b, n, 1, 7);
	ASSERT_EQ(b[10], 0x80); /* BROADCAST */
	ASSERT_EQ(b[11], 0);
	ASSERT_TRUE(memcmp(b + 12, "\0\0\0\0", 4) == 0);
	ASSERT_EQ(find_option(b, (size_t)n, 50), 0);
	ASSERT_EQ(find_option(b, (size_t)n, 54), 0);
	ASSERT_EQ(dhcp_build_discover(b, 299, xid, mac, 0), -ENOBUFS);
	ASSERT_EQ(dhcp_build_discover(b, 0, xid, mac, 0), -ENOBUFS);
	ASSERT_EQ(dhcp_build_discover(NULL, 600, xid, mac, 0), -ENOBUFS);
}

TEST(build_request_selecting)
{
	uint8_t b[600];
	int n = dhcp_build_request(b, sizeof(b), xid, mac, 3, addr("10.0.0.42"), addr("10.0.0.1"),
				   0);
	size_t o;

	ASSERT_EQ(n, 300);
	check_common(b, n, 3, 3);
	ASSERT_EQ(b[10], 0x80);
	ASSERT_TRUE(memcmp(b + 12, "\0\0\0\0", 4) == 0);
	o = find_option(b, (size_t)n, 50);
	ASSERT_TRUE(o && b[o + 1] == 4 && memcmp(b + o + 2, "\x0a\x00\x00\x2a", 4) == 0);
	o = find_option(b, (size_t)n, 54);
	ASSERT_TRUE(o && b[o + 1] == 4 && memcmp(b + o + 2, "\x0a\x00\x00\x01", 4) == 0);
	/* padding after the end option is zero */
	o = find_option(b, (size_t)n, 255);
	ASSERT_EQ(o, 0);
}

TEST(build_request_renewing)
{
	uint8_t b[600];
	int n = dhcp_build_request(b, sizeof(b), xid, mac, 0, 0, 0, addr("10.0.0.42"));

	ASSERT_EQ(n, 300);
	check_common(b, n, 3, 0);
	ASSERT_EQ(b[10], 0); /* we can receive unicast now */
	ASSERT_TRUE(memcmp(b + 12, "\x0a\x00\x00\x2a", 4) == 0);
	ASSERT_EQ(find_option(b, (size_t)n, 50), 0);
	ASSERT_EQ(find_option(b, (size_t)n, 54), 0);
}

TEST(netmask)
{
	ASSERT_EQ(dhcp_netmask_to_prefix(addr("255.255.255.0")), 24);
	ASSERT_EQ(dhcp_netmask_to_prefix(addr("255.255.255.255")), 32);
	ASSERT_EQ(dhcp_netmask_to_prefix(addr("0.0.0.0")), 0);
	ASSERT_EQ(dhcp_netmask_to_prefix(addr("255.255.128.0")), 17);
	ASSERT_EQ(dhcp_netmask_to_prefix(addr("255.0.255.0")), -EINVAL);
	ASSERT_EQ(dhcp_netmask_to_prefix(addr("0.0.0.255")), -EINVAL);
	ASSERT_EQ(dhcp_netmask_to_prefix(addr("255.255.255.254")), 31);
	ASSERT_EQ(dhcp_netmask_to_prefix(addr("255.255.255.253")), -EINVAL);
	ASSERT_EQ(dhcp_prefix_to_netmask(24), addr("255.255.255.0"));
	ASSERT_EQ(dhcp_prefix_to_netmask(0), 0);
	ASSERT_EQ(dhcp_prefix_to_netmask(32), addr("255.255.255.255"));
	ASSERT_EQ(dhcp_prefix_to_netmask(1), addr("128.0.0.0"));
}

TEST(parse_standard)
{
	struct reply r;
	struct dhcp_lease l;
	uint8_t type = 0;

	reply_init(&r, 2, xid, mac, "10.0.0.42");
	reply_opt_addr(&r, 54, "10.0.0.1");
	reply_opt_u32(&r, 51, 3600);
	reply_opt_addr(&r, 1, "255.255.255.0");
	reply_opt(&r, 3, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	reply_opt(&r, 6, "\x0a\x00\x00\x35\x08\x08\x08\x08", 8);
	reply_opt(&r, 15, "example.org\0", 12);
	reply_opt(&r, 12, "flasher-1", 9);
	reply_opt(&r, 26, "\x05\xdc", 2);
	reply_opt_addr(&r, 28, "10.0.0.255");
	reply_end(&r);
	ASSERT_EQ(dhcp_parse(r.buf, r.len, xid, mac, &type, &l), 0);
	ASSERT_EQ(type, DHCP_OFFER);
	ASSERT_EQ(l.address, addr("10.0.0.42"));
	ASSERT_EQ(l.server_id, addr("10.0.0.1"));
	ASSERT_EQ(l.prefix, 24);
	ASSERT_EQ(l.router, addr("10.0.0.1"));
	ASSERT_EQ(l.lease_s, 3600);
	ASSERT_EQ(l.t1_s, 1800);
	ASSERT_EQ(l.t2_s, 3150);
	ASSERT_EQ(l.n_dns, 2);
	ASSERT_EQ(l.dns[0], addr("10.0.0.53"));
	ASSERT_EQ(l.dns[1], addr("8.8.8.8"));
	ASSERT_STREQ(l.domain, "example.org");
	ASSERT_STREQ(l.hostname, "flasher-1");
	ASSERT_EQ(l.mtu, 1500);
	ASSERT_EQ(l.broadcast, addr("10.0.0.255"));
	ASSERT_EQ(l.n_routes, 0);

	/* same reply as an ACK; NULL outputs are allowed */
	r.buf[242] = 5;
	ASSERT_EQ(dhcp_parse(r.buf, r.len, xid, mac, &type, &l), 0);
	ASSERT_EQ(type, DHCP_ACK);
	ASSERT_EQ(dhcp_parse(r.buf, r.len, xid, mac, NULL, NULL), 0);
}

TEST(parse_minimal_and_defaults)
{
	struct reply r;
	struct dhcp_lease l;
	uint8_t type;

	/* no netmask: classful prefix; no end option, trailing pad bytes */
	reply_init(&r, 5, xid, mac, "172.16.3.4");
	reply_opt_u32(&r, 51, 1000);
	r.len += 20;
	ASSERT_EQ(dhcp_parse(r.buf, r.len, xid, mac, &type, &l), 0);
	ASSERT_EQ(l.prefix, 16);
	ASSERT_EQ(l.server_id, 0);
	ASSERT_EQ(l.router, 0);
	ASSERT_EQ(l.n_dns, 0);
	ASSERT_STREQ(l.domain, "");
	ASSERT_EQ(l.t1_s, 500);
	ASSERT_EQ(l.t2_s, 875);
	reply_init(&r, 5, xid, mac, "10.1.2.3");
	reply_opt_u32(&r, 51, 1000);
	ASSERT_EQ(dhcp_parse(r.buf, r.len, xid, mac, &type, &l), 0);
	ASSERT_EQ(l.prefix, 8);
	reply_init(&r, 5, xid, mac, "192.168.1.3");
	reply_opt_u32(&r, 51, 1000);
	ASSERT_EQ(dhcp_parse(r.buf, r.len, xid, mac, &type, &l), 0);
	ASSERT_EQ(l.prefix, 24);
}

TEST(parse_timers)
{
	struct reply r;
	struct dhcp_lease l;
	uint8_t type;

	reply_init(&r, 5, xid, mac, "10.0.0.42");
	reply_opt_u32(&r, 51, 1000);
	reply_opt_u32(&r, 58, 100);
	reply_opt_u32(&r, 59, 200);
	reply_end(&r);
	ASSERT_EQ(dhcp_parse(r.buf, r.len, xid, mac, &type, &l), 0);
	ASSERT_EQ(l.t1_s, 100);
	ASSERT_EQ(l.t2_s, 200);

	/* T1 > T2: both fall back */
	reply_init(&r, 5, xid, mac, "10.0.0.42");
	reply_opt_u32(&r, 51, 1000);
	reply_opt_u32(&r, 58, 300);
	reply_opt_u32(&r, 59, 200);
	reply_end(&r);
	ASSERT_EQ(dhcp_parse(r.buf, r.len, xid, mac, &type, &l), 0);
	ASSERT_EQ(l.t1_s, 500);
	ASSERT_EQ(l.t2_s, 875);

	/* T2 beyond the lease */
	reply_init(&r, 5, xid, mac, "10.0.0.42");
	reply_opt_u32(&r, 51, 1000);
	reply_opt_u32(&r, 59, 2000);
	reply_end(&r);
	ASSERT_EQ(dhcp_parse(r.buf, r.len, xid, mac, &type, &l), 0);
	ASSERT_EQ(l.t2_s, 875);

	/* infinite lease */
	reply_init(&r, 5, xid, mac, "10.0.0.42");
	reply_opt_u32(&r, 51, DHCP_INFINITE);
	reply_end(&r);
	ASSERT_EQ(dhcp_parse(r.buf, r.len, xid, mac, &type, &l), 0);
	ASSERT_TRUE(l.lease_s == DHCP_INFINITE && l.t1_s == DHCP_INFINITE &&
		    l.t2_s == DHCP_INFINITE);

	/* a huge finite lease does not overflow T2 */
	reply_init(&r, 5, xid, mac, "10.0.0.42");
	reply_opt_u32(&r, 51, 0xfffffff0);
	reply_end(&r);
	ASSERT_EQ(dhcp_parse(r.buf, r.len, xid, mac, &type, &l), 0);
	ASSERT_EQ(l.t2_s, (uint32_t)((uint64_t)0xfffffff0 * 7 / 8));
}

TEST(parse_classless_routes)
{
	/* the last route has host bits set in its last significant octet */
	static const uint8_t opt[] = {
		0, 10, 0, 0, 1,		       /* 0/0 via 10.0.0.1 */
		8, 10, 10, 0, 0, 2,	       /* 10/8 via 10.0.0.2 */
		24, 192, 168, 1, 0, 0, 0, 0,   /* 192.168.1/24 on the link */
		32, 172, 16, 5, 1, 10, 0, 0, 3, /* 172.16.5.1/32 via 10.0.0.3 */
		17, 10, 17, 255, 10, 0, 0, 4,  /* 10.17.128/17 via 10.0.0.4 */
	};
	struct reply r;
	struct dhcp_lease l;
	uint8_t type;

	reply_init(&r, 5, xid, mac, "10.0.0.42");
	reply_opt_u32(&r, 51, 600);
	reply_opt_addr(&r, 3, "10.0.0.99");
	reply_opt(&r, 121, opt, sizeof(opt));
	reply_end(&r);
	ASSERT_EQ(dhcp_parse(r.buf, r.len, xid, mac, &type, &l), 0);
	ASSERT_EQ(l.router, 0); /* RFC 3442: option 3 ignored */
	ASSERT_EQ(l.n_routes, 5);
	ASSERT_EQ(l.routes[0].dst, 0);
	ASSERT_EQ(l.routes[0].prefix, 0);
	ASSERT_EQ(l.routes[0].gateway, addr("10.0.0.1"));
	ASSERT_EQ(l.routes[1].dst, addr("10.0.0.0"));
	ASSERT_EQ(l.routes[1].prefix, 8);
	ASSERT_EQ(l.routes[1].gateway, addr("10.0.0.2"));
	ASSERT_EQ(l.routes[2].dst, addr("192.168.1.0"));
	ASSERT_EQ(l.routes[2].prefix, 24);
	ASSERT_EQ(l.routes[2].gateway, 0);
	ASSERT_EQ(l.routes[3].dst, addr("172.16.5.1"));
	ASSERT_EQ(l.routes[3].prefix, 32);
	ASSERT_EQ(l.routes[4].dst, addr("10.17.128.0"));
	ASSERT_EQ(l.routes[4].prefix, 17);
	ASSERT_EQ(l.routes[4].gateway, addr("10.0.0.4"));
}

TEST(parse_many_routes_and_dns)
{
	uint8_t opt[20 * 5];
	uint8_t dns[8 * 4];
	struct reply r;
	struct dhcp_lease l;
	uint8_t type;

	for (int i = 0; i < 20; i++) {
		uint8_t *p = opt + 5 * i;
		p[0] = 0; /* 20 default routes, 5 bytes each */
		p[1] = 10;
		p[2] = 0;
		p[3] = 0;
		p[4] = (uint8_t)(i + 1);
	}
	for (int i = 0; i < 8; i++)
		memcpy(dns + 4 * i, (uint8_t[]){ 10, 0, 1, (uint8_t)i }, 4);
	reply_init(&r, 5, xid, mac, "10.0.0.42");
	reply_opt_u32(&r, 51, 600);
	reply_opt(&r, 121, opt, sizeof(opt));
	reply_opt(&r, 6, dns, sizeof(dns));
	reply_end(&r);
	ASSERT_EQ(dhcp_parse(r.buf, r.len, xid, mac, &type, &l), 0);
	ASSERT_EQ(l.n_routes, DHCP_MAX_ROUTES);
	ASSERT_EQ(l.routes[15].gateway, addr("10.0.0.16"));
	ASSERT_EQ(l.n_dns, DHCP_MAX_DNS);
	ASSERT_EQ(l.dns[3], addr("10.0.1.3"));
}

TEST(parse_split_option)
{
	/* RFC 3396: option 6 in two parts is one list */
	struct reply r;
	struct dhcp_lease l;
	uint8_t type;

	reply_init(&r, 5, xid, mac, "10.0.0.42");
	reply_opt(&r, 6, "\x01\x01\x01\x01\x02\x02", 6);
	reply_opt_u32(&r, 51, 600);
	reply_opt(&r, 6, "\x02\x02", 2);
	reply_end(&r);
	ASSERT_EQ(dhcp_parse(r.buf, r.len, xid, mac, &type, &l), 0);
	ASSERT_EQ(l.n_dns, 2);
	ASSERT_EQ(l.dns[0], addr("1.1.1.1"));
	ASSERT_EQ(l.dns[1], addr("2.2.2.2"));
}

TEST(parse_overload)
{
	struct reply r;
	struct dhcp_lease l;
	uint8_t type;

	/* option 52 = 3: DNS in file, domain in sname */
	reply_init(&r, 5, xid, mac, "10.0.0.42");
	reply_opt(&r, 52, "\x03", 1);
	reply_opt_u32(&r, 51, 600);
	reply_end(&r);
	memcpy(r.buf + 108, "\x06\x04\x09\x09\x09\x09\xff", 7);
	memcpy(r.buf + 44, "\x0f\x03lan\xff", 6);
	ASSERT_EQ(dhcp_parse(r.buf, r.len, xid, mac, &type, &l), 0);
	ASSERT_EQ(l.n_dns, 1);
	ASSERT_EQ(l.dns[0], addr("9.9.9.9"));
	ASSERT_STREQ(l.domain, "lan");

	/* without option 52, file and sname are not options */
	reply_init(&r, 5, xid, mac, "10.0.0.42");
	reply_opt_u32(&r, 51, 600);
	reply_end(&r);
	memcpy(r.buf + 108, "\x06\x04\x09\x09\x09\x09\xff", 7);
	ASSERT_EQ(dhcp_parse(r.buf, r.len, xid, mac, &type, &l), 0);
	ASSERT_EQ(l.n_dns, 0);

	/* an option overrunning the file field */
	reply_init(&r, 5, xid, mac, "10.0.0.42");
	reply_opt(&r, 52, "\x01", 1);
	reply_opt_u32(&r, 51, 600);
	reply_end(&r);
	memset(r.buf + 108, 0, 126);
	memcpy(r.buf + 108 + 126, "\x06\x04", 2);
	ASSERT_EQ(dhcp_parse(r.buf, r.len, xid, mac, &type, &l), -EBADMSG);

	/* bad values and lengths of option 52 */
	reply_init(&r, 5, xid, mac, "10.0.0.42");
	reply_opt(&r, 52, "\x04", 1);
	reply_opt_u32(&r, 51, 600);
	ASSERT_EQ(dhcp_parse(r.buf, r.len, xid, mac, &type, &l), -EBADMSG);
	reply_init(&r, 5, xid, mac, "10.0.0.42");
	reply_opt(&r, 52, "\x01\x01", 2);
	reply_opt_u32(&r, 51, 600);
	ASSERT_EQ(dhcp_parse(r.buf, r.len, xid, mac, &type, &l), -EBADMSG);
}

TEST(parse_names)
{
	struct reply r;
	struct dhcp_lease l;
	uint8_t type;
	char long_name[300];

	/* a newline would inject lines into resolv.conf */
	reply_init(&r, 5, xid, mac, "10.0.0.42");
	reply_opt_u32(&r, 51, 600);
	reply_opt(&r, 15, "evil.com\nnameserver 6.6.6.6", 27);
	reply_opt(&r, 12, "a b", 3);
	reply_end(&r);
	ASSERT_EQ(dhcp_parse(r.buf, r.len, xid, mac, &type, &l), 0);
	ASSERT_STREQ(l.domain, "");
	ASSERT_STREQ(l.hostname, "");

	memset(long_name, 'a', sizeof(long_name));
	reply_init(&r, 5, xid, mac, "10.0.0.42");
	reply_opt_u32(&r, 51, 600);
	reply_opt(&r, 12, long_name, 64); /* one too long for hostname[64] */
	reply_opt(&r, 15, "", 0);
	reply_end(&r);
	ASSERT_EQ(dhcp_parse(r.buf, r.len, xid, mac, &type, &l), 0);
	ASSERT_STREQ(l.hostname, "");
	ASSERT_STREQ(l.domain, "");

	/* split into two parts, a 300-byte domain does not fit domain[256] */
	reply_init(&r, 5, xid, mac, "10.0.0.42");
	reply_opt_u32(&r, 51, 600);
	reply_opt(&r, 15, long_name, 150);
	reply_opt(&r, 15, long_name, 150);
	reply_opt(&r, 12, long_name, 63);
	reply_end(&r);
	ASSERT_EQ(dhcp_parse(r.buf, r.len, xid, mac, &type, &l), 0);
	ASSERT_STREQ(l.domain, "");
	ASSERT_EQ(strlen(l.hostname), 63);
}

TEST(parse_nak)
{
	struct reply r;
	struct dhcp_lease l;
	uint8_t type;

	reply_init(&r, 6, xid, mac, NULL);
	reply_opt_addr(&r, 54, "10.0.0.1");
	reply_opt(&r, 56, "wrong network", 13);
	reply_end(&r);
	ASSERT_EQ(dhcp_parse(r.buf, r.len, xid, mac, &type, &l), 0);
	ASSERT_EQ(type, DHCP_NAK);
	ASSERT_EQ(l.server_id, addr("10.0.0.1"));
	ASSERT_EQ(l.address, 0);
}

TEST(parse_not_for_us)
{
	static const uint8_t other_mac[6] = { 2, 0, 0, 0, 0, 1 };
	struct reply r;
	struct dhcp_lease l;

	reply_standard(&r, 5, xid, mac, "10.0.0.42", 600);
	ASSERT_EQ(dhcp_parse(r.buf, r.len, xid + 1, mac, NULL, &l), -ESRCH);
	ASSERT_EQ(dhcp_parse(r.buf, r.len, xid, other_mac, NULL, &l), -ESRCH);
	r.buf[0] = 1; /* a BOOTREQUEST of another client */
	ASSERT_EQ(dhcp_parse(r.buf, r.len, xid, mac, NULL, &l), -ESRCH);
	r.buf[0] = 2;
	r.buf[1] = 6; /* IEEE 802 */
	ASSERT_EQ(dhcp_parse(r.buf, r.len, xid, mac, NULL, &l), -ESRCH);
	r.buf[1] = 1;
	r.buf[2] = 16;
	ASSERT_EQ(dhcp_parse(r.buf, r.len, xid, mac, NULL, &l), -ESRCH);
}

/* Build the standard ACK, let fix() break it, expect -EBADMSG and untouched outputs. */
static void expect_bad(void (*fix)(struct reply *r))
{
	struct reply r;
	struct dhcp_lease l;
	uint8_t type = 0x77;

	reply_standard(&r, 5, xid, mac, "10.0.0.42", 600);
	fix(&r);
	memset(&l, 0xaa, sizeof(l));
	ASSERT_EQ(dhcp_parse(r.buf, r.len, xid, mac, &type, &l), -EBADMSG);
	ASSERT_EQ(type, 0x77);
	ASSERT_EQ(l.address, 0xaaaaaaaa);
}

static void bad_short(struct reply *r)
{
	r->len = 239;
}
static void bad_cookie(struct reply *r)
{
	r->buf[236] = 0;
}
static void bad_overrun(struct reply *r)
{
	r->len--; /* drop the end option */
	reply_opt(r, 6, "\x01\x02\x03\x04", 4);
	r->buf[r->len - 5] = 5; /* claims one byte more than there is */
}
static void bad_lonely_code(struct reply *r)
{
	r->len--;
	r->buf[r->len++] = 6; /* an option code as the last byte, no length */
}
static void bad_type_len(struct reply *r)
{
	r->buf[241] = 2; /* option 53 length 2, swallowing the next option's code */
}
static void bad_no_type(struct reply *r)
{
	r->buf[240] = 250; /* rename option 53 to an unknown one */
}
static void bad_type_discover(struct reply *r)
{
	r->buf[242] = 1;
}
static void bad_type_unknown(struct reply *r)
{
	r->buf[242] = 99;
}
static void bad_add(struct reply *r, uint8_t code, const char *data, size_t n)
{
	r->len--;
	reply_opt(r, code, data, n);
	reply_end(r);
}
static void bad_lease_len(struct reply *r)
{
	bad_add(r, 51, "\0\0\1", 3); /* with the first one: 7 bytes */
}
static void bad_netmask_len(struct reply *r)
{
	bad_add(r, 1, "\xff", 1);
}
static void bad_netmask(struct reply *r)
{
	reply_init(r, 5, xid, mac, "10.0.0.42");
	reply_opt_u32(r, 51, 600);
	reply_opt_addr(r, 1, "255.0.255.0");
	reply_end(r);
}
static void bad_server_len(struct reply *r)
{
	bad_add(r, 54, "\x0a", 1);
}
static void bad_mtu_len(struct reply *r)
{
	bad_add(r, 26, "\x05", 1);
}
static void bad_dns_len(struct reply *r)
{
	bad_add(r, 6, "\x01\x02\x03", 3);
}
static void bad_router_len(struct reply *r)
{
	bad_add(r, 3, "\x01\x02", 2);
}
static void bad_broadcast_len(struct reply *r)
{
	bad_add(r, 28, "\x01\x02", 2);
}
static void bad_t1_len(struct reply *r)
{
	bad_add(r, 58, "\x01\x02", 2);
}
static void bad_route_width(struct reply *r)
{
	bad_add(r, 121, "\x21\x0a\x00\x00\x00\x00\x0a\x00\x00\x01", 10);
}
static void bad_route_short(struct reply *r)
{
	bad_add(r, 121, "\x18\x0a\x00\x00\x0a\x00\x00\x01\x00\x0a", 10);
}
static void bad_route_tiny(struct reply *r)
{
	bad_add(r, 121, "\x00\x0a", 2);
}
static void bad_no_lease(struct reply *r)
{
	reply_init(r, 5, xid, mac, "10.0.0.42");
	reply_opt_addr(r, 54, "10.0.0.1");
	reply_end(r);
}
static void bad_zero_lease(struct reply *r)
{
	reply_init(r, 5, xid, mac, "10.0.0.42");
	reply_opt_u32(r, 51, 0);
	reply_end(r);
}
static void bad_yiaddr_zero(struct reply *r)
{
	memset(r->buf + 16, 0, 4);
}
static void bad_yiaddr_bcast(struct reply *r)
{
	memset(r->buf + 16, 0xff, 4);
}
static void bad_yiaddr_multicast(struct reply *r)
{
	r->buf[16] = 224;
}
static void bad_yiaddr_loopback(struct reply *r)
{
	r->buf[16] = 127;
}
static void bad_huge_option(struct reply *r)
{
	/* five 255-byte parts of option 121 concatenate beyond what we accept */
	r->len--;
	for (int i = 0; i < 5; i++) {
		r->buf[r->len++] = 121;
		r->buf[r->len++] = 255;
		memset(r->buf + r->len, 0, 255);
		r->len += 255;
	}
	reply_end(r);
}

TEST(parse_malformed)
{
	void (*const cases[])(struct reply *) = {
		bad_short,	 bad_cookie,	  bad_overrun,	      bad_lonely_code,
		bad_type_len,	 bad_no_type,	  bad_type_discover,  bad_type_unknown,
		bad_lease_len,	 bad_netmask_len, bad_netmask,	      bad_server_len,
		bad_mtu_len,	 bad_dns_len,	  bad_router_len,     bad_broadcast_len,
		bad_t1_len,	 bad_route_width, bad_route_short,    bad_route_tiny,
		bad_no_lease,	 bad_yiaddr_zero, bad_yiaddr_bcast,   bad_yiaddr_multicast,
		bad_yiaddr_loopback, bad_huge_option, bad_zero_lease,
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		fprintf(stderr, "malformed case %zu\n", i);
		expect_bad(cases[i]);
	}
	ASSERT_EQ(dhcp_parse(NULL, 0, xid, mac, NULL, NULL), -EBADMSG);
}

TEST(parse_small_mtu)
{
	struct reply r;
	struct dhcp_lease l;
	uint8_t type;

	reply_init(&r, 5, xid, mac, "10.0.0.42");
	reply_opt_u32(&r, 51, 600);
	reply_opt(&r, 26, "\x00\x40", 2);
	reply_end(&r);
	ASSERT_EQ(dhcp_parse(r.buf, r.len, xid, mac, &type, &l), 0);
	ASSERT_EQ(l.mtu, 0);
}

TEST(dnsmasq_captured)
{
	struct dhcp_lease l;
	uint8_t type;

	ASSERT_EQ(dhcp_parse(dnsmasq_offer, sizeof(dnsmasq_offer), dnsmasq_xid, dnsmasq_mac, &type,
			     &l),
		  0);
	ASSERT_EQ(type, DHCP_OFFER);
	ASSERT_EQ(l.address, addr("10.77.0.120"));
	ASSERT_EQ(l.server_id, addr("10.77.0.1"));
	ASSERT_EQ(l.prefix, 24);
	ASSERT_EQ(l.lease_s, 120);
	ASSERT_EQ(l.t1_s, 60);
	ASSERT_EQ(l.t2_s, 105);
	ASSERT_EQ(l.broadcast, addr("10.77.0.255"));
	ASSERT_EQ(l.router, 0); /* dnsmasq sends option 3 too, but 121 wins */
	ASSERT_EQ(l.n_routes, 2);
	ASSERT_EQ(l.routes[0].dst, 0);
	ASSERT_EQ(l.routes[0].prefix, 0);
	ASSERT_EQ(l.routes[0].gateway, addr("10.77.0.1"));
	ASSERT_EQ(l.routes[1].dst, addr("192.168.50.0"));
	ASSERT_EQ(l.routes[1].prefix, 24);
	ASSERT_EQ(l.routes[1].gateway, addr("10.77.0.254"));
	ASSERT_EQ(l.n_dns, 1);
	ASSERT_EQ(l.dns[0], addr("10.77.0.53"));
	ASSERT_STREQ(l.domain, "test.example");

	ASSERT_EQ(dhcp_parse(dnsmasq_ack, sizeof(dnsmasq_ack), dnsmasq_xid, dnsmasq_mac, &type, &l),
		  0);
	ASSERT_EQ(type, DHCP_ACK);
	ASSERT_EQ(l.address, addr("10.77.0.120"));
	ASSERT_EQ(dhcp_parse(dnsmasq_ack, sizeof(dnsmasq_ack), dnsmasq_xid, mac, &type, &l),
		  -ESRCH);
	/* every truncation is rejected or parsed, never read beyond */
	for (size_t n = 0; n < sizeof(dnsmasq_ack); n++) {
		int r = dhcp_parse(dnsmasq_ack, n, dnsmasq_xid, dnsmasq_mac, &type, &l);
		ASSERT_TRUE(r == 0 || r == -EBADMSG);
	}
}

RUN(T(build_discover), T(build_request_selecting), T(build_request_renewing), T(netmask),
    T(parse_standard), T(parse_minimal_and_defaults), T(parse_timers), T(parse_classless_routes),
    T(parse_many_routes_and_dns), T(parse_split_option), T(parse_overload), T(parse_names),
    T(parse_nak), T(parse_not_for_us), T(parse_malformed), T(parse_small_mtu),
    T(dnsmasq_captured))
