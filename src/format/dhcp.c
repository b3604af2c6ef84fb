// SPDX-License-Identifier: GPL-2.0-or-later
/* DHCPv4 message building and strict parsing of server replies (RFC 2131, 2132, 3396, 3442). */
#include "format/dhcp.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "basic/macro.h"

/* Field offsets of RFC 2131 §2, figure 1. */
#define OFF_OP 0
#define OFF_HTYPE 1
#define OFF_HLEN 2
#define OFF_XID 4
#define OFF_SECS 8
#define OFF_FLAGS 10
#define OFF_CIADDR 12
#define OFF_YIADDR 16
#define OFF_CHADDR 28
#define OFF_SNAME 44
#define SNAME_SIZE 64
#define OFF_FILE 108
#define FILE_SIZE 128
#define OFF_COOKIE 236

#define BOOTREQUEST 1
#define BOOTREPLY 2
#define HTYPE_ETHER 1
#define FLAG_BROADCAST 0x8000

enum {
	OPT_PAD = 0,
	OPT_NETMASK = 1,
	OPT_ROUTER = 3,
	OPT_DNS = 6,
	OPT_HOSTNAME = 12,
	OPT_DOMAIN = 15,
	OPT_MTU = 26,
	OPT_BROADCAST = 28,
	OPT_REQUESTED_ADDRESS = 50,
	OPT_LEASE_TIME = 51,
	OPT_OVERLOAD = 52,
	OPT_MESSAGE_TYPE = 53,
	OPT_SERVER_ID = 54,
	OPT_PARAMETER_REQUEST = 55,
	OPT_MAX_MESSAGE_SIZE = 57,
	OPT_T1 = 58,
	OPT_T2 = 59,
	OPT_CLIENT_ID = 61,
	OPT_CLASSLESS_ROUTES = 121,
	OPT_END = 255,
};

static const uint8_t magic_cookie[4] = { 99, 130, 83, 99 };
static const uint8_t parameter_request[] = {
	OPT_NETMASK, OPT_ROUTER,	OPT_DNS,       OPT_DOMAIN,	     OPT_MTU,
	OPT_BROADCAST, OPT_LEASE_TIME, OPT_SERVER_ID, OPT_CLASSLESS_ROUTES,
};

/* The concatenation of all parts of one option (RFC 3396) never needs to be longer than this
 * for the options we read; a longer one is treated as malformed. */
#define OPTION_VALUE_MAX 1024

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Addresses stay in network byte order: copy the bytes. */
static uint32_t get_addr(const uint8_t *p)
{
	uint32_t a;

	memcpy(&a, p, 4);
	return a;
}

uint32_t dhcp_prefix_to_netmask(uint8_t prefix)
{
	uint32_t m = prefix >= 32 ? UINT32_MAX : prefix == 0 ? 0 : ~(UINT32_MAX >> prefix);
	uint8_t b[4];

	put_be32(b, m);
	return get_addr(b);
}

int dhcp_netmask_to_prefix(uint32_t mask)
{
	uint32_t m = get_be32((const uint8_t *)&mask);
	int prefix = 0;

	while (prefix < 32 && (m & (UINT32_C(1) << (31 - prefix))))
		prefix++;
	if (prefix < 32 && (m << prefix) != 0)
		return -EINVAL;
	return prefix;
}

