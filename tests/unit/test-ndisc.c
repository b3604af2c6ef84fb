// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the parser of RTM_NEWNDUSEROPT payloads (RDNSS, RFC 8106). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <netinet/icmp6.h>

#include "net/ndisc.h"
#include "tests.h"

struct msg {
	uint8_t buf[512];
	size_t len;
};

static void msg_init(struct msg *m, uint8_t icmp_type)
{
	struct nduseroptmsg h = {
		.nduseropt_family = AF_INET6,
		.nduseropt_ifindex = 7,
		.nduseropt_icmp_type = icmp_type,
	};

	memset(m, 0, sizeof(*m));
	memcpy(m->buf, &h, sizeof(h));
	m->len = sizeof(h);
}

/* Append an option: type, length in 8-octet units, body (len8 * 8 - 2 bytes). */
static void msg_opt(struct msg *m, uint8_t type, uint8_t len8, const uint8_t *body)
{
	struct nduseroptmsg h;

	m->buf[m->len] = type;
	m->buf[m->len + 1] = len8;
	if (len8)
		memcpy(m->buf + m->len + 2, body, (size_t)len8 * 8 - 2);
	m->len += len8 ? (size_t)len8 * 8 : 2;
	memcpy(&h, m->buf, sizeof(h));
	h.nduseropt_opts_len = (uint16_t)(m->len - sizeof(h));
	memcpy(m->buf, &h, sizeof(h));
}

/* RDNSS body: reserved, lifetime, then n addresses given as strings. */
static void rdnss(struct msg *m, uint32_t lifetime, size_t n, const char *const *addrs)
{
	uint8_t body[6 + 16 * 8] = { 0 };

	body[2] = (uint8_t)(lifetime >> 24);
	body[3] = (uint8_t)(lifetime >> 16);
	body[4] = (uint8_t)(lifetime >> 8);
	body[5] = (uint8_t)lifetime;
	for (size_t i = 0; i < n; i++)
		ASSERT_EQ(inet_pton(AF_INET6, addrs[i], body + 6 + 16 * i), 1);
	msg_opt(m, 25, (uint8_t)(1 + 2 * n), body);
}

static bool addr_is(const struct in6_addr *a, const char *s)
{
	struct in6_addr b;

	ASSERT_EQ(inet_pton(AF_INET6, s, &b), 1);
	return memcmp(a, &b, 16) == 0;
}

TEST(rdnss)
{
	static const char *const two[] = { "2001:db8::53", "2001:db8::54" };
	static const uint8_t prefix_info[30] = { 64, 0xc0 };
	struct ndisc_rdnss rd;
	struct msg m;

	msg_init(&m, ND_ROUTER_ADVERT);
	msg_opt(&m, 3, 4, prefix_info);
	rdnss(&m, 600, 2, two);
	ASSERT_EQ(ndisc_useropt_parse(m.buf, m.len, &rd), 1);
	ASSERT_EQ(rd.ifindex, 7);
	ASSERT_EQ(rd.lifetime_s, 600);
	ASSERT_EQ(rd.n_servers, 2);
	ASSERT_TRUE(addr_is(&rd.servers[0], "2001:db8::53"));
	ASSERT_TRUE(addr_is(&rd.servers[1], "2001:db8::54"));

	/* trailing netlink attributes after the options are not options */
	m.len += 20;
	ASSERT_EQ(ndisc_useropt_parse(m.buf, m.len, &rd), 1);
}

TEST(rdnss_many_and_filtered)
{
	static const char *const eight[] = {
		"::",	       "ff02::1",     "2001:db8::1", "2001:db8::2",
		"2001:db8::3", "2001:db8::4", "2001:db8::5", "fe80::1",
	};
	static const char *const one[] = { "2001:db8::9" };
	struct ndisc_rdnss rd;
	struct msg m;

	msg_init(&m, ND_ROUTER_ADVERT);
	rdnss(&m, 300, 8, eight);
	rdnss(&m, 100, 1, one);
	ASSERT_EQ(ndisc_useropt_parse(m.buf, m.len, &rd), 1);
	ASSERT_EQ(rd.lifetime_s, 100); /* the smallest */
	ASSERT_EQ(rd.n_servers, NDISC_MAX_DNS);
	ASSERT_TRUE(addr_is(&rd.servers[0], "2001:db8::1"));
	ASSERT_TRUE(addr_is(&rd.servers[3], "2001:db8::4"));
}

