// SPDX-License-Identifier: GPL-2.0-or-later
/* Network bring-up in the flasher: the carried-over static configuration (over a rebuilt VLAN,
 * bond or bridge stack), or DHCPv4, SLAAC with RDNSS and DHCPv6 racing on every link until a
 * route to the source exists. */
#include "init/network.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <linux/rtnetlink.h>
#include <net/if_arp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "basic/time-util.h"
#include "init/coldplug.h"
#include "net/dhcp-client.h"
#include "net/dhcp6-client.h"
#include "net/link-stack.h"
#include "net/ndisc.h"
#include "net/netlink.h"

#include <curl/curl.h>
#include <netinet/in.h>

#define MAX_WORKERS 16
#define MAX_NAMESERVERS 8

/* One Ethernet link and the two threads that configure it: DHCPv4, and IPv6 (router
 * advertisement, then DHCPv6 as its M and O flags say; SLAAC itself is the kernel's). */
struct link_worker {
	int ifindex;
	char name[IFNAMSIZ];
	uint8_t mac[6];
	pthread_t t4, t6;
	bool running4, running6;
	char state4[96], state6[128]; /* for the log when nothing worked; under lock */
	bool have6; /* a DHCPv6 address */
	struct in6_addr addr6;
};

const char *network_resolv_conf = FLASHER_RESOLV_CONF;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct link_worker workers[MAX_WORKERS];
static size_t n_workers;
static pthread_t rdnss_thread;
static bool rdnss_running;
static volatile int net_stop;
static bool have4; /* a DHCPv4 lease is applied (one link holds it) */
static uint32_t addr4;
/* DNS servers from every method, in the order they came; resolv.conf is rewritten from this */
static char nameservers[MAX_NAMESERVERS][INET6_ADDRSTRLEN];
static size_t n_nameservers;
static char search_domain[256];
static const struct job *carried_job; /* its addresses are "carried over" in the log */

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
	char tmp_path[PATH_MAX];

	if (j->n_dns == 0)
		return 0;
	snprintf(tmp_path, sizeof(tmp_path), "%s.tmp", network_resolv_conf);
	f = fopen(tmp_path, "we");
	if (!f)
		return negative_errno();
	for (size_t i = 0; i < j->n_dns; i++) {
		char a[64];
		job_ip_format(&j->dns[i], false, a, sizeof(a));
		fprintf(f, "nameserver %s\n", a);
	}
	if (fflush(f) != 0)
		return -EIO;
	return rename(tmp_path, network_resolv_conf) < 0 ? negative_errno() : 0;
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

static void load_stack_modules(const struct job *j);

static int static_up(const struct job *j, const volatile int *stop, char *why, size_t whylen)
{
	struct netlink_link l;
	int r;

	if (j->n_links > 0) {
		int top;

		load_stack_modules(j);
		r = link_stack_build(j->links, j->n_links, j->have_mac ? j->mac : NULL,
				     MIN(j->net_timeout_ms, (uint64_t)30000), stop, &top, why, whylen);
		if (r < 0)
			return r;
		r = netlink_link_get(top, &l);
		if (r < 0)
			return snprintf(why, whylen, "%s is gone", j->links[j->n_links - 1].name), r;
		for (size_t i = 0; i < j->n_links; i++) {
			char line[512];
			if (net_link_format(&j->links[i], line, sizeof(line)) == 0)
				log_info("network: rebuilt %s", line);
		}
	} else {
		r = find_static_link(j, stop, &l, why, whylen);
		if (r < 0)
			return r;
	}
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
		log_warning_errno(r, "network: cannot write %s: %m", network_resolv_conf);
	log_info("network: using the configuration carried over from the running system (no DHCP)");
	return 0;
}


/* Rewrite resolv.conf from every method's servers and the search domain; under lock. */
static void dns_write_locked(void)
{
	_cleanup_fclose_ FILE *f = NULL;
	char tmp_path[PATH_MAX];

	snprintf(tmp_path, sizeof(tmp_path), "%s.tmp", network_resolv_conf);
	f = fopen(tmp_path, "we");
	if (!f)
		return;
	for (size_t i = 0; i < n_nameservers; i++)
		fprintf(f, "nameserver %s\n", nameservers[i]);
	if (search_domain[0])
		fprintf(f, "search %s\n", search_domain);
	if (fflush(f) == 0)
		(void)rename(tmp_path, network_resolv_conf);
}

