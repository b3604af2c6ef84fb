// SPDX-License-Identifier: GPL-2.0-or-later
/* DHCPv6 client messages (RFC 8415 §8 layout, §21 options), built and parsed in memory. */
#include "format/dhcp6.h"

#include <errno.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void dhcp6_duid_from_mac(const uint8_t mac[6], struct dhcp6_duid *ret)
{
	put16(ret->data, 3); /* DUID-LL */
	put16(ret->data + 2, 1); /* Ethernet */
	memcpy(ret->data + 4, mac, 6);
	ret->len = 10;
}

struct writer {
	uint8_t *buf;
	size_t cap, len;
	bool overflow;
};

static uint8_t *w_option(struct writer *w, uint16_t code, size_t len)
{
	uint8_t *p;

	if (w->overflow || len > UINT16_MAX || w->cap - w->len < 4 + len) {
		w->overflow = true;
		return NULL;
	}
	p = w->buf + w->len;
	put16(p, code);
	put16(p + 2, (uint16_t)len);
	w->len += 4 + len;
	return p + 4;
}

int dhcp6_build(uint8_t *buf, size_t cap, uint8_t type, uint32_t xid,
		const struct dhcp6_duid *client_id, uint32_t iaid, const struct in6_addr *addr,
		const struct dhcp6_duid *server_id, uint32_t elapsed_cs)
{
	struct writer w = { .buf = buf, .cap = cap };
	uint8_t *p;

	if (type != DHCP6_SOLICIT && type != DHCP6_REQUEST && type != DHCP6_RENEW &&
	    type != DHCP6_REBIND && type != DHCP6_INFORMATION_REQUEST)
		return -EINVAL;
	if (!client_id || client_id->len == 0 || client_id->len > DHCP6_MAX_DUID ||
	    (server_id && (server_id->len == 0 || server_id->len > DHCP6_MAX_DUID)))
		return -EINVAL;
	if (cap < 4)
		return -ENOBUFS;
	buf[0] = type;
	buf[1] = (uint8_t)(xid >> 16);
	buf[2] = (uint8_t)(xid >> 8);
	buf[3] = (uint8_t)xid;
	w.len = 4;

	p = w_option(&w, DHCP6_OPT_CLIENTID, client_id->len);
	if (p)
		memcpy(p, client_id->data, client_id->len);
	if (server_id) {
		p = w_option(&w, DHCP6_OPT_SERVERID, server_id->len);
		if (p)
			memcpy(p, server_id->data, server_id->len);
	}
	p = w_option(&w, DHCP6_OPT_ELAPSED_TIME, 2);
	if (p)
		put16(p, elapsed_cs > UINT16_MAX ? UINT16_MAX : (uint16_t)elapsed_cs);
	p = w_option(&w, DHCP6_OPT_ORO, 4);
	if (p) {
		put16(p, DHCP6_OPT_DNS_SERVERS);
		put16(p + 2, DHCP6_OPT_DOMAIN_LIST);
	}
	if (type != DHCP6_INFORMATION_REQUEST) {
		p = w_option(&w, DHCP6_OPT_IA_NA, 12 + (addr ? 4 + 24 : 0));
		if (p) {
			put32(p, iaid);
			put32(p + 4, 0); /* T1, T2: the server's choice (§21.4) */
			put32(p + 8, 0);
			if (addr) {
				put16(p + 12, DHCP6_OPT_IAADDR);
				put16(p + 14, 24);
				memcpy(p + 16, addr, 16);
				put32(p + 32, 0);
				put32(p + 36, 0);
			}
		}
	}
	if (w.overflow)
		return -ENOBUFS;
	return (int)w.len;
}

/* Iterate the options in p[0..len): returns 1 and code/data/dlen for the next one, 0 at the
 * end, -EBADMSG when one overruns. */
