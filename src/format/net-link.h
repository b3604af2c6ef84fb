/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One layer of a carried network stack, as the job file's "net-link" value writes it:
 *   NAME KIND [id=VLAN-ID] [mode=BOND-MODE] lower=A[,B...]
 * e.g. "bond0 bond mode=active-backup lower=52:54:00:12:34:56,52:54:00:12:34:57",
 * "bond0.10 vlan id=10 lower=bond0", "br0 bridge lower=bond0.10". Each lower entry is either
 * a MAC (a NIC, found by its permanent address) or the NAME of an earlier layer. A VLAN has
 * exactly one lower link (its parent), a bond or bridge one or more (its members/ports). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_LINK_MAX_LOWER 8
#define NET_LINK_NAME_MAX 16 /* IFNAMSIZ, with the NUL */

/* The kernel's bond modes that the flasher rebuilds (include/uapi/linux/if_bonding.h) */
enum {
	NET_BOND_ACTIVE_BACKUP = 1,
	NET_BOND_8023AD = 4,
};

struct net_link {
	char name[NET_LINK_NAME_MAX];
	char kind[8];	  /* "vlan", "bond" or "bridge" */
	uint16_t vlan_id; /* 1..4094, VLAN only */
	int bond_mode;	  /* NET_BOND_*, bond only; -1 otherwise */
	char lower[NET_LINK_MAX_LOWER][NET_LINK_NAME_MAX + 2]; /* a MAC (17 chars) or a name */
	size_t n_lower;
};

/* Parse s. Returns 0 and ret, or -EINVAL with a reason in *why (a static string) for: a bad
 * interface name (empty, 16 bytes or more, '/', ':' or whitespace), a kind other than vlan,
 * bond and bridge, a VLAN id outside 1..4094 or missing, a bond mode other than active-backup
 * and 802.3ad or missing, a parameter that does not belong to the kind, a repeated or unknown
 * parameter, no lower links, more than NET_LINK_MAX_LOWER, or more than one for a VLAN.
 * ret is untouched on failure. */
int net_link_parse(const char *s, struct net_link *ret, const char **why);

/* The value for l, as net_link_parse() reads it, into buf. -ENOBUFS when it does not fit. */
int net_link_format(const struct net_link *l, char *buf, size_t n);

/* true when s is a MAC written as six colon-separated hex pairs; the bytes go to mac (may be
 * NULL). */
bool net_link_lower_is_mac(const char *s, uint8_t mac[6]);

/* "active-backup" / "802.3ad" for the supported modes, NULL for others; and the reverse
 * (-1 for an unknown name). */
const char *net_bond_mode_to_string(int mode);
int net_bond_mode_from_string(const char *s);