/* Record a DNS server and rewrite resolv.conf; under lock. */
static void dns_add_locked(int family, const void *addr, const char *from)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(family, addr, a, sizeof(a)))
		return;
	for (size_t i = 0; i < n_nameservers; i++)
		if (!strcmp(nameservers[i], a))
			return;
	if (n_nameservers == MAX_NAMESERVERS)
		return;
	snprintf(nameservers[n_nameservers++], sizeof(nameservers[0]), "%s", a);
	log_info("network: DNS server %s from %s", a, from);
	dns_write_locked();
}

static void dns_set_domain_locked(const char *domain)
{
	if (!domain[0] || search_domain[0])
		return;
	snprintf(search_domain, sizeof(search_domain), "%s", domain);
	dns_write_locked();
}

static void set_state(char *dst, size_t n, const char *fmt, ...) _printf_(3, 4);
static void set_state(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&lock);
	va_start(ap, fmt);
	vsnprintf(dst, n, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&lock);
}

static bool wait_carrier(struct link_worker *w, char *state, size_t n)
{
	set_state(state, n, "no carrier (is the cable plugged in?)");
	while (!net_stop)
		if (netlink_link_wait_carrier(w->ifindex, 1000, &net_stop) == 0)
			return true;
	return false;
}

/* DHCPv4 on one link, for as long as the flasher runs: the first link to get a lease applies
 * it and keeps it renewed; a server that never answers holds up nothing else. */
static void *dhcp4_main(void *arg)
{
	struct link_worker *w = arg;
	struct dhcp_client_config c = { .ifindex = w->ifindex, .stop = &net_stop };
	struct dhcp_lease lease;
	char addr[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN];
	int r;

	memcpy(c.mac, w->mac, 6);
	if (!wait_carrier(w, w->state4, sizeof(w->state4)))
		return NULL;
	set_state(w->state4, sizeof(w->state4), "no DHCPv4 answer");
	for (;;) {
		r = dhcp_client_acquire(&c, &lease);
		if (r == -ECANCELED || net_stop)
			return NULL;
		if (r >= 0)
			break;
		log_debug_errno(r, "network: DHCPv4 on %s: %m", w->name);
		sleep_ms(1000, &net_stop);
	}
	pthread_mutex_lock(&lock);
	if (have4) {
		pthread_mutex_unlock(&lock);
		snprintf(w->state4, sizeof(w->state4), "a DHCPv4 offer, not used (another link "
						       "has a lease)");
		return NULL;
	}
	/* resolv.conf is ours to write, from every method's servers */
	r = dhcp_lease_apply(w->ifindex, &lease, NULL);
	if (r < 0) {
		snprintf(w->state4, sizeof(w->state4), "a DHCPv4 lease that could not be applied: %s",
			 strerror(-r));
		pthread_mutex_unlock(&lock);
		return NULL;
	}
	have4 = true;
	addr4 = lease.address;
	dns_set_domain_locked(lease.domain);
	for (size_t i = 0; i < lease.n_dns; i++)
		dns_add_locked(AF_INET, &lease.dns[i], "DHCPv4");
	inet_ntop(AF_INET, &lease.address, addr, sizeof(addr));
	inet_ntop(AF_INET, &lease.router, gw, sizeof(gw));
	snprintf(w->state4, sizeof(w->state4), "%s/%u from DHCPv4", addr, lease.prefix);
	pthread_mutex_unlock(&lock);
	log_info("network: %s/%u on %s from DHCPv4 (router %s, lease %u s)", addr, lease.prefix,
		 w->name, lease.router ? gw : "none", lease.lease_s);
	r = dhcp_client_maintain(&c, &lease);
	if (r < 0 && !net_stop)
		log_warning_errno(r, "network: the DHCPv4 lease on %s was lost: %m", w->name);
	return NULL;
}

/* IPv6 on one link: wait for a router advertisement, then do what its M and O flags ask
 * (RFC 4861 §4.2): M, a DHCPv6 address (and DNS); O alone, DNS from an Information-request.
 * SLAAC addresses and RDNSS servers arrive through the kernel either way. */