TEST(rdnss_bad_length_skipped)
{
	static const uint8_t body[30] = { 0 };
	struct ndisc_rdnss rd = { .ifindex = 99 };
	struct msg m;

	msg_init(&m, ND_ROUTER_ADVERT);
	msg_opt(&m, 25, 2, body); /* even length: invalid, ignored */
	msg_opt(&m, 25, 1, body); /* below 3: invalid, ignored */
	ASSERT_EQ(ndisc_useropt_parse(m.buf, m.len, &rd), 0);
	ASSERT_EQ(rd.ifindex, 99); /* untouched */
}

TEST(not_rdnss)
{
	static const char *const one[] = { "2001:db8::9" };
	static const uint8_t dnssl[14] = { 0 };
	struct ndisc_rdnss rd;
	struct msg m;

	msg_init(&m, ND_ROUTER_ADVERT);
	msg_opt(&m, 31, 2, dnssl);
	ASSERT_EQ(ndisc_useropt_parse(m.buf, m.len, &rd), 0);

	msg_init(&m, ND_ROUTER_SOLICIT);
	rdnss(&m, 300, 1, one);
	ASSERT_EQ(ndisc_useropt_parse(m.buf, m.len, &rd), 0);

	msg_init(&m, ND_ROUTER_ADVERT);
	rdnss(&m, 300, 1, one);
	m.buf[0] = AF_INET;
	ASSERT_EQ(ndisc_useropt_parse(m.buf, m.len, &rd), 0);
}

TEST(malformed)
{
	static const char *const one[] = { "2001:db8::9" };
	struct ndisc_rdnss rd;
	struct msg m;

	ASSERT_EQ(ndisc_useropt_parse(NULL, 0, &rd), -EBADMSG);
	msg_init(&m, ND_ROUTER_ADVERT);
	ASSERT_EQ(ndisc_useropt_parse(m.buf, sizeof(struct nduseroptmsg) - 1, &rd), -EBADMSG);
	ASSERT_EQ(ndisc_useropt_parse(m.buf, m.len, &rd), 0); /* no options at all */

	/* opts_len beyond the payload */
	rdnss(&m, 300, 1, one);
	ASSERT_EQ(ndisc_useropt_parse(m.buf, m.len - 1, &rd), -EBADMSG);

	/* length 0 */
	msg_init(&m, ND_ROUTER_ADVERT);
	msg_opt(&m, 25, 0, NULL);
	ASSERT_EQ(ndisc_useropt_parse(m.buf, m.len, &rd), -EBADMSG);

	/* an option longer than opts_len */
	msg_init(&m, ND_ROUTER_ADVERT);
	rdnss(&m, 300, 1, one);
	m.buf[sizeof(struct nduseroptmsg) + 1] = 5;
	ASSERT_EQ(ndisc_useropt_parse(m.buf, m.len, &rd), -EBADMSG);

	/* a lone type byte at the end */
	msg_init(&m, ND_ROUTER_ADVERT);
	rdnss(&m, 300, 1, one);
	m.buf[m.len] = 25;
	m.len++;
	{
		struct nduseroptmsg h;
		memcpy(&h, m.buf, sizeof(h));
		h.nduseropt_opts_len++;
		memcpy(m.buf, &h, sizeof(h));
	}
	ASSERT_EQ(ndisc_useropt_parse(m.buf, m.len, &rd), -EBADMSG);
}

RUN(T(rdnss), T(rdnss_many_and_filtered), T(rdnss_bad_length_skipped), T(not_rdnss),
    T(malformed))