static int next_option(const uint8_t *p, size_t len, size_t *off, uint16_t *code,
		       const uint8_t **data, uint16_t *dlen)
{
	if (*off == len)
		return 0;
	if (len - *off < 4)
		return -EBADMSG;
	*code = get16(p + *off);
	*dlen = get16(p + *off + 2);
	if (len - *off - 4 < *dlen)
		return -EBADMSG;
	*data = p + *off + 4;
	*off += 4 + (size_t)*dlen;
	return 1;
}

/* RFC 1035 §3.1 name in wire format, the first of the list: labels of letters, digits, '-'
 * and '_' only, since the name ends up in resolv.conf. Returns 0 and the dotted name (maybe
 * empty when the label characters are not acceptable), or -EBADMSG for a broken list. */
static int parse_domain_list(const uint8_t *p, size_t len, char *out, size_t outlen)
{
	size_t i = 0, o = 0;
	bool ok = true, first = true;

	out[0] = 0;
	if (len == 0)
		return 0;
	/* check the whole list for structure; keep only the first name */
	while (i < len) {
		size_t name_len = 0;

		for (;;) {
			uint8_t l;

			if (i >= len)
				return -EBADMSG; /* a name without its terminating root label */
			l = p[i++];
			if (l == 0)
				break;
			if (l > 63 || len - i < l)
				return -EBADMSG; /* compression pointers are not allowed (§10) */
			name_len += (size_t)l + 1;
			if (name_len > 255)
				return -EBADMSG;
			for (size_t k = 0; k < l; k++) {
				uint8_t c = p[i + k];
				bool good = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
					    (c >= '0' && c <= '9') || c == '-' || c == '_';
				if (!good)
					ok = false;
				if (first && o + 2 < outlen)
					out[o++] = (char)c;
			}
			if (first && o + 2 < outlen)
				out[o++] = '.';
			i += l;
		}
		first = false;
	}
	if (o > 0)
		o--; /* the trailing dot */
	out[o] = 0;
	if (!ok)
		out[0] = 0;
	return 0;
}

static bool addr_is_usable(const uint8_t a[16])
{
	static const uint8_t zero[16], loop[16] = { [15] = 1 };

	if (a[0] == 0xff) /* multicast */
		return false;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) /* link-local */
		return false;
	return memcmp(a, zero, 16) != 0 && memcmp(a, loop, 16) != 0;
}

static int parse_ia_na(const uint8_t *p, uint16_t len, uint32_t iaid, struct dhcp6_lease *l,
		       bool *ia_status_set, uint16_t *ia_status)
{
	size_t off = 12;
	uint16_t code, dlen;
	const uint8_t *d;
	uint32_t t1, t2;
	bool have = false;
	struct in6_addr addr;
	uint32_t pref = 0, valid = 0;
	int r;

	if (len < 12)
		return -EBADMSG;
	t1 = get32(p + 4);
	t2 = get32(p + 8);
	while ((r = next_option(p, len, &off, &code, &d, &dlen)) > 0) {
		if (code == DHCP6_OPT_STATUS_CODE) {
			if (dlen < 2)
				return -EBADMSG;
			*ia_status = get16(d);
			*ia_status_set = true;
		} else if (code == DHCP6_OPT_IAADDR) {
			uint32_t pl, vl;
			size_t so = 24;
			uint16_t sc, sl;
			const uint8_t *sd;
			uint16_t st = DHCP6_STATUS_SUCCESS;

			if (dlen < 24)
				return -EBADMSG;
			pl = get32(d + 16);
			vl = get32(d + 20);
			while ((r = next_option(d, dlen, &so, &sc, &sd, &sl)) > 0)
				if (sc == DHCP6_OPT_STATUS_CODE) {
					if (sl < 2)
						return -EBADMSG;
					st = get16(sd);
				}
			if (r < 0)
				return r;
			if (have || pl > vl || vl == 0 || !addr_is_usable(d) ||
			    st != DHCP6_STATUS_SUCCESS)
				continue;
			memcpy(&addr, d, 16);
			pref = pl;
			valid = vl;
			have = true;
		}
	}
	if (r < 0)
		return r;
	if (get32(p) != iaid || !have)
		return 0;
	if (t1 && t2 && t1 > t2)
		return 0;
	l->has_address = true;
	l->address = addr;
	l->preferred_s = pref;
	l->valid_s = valid;
	l->t1_s = t1;
	l->t2_s = t2;
	return 0;
}