static void *ipv6_main(void *arg)
{
	struct link_worker *w = arg;
	struct dhcp6_client_config c = { .ifindex = w->ifindex, .stop = &net_stop };
	struct dhcp6_lease lease;
	struct netlink_link l;
	bool stateful;
	char a[INET6_ADDRSTRLEN];
	int r;

	memcpy(c.mac, w->mac, 6);
	if (!wait_carrier(w, w->state6, sizeof(w->state6)))
		return NULL;
	set_state(w->state6, sizeof(w->state6), "no IPv6 router advertisement");
	for (;;) {
		if (net_stop)
			return NULL;
		if (netlink_link_get(w->ifindex, &l) == 0 && (l.inet6_flags & NETLINK_RA_RCVD))
			break;
		sleep_ms(250, &net_stop);
	}
	if (!(l.inet6_flags & (NETLINK_RA_MANAGED | NETLINK_RA_OTHERCONF))) {
		set_state(w->state6, sizeof(w->state6),
			  "a router advertisement (SLAAC only, no DHCPv6)");
		log_info("network: router advertisement on %s: SLAAC, no DHCPv6 (M and O flags "
			 "clear)",
			 w->name);
		return NULL;
	}
	stateful = l.inet6_flags & NETLINK_RA_MANAGED;
	log_info("network: router advertisement on %s asks for DHCPv6 (%s)", w->name,
		 stateful ? "M flag: an address" : "O flag: information only");
	set_state(w->state6, sizeof(w->state6), "a router advertisement, but no DHCPv6 answer to "
						"our %s",
		  stateful ? "Solicit" : "Information-request");
	for (;;) {
		r = dhcp6_client_acquire(&c, stateful, &lease);
		if (r == -ECANCELED || net_stop)
			return NULL;
		if (r >= 0)
			break;
		log_debug_errno(r, "network: DHCPv6 on %s: %m", w->name);
		sleep_ms(1000, &net_stop);
	}
	r = dhcp6_lease_apply(w->ifindex, &lease);
	if (r < 0 && r != -EEXIST) {
		log_warning_errno(r, "network: cannot add the DHCPv6 address on %s: %m", w->name);
		set_state(w->state6, sizeof(w->state6), "a DHCPv6 address that could not be added");
		return NULL;
	}
	pthread_mutex_lock(&lock);
	if (lease.has_address) {
		w->have6 = true;
		w->addr6 = lease.address;
	}
	dns_set_domain_locked(lease.domain);
	for (size_t i = 0; i < lease.n_dns; i++)
		dns_add_locked(AF_INET6, &lease.dns[i], "DHCPv6");
	inet_ntop(AF_INET6, &lease.address, a, sizeof(a));
	if (lease.has_address)
		snprintf(w->state6, sizeof(w->state6), "%s from DHCPv6", a);
	else
		snprintf(w->state6, sizeof(w->state6), "DHCPv6 information (%zu DNS servers)",
			 lease.n_dns);
	pthread_mutex_unlock(&lock);
	if (lease.has_address)
		log_info("network: %s/128 on %s from DHCPv6 (valid %u s)", a, w->name,
			 lease.valid_s);
	if (!lease.has_address)
		return NULL;
	r = dhcp6_client_maintain(&c, &lease);
	if (r < 0 && !net_stop)
		log_warning_errno(r, "network: the DHCPv6 address on %s was lost: %m", w->name);
	return NULL;
}

static void *rdnss_main(void *arg)
{
	int fd = (int)(intptr_t)arg;

	while (!net_stop) {
		struct ndisc_rdnss rd;
		char from[64];

		if (ndisc_rdnss_wait(fd, 0, 1000, &net_stop, &rd) < 0)
			continue;
		char ifname[IFNAMSIZ] = "?";

		(void)if_indextoname((unsigned)rd.ifindex, ifname);
		snprintf(from, sizeof(from), "a router advertisement (RDNSS) on %s", ifname);
		pthread_mutex_lock(&lock);
		for (size_t i = 0; i < rd.n_servers; i++)
			dns_add_locked(AF_INET6, &rd.servers[i], from);
		pthread_mutex_unlock(&lock);
	}
	close(fd);
	return NULL;
}

