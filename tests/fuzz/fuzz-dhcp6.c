// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: DHCPv6 Advertise/Reply messages, parsed for the xid they carry and the client
 * identifier of their first Client Identifier option (so that every option parser is reached),
 * with properties of what comes out; then messages built from the result must be well formed. */
#include <errno.h>
#include <string.h>

#include "format/dhcp6.h"
#include "fuzz.h"

static struct dhcp6_duid find_client_id(const uint8_t *d, size_t n)
{
	struct dhcp6_duid id = { .len = 0 };

	for (size_t o = 4; o + 4 <= n;) {
		uint16_t c = (uint16_t)(d[o] << 8 | d[o + 1]), l = (uint16_t)(d[o + 2] << 8 | d[o + 3]);
		if (o + 4 + l > n)
			break;
		if (c == DHCP6_OPT_CLIENTID && l > 0 && l <= DHCP6_MAX_DUID) {
			memcpy(id.data, d + o + 4, l);
			id.len = l;
			break;
		}
		o += 4 + (size_t)l;
	}
	return id;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dhcp6_duid cid = find_client_id(data, size);
	struct dhcp6_lease l, again;
	uint8_t type, type2, *copy;
	uint32_t xid = size >= 4 ? (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3] : 0;
	uint32_t iaid = 0x00123456;
	int r;

	copy = malloc(size ? size : 1); /* exact size: ASan catches reads past the end */
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	r = dhcp6_parse(copy, size, xid, &cid, iaid, &type, &l);
	/* an empty Client Identifier is nobody's (found by this target: it matched ours once) */
	if (r == 0 && cid.len == 0)
		abort();
	if (r == 0) {
		if (type != DHCP6_ADVERTISE && type != DHCP6_REPLY)
			abort();
		if (l.n_dns > DHCP6_MAX_DNS || l.server_id.len == 0 ||
		    l.server_id.len > DHCP6_MAX_DUID || l.domain[sizeof(l.domain) - 1])
			abort();
		if (l.has_address && (l.valid_s == 0 || l.preferred_s > l.valid_s ||
				      l.address.s6_addr[0] == 0xff ||
				      (l.t1_s && l.t2_s && l.t1_s > l.t2_s)))
			abort();
		for (const char *p = l.domain; *p; p++)
			if (!(*p == '.' || *p == '-' || *p == '_' || (*p >= '0' && *p <= '9') ||
			      (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
				abort();
		/* deterministic */
		if (dhcp6_parse(copy, size, xid, &cid, iaid, &type2, &again) != 0 || type2 != type ||
		    memcmp(&again, &l, sizeof(l)) != 0)
			abort();
		{
			uint8_t b[DHCP6_MAX_BUILD];
			int n = dhcp6_build(b, sizeof(b), DHCP6_REQUEST, xid, &cid, iaid,
					    l.has_address ? &l.address : NULL, &l.server_id, 0);
			if (n < 4 || (size_t)n > sizeof(b))
				abort();
		}
	} else if (r != -EBADMSG && r != -ESRCH)
		abort();
	free(copy);
	return 0;
}
