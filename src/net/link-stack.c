// SPDX-License-Identifier: GPL-2.0-or-later
/* Creating VLANs, bonds and bridges with rtnetlink, bottom first, as the job describes them. */
#include "net/link-stack.h"

#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "basic/time-util.h"
#include "net/netlink.h"

const char *link_stack_module(const char *kind)
{
	if (!strcmp(kind, "vlan"))
		return "8021q";
	if (!strcmp(kind, "bond"))
		return "bonding";
	if (!strcmp(kind, "bridge"))
		return "bridge";
	return NULL;
}

static bool mac_is_zero(const uint8_t m[6])
{
	static const uint8_t zero[6];
	return memcmp(m, zero, 6) == 0;
}

/* The NIC with this MAC: its permanent address decides (a bond member's current address is
 * the bond's); links we create ourselves (with a kind) do not count. */
static int find_nic(const struct netlink_link *all, int n, const uint8_t mac[6])
{
	for (int i = 0; i < n; i++) {
		const uint8_t *m = mac_is_zero(all[i].perm_mac) ? all[i].mac : all[i].perm_mac;
		if (memcmp(m, mac, 6) == 0 && strcmp(all[i].kind, "vlan") &&
		    strcmp(all[i].kind, "bond") && strcmp(all[i].kind, "bridge"))
			return all[i].ifindex;
	}
	return 0;
}

/* A bond member or bridge port has no addresses of its own (the kernel sends what arrives on
 * it to the bond or bridge); with IPv6 left on, a bridge port would autoconfigure from router
 * advertisements and get routes that compete with the bridge's. */
static void disable_ipv6(const char *ifname)
{
	char path[128];
	_cleanup_fclose_ FILE *f = NULL;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	f = fopen(path, "we");
	if (f)
		fputs("1\n", f);
}

static int resolve_lower(const char *lower, const struct netlink_link *all, int n)
{
	uint8_t mac[6];

	if (net_link_lower_is_mac(lower, mac))
		return find_nic(all, n, mac);
	return (int)if_nametoindex(lower);
}

int link_stack_build(const struct net_link *links, size_t n, const uint8_t *top_mac,
		     uint64_t timeout_ms, const volatile int *stop, int *ret_top, char *why,
		     size_t whylen)
{
	uint64_t deadline = now_ms() + timeout_ms;
	int top = 0, r;

	/* every NIC first: drivers may still be binding */
	for (;;) {
		_cleanup_free_ struct netlink_link *all = NULL;
		int na = netlink_link_list(true, &all);
		const char *missing = NULL;

		if (na < 0)
			return snprintf(why, whylen, "cannot list links: %s", strerror(-na)), na;
		for (size_t i = 0; i < n && !missing; i++)
			for (size_t m = 0; m < links[i].n_lower && !missing; m++)
				if (net_link_lower_is_mac(links[i].lower[m], NULL) &&
				    resolve_lower(links[i].lower[m], all, na) <= 0)
					missing = links[i].lower[m];
		if (!missing)
			break;
		if (now_ms() >= deadline || (stop && *stop)) {
			snprintf(why, whylen, "no interface with MAC %s, which %s needs", missing,
				 links[0].name);
			return -ENODEV;
		}
		sleep_ms(250, stop);
	}

	for (size_t i = 0; i < n; i++) {
		const struct net_link *l = &links[i];
		_cleanup_free_ struct netlink_link *all = NULL;
		struct netlink_link have;
		int na = netlink_link_list(true, &all), idx, parent = 0;

		if (na < 0)
			return snprintf(why, whylen, "cannot list links: %s", strerror(-na)), na;
		if (!strcmp(l->kind, "vlan")) {
			parent = resolve_lower(l->lower[0], all, na);
			if (parent <= 0)
				return snprintf(why, whylen, "%s: its parent %s is gone", l->name,
						l->lower[0]),
				       -ENODEV;
			(void)netlink_link_set_up(parent);
		}
		idx = (int)if_nametoindex(l->name);
		if (idx > 0 && (netlink_link_get(idx, &have) < 0 || strcmp(have.kind, l->kind))) {
			snprintf(why, whylen, "%s exists already and is not a %s", l->name, l->kind);
			return -EEXIST;
		}
		/* loading bonding makes a bond0 in balance-rr mode (max_bonds=1), and a link of
		 * ours from an earlier try may differ: make it again as the job says */
		if (idx > 0 && ((!strcmp(l->kind, "bond") && have.bond_mode != l->bond_mode) ||
				(!strcmp(l->kind, "vlan") &&
				 (have.vlan_id != l->vlan_id || have.parent != parent)))) {
			r = netlink_link_delete(idx);
			if (r < 0)
				return snprintf(why, whylen, "cannot replace %s: %s", l->name,
						strerror(-r)),
				       r;
			idx = 0;
		}
		if (idx <= 0) {
			r = netlink_link_create(l->name, l->kind, parent, l->vlan_id, l->bond_mode);
			if (r < 0) {
				snprintf(why, whylen, "cannot create %s %s%s: %s", l->kind, l->name,
					 r == -EOPNOTSUPP ? " (is its kernel module in the flasher?)"
							  : "",
					 strerror(-r));
				return r;
			}
			idx = (int)if_nametoindex(l->name);
			if (idx <= 0)
				return snprintf(why, whylen, "%s vanished after creation", l->name),
				       -ENODEV;
		}
		if (i + 1 == n && top_mac && !mac_is_zero(top_mac) && strcmp(l->kind, "vlan")) {
			(void)netlink_link_set_down(idx);
			r = netlink_link_set_mac(idx, top_mac);
			if (r < 0)
				log_debug_errno(r, "link-stack: cannot set the MAC of %s: %m", l->name);
		}
		for (size_t m = 0; strcmp(l->kind, "vlan") && m < l->n_lower; m++) {
			int member = resolve_lower(l->lower[m], all, na);
			struct netlink_link ml;

			if (member <= 0)
				return snprintf(why, whylen, "%s: its member %s is gone", l->name,
						l->lower[m]),
				       -ENODEV;
			if (netlink_link_get(member, &ml) < 0)
				return snprintf(why, whylen, "%s: its member %s is gone", l->name,
						l->lower[m]),
				       -ENODEV;
			if (ml.master == idx)
				continue;
			(void)netlink_link_set_down(member);
			disable_ipv6(ml.name);
			r = netlink_link_set_master(member, idx);
			if (r < 0) {
				snprintf(why, whylen, "cannot add %s to %s %s: %s", ml.name, l->kind,
					 l->name, strerror(-r));
				return r;
			}
			(void)netlink_link_set_up(member);
		}
		r = netlink_link_set_up(idx);
		if (r < 0)
			return snprintf(why, whylen, "cannot bring up %s: %s", l->name, strerror(-r)), r;
		top = idx;
	}
	if (top <= 0)
		return snprintf(why, whylen, "no links to build"), -EINVAL;
	*ret_top = top;
	return 0;
}