/* Start the threads for Ethernet links we have not seen yet (links may appear late). */
static void workers_start_new(void)
{
	_cleanup_free_ struct netlink_link *links = NULL;
	int n = netlink_link_list(true, &links);

	for (int i = 0; i < n; i++) {
		struct link_worker *w;
		bool known = false;

		if (!is_ether(&links[i]) || links[i].master > 0)
			continue;
		for (size_t k = 0; k < n_workers; k++)
			known |= workers[k].ifindex == links[i].ifindex;
		if (known || n_workers == MAX_WORKERS)
			continue;
		w = &workers[n_workers++];
		*w = (struct link_worker){ .ifindex = links[i].ifindex };
		memcpy(w->name, links[i].name, IFNAMSIZ);
		memcpy(w->mac, links[i].mac, 6);
		/* the kernel sends its router solicitation when the link comes up */
		(void)ndisc_enable_slaac(w->name);
		(void)netlink_link_set_up(w->ifindex);
		log_info("network: %s is up; trying DHCPv4, SLAAC and DHCPv6 on it", w->name);
		w->running4 = pthread_create(&w->t4, NULL, dhcp4_main, w) == 0;
		w->running6 = pthread_create(&w->t6, NULL, ipv6_main, w) == 0;
	}
}

/* What the flasher must reach first: the source's host, or for a name a DNS server. */
struct target {
	bool literal; /* an IP address in the URL */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char shown[300];
};

static void target_from_job(const struct job *j, struct target *t)
{
	CURLU *u;
	char *host = NULL;

	*t = (struct target){};
	if (!j->src || !(u = curl_url()))
		return;
	if (curl_url_set(u, CURLUPART_URL, j->src, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&t->addr;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&t->addr;
		size_t hl = strlen(host);

		snprintf(t->shown, sizeof(t->shown), "%s", host);
		if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
			char inner[INET6_ADDRSTRLEN + 64];
			char *zone;

			snprintf(inner, sizeof(inner), "%.*s", (int)(hl - 2), host + 1);
			zone = strchr(inner, '%');
			if (zone)
				*zone++ = 0;
			if (inet_pton(AF_INET6, inner, &s6->sin6_addr) == 1) {
				s6->sin6_family = AF_INET6;
				s6->sin6_port = htons(9);
				if (zone)
					s6->sin6_scope_id = if_nametoindex(zone);
				t->addrlen = sizeof(*s6);
				t->literal = true;
			}
		} else if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
			s4->sin_port = htons(9);
			t->addrlen = sizeof(*s4);
			t->literal = true;
		}
	}
	curl_free(host);
	curl_url_cleanup(u);
}

static bool ip6_is_link_local(const struct in6_addr *a)
{
	return a->s6_addr[0] == 0xfe && (a->s6_addr[1] & 0xc0) == 0x80;
}

/* Whether the kernel has a route to addr with a usable source address (for IPv6 a global one
 * when addr is global: a link-local source means SLAAC has not finished). Connecting a UDP
 * socket sends nothing. */
static bool route_exists(const struct sockaddr *addr, socklen_t len, struct sockaddr_storage *src)
{
	_cleanup_close_ int fd = socket(addr->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	socklen_t sl = sizeof(*src);

	if (fd < 0 || connect(fd, addr, len) < 0)
		return false;
	if (getsockname(fd, (struct sockaddr *)src, &sl) < 0)
		return false;
	if (addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *d = (const struct sockaddr_in6 *)addr;
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)src;
		if (!ip6_is_link_local(&d->sin6_addr) && ip6_is_link_local(&s->sin6_addr))
			return false;
		/* with no usable address on any link the kernel offers ::1 */
		if (IN6_IS_ADDR_UNSPECIFIED(&s->sin6_addr) ||
		    (IN6_IS_ADDR_LOOPBACK(&s->sin6_addr) && !IN6_IS_ADDR_LOOPBACK(&d->sin6_addr)))
			return false;
	} else {
		const struct sockaddr_in *d = (const struct sockaddr_in *)addr;
		const struct sockaddr_in *s = (const struct sockaddr_in *)src;
		if ((ntohl(s->sin_addr.s_addr) >> 24) == 127 && (ntohl(d->sin_addr.s_addr) >> 24) != 127)
			return false;
		if (s->sin_addr.s_addr == 0)
			return false;
	}
	return true;
}

