// SPDX-License-Identifier: GPL-2.0-or-later
/* Writers of the new system's network, name and cloud-init files. */
#include "format/identity-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "basic/strbuf.h"

static void ip_str(const struct job_ip *ip, bool prefix, char *out, size_t n)
{
	job_ip_format(ip, prefix, out, n);
}

static void mac_str(const struct job *j, char *out, size_t n)
{
	snprintf(out, n, "%02x:%02x:%02x:%02x:%02x:%02x", j->mac[0], j->mac[1], j->mac[2], j->mac[3],
		 j->mac[4], j->mac[5]);
}

/* Is the gateway inside one of the carried prefixes of its family? If not (a /32 lease, a
 * provider's gateway outside the subnet), it must be declared on-link. */
static bool gateway_on_subnet(const struct job *j, const struct job_ip *gw)
{
	for (size_t i = 0; i < j->n_addresses; i++) {
		const struct job_ip *a = &j->addresses[i];
		size_t bytes = a->family == AF_INET ? 4 : 16;
		unsigned p = a->prefix;
		bool same = true;

		if (a->family != gw->family || p == bytes * 8)
			continue;
		for (size_t k = 0; k < bytes && p > 0; k++, p = p >= 8 ? p - 8 : 0) {
			uint8_t mask = p >= 8 ? 0xff : (uint8_t)(0xff << (8 - p));
			if ((a->addr[k] & mask) != (gw->addr[k] & mask)) {
				same = false;
				break;
			}
		}
		if (same)
			return true;
	}
	return false;
}

static bool have_family(const struct job *j, int family)
{
	for (size_t i = 0; i < j->n_addresses; i++)
		if (j->addresses[i].family == family)
			return true;
	return false;
}

static const struct job_ip *gateway_of(const struct job *j, int family)
{
	for (size_t i = 0; i < j->n_gateways; i++)
		if (j->gateways[i].family == family)
			return &j->gateways[i];
	return NULL;
}

int netcfg_networkd(const struct job *j, char **ret)
{
	struct strbuf b = { 0 };
	char s[64];

	if (!j->have_mac || j->n_addresses == 0)
		return -EINVAL;
	mac_str(j, s, sizeof(s));
	strbuf_printf(&b, "# written by reimage: the network this machine had before it was reimaged\n"
		    "[Match]\nMACAddress=%s\n\n[Network]\n",
		s);
	for (size_t i = 0; i < j->n_addresses; i++) {
		ip_str(&j->addresses[i], true, s, sizeof(s));
		strbuf_printf(&b, "Address=%s\n", s);
	}
	for (size_t i = 0; i < j->n_dns; i++) {
		ip_str(&j->dns[i], false, s, sizeof(s));
		strbuf_printf(&b, "DNS=%s\n", s);
	}
	if (!have_family(j, AF_INET6))
		strbuf_printf(&b, "IPv6AcceptRA=yes\n");
	for (size_t i = 0; i < j->n_gateways; i++) {
		ip_str(&j->gateways[i], false, s, sizeof(s));
		strbuf_printf(&b, "\n[Route]\nGateway=%s\n%s", s,
			gateway_on_subnet(j, &j->gateways[i]) ? "" : "GatewayOnLink=yes\n");
	}
	return strbuf_finish(&b, ret);
}

int netcfg_ifupdown(const struct job *j, char **ret)
{
	struct strbuf b = { 0 };
	static const int families[] = { AF_INET, AF_INET6 };
	char s[64];

	if (!j->net_ifname || j->n_addresses == 0)
		return -EINVAL;
	strbuf_printf(&b, "# written by reimage: the network this machine had before it was reimaged\n"
		    "auto %s\n",
		j->net_ifname);
	for (size_t f = 0; f < 2; f++) {
		const struct job_ip *gw = gateway_of(j, families[f]);
		bool first = true;

		for (size_t i = 0; i < j->n_addresses; i++) {
			if (j->addresses[i].family != families[f])
				continue;
			ip_str(&j->addresses[i], true, s, sizeof(s));
			if (first)
				strbuf_printf(&b, "iface %s %s static\n", j->net_ifname,
					families[f] == AF_INET ? "inet" : "inet6");
			strbuf_printf(&b, "    address %s\n", s);
			first = false;
		}
		if (first)
			continue;
		if (gw) {
			ip_str(gw, false, s, sizeof(s));
			if (gateway_on_subnet(j, gw))
				strbuf_printf(&b, "    gateway %s\n", s);
			else
				/* ifupdown has no on-link flag: a host route first */
				strbuf_printf(&b, "    post-up ip -%c route add %s dev %s\n"
					    "    post-up ip -%c route add default via %s dev %s\n",
					families[f] == AF_INET ? '4' : '6', s, j->net_ifname,
					families[f] == AF_INET ? '4' : '6', s, j->net_ifname);
		}
		if (families[f] == AF_INET && j->n_dns) {
			strbuf_printf(&b, "    dns-nameservers");
			for (size_t i = 0; i < j->n_dns; i++) {
				ip_str(&j->dns[i], false, s, sizeof(s));
				strbuf_printf(&b, " %s", s);
			}
			strbuf_printf(&b, "\n");
		}
	}
	return strbuf_finish(&b, ret);
}

