// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: the link-kind readers of carried network stacks. Input starting with 'J' is a
 * net-link job value (format/net-link.c), which must format back to itself; anything else is
 * an RTM_NEWLINK message (net/netlink.c), whose fields must stay in range. */
#include <errno.h>
#include <string.h>

#include "format/net-link.h"
#include "fuzz.h"
#include "net/netlink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 0 && data[0] == 'J') {
		char *s = fuzz_strndup(data + 1, size - 1);
		struct net_link l, back;
		char buf[512];

		if (!s)
			return 0;
		if (net_link_parse(s, &l, NULL) == 0) {
			if (l.n_lower == 0 || l.n_lower > NET_LINK_MAX_LOWER || !l.name[0] ||
			    l.name[NET_LINK_NAME_MAX - 1])
				abort();
			if (!strcmp(l.kind, "vlan") && (l.vlan_id < 1 || l.vlan_id > 4094))
				abort();
			if (net_link_format(&l, buf, sizeof(buf)) != 0 ||
			    net_link_parse(buf, &back, NULL) != 0 || memcmp(&l, &back, sizeof(l)))
				abort();
		}
		free(s);
		return 0;
	}
	{
		uint8_t *copy = malloc(size ? size : 1);
		struct netlink_link l;

		if (!copy)
			return 0;
		memcpy(copy, data, size);
		if (netlink_link_parse(copy, size, &l) == 0) {
			if (l.name[sizeof(l.name) - 1] || l.kind[sizeof(l.kind) - 1] ||
			    l.slave_kind[sizeof(l.slave_kind) - 1] || l.bond_mode > 255 ||
			    l.bond_mode < -1)
				abort();
		}
		free(copy);
	}
	return 0;
}