/* Which method gave the source address src, and on which link. */
static void describe_source(const struct sockaddr_storage *src, char *buf, size_t n)
{
	_cleanup_free_ struct netlink_addr *addrs = NULL;
	char a[INET6_ADDRSTRLEN] = "?", ifname[IFNAMSIZ] = "?";
	const char *method = "?";
	const void *raw = src->ss_family == AF_INET
				  ? (const void *)&((const struct sockaddr_in *)src)->sin_addr
				  : (const void *)&((const struct sockaddr_in6 *)src)->sin6_addr;
	int na;

	inet_ntop(src->ss_family, raw, a, sizeof(a));
	na = netlink_addr_list(src->ss_family, 0, &addrs);
	for (int i = 0; i < na; i++)
		if (memcmp(addrs[i].addr, raw, src->ss_family == AF_INET ? 4 : 16) == 0) {
			(void)if_indextoname((unsigned)addrs[i].ifindex, ifname);
			break;
		}
	pthread_mutex_lock(&lock);
	for (size_t i = 0; carried_job && i < carried_job->n_addresses; i++)
		if (carried_job->addresses[i].family == src->ss_family &&
		    memcmp(carried_job->addresses[i].addr, raw,
			   src->ss_family == AF_INET ? 4 : 16) == 0)
			method = "carried over";
	if (strcmp(method, "?"))
		;
	else if (src->ss_family == AF_INET)
		method = have4 && memcmp(&addr4, raw, 4) == 0 ? "DHCPv4" : "static";
	else {
		method = "SLAAC";
		for (size_t i = 0; i < n_workers; i++)
			if (workers[i].have6 && memcmp(&workers[i].addr6, raw, 16) == 0)
				method = "DHCPv6";
	}
	pthread_mutex_unlock(&lock);
	snprintf(buf, n, "%s on %s (%s)", a, ifname, method);
}

/* Ready when the source's address has a route, or for a host name when a DNS server has one
 * (libcurl then resolves it and races both families, happy eyeballs), or with no source (hold
 * mode) when any default route exists. */
static bool ready(const struct target *t, char *how, size_t n)
{
	struct sockaddr_storage src;

	if (t->literal) {
		if (!route_exists((const struct sockaddr *)&t->addr, t->addrlen, &src))
			return false;
		describe_source(&src, how, n);
		return true;
	}
	if (t->shown[0]) {
		char ns[MAX_NAMESERVERS][INET6_ADDRSTRLEN];
		size_t k;

		pthread_mutex_lock(&lock);
		k = n_nameservers;
		memcpy(ns, nameservers, sizeof(ns));
		pthread_mutex_unlock(&lock);
		for (size_t i = 0; i < k; i++) {
			struct sockaddr_storage d = {};
			struct sockaddr_in *d4 = (struct sockaddr_in *)&d;
			struct sockaddr_in6 *d6 = (struct sockaddr_in6 *)&d;
			socklen_t dl;

			if (inet_pton(AF_INET, ns[i], &d4->sin_addr) == 1) {
				d4->sin_family = AF_INET;
				d4->sin_port = htons(53);
				dl = sizeof(*d4);
			} else if (inet_pton(AF_INET6, ns[i], &d6->sin6_addr) == 1) {
				d6->sin6_family = AF_INET6;
				d6->sin6_port = htons(53);
				dl = sizeof(*d6);
			} else
				continue;
			if (route_exists((const struct sockaddr *)&d, dl, &src)) {
				char s[160];
				describe_source(&src, s, sizeof(s));
				snprintf(how, n, "%s, DNS server %s", s, ns[i]);
				return true;
			}
		}
		return false;
	}
	{
		/* documentation addresses: only a default route covers them */
		struct sockaddr_in p4 = { .sin_family = AF_INET, .sin_port = htons(9) };
		struct sockaddr_in6 p6 = { .sin6_family = AF_INET6, .sin6_port = htons(9) };

		inet_pton(AF_INET, "192.0.2.1", &p4.sin_addr);
		inet_pton(AF_INET6, "2001:db8::1", &p6.sin6_addr);
		if (route_exists((struct sockaddr *)&p4, sizeof(p4), &src) ||
		    route_exists((struct sockaddr *)&p6, sizeof(p6), &src)) {
			describe_source(&src, how, n);
			return true;
		}
	}
	return false;
}

