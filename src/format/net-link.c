// SPDX-License-Identifier: GPL-2.0-or-later
/* The "net-link" value of the job file: one VLAN, bond or bridge of a carried network stack. */
#include "format/net-link.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *net_bond_mode_to_string(int mode)
{
	switch (mode) {
	case NET_BOND_ACTIVE_BACKUP:
		return "active-backup";
	case NET_BOND_8023AD:
		return "802.3ad";
	default:
		return NULL;
	}
}

int net_bond_mode_from_string(const char *s)
{
	if (!strcmp(s, "active-backup"))
		return NET_BOND_ACTIVE_BACKUP;
	if (!strcmp(s, "802.3ad"))
		return NET_BOND_8023AD;
	return -1;
}

static bool name_is_valid(const char *s, size_t len)
{
	if (len == 0 || len >= NET_LINK_NAME_MAX)
		return false;
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		/* the kernel's dev_valid_name(), minus ':' which it allows but we use for MACs */
		if (c <= ' ' || c == '/' || c == ':' || c >= 0x7f)
			return false;
	}
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool net_link_lower_is_mac(const char *s, uint8_t mac[6])
{
	uint8_t m[6];

	if (strlen(s) != 17)
		return false;
	for (int i = 0; i < 6; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return false;
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	if (mac)
		memcpy(mac, m, 6);
	return true;
}

/* Split "a,b,c" into l->lower. */
static int parse_lower(const char *v, size_t vlen, struct net_link *l, const char **why)
{
	size_t i = 0;

	if (vlen == 0)
		return *why = "lower= is empty", -EINVAL;
	while (i <= vlen) {
		size_t e = i;
		while (e < vlen && v[e] != ',')
			e++;
		if (l->n_lower == NET_LINK_MAX_LOWER)
			return *why = "more than 8 lower links", -EINVAL;
		if (e - i == 17) {
			char mac[18];
			memcpy(mac, v + i, 17);
			mac[17] = 0;
			if (!net_link_lower_is_mac(mac, NULL))
				return *why = "a lower link is neither a MAC nor an interface name",
				       -EINVAL;
			memcpy(l->lower[l->n_lower++], mac, 18);
		} else {
			if (!name_is_valid(v + i, e - i))
				return *why = "a lower link is neither a MAC nor an interface name",
				       -EINVAL;
			memcpy(l->lower[l->n_lower], v + i, e - i);
			l->lower[l->n_lower++][e - i] = 0;
		}
		i = e + 1;
	}
	return 0;
}

int net_link_parse(const char *s, struct net_link *ret, const char **why)
{
	struct net_link l = { .bond_mode = -1 };
	const char *p = s, *tok;
	size_t len;
	bool have_id = false, have_mode = false, have_lower = false;
	int field = 0;
	const char *dummy;

	if (!why)
		why = &dummy;
	for (;; field++) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		tok = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		len = (size_t)(p - tok);
		if (field == 0) {
			if (!name_is_valid(tok, len))
				return *why = "expected an interface name first (1-15 characters, "
					      "no '/', ':' or spaces)",
				       -EINVAL;
			memcpy(l.name, tok, len);
			l.name[len] = 0;
		} else if (field == 1) {
			if (!((len == 4 && !strncmp(tok, "vlan", 4)) ||
			      (len == 4 && !strncmp(tok, "bond", 4)) ||
			      (len == 6 && !strncmp(tok, "bridge", 6))))
				return *why = "the kind must be vlan, bond or bridge", -EINVAL;
			memcpy(l.kind, tok, len);
			l.kind[len] = 0;
		} else if (len > 3 && !strncmp(tok, "id=", 3)) {
			char num[8];
			char *end;
			unsigned long v;

			if (have_id || strcmp(l.kind, "vlan") != 0)
				return *why = "id= is given once, and only for a vlan", -EINVAL;
			if (len - 3 >= sizeof(num))
				return *why = "the VLAN id must be 1-4094", -EINVAL;
			memcpy(num, tok + 3, len - 3);
			num[len - 3] = 0;
			if (num[0] < '0' || num[0] > '9')
				return *why = "the VLAN id must be 1-4094", -EINVAL;
			v = strtoul(num, &end, 10);
			if (*end || v < 1 || v > 4094)
				return *why = "the VLAN id must be 1-4094", -EINVAL;
			l.vlan_id = (uint16_t)v;
			have_id = true;
		} else if (len > 5 && !strncmp(tok, "mode=", 5)) {
			char mode[16];

			if (have_mode || strcmp(l.kind, "bond") != 0)
				return *why = "mode= is given once, and only for a bond", -EINVAL;
			if (len - 5 >= sizeof(mode))
				return *why = "the bond mode must be active-backup or 802.3ad", -EINVAL;
			memcpy(mode, tok + 5, len - 5);
			mode[len - 5] = 0;
			l.bond_mode = net_bond_mode_from_string(mode);
			if (l.bond_mode < 0)
				return *why = "the bond mode must be active-backup or 802.3ad", -EINVAL;
			have_mode = true;
		} else if (len >= 6 && !strncmp(tok, "lower=", 6)) {
			int r;

			if (have_lower)
				return *why = "lower= is given once", -EINVAL;
			r = parse_lower(tok + 6, len - 6, &l, why);
			if (r < 0)
				return r;
			have_lower = true;
		} else
			return *why = "unknown parameter (expected id=, mode= or lower=)", -EINVAL;
	}
	if (field < 2)
		return *why = "expected NAME KIND lower=...", -EINVAL;
	if (!strcmp(l.kind, "vlan") && !have_id)
		return *why = "a vlan needs id=", -EINVAL;
	if (!strcmp(l.kind, "bond") && !have_mode)
		return *why = "a bond needs mode=", -EINVAL;
	if (!have_lower)
		return *why = "lower= is missing", -EINVAL;
	if (!strcmp(l.kind, "vlan") && l.n_lower != 1)
		return *why = "a vlan has exactly one lower link", -EINVAL;
	for (size_t i = 0; i < l.n_lower; i++)
		if (!strcmp(l.lower[i], l.name))
			return *why = "a link cannot be its own lower link", -EINVAL;
	*ret = l;
	return 0;
}

int net_link_format(const struct net_link *l, char *buf, size_t n)
{
	size_t o;
	int k;

	k = snprintf(buf, n, "%s %s", l->name, l->kind);
	if (k < 0 || (size_t)k >= n)
		return -ENOBUFS;
	o = (size_t)k;
	if (!strcmp(l->kind, "vlan"))
		k = snprintf(buf + o, n - o, " id=%u", l->vlan_id);
	else if (!strcmp(l->kind, "bond"))
		k = snprintf(buf + o, n - o, " mode=%s",
			     net_bond_mode_to_string(l->bond_mode) ?: "?");
	else
		k = 0;
	if (k < 0 || (size_t)k >= n - o)
		return -ENOBUFS;
	o += (size_t)k;
	for (size_t i = 0; i < l->n_lower; i++) {
		k = snprintf(buf + o, n - o, "%s%s", i ? "," : " lower=", l->lower[i]);
		if (k < 0 || (size_t)k >= n - o)
			return -ENOBUFS;
		o += (size_t)k;
	}
	return 0;
}