static int build(uint8_t *buf, size_t cap, uint8_t type, uint32_t xid, const uint8_t mac[6],
		 uint16_t secs, uint32_t requested, uint32_t server_id, uint32_t ciaddr)
{
	/* 53, 61, 57, 55, 50, 54 and the end option */
	size_t opt_max = 3 + 9 + 4 + 2 + sizeof(parameter_request) + 6 + 6 + 1;
	size_t need = MAX((size_t)DHCP_MIN_SIZE + opt_max, (size_t)DHCP_MIN_SEND_SIZE);
	uint8_t *p;

	if (!buf || !mac || cap < need)
		return -ENOBUFS;
	memset(buf, 0, need);
	buf[OFF_OP] = BOOTREQUEST;
	buf[OFF_HTYPE] = HTYPE_ETHER;
	buf[OFF_HLEN] = 6;
	put_be32(buf + OFF_XID, xid);
	put_be16(buf + OFF_SECS, secs);
	put_be16(buf + OFF_FLAGS, ciaddr == 0 ? FLAG_BROADCAST : 0);
	memcpy(buf + OFF_CIADDR, &ciaddr, 4);
	memcpy(buf + OFF_CHADDR, mac, 6);
	memcpy(buf + OFF_COOKIE, magic_cookie, 4);

	p = buf + DHCP_MIN_SIZE;
	*p++ = OPT_MESSAGE_TYPE;
	*p++ = 1;
	*p++ = type;
	*p++ = OPT_CLIENT_ID;
	*p++ = 7;
	*p++ = HTYPE_ETHER;
	memcpy(p, mac, 6);
	p += 6;
	*p++ = OPT_MAX_MESSAGE_SIZE;
	*p++ = 2;
	put_be16(p, DHCP_MAX_MESSAGE_SIZE);
	p += 2;
	*p++ = OPT_PARAMETER_REQUEST;
	*p++ = sizeof(parameter_request);
	memcpy(p, parameter_request, sizeof(parameter_request));
	p += sizeof(parameter_request);
	if (requested != 0) {
		*p++ = OPT_REQUESTED_ADDRESS;
		*p++ = 4;
		memcpy(p, &requested, 4);
		p += 4;
	}
	if (server_id != 0) {
		*p++ = OPT_SERVER_ID;
		*p++ = 4;
		memcpy(p, &server_id, 4);
		p += 4;
	}
	*p++ = OPT_END;
	return (int)MAX((size_t)(p - buf), (size_t)DHCP_MIN_SEND_SIZE);
}

int dhcp_build_discover(uint8_t *buf, size_t cap, uint32_t xid, const uint8_t mac[6],
			uint16_t secs)
{
	return build(buf, cap, DHCP_DISCOVER, xid, mac, secs, 0, 0, 0);
}

int dhcp_build_request(uint8_t *buf, size_t cap, uint32_t xid, const uint8_t mac[6],
		       uint16_t secs, uint32_t requested, uint32_t server_id, uint32_t ciaddr)
{
	return build(buf, cap, DHCP_REQUEST, xid, mac, secs, requested, server_id, ciaddr);
}

/* A field that holds options: the options field, and file/sname when overloaded. */
struct region {
	const uint8_t *p;
	size_t n;
};

/* Every option must fit in its field; the end option (or the end of the field) stops the walk. */
static int region_validate(const struct region *r)
{
	size_t i = 0;

	while (i < r->n) {
		uint8_t code = r->p[i];

		if (code == OPT_PAD) {
			i++;
			continue;
		}
		if (code == OPT_END)
			return 0;
		if (r->n - i < 2 || r->n - i - 2 < r->p[i + 1])
			return -EBADMSG;
		i += 2 + (size_t)r->p[i + 1];
	}
	return 0;
}

/* Concatenate every instance of option code (RFC 3396) into out. Regions must have been
 * validated. Returns 1 when found, 0 when absent, -EBADMSG when longer than cap. */
static int option_get(const struct region *regions, size_t n_regions, uint8_t code,
		      uint8_t *out, size_t cap, size_t *ret_len)
{
	size_t len = 0;
	bool found = false;

	for (size_t k = 0; k < n_regions; k++) {
		const struct region *r = &regions[k];
		size_t i = 0;

		while (i < r->n && r->p[i] != OPT_END) {
			size_t l;

			if (r->p[i] == OPT_PAD) {
				i++;
				continue;
			}
			l = r->p[i + 1];
			if (r->p[i] == code) {
				if (cap - len < l)
					return -EBADMSG;
				memcpy(out + len, r->p + i + 2, l);
				len += l;
				found = true;
			}
			i += 2 + l;
		}
	}
	*ret_len = len;
	return found;
}

/* An option that must be exactly n bytes long: 1 found, 0 absent, -EBADMSG otherwise. */
static int option_get_fixed(const struct region *regions, size_t n_regions, uint8_t code,
			    uint8_t *out, size_t n)
{
	uint8_t v[OPTION_VALUE_MAX];
	size_t len;
	int r;

	r = option_get(regions, n_regions, code, v, sizeof(v), &len);
	if (r <= 0)
		return r;
	if (len != n)
		return -EBADMSG;
	memcpy(out, v, n);
	return 1;
}