int dhcp6_parse(const uint8_t *buf, size_t len, uint32_t xid, const struct dhcp6_duid *client_id,
		uint32_t iaid, uint8_t *ret_type, struct dhcp6_lease *ret)
{
	struct dhcp6_lease l = {};
	size_t off = 4;
	uint16_t code, dlen, ia_status = 0;
	const uint8_t *d;
	bool client_ok = false, have_server = false, status_set = false, ia_status_set = false;
	int r;

	if (len < 4)
		return -EBADMSG;
	if (buf[0] != DHCP6_ADVERTISE && buf[0] != DHCP6_REPLY)
		return -ESRCH;
	if (((uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3]) != (xid & 0xffffff))
		return -ESRCH;
	while ((r = next_option(buf, len, &off, &code, &d, &dlen)) > 0) {
		switch (code) {
		case DHCP6_OPT_CLIENTID:
			client_ok = client_id && client_id->len > 0 && dlen == client_id->len &&
				    memcmp(d, client_id->data, dlen) == 0;
			break;
		case DHCP6_OPT_SERVERID:
			if (dlen == 0 || dlen > DHCP6_MAX_DUID)
				return -EBADMSG;
			memcpy(l.server_id.data, d, dlen);
			l.server_id.len = dlen;
			have_server = true;
			break;
		case DHCP6_OPT_PREFERENCE:
			if (dlen != 1)
				return -EBADMSG;
			l.preference = d[0];
			break;
		case DHCP6_OPT_STATUS_CODE:
			if (dlen < 2)
				return -EBADMSG;
			l.status = get16(d);
			status_set = true;
			break;
		case DHCP6_OPT_IA_NA:
			r = parse_ia_na(d, dlen, iaid, &l, &ia_status_set, &ia_status);
			if (r < 0)
				return r;
			break;
		case DHCP6_OPT_DNS_SERVERS:
			if (dlen % 16 != 0)
				return -EBADMSG;
			for (size_t i = 0; i < dlen / 16u && l.n_dns < DHCP6_MAX_DNS; i++) {
				if (!addr_is_usable(d + 16 * i))
					continue;
				memcpy(&l.dns[l.n_dns++], d + 16 * i, 16);
			}
			break;
		case DHCP6_OPT_DOMAIN_LIST:
			r = parse_domain_list(d, dlen, l.domain, sizeof(l.domain));
			if (r < 0)
				return r;
			break;
		default:
			break;
		}
	}
	if (r < 0)
		return r;
	if (!client_ok)
		return -ESRCH;
	if (!have_server)
		return -EBADMSG;
	if (!status_set && ia_status_set)
		l.status = ia_status;
	*ret_type = buf[0];
	*ret = l;
	return 0;
}

const char *dhcp6_status_to_string(uint16_t status)
{
	switch (status) {
	case DHCP6_STATUS_SUCCESS:
		return "Success";
	case DHCP6_STATUS_UNSPEC_FAIL:
		return "UnspecFail";
	case DHCP6_STATUS_NO_ADDRS_AVAIL:
		return "NoAddrsAvail";
	case DHCP6_STATUS_NO_BINDING:
		return "NoBinding";
	case DHCP6_STATUS_NOT_ON_LINK:
		return "NotOnLink";
	case DHCP6_STATUS_USE_MULTICAST:
		return "UseMulticast";
	default:
		return "unknown";
	}
}