static int auto_up(const struct job *j, const volatile int *stop, char *why, size_t whylen)
{
	uint64_t start = now_ms(), last_note = start;
	struct target t;
	int fd;

	target_from_job(j, &t);
	fd = ndisc_rdnss_listen();
	if (fd >= 0 && !rdnss_running) {
		rdnss_running = pthread_create(&rdnss_thread, NULL, rdnss_main, (void *)(intptr_t)fd) == 0;
		if (!rdnss_running)
			close(fd);
	} else if (fd >= 0)
		close(fd);
	for (;;) {
		char how[256];

		workers_start_new();
		if (ready(&t, how, sizeof(how))) {
			log_info("network: %s reachable from %s after %llu ms",
				 t.shown[0] ? t.shown : "a default route is", how,
				 (unsigned long long)(now_ms() - start));
			return 0;
		}
		if (now_ms() - start >= j->net_timeout_ms || (stop && *stop))
			break;
		if (now_ms() - last_note >= 15000) {
			last_note = now_ms();
			log_info("network: no route to %s yet; still trying",
				 t.shown[0] ? t.shown : "anywhere");
		}
		sleep_ms(200, stop);
	}
	{
		size_t o = (size_t)snprintf(why, whylen, "no route to %s after %llu s",
					    t.shown[0] ? t.shown : "anywhere",
					    (unsigned long long)(j->net_timeout_ms / 1000));
		pthread_mutex_lock(&lock);
		if (n_workers == 0 && o < whylen)
			o += (size_t)snprintf(why + o, whylen - o, ": no Ethernet interface found");
		for (size_t i = 0; i < n_workers && o < whylen; i++)
			o += (size_t)snprintf(why + o, whylen - o, "%s %s: %s; %s", i ? ";" : ":",
					      workers[i].name, workers[i].state4, workers[i].state6);
		pthread_mutex_unlock(&lock);
		if (t.shown[0] && !t.literal && o < whylen)
			snprintf(why + o, whylen - o, " (%zu DNS servers known)", n_nameservers);
	}
	return -ETIMEDOUT;
}

/* The kernel modules a carried stack needs; the flasher has no modprobe for the kernel to
 * call, so load them here. */
static void load_stack_modules(const struct job *j)
{
	struct coldplug *cp = NULL;
	char names[64] = "";

	for (size_t i = 0; i < j->n_links; i++) {
		const char *m = link_stack_module(j->links[i].kind);
		if (m && !strstr(names, m))
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
				 names[0] ? "," : "", m);
	}
	if (!names[0] || coldplug_new(&cp) < 0)
		return;
	(void)coldplug_load_names(cp, names);
	coldplug_free(cp);
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
		if (r >= 0) {
			struct target t;
			uint64_t start = now_ms();
			char how[256];

			/* an IPv6 address is usable once duplicate address detection is done */
			carried_job = j;
			target_from_job(j, &t);
			while (now_ms() - start < 15000 && !(stop && *stop)) {
				if (ready(&t, how, sizeof(how))) {
					log_info("network: %s reachable from %s",
						 t.shown[0] ? t.shown : "a default route is", how);
					return 0;
				}
				sleep_ms(200, stop);
			}
			log_warning("network: no route to %s from the carried-over configuration "
				    "yet; trying anyway",
				    t.shown[0] ? t.shown : "anywhere");
			return 0;
		}
		if (!j->dhcp_fallback)
			return r;
		log_warning("network: the carried-over configuration failed (%s); falling back to "
			    "DHCP and SLAAC",
			    why);
	}
	return auto_up(j, stop, why, whylen);
}

void network_stop(void)
{
	net_stop = 1;
	for (size_t i = 0; i < n_workers; i++) {
		if (workers[i].running4)
			pthread_join(workers[i].t4, NULL);
		if (workers[i].running6)
			pthread_join(workers[i].t6, NULL);
		workers[i].running4 = workers[i].running6 = false;
	}
	n_workers = 0;
	if (rdnss_running)
		pthread_join(rdnss_thread, NULL);
	rdnss_running = false;
}