static bool name_is_valid(const char *s, size_t n)
{
	if (n == 0 || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

/* Copy a name option into out (size cap) when it is a valid name; drop it otherwise. Servers
 * sometimes count a trailing NUL. */
static void name_copy(const uint8_t *v, size_t len, char *out, size_t cap)
{
	while (len > 0 && v[len - 1] == 0)
		len--;
	if (len >= cap || !name_is_valid((const char *)v, len))
		return;
	memcpy(out, v, len);
	out[len] = 0;
}

static int parse_classless_routes(const uint8_t *p, size_t n, struct dhcp_lease *l)
{
	size_t i = 0;

	/* RFC 3442: the shortest option is one default route, 5 bytes. */
	if (n < 5)
		return -EBADMSG;
	while (i < n) {
		uint8_t width = p[i++];
		size_t significant = ((size_t)width + 7) / 8;
		uint8_t dst[4] = { 0 };

		if (width > 32 || n - i < significant + 4)
			return -EBADMSG;
		memcpy(dst, p + i, significant);
		i += significant;
		if (l->n_routes < DHCP_MAX_ROUTES) {
			struct dhcp_route *rt = &l->routes[l->n_routes++];
			rt->dst = get_addr(dst) & dhcp_prefix_to_netmask(width);
			rt->prefix = width;
			rt->gateway = get_addr(p + i);
		}
		i += 4;
	}
	return 0;
}

static uint8_t classful_prefix(uint32_t address)
{
	uint8_t first = ((const uint8_t *)&address)[0];

	return first < 128 ? 8 : first < 192 ? 16 : 24;
}

static bool address_is_usable(uint32_t address)
{
	uint8_t first = ((const uint8_t *)&address)[0];

	return address != 0 && address != UINT32_MAX && first != 127 && first < 224;
}

static int parse_options(const struct region *regions, size_t n_regions, struct dhcp_lease *l)
{
	uint8_t v[OPTION_VALUE_MAX];
	size_t len;
	int r, prefix;

	r = option_get_fixed(regions, n_regions, OPT_NETMASK, v, 4);
	if (r < 0)
		return r;
	if (r > 0) {
		prefix = dhcp_netmask_to_prefix(get_addr(v));
		if (prefix < 0)
			return -EBADMSG;
		l->prefix = (uint8_t)prefix;
	} else
		l->prefix = classful_prefix(l->address);

	r = option_get(regions, n_regions, OPT_CLASSLESS_ROUTES, v, sizeof(v), &len);
	if (r < 0)
		return r;
	if (r > 0) {
		r = parse_classless_routes(v, len, l);
		if (r < 0)
			return r;
	} else {
		/* RFC 3442 §DHCP Client Behavior: option 3 only counts without option 121. */
		r = option_get(regions, n_regions, OPT_ROUTER, v, sizeof(v), &len);
		if (r < 0)
			return r;
		if (r > 0) {
			if (len < 4 || len % 4 != 0)
				return -EBADMSG;
			l->router = get_addr(v);
		}
	}

	r = option_get(regions, n_regions, OPT_DNS, v, sizeof(v), &len);
	if (r < 0)
		return r;
	if (r > 0) {
		if (len < 4 || len % 4 != 0)
			return -EBADMSG;
		for (size_t i = 0; i < len / 4 && l->n_dns < DHCP_MAX_DNS; i++)
			l->dns[l->n_dns++] = get_addr(v + 4 * i);
	}

	r = option_get(regions, n_regions, OPT_DOMAIN, v, sizeof(v), &len);
	if (r < 0)
		return r;
	if (r > 0)
		name_copy(v, len, l->domain, sizeof(l->domain));
	r = option_get(regions, n_regions, OPT_HOSTNAME, v, sizeof(v), &len);
	if (r < 0)
		return r;
	if (r > 0)
		name_copy(v, len, l->hostname, sizeof(l->hostname));

	r = option_get_fixed(regions, n_regions, OPT_MTU, v, 2);
	if (r < 0)
		return r;
	if (r > 0) {
		uint16_t mtu = (uint16_t)(v[0] << 8 | v[1]);
		l->mtu = mtu >= 68 ? mtu : 0; /* RFC 2132 §5.1: 68 is the minimum */
	}

	r = option_get_fixed(regions, n_regions, OPT_BROADCAST, v, 4);
	if (r < 0)
		return r;
	if (r > 0)
		l->broadcast = get_addr(v);

	r = option_get_fixed(regions, n_regions, OPT_LEASE_TIME, v, 4);
	if (r < 0)
		return r;
	if (r == 0)
		return -EBADMSG; /* RFC 2131 table 3: MUST in OFFER and ACK */
	l->lease_s = get_be32(v);
	if (l->lease_s == 0)
		return -EBADMSG; /* an address valid for no time at all */

	if (l->lease_s == DHCP_INFINITE) {
		l->t1_s = l->t2_s = DHCP_INFINITE;
	} else {
		l->t1_s = l->lease_s / 2;
		l->t2_s = (uint32_t)((uint64_t)l->lease_s * 7 / 8);
	}
	{
		uint32_t t1 = l->t1_s, t2 = l->t2_s;

		r = option_get_fixed(regions, n_regions, OPT_T1, v, 4);
		if (r < 0)
			return r;
		if (r > 0)
			t1 = get_be32(v);
		r = option_get_fixed(regions, n_regions, OPT_T2, v, 4);
		if (r < 0)
			return r;
		if (r > 0)
			t2 = get_be32(v);
		if (t1 <= t2 && t2 <= l->lease_s) {
			l->t1_s = t1;
			l->t2_s = t2;
		}
	}
	return 0;
}

int dhcp_parse(const uint8_t *buf, size_t len, uint32_t xid, const uint8_t mac[6],
	       uint8_t *ret_type, struct dhcp_lease *ret)
{
	struct region regions[3];
	size_t n_regions = 1;
	struct dhcp_lease l = { 0 };
	uint8_t v[4];
	uint8_t type;
	int r;

	if (!buf || !mac || len < DHCP_MIN_SIZE)
		return -EBADMSG;
	if (buf[OFF_OP] != BOOTREPLY || buf[OFF_HTYPE] != HTYPE_ETHER || buf[OFF_HLEN] != 6)
		return -ESRCH;
	if (get_be32(buf + OFF_XID) != xid || memcmp(buf + OFF_CHADDR, mac, 6) != 0)
		return -ESRCH;
	if (memcmp(buf + OFF_COOKIE, magic_cookie, 4) != 0)
		return -EBADMSG;

	regions[0] = (struct region){ buf + DHCP_MIN_SIZE, len - DHCP_MIN_SIZE };
	r = region_validate(&regions[0]);
	if (r < 0)
		return r;
	/* RFC 2131 §4.1: option 52 lives in the options field; file comes before sname. */
	r = option_get_fixed(regions, 1, OPT_OVERLOAD, v, 1);
	if (r < 0)
		return r;
	if (r > 0) {
		if (v[0] < 1 || v[0] > 3)
			return -EBADMSG;
		if (v[0] & 1)
			regions[n_regions++] = (struct region){ buf + OFF_FILE, FILE_SIZE };
		if (v[0] & 2)
			regions[n_regions++] = (struct region){ buf + OFF_SNAME, SNAME_SIZE };
		for (size_t i = 1; i < n_regions; i++) {
			r = region_validate(&regions[i]);
			if (r < 0)
				return r;
		}
	}

	r = option_get_fixed(regions, n_regions, OPT_MESSAGE_TYPE, &type, 1);
	if (r < 0)
		return r;
	if (r == 0 || (type != DHCP_OFFER && type != DHCP_ACK && type != DHCP_NAK))
		return -EBADMSG;

	r = option_get_fixed(regions, n_regions, OPT_SERVER_ID, v, 4);
	if (r < 0)
		return r;
	if (r > 0)
		l.server_id = get_addr(v);

	if (type != DHCP_NAK) {
		l.address = get_addr(buf + OFF_YIADDR);
		if (!address_is_usable(l.address))
			return -EBADMSG;
		r = parse_options(regions, n_regions, &l);
		if (r < 0)
			return r;
	}

	if (ret_type)
		*ret_type = type;
	if (ret)
		*ret = l;
	return 0;
}