int netcfg_nm_keyfile(const struct job *j, const char *uuid, char **ret)
{
	struct strbuf b = { 0 };
	static const int families[] = { AF_INET, AF_INET6 };
	char s[64], mac[32];

	if (!j->have_mac || j->n_addresses == 0 || strlen(uuid) != 36)
		return -EINVAL;
	mac_str(j, mac, sizeof(mac));
	strbuf_printf(&b, "# written by reimage: the network this machine had before it was reimaged\n"
		    "[connection]\nid=reimage\nuuid=%s\ntype=ethernet\nautoconnect=true\n"
		    "autoconnect-priority=100\n\n[ethernet]\nmac-address=%s\n",
		uuid, mac);
	for (size_t f = 0; f < 2; f++) {
		const struct job_ip *gw = gateway_of(j, families[f]);
		unsigned n = 0;

		strbuf_printf(&b, "\n[%s]\n", families[f] == AF_INET ? "ipv4" : "ipv6");
		if (!have_family(j, families[f])) {
			strbuf_printf(&b, "method=%s\n", families[f] == AF_INET ? "disabled" : "auto");
			continue;
		}
		strbuf_printf(&b, "method=manual\n");
		for (size_t i = 0; i < j->n_addresses; i++) {
			if (j->addresses[i].family != families[f])
				continue;
			ip_str(&j->addresses[i], true, s, sizeof(s));
			strbuf_printf(&b, "address%u=%s\n", ++n, s);
		}
		if (gw) {
			ip_str(gw, false, s, sizeof(s));
			strbuf_printf(&b, "gateway=%s\n", s);
		}
		n = 0;
		for (size_t i = 0; i < j->n_dns; i++) {
			if (j->dns[i].family != families[f])
				continue;
			ip_str(&j->dns[i], false, s, sizeof(s));
			strbuf_printf(&b, "%s%s;", n++ ? "" : "dns=", s);
		}
		if (n)
			strbuf_printf(&b, "\n");
	}
	return strbuf_finish(&b, ret);
}

int netcfg_cloud_init_v2(const struct job *j, char **ret)
{
	struct strbuf b = { 0 };
	const char *name = j->net_ifname ? j->net_ifname : "eth0";
	char s[64], mac[32];

	if (!j->have_mac || j->n_addresses == 0)
		return -EINVAL;
	mac_str(j, mac, sizeof(mac));
	/* the name is quoted: YAML would read some interface names as numbers or booleans */
	strbuf_printf(&b, "# written by reimage: the network this machine had before it was reimaged\n"
		    "version: 2\nethernets:\n  \"%s\":\n    match:\n      macaddress: \"%s\"\n"
		    "    set-name: \"%s\"\n    dhcp4: false\n    dhcp6: false\n    addresses:\n",
		name, mac, name);
	for (size_t i = 0; i < j->n_addresses; i++) {
		ip_str(&j->addresses[i], true, s, sizeof(s));
		strbuf_printf(&b, "      - \"%s\"\n", s);
	}
	if (j->n_gateways) {
		strbuf_printf(&b, "    routes:\n");
		for (size_t i = 0; i < j->n_gateways; i++) {
			ip_str(&j->gateways[i], false, s, sizeof(s));
			strbuf_printf(&b, "      - to: \"%s\"\n        via: \"%s\"\n%s",
				j->gateways[i].family == AF_INET ? "0.0.0.0/0" : "::/0", s,
				gateway_on_subnet(j, &j->gateways[i]) ? "" : "        on-link: true\n");
		}
	}
	if (j->n_dns) {
		strbuf_printf(&b, "    nameservers:\n      addresses:\n");
		for (size_t i = 0; i < j->n_dns; i++) {
			ip_str(&j->dns[i], false, s, sizeof(s));
			strbuf_printf(&b, "        - \"%s\"\n", s);
		}
	}
	return strbuf_finish(&b, ret);
}

int netcfg_resolv_conf(const struct job *j, char **ret)
{
	struct strbuf b = { 0 };
	char s[64];

	strbuf_printf(&b, "# written by reimage: the DNS servers this machine had before it was "
		    "reimaged\n");
	for (size_t i = 0; i < j->n_dns; i++) {
		ip_str(&j->dns[i], false, s, sizeof(s));
		strbuf_printf(&b, "nameserver %s\n", s);
	}
	return strbuf_finish(&b, ret);
}

static bool text_is_clean(const char *text, size_t len)
{
	return len <= IDENTITY_TEXT_MAX && !memchr(text, 0, len);
}

static bool line_has_key(const char *line, size_t n, const char *key)
{
	size_t k = strlen(key);
	return n > k && !memcmp(line, key, k) && line[k] == ':';
}

