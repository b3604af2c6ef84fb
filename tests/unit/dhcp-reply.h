/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Builds DHCP server replies byte by byte for the DHCP tests (a fake server's side of RFC 2131). */
#pragma once

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct reply {
	uint8_t buf[2048];
	size_t len;
};

static inline uint32_t addr(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		abort();
	return a.s_addr;
}

/* A BOOTREPLY header to xid/mac offering yiaddr, the magic cookie and, when type is not 0,
 * option 53. */
static inline void reply_init(struct reply *r, uint8_t type, uint32_t xid, const uint8_t mac[6],
			      const char *yiaddr)
{
	uint32_t y = yiaddr ? addr(yiaddr) : 0;

	memset(r, 0, sizeof(*r));
	r->buf[0] = 2;
	r->buf[1] = 1;
	r->buf[2] = 6;
	r->buf[4] = (uint8_t)(xid >> 24);
	r->buf[5] = (uint8_t)(xid >> 16);
	r->buf[6] = (uint8_t)(xid >> 8);
	r->buf[7] = (uint8_t)xid;
	memcpy(r->buf + 16, &y, 4);
	memcpy(r->buf + 28, mac, 6);
	memcpy(r->buf + 236, "\x63\x82\x53\x63", 4);
	r->len = 240;
	if (type) {
		r->buf[r->len++] = 53;
		r->buf[r->len++] = 1;
		r->buf[r->len++] = type;
	}
}

static inline void reply_opt(struct reply *r, uint8_t code, const void *data, size_t n)
{
	r->buf[r->len++] = code;
	r->buf[r->len++] = (uint8_t)n;
	memcpy(r->buf + r->len, data, n);
	r->len += n;
}

static inline void reply_opt_addr(struct reply *r, uint8_t code, const char *a)
{
	uint32_t v = addr(a);

	reply_opt(r, code, &v, 4);
}

static inline void reply_opt_u32(struct reply *r, uint8_t code, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	reply_opt(r, code, b, 4);
}

static inline void reply_end(struct reply *r)
{
	r->buf[r->len++] = 255;
}

/* The usual OFFER/ACK: server 10.0.0.1, /24, router .1, lease lease_s. */
static inline void reply_standard(struct reply *r, uint8_t type, uint32_t xid,
				  const uint8_t mac[6], const char *yiaddr, uint32_t lease_s)
{
	reply_init(r, type, xid, mac, yiaddr);
	reply_opt_addr(r, 54, "10.0.0.1");
	reply_opt_u32(r, 51, lease_s);
	reply_opt_addr(r, 1, "255.255.255.0");
	reply_opt_addr(r, 3, "10.0.0.1");
	reply_opt_addr(r, 6, "10.0.0.53");
	reply_end(r);
}
