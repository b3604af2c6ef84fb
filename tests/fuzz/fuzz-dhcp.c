// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: DHCP replies, parsed as if they were for the xid and chaddr they carry (so that
 * the option parser is reached) and for a fixed client; then built messages must parse back. */
#include <string.h>

#include "format/dhcp.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t fixed_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	struct dhcp_lease l;
	uint8_t type, mac[6] = { 0 };
	uint32_t xid = 0;
	uint8_t *copy;

	if (size >= 34) {
		xid = (uint32_t)data[4] << 24 | (uint32_t)data[5] << 16 | (uint32_t)data[6] << 8 |
		      data[7];
		memcpy(mac, data + 28, 6);
	}
	/* An exact-size heap copy lets ASan catch any read past the end. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (dhcp_parse(copy, size, xid, mac, &type, &l) == 0) {
		if (l.n_dns > DHCP_MAX_DNS || l.n_routes > DHCP_MAX_ROUTES ||
		    l.domain[sizeof(l.domain) - 1] || l.hostname[sizeof(l.hostname) - 1])
			abort();
		if (type != DHCP_NAK && (l.prefix > 32 || l.t1_s > l.t2_s || l.t2_s > l.lease_s))
			abort();
	}
	(void)dhcp_parse(copy, size, 0x11223344, fixed_mac, &type, &l);
	free(copy);

	{
		uint8_t buf[DHCP_MAX_MESSAGE_SIZE];
		int n = dhcp_build_request(buf, sizeof(buf), xid, mac, 1, xid, ~xid, 0);
		if (n < DHCP_MIN_SEND_SIZE)
			abort();
		n = dhcp_build_discover(buf, sizeof(buf), xid, mac, 1);
		if (n < DHCP_MIN_SEND_SIZE)
			abort();
	}
	return 0;
}