int cloud_init_meta_data(const char *user, size_t len, const char *instance_id,
			 const char *hostname, char **ret)
{
	struct strbuf b = { 0 };

	if (user && !text_is_clean(user, len))
		return -EINVAL;
	for (const char *p = user, *end = user + len; user && p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		/* top-level keys start in column 0; ours replace the operator's */
		if (!line_has_key(p, n, "instance-id") &&
		    !(hostname && (line_has_key(p, n, "local-hostname") || line_has_key(p, n, "hostname"))))
			strbuf_printf(&b, "%.*s\n", (int)n, p);
		p += n + 1;
	}
	strbuf_printf(&b, "instance-id: \"%s\"\n", instance_id);
	if (hostname)
		strbuf_printf(&b, "local-hostname: \"%s\"\n", hostname);
	return strbuf_finish(&b, ret);
}

/* one YAML double-quoted scalar; authorized_keys lines are printable ASCII but may hold '"' and
 * '\' in their options */
static void yaml_quoted(struct strbuf *b, const char *s, size_t n)
{
	strbuf_printf(b, "\"");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			strbuf_printf(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			strbuf_printf(b, "\\x%02x", c);
		else
			strbuf_printf(b, "%c", c);
	}
	strbuf_printf(b, "\"");
}

static void our_cloud_config(struct strbuf *b, const struct cloud_init_identity *id)
{
	strbuf_printf(b, "#cloud-config\n# written by reimage: this machine's identity before it was "
		   "reimaged\n");
	if (id->hostname) {
		strbuf_printf(b, "preserve_hostname: false\nhostname: ");
		yaml_quoted(b, id->hostname, strlen(id->hostname));
		strbuf_printf(b, "\n");
	}
	if (id->keep_host_keys)
		/* cloud-init deletes and regenerates host keys on an instance's first boot */
		strbuf_printf(b, "ssh_deletekeys: false\n");
	if (id->authorized_keys) {
		/* the operator asked for root logins: Debian's default would replace root's keys
		 * with a "log in as debian" stub */
		strbuf_printf(b, "disable_root: false\nssh_authorized_keys:\n");
		for (const char *p = id->authorized_keys; *p;) {
			size_t n = strcspn(p, "\n");
			if (n && p[0] != '#') {
				strbuf_printf(b, "  - ");
				yaml_quoted(b, p, n);
				strbuf_printf(b, "\n");
			}
			p += n + (p[n] == '\n');
		}
	}
}

int cloud_init_user_data(const char *user, size_t len, const struct cloud_init_identity *id,
			 const char *boundary, char **ret)
{
	struct strbuf b = { 0 };

	if (!user) {
		our_cloud_config(&b, id);
		return strbuf_finish(&b, ret);
	}
	if (!text_is_clean(user, len) || memmem(user, len, boundary, strlen(boundary)))
		return -EINVAL;
	/* text/plain: cloud-init tells the part's kind from its first line, as it does for
	 * user-data that is not multipart */
	strbuf_printf(&b,
		"Content-Type: multipart/mixed; boundary=\"%s\"\nMIME-Version: 1.0\n\n"
		"--%s\nContent-Type: text/plain; charset=\"utf-8\"\n"
		"Content-Disposition: attachment; filename=\"operator\"\n\n",
		boundary, boundary);
	strbuf_append(&b, user, len);
	if (len && user[len - 1] != '\n')
		strbuf_printf(&b, "\n");
	strbuf_printf(&b,
		"--%s\nContent-Type: text/cloud-config; charset=\"utf-8\"\n"
		"Content-Disposition: attachment; filename=\"reimage\"\n"
		"Merge-Type: list(append)+dict(recurse_array,no_replace)+str()\n\n",
		boundary);
	our_cloud_config(&b, id);
	strbuf_printf(&b, "--%s--\n", boundary);
	return strbuf_finish(&b, ret);
}

int hosts_set_hostname(const char *hosts, size_t len, const char *hostname, char **ret)
{
	struct strbuf b = { 0 };
	const char *dot = strchr(hostname, '.');
	bool done = false;
	char line[512];

	if (hosts && !text_is_clean(hosts, len))
		return -EINVAL;
	if (dot)
		snprintf(line, sizeof(line), "127.0.1.1\t%s %.*s", hostname, (int)(dot - hostname),
			 hostname);
	else
		snprintf(line, sizeof(line), "127.0.1.1\t%s", hostname);
	if (!hosts)
		strbuf_printf(&b, "127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n");
	for (const char *p = hosts, *end = hosts + len; hosts && p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (n > 9 && !memcmp(p, "127.0.1.1", 9) && (p[9] == ' ' || p[9] == '\t')) {
			if (!done)
				strbuf_printf(&b, "%s\n", line);
			done = true;
		} else
			strbuf_printf(&b, "%.*s\n", (int)n, p);
		p += n + 1;
	}
	if (!done)
		strbuf_printf(&b, "%s\n", line);
	return strbuf_finish(&b, ret);
}
