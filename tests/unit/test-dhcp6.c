// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for DHCPv6 messages (RFC 8415): what the client builds, and how Advertise and
 * Reply messages are parsed and checked. */
#include <arpa/inet.h>

#include "basic/macro.h"
#include "format/dhcp6.h"
#include "tests.h"

static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
#define IAID 0x00123456u
#define XID 0xabcdefu

struct msg {
	uint8_t buf[1024];
	size_t len;
	size_t open[4]; /* offsets of the length fields of open containers */
	size_t depth;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void msg_init(struct msg *m, uint8_t type, uint32_t xid)
{
	memset(m, 0, sizeof(*m));
	m->buf[0] = type;
	m->buf[1] = (uint8_t)(xid >> 16);
	m->buf[2] = (uint8_t)(xid >> 8);
	m->buf[3] = (uint8_t)xid;
	m->len = 4;
}

static void raw(struct msg *m, const void *p, size_t n)
{
	memcpy(m->buf + m->len, p, n);
	m->len += n;
}

/* An option with its data; begin()/end() for one that holds sub-options. */
static void opt(struct msg *m, uint16_t code, const void *data, uint16_t len)
{
	put16(m->buf + m->len, code);
	put16(m->buf + m->len + 2, len);
	m->len += 4;
	raw(m, data, len);
}

static void begin(struct msg *m, uint16_t code)
{
	put16(m->buf + m->len, code);
	m->open[m->depth++] = m->len + 2;
	m->len += 4;
}

static void end(struct msg *m)
{
	size_t at = m->open[--m->depth];
	put16(m->buf + at, (uint16_t)(m->len - at - 2));
}

static void client_id(struct msg *m)
{
	struct dhcp6_duid d;
	dhcp6_duid_from_mac(MAC, &d);
	opt(m, DHCP6_OPT_CLIENTID, d.data, (uint16_t)d.len);
}

static void server_id(struct msg *m)
{
	static const uint8_t sid[] = { 0, 1, 0, 1, 0x2a, 0x2b, 0x2c, 0x2d, 1, 2, 3, 4, 5, 6 };
	opt(m, DHCP6_OPT_SERVERID, sid, sizeof(sid));
}

static void ia_na(struct msg *m, uint32_t iaid, uint32_t t1, uint32_t t2, const char *addr,
		  uint32_t pref, uint32_t valid)
{
	uint8_t hdr[12], a[24];

	begin(m, DHCP6_OPT_IA_NA);
	put32(hdr, iaid);
	put32(hdr + 4, t1);
	put32(hdr + 8, t2);
	raw(m, hdr, 12);
	if (addr) {
		inet_pton(AF_INET6, addr, a);
		put32(a + 16, pref);
		put32(a + 20, valid);
		opt(m, DHCP6_OPT_IAADDR, a, 24);
	}
	end(m);
}

static struct dhcp6_duid our_duid(void)
{
	struct dhcp6_duid d;
	dhcp6_duid_from_mac(MAC, &d);
	return d;
}

static int parse(const struct msg *m, uint8_t *type, struct dhcp6_lease *l)
{
	struct dhcp6_duid d = our_duid();
	return dhcp6_parse(m->buf, m->len, XID, &d, IAID, type, l);
}

/* A complete Advertise: server and client id, preference, IA_NA with one address, two DNS
 * servers and a domain list. */
static void good_advertise(struct msg *m)
{
	static const uint8_t dns[32] = { 0xfd, 0, [15] = 0x53, [16] = 0xfd, [17] = 0, [31] = 0x54 };
	static const uint8_t domains[] = "\4test\7example\0\3foo\0";
	uint8_t pref = 255;

	msg_init(m, DHCP6_ADVERTISE, XID);
	server_id(m);
	client_id(m);
	opt(m, DHCP6_OPT_PREFERENCE, &pref, 1);
	ia_na(m, IAID, 1800, 2880, "fd00::1:100", 3000, 3600);
	opt(m, DHCP6_OPT_DNS_SERVERS, dns, sizeof(dns));
	opt(m, DHCP6_OPT_DOMAIN_LIST, domains, sizeof(domains) - 1);
}

TEST(duid_ll)
{
	struct dhcp6_duid d = our_duid();
	static const uint8_t want[] = { 0, 3, 0, 1, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	ASSERT_EQ(d.len, sizeof(want));
	ASSERT_TRUE(memcmp(d.data, want, sizeof(want)) == 0);
}

/* Find option code at the top level of a built message; its data offset, or 0. */
static size_t find(const uint8_t *b, size_t len, uint16_t code, uint16_t *dlen)
{
	for (size_t o = 4; o + 4 <= len;) {
		uint16_t c = (uint16_t)(b[o] << 8 | b[o + 1]), l = (uint16_t)(b[o + 2] << 8 | b[o + 3]);
		if (c == code) {
			*dlen = l;
			return o + 4;
		}
		o += 4 + (size_t)l;
	}
	return 0;
}

TEST(build_solicit)
{
	uint8_t b[DHCP6_MAX_BUILD];
	struct dhcp6_duid d = our_duid();
	uint16_t l;
	size_t o;
	int n = dhcp6_build(b, sizeof(b), DHCP6_SOLICIT, 0x12345678, &d, IAID, NULL, NULL, 70000);

	ASSERT_TRUE(n > 0);
	ASSERT_EQ(b[0], DHCP6_SOLICIT);
	ASSERT_EQ(b[1] << 16 | b[2] << 8 | b[3], 0x345678); /* 24-bit xid */
	o = find(b, (size_t)n, DHCP6_OPT_CLIENTID, &l);
	ASSERT_TRUE(o && l == d.len && memcmp(b + o, d.data, l) == 0);
	ASSERT_EQ(find(b, (size_t)n, DHCP6_OPT_SERVERID, &l), 0);
	o = find(b, (size_t)n, DHCP6_OPT_ELAPSED_TIME, &l);
	ASSERT_TRUE(o && l == 2);
	ASSERT_EQ(b[o] << 8 | b[o + 1], 0xffff); /* saturates */
	o = find(b, (size_t)n, DHCP6_OPT_ORO, &l);
	ASSERT_TRUE(o && l == 4);
	ASSERT_EQ(b[o] << 8 | b[o + 1], DHCP6_OPT_DNS_SERVERS);
	ASSERT_EQ(b[o + 2] << 8 | b[o + 3], DHCP6_OPT_DOMAIN_LIST);
	o = find(b, (size_t)n, DHCP6_OPT_IA_NA, &l);
	ASSERT_TRUE(o && l == 12);
	ASSERT_EQ((uint32_t)b[o] << 24 | b[o + 1] << 16 | b[o + 2] << 8 | b[o + 3], IAID);
}

TEST(build_request_and_information_request)
{
	uint8_t b[DHCP6_MAX_BUILD];
	struct dhcp6_duid d = our_duid(), s = { .data = { 0, 1, 2, 3 }, .len = 4 };
	struct in6_addr a;
	uint16_t l;
	size_t o;
	int n;

	inet_pton(AF_INET6, "fd00::1:100", &a);
	n = dhcp6_build(b, sizeof(b), DHCP6_REQUEST, XID, &d, IAID, &a, &s, 0);
	ASSERT_TRUE(n > 0);
	o = find(b, (size_t)n, DHCP6_OPT_SERVERID, &l);
	ASSERT_TRUE(o && l == 4 && memcmp(b + o, s.data, 4) == 0);
	o = find(b, (size_t)n, DHCP6_OPT_IA_NA, &l);
	ASSERT_TRUE(o && l == 12 + 28);
	ASSERT_EQ(b[o + 12] << 8 | b[o + 13], DHCP6_OPT_IAADDR);
	ASSERT_TRUE(memcmp(b + o + 16, &a, 16) == 0);

	n = dhcp6_build(b, sizeof(b), DHCP6_INFORMATION_REQUEST, XID, &d, IAID, NULL, NULL, 0);
	ASSERT_TRUE(n > 0);
	ASSERT_EQ(find(b, (size_t)n, DHCP6_OPT_IA_NA, &l), 0);
	ASSERT_TRUE(find(b, (size_t)n, DHCP6_OPT_ORO, &l) != 0);

	ASSERT_EQ(dhcp6_build(b, 20, DHCP6_SOLICIT, XID, &d, IAID, NULL, NULL, 0), -ENOBUFS);
	ASSERT_EQ(dhcp6_build(b, sizeof(b), DHCP6_REPLY, XID, &d, IAID, NULL, NULL, 0), -EINVAL);
	d.len = 0;
	ASSERT_EQ(dhcp6_build(b, sizeof(b), DHCP6_SOLICIT, XID, &d, IAID, NULL, NULL, 0), -EINVAL);
}

TEST(parse_advertise)
{
	struct msg m;
	struct dhcp6_lease l;
	uint8_t type = 0;
	char a[INET6_ADDRSTRLEN];

	good_advertise(&m);
	ASSERT_EQ(parse(&m, &type, &l), 0);
	ASSERT_EQ(type, DHCP6_ADVERTISE);
	ASSERT_TRUE(l.has_address);
	inet_ntop(AF_INET6, &l.address, a, sizeof(a));
	ASSERT_STREQ(a, "fd00::1:100");
	ASSERT_EQ(l.preferred_s, 3000);
	ASSERT_EQ(l.valid_s, 3600);
	ASSERT_EQ(l.t1_s, 1800);
	ASSERT_EQ(l.t2_s, 2880);
	ASSERT_EQ(l.preference, 255);
	ASSERT_EQ(l.status, DHCP6_STATUS_SUCCESS);
	ASSERT_EQ(l.server_id.len, 14);
	ASSERT_EQ(l.n_dns, 2);
	inet_ntop(AF_INET6, &l.dns[1], a, sizeof(a));
	ASSERT_STREQ(a, "fd00::54");
	ASSERT_STREQ(l.domain, "test.example");
}

TEST(not_for_us)
{
	struct msg m;
	struct dhcp6_lease l, untouched;
	struct dhcp6_duid other;
	uint8_t type = 99;
	static const uint8_t other_mac[6] = { 2, 0, 0, 0, 0, 1 };

	memset(&untouched, 0x5a, sizeof(untouched));
	l = untouched;
	good_advertise(&m);
	ASSERT_EQ(dhcp6_parse(m.buf, m.len, XID + 1, NULL, IAID, &type, &l), -ESRCH);
	dhcp6_duid_from_mac(other_mac, &other);
	ASSERT_EQ(dhcp6_parse(m.buf, m.len, XID, &other, IAID, &type, &l), -ESRCH);
	m.buf[0] = DHCP6_SOLICIT; /* a client's message, seen on the link */
	ASSERT_EQ(parse(&m, &type, &l), -ESRCH);
	/* no client id at all */
	msg_init(&m, DHCP6_REPLY, XID);
	server_id(&m);
	ASSERT_EQ(parse(&m, &type, &l), -ESRCH);
	ASSERT_EQ(type, 99);
	ASSERT_TRUE(memcmp(&l, &untouched, sizeof(l)) == 0);
}

TEST(malformed)
{
	struct msg m;
	struct dhcp6_lease l;
	uint8_t type;
	uint8_t five[5] = { 0 };

	good_advertise(&m);
	ASSERT_EQ(dhcp6_parse(m.buf, 3, XID, NULL, IAID, &type, &l), -EBADMSG);
	/* every truncation of a good message either fails or is at an option boundary */
	for (size_t cut = 4; cut < m.len; cut++) {
		struct dhcp6_duid d = our_duid();
		int r = dhcp6_parse(m.buf, cut, XID, &d, IAID, &type, &l);
		ASSERT_TRUE(r == -EBADMSG || r == -ESRCH || r == 0);
	}
	m.len -= 1; /* the domain list loses its last byte: overruns */
	ASSERT_EQ(parse(&m, &type, &l), -EBADMSG);

	msg_init(&m, DHCP6_REPLY, XID); /* no server id */
	client_id(&m);
	ASSERT_EQ(parse(&m, &type, &l), -EBADMSG);

	msg_init(&m, DHCP6_REPLY, XID);
	server_id(&m);
	client_id(&m);
	opt(&m, DHCP6_OPT_DNS_SERVERS, five, 5);
	ASSERT_EQ(parse(&m, &type, &l), -EBADMSG);

	msg_init(&m, DHCP6_REPLY, XID);
	server_id(&m);
	client_id(&m);
	opt(&m, DHCP6_OPT_PREFERENCE, five, 2);
	ASSERT_EQ(parse(&m, &type, &l), -EBADMSG);

	msg_init(&m, DHCP6_REPLY, XID);
	server_id(&m);
	client_id(&m);
	opt(&m, DHCP6_OPT_IA_NA, five, 5); /* shorter than IAID, T1, T2 */
	ASSERT_EQ(parse(&m, &type, &l), -EBADMSG);

	/* a compression pointer in the domain list (RFC 8415 §10 forbids them) */
	msg_init(&m, DHCP6_REPLY, XID);
	server_id(&m);
	client_id(&m);
	opt(&m, DHCP6_OPT_DOMAIN_LIST, "\3foo\xc0\x04", 6);
	ASSERT_EQ(parse(&m, &type, &l), -EBADMSG);
}

TEST(unusable_addresses_are_ignored)
{
	static const struct {
		uint32_t iaid, t1, t2;
		const char *addr;
		uint32_t pref, valid;
	} bad[] = {
		{ IAID, 0, 0, "fe80::1", 100, 200 },	   /* link-local */
		{ IAID, 0, 0, "ff02::1", 100, 200 },	   /* multicast */
		{ IAID, 0, 0, "::", 100, 200 },		   /* unspecified */
		{ IAID, 0, 0, "fd00::5", 300, 200 },	   /* preferred > valid */
		{ IAID, 0, 0, "fd00::5", 0, 0 },	   /* valid 0 */
		{ IAID + 1, 0, 0, "fd00::5", 100, 200 },   /* someone else's IA */
		{ IAID, 3000, 2000, "fd00::5", 100, 200 }, /* T1 > T2 */
	};

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		struct msg m;
		struct dhcp6_lease l;
		uint8_t type;

		msg_init(&m, DHCP6_REPLY, XID);
		server_id(&m);
		client_id(&m);
		ia_na(&m, bad[i].iaid, bad[i].t1, bad[i].t2, bad[i].addr, bad[i].pref, bad[i].valid);
		ASSERT_EQ(parse(&m, &type, &l), 0);
		if (l.has_address)
			fprintf(stderr, "case %zu\n", i);
		ASSERT_TRUE(!l.has_address);
	}
}

TEST(no_addrs_avail)
{
	struct msg m;
	struct dhcp6_lease l;
	uint8_t type, st[2 + 5] = { 0, DHCP6_STATUS_NO_ADDRS_AVAIL, 'n', 'o', 'p', 'e', '!' };
	uint8_t hdr[12] = { 0, 0x12, 0x34, 0x56 };

	msg_init(&m, DHCP6_ADVERTISE, XID);
	server_id(&m);
	client_id(&m);
	begin(&m, DHCP6_OPT_IA_NA);
	raw(&m, hdr, 12);
	opt(&m, DHCP6_OPT_STATUS_CODE, st, sizeof(st));
	end(&m);
	ASSERT_EQ(parse(&m, &type, &l), 0);
	ASSERT_TRUE(!l.has_address);
	ASSERT_EQ(l.status, DHCP6_STATUS_NO_ADDRS_AVAIL);
	ASSERT_STREQ(dhcp6_status_to_string(l.status), "NoAddrsAvail");
}

TEST(domain_with_bad_characters_is_dropped)
{
	struct msg m;
	struct dhcp6_lease l;
	uint8_t type;

	msg_init(&m, DHCP6_REPLY, XID);
	server_id(&m);
	client_id(&m);
	opt(&m, DHCP6_OPT_DOMAIN_LIST, "\4a\nb;\3com\0", 11);
	ASSERT_EQ(parse(&m, &type, &l), 0);
	ASSERT_STREQ(l.domain, "");
}

RUN(T(duid_ll), T(build_solicit), T(build_request_and_information_request), T(parse_advertise),
    T(not_for_us), T(malformed), T(unusable_addresses_are_ignored), T(no_addrs_avail),
    T(domain_with_bad_characters_is_dropped))
