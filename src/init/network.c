// SPDX-License-Identifier: GPL-2.0-or-later
/* Network bring-up in the flasher: carried-over static configuration or DHCP, and SLAAC. */
#include "init/network.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <linux/rtnetlink.h>
#include <net/if_arp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "basic/time-util.h"
#include "net/dhcp-client.h"
#include "net/ndisc.h"
#include "net/netlink.h"

static pthread_t renew_thread, rdnss_thread;
static bool renew_running, rdnss_running;
static volatile int net_stop;
static struct dhcp_client_config renew_cfg;
static struct dhcp_lease renew_lease;

static void format_mac(const uint8_t mac[6], char *buf, size_t n)
{
	snprintf(buf, n, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}

/* The bus path of a network interface, in the style of udev's ID_PATH ("pci-0000:00:03.0"):
 * the last PCI (or other bus) component of its device link. */
static void link_bus_path(const char *ifname, char *buf, size_t n)
{
	char p[PATH_MAX], real[PATH_MAX];
	const char *last = NULL;

	buf[0] = 0;
	snprintf(p, sizeof(p), "/sys/class/net/%s/device", ifname);
	if (!realpath(p, real))
		return;
	for (char *s = strtok(real, "/"); s; s = strtok(NULL, "/"))
		if (strchr(s, ':') && strchr(s, '.'))
			last = s; /* PCI addresses look like 0000:00:03.0 */
	if (last)
		snprintf(buf, n, "pci-%s", last);
}

static bool is_ether(const struct netlink_link *l)
{
	static const uint8_t zero[6];
	return l->type == ARPHRD_ETHER && memcmp(l->mac, zero, 6) != 0;
}

static int write_resolv_conf(const struct job *j)
{
	_cleanup_fclose_ FILE *f = NULL;

	if (j->n_dns == 0)
		return 0;
	f = fopen(FLASHER_RESOLV_CONF ".tmp", "we");
	if (!f)
		return negative_errno();
	for (size_t i = 0; i < j->n_dns; i++) {
		char a[64];
		job_ip_format(&j->dns[i], false, a, sizeof(a));
		fprintf(f, "nameserver %s\n", a);
	}
	if (fflush(f) != 0)
		return -EIO;
	return rename(FLASHER_RESOLV_CONF ".tmp", FLASHER_RESOLV_CONF) < 0 ? negative_errno() : 0;
}

static bool in_prefix(const struct job_ip *net, const struct job_ip *ip)
{
	size_t bits = net->prefix, bytes = bits / 8;

	if (net->family != ip->family)
		return false;
	if (memcmp(net->addr, ip->addr, bytes) != 0)
		return false;
	if (bits % 8 == 0)
		return true;
	return ((net->addr[bytes] ^ ip->addr[bytes]) & (uint8_t)(0xff << (8 - bits % 8))) == 0;
}

/* Find the interface the job names: by MAC, else by bus path (then give it the recorded MAC
 * again), else the only Ethernet interface. Waits for it to appear. */
static int find_static_link(const struct job *j, const volatile int *stop, struct netlink_link *ret,
			    char *why, size_t whylen)
{
	uint64_t start = now_ms();
	char mac[32] = "";

	if (j->have_mac)
		format_mac(j->mac, mac, sizeof(mac));
	for (;;) {
		_cleanup_free_ struct netlink_link *links = NULL;
		int n = netlink_link_list(true, &links), ether = 0, only = -1;

		for (int i = 0; i < n; i++) {
			if (!is_ether(&links[i]))
				continue;
			ether++;
			only = i;
			if (j->have_mac && memcmp(links[i].mac, j->mac, 6) == 0) {
				*ret = links[i];
				log_info("network: %s has the recorded MAC %s", ret->name, mac);
				return 0;
			}
		}
		for (int i = 0; j->net_path && i < n; i++) {
			char path[128];
			int r;

			link_bus_path(links[i].name, path, sizeof(path));
			if (!path[0] || strcmp(path, j->net_path) != 0)
				continue;
			*ret = links[i];
			if (j->have_mac) {
				(void)netlink_link_set_down(ret->ifindex);
				r = netlink_link_set_mac(ret->ifindex, j->mac);
				if (r < 0)
					log_warning_errno(r, "network: cannot give %s the recorded MAC %s: %m",
							  ret->name, mac);
				else
					log_info("network: %s at %s came up with another MAC; gave it the "
						 "recorded %s again",
						 ret->name, path, mac);
			}
			return 0;
		}
		if (!j->have_mac && !j->net_path && ether == 1) {
			*ret = links[only];
			return 0;
		}
		if (now_ms() - start > MIN(j->net_timeout_ms, (uint64_t)30000) || (stop && *stop)) {
			snprintf(why, whylen,
				 "no interface with the recorded MAC %s%s%s (%d Ethernet interfaces seen)",
				 j->have_mac ? mac : "(none)", j->net_path ? " or bus path " : "",
				 j->net_path ? j->net_path : "", ether);
			return -ENODEV;
		}
		sleep_ms(250, stop);
	}
}

static int static_up(const struct job *j, const volatile int *stop, char *why, size_t whylen)
{
	struct netlink_link l;
	int r;

	r = find_static_link(j, stop, &l, why, whylen);
	if (r < 0)
		return r;
	(void)ndisc_enable_slaac(l.name);
	r = netlink_link_set_up(l.ifindex);
	if (r < 0) {
		snprintf(why, whylen, "cannot bring up %s: %s", l.name, strerror(-r));
		return r;
	}
	if (netlink_link_wait_carrier(l.ifindex, 10000, stop) < 0)
		log_warning("network: %s has no carrier yet; configuring it anyway", l.name);
	for (size_t i = 0; i < j->n_addresses; i++) {
		char a[64];
		job_ip_format(&j->addresses[i], true, a, sizeof(a));
		r = netlink_addr_add(l.ifindex, j->addresses[i].family, j->addresses[i].addr,
				     j->addresses[i].prefix, NETLINK_LIFETIME_FOREVER,
				     NETLINK_LIFETIME_FOREVER);
		if (r < 0 && r != -EEXIST) {
			snprintf(why, whylen, "cannot add %s to %s: %s", a, l.name, strerror(-r));
			return r;
		}
		log_info("network: %s on %s (carried over from the running system)", a, l.name);
	}
	for (size_t g = 0; g < j->n_gateways; g++) {
		struct netlink_route rt = { .family = j->gateways[g].family, .oif = l.ifindex,
					    .protocol = RTPROT_STATIC, .onlink = true };
		char a[64];

		for (size_t i = 0; i < j->n_addresses; i++)
			if (in_prefix(&j->addresses[i], &j->gateways[g]))
				rt.onlink = false;
		memcpy(rt.gateway, j->gateways[g].addr, 16);
		job_ip_format(&j->gateways[g], false, a, sizeof(a));
		r = netlink_route_add(&rt);
		if (r < 0 && r != -EEXIST) {
			snprintf(why, whylen, "cannot add the default route via %s: %s", a, strerror(-r));
			return r;
		}
		log_info("network: default route via %s", a);
	}
	r = write_resolv_conf(j);
	if (r < 0)
		log_warning_errno(r, "network: cannot write %s: %m", FLASHER_RESOLV_CONF);
	log_info("network: using the configuration carried over from the running system (no DHCP)");
	return 0;
}

static void *renew_main(void *arg)
{
	int r = dhcp_client_maintain(&renew_cfg, &renew_lease);
	if (r < 0 && !net_stop)
		log_warning_errno(r, "network: the DHCP lease was lost: %m");
	return NULL;
}

struct rdnss_arg {
	int fd, ifindex;
};

static void *rdnss_main(void *arg)
{
	struct rdnss_arg a = *(struct rdnss_arg *)arg;
	struct ndisc_rdnss rd;

	free(arg);
	if (ndisc_rdnss_wait(a.fd, a.ifindex, UINT64_MAX / 2, &net_stop, &rd) == 0) {
		_cleanup_fclose_ FILE *f = NULL;
		/* IPv4 DNS from DHCP comes first; these are added after it */
		f = fopen(FLASHER_RESOLV_CONF, "ae");
		for (size_t i = 0; f && i < rd.n_servers; i++) {
			char s[INET6_ADDRSTRLEN];
			inet_ntop(AF_INET6, &rd.servers[i], s, sizeof(s));
			fprintf(f, "nameserver %s\n", s);
			log_info("network: DNS server %s from a router advertisement", s);
		}
	}
	close(a.fd);
	return NULL;
}

static int dhcp_up(const struct job *j, const volatile int *stop, char *why, size_t whylen)
{
	uint64_t start = now_ms(), backoff = 1000;
	int rdnss_fd = ndisc_rdnss_listen();
	char waiting[512] = "an Ethernet interface";

	for (unsigned round = 0;; round++) {
		_cleanup_free_ struct netlink_link *links = NULL;
		int n = netlink_link_list(true, &links);
		bool any_carrier = false;

		for (int i = 0; i < n; i++) {
			if (!is_ether(&links[i]))
				continue;
			if (!(links[i].flags & IFF_UP)) {
				(void)ndisc_enable_slaac(links[i].name);
				(void)netlink_link_set_up(links[i].ifindex);
			}
		}
		for (int i = 0; i < n; i++) {
			struct dhcp_client_config c = { .ifindex = links[i].ifindex,
							.timeout_ms = 8000 + 4000ULL * MIN(round, 4U),
							.resolv_conf = FLASHER_RESOLV_CONF,
							.stop = stop };
			struct dhcp_lease lease;
			char addr[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN];
			int r;

			if (!is_ether(&links[i]))
				continue;
			if (netlink_link_wait_carrier(links[i].ifindex, 3000, stop) < 0) {
				snprintf(waiting, sizeof(waiting), "carrier on %s", links[i].name);
				continue;
			}
			any_carrier = true;
			memcpy(c.mac, links[i].mac, 6);
			snprintf(waiting, sizeof(waiting), "a DHCP lease on %s", links[i].name);
			log_info("network: asking for a DHCP lease on %s", links[i].name);
			r = dhcp_client_acquire(&c, &lease);
			if (r < 0)
				continue;
			r = dhcp_lease_apply(links[i].ifindex, &lease, FLASHER_RESOLV_CONF);
			if (r < 0) {
				log_warning_errno(r, "network: cannot apply the lease on %s: %m",
						  links[i].name);
				continue;
			}
			inet_ntop(AF_INET, &lease.address, addr, sizeof(addr));
			inet_ntop(AF_INET, &lease.router, gw, sizeof(gw));
			log_info("network: %s/%u on %s from DHCP (router %s, lease %u s)", addr,
				 lease.prefix, links[i].name, lease.router ? gw : "none", lease.lease_s);
			renew_cfg = c;
			renew_cfg.stop = &net_stop;
			/* renewals keep the lease alive; they must not drop the DNS servers that
			 * router advertisements added to resolv.conf */
			renew_cfg.resolv_conf = NULL;
			renew_lease = lease;
			if (pthread_create(&renew_thread, NULL, renew_main, NULL) == 0)
				renew_running = true;
			if (rdnss_fd >= 0) {
				struct rdnss_arg *a = malloc(sizeof(*a));
				if (a) {
					*a = (struct rdnss_arg){ rdnss_fd, links[i].ifindex };
					if (pthread_create(&rdnss_thread, NULL, rdnss_main, a) == 0) {
						rdnss_running = true;
						rdnss_fd = -1;
					} else
						free(a);
				}
			}
			safe_close(rdnss_fd);
			return 0;
		}
		if (now_ms() - start >= j->net_timeout_ms || (stop && *stop))
			break;
		log_info("network: waiting for %s%s; trying again in %llu s", waiting,
			 any_carrier ? "" : " (no link has carrier: is the cable plugged in?)",
			 (unsigned long long)(backoff / 1000));
		sleep_ms(backoff, stop);
		backoff = MIN(backoff * 2, (uint64_t)16000);
	}
	safe_close(rdnss_fd);
	snprintf(why, whylen, "no network after %llu s: still waiting for %s",
		 (unsigned long long)(j->net_timeout_ms / 1000), waiting);
	return -ETIMEDOUT;
}

int network_up(const struct job *j, const volatile int *stop, char *why, size_t whylen)
{
	int r;

	net_stop = 0;
	/* loopback, for anything that talks to itself */
	{
		_cleanup_free_ struct netlink_link *links = NULL;
		int n = netlink_link_list(false, &links);
		for (int i = 0; i < n; i++)
			if (links[i].flags & IFF_LOOPBACK)
				(void)netlink_link_set_up(links[i].ifindex);
	}
	if (j->n_addresses > 0) {
		r = static_up(j, stop, why, whylen);
		if (r >= 0)
			return 0;
		if (!j->dhcp_fallback)
			return r;
		log_warning("network: the carried-over configuration failed (%s); falling back to "
			    "DHCP",
			    why);
	}
	return dhcp_up(j, stop, why, whylen);
}

void network_stop(void)
{
	net_stop = 1;
	if (renew_running)
		pthread_join(renew_thread, NULL);
	if (rdnss_running)
		pthread_join(rdnss_thread, NULL);
	renew_running = rdnss_running = false;
}
