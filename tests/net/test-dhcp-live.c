// SPDX-License-Identifier: GPL-2.0-or-later
/* Live network helper for tests/system/test_net.py: runs the DHCPv4 client or SLAAC/RDNSS on one
 * interface of a test network namespace and prints what it got as JSON lines. Not a meson test:
 * it changes the network configuration of the namespace it runs in. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "basic/parse-util.h"
#include "basic/time-util.h"
#include "format/json.h"
#include "net/dhcp-client.h"
#include "net/ndisc.h"
#include "net/netlink.h"

static void print_lease(const char *event, const struct dhcp_lease *l)
{
	char a[INET_ADDRSTRLEN], q[600];

	printf("{\"event\":\"%s\"", event);
	inet_ntop(AF_INET, &l->address, a, sizeof(a));
	printf(",\"address\":\"%s\",\"prefix\":%u", a, l->prefix);
	inet_ntop(AF_INET, &l->server_id, a, sizeof(a));
	printf(",\"server\":\"%s\"", a);
	inet_ntop(AF_INET, &l->router, a, sizeof(a));
	printf(",\"router\":\"%s\",\"lease\":%u,\"t1\":%u,\"t2\":%u,\"mtu\":%u", a, l->lease_s,
	       l->t1_s, l->t2_s, l->mtu);
	json_quote(l->domain, q, sizeof(q));
	printf(",\"domain\":%s", q);
	json_quote(l->hostname, q, sizeof(q));
	printf(",\"hostname\":%s,\"dns\":[", q);
	for (size_t i = 0; i < l->n_dns; i++) {
		inet_ntop(AF_INET, &l->dns[i], a, sizeof(a));
		printf("%s\"%s\"", i ? "," : "", a);
	}
	printf("],\"routes\":[");
	for (size_t i = 0; i < l->n_routes; i++) {
		char g[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &l->routes[i].dst, a, sizeof(a));
		inet_ntop(AF_INET, &l->routes[i].gateway, g, sizeof(g));
		printf("%s{\"dst\":\"%s\",\"prefix\":%u,\"gateway\":\"%s\"}", i ? "," : "", a,
		       l->routes[i].prefix, g);
	}
	printf("]}\n");
	fflush(stdout);
}

static int print_state(int ifindex)
{
	_cleanup_free_ struct netlink_link *links = NULL;
	_cleanup_free_ struct netlink_addr *addrs = NULL;
	int n, m;

	n = netlink_link_list(true, &links);
	if (n < 0)
		return log_error_errno(n, "Listing links failed: %m");
	m = netlink_addr_list(AF_UNSPEC, ifindex, &addrs);
	if (m < 0)
		return log_error_errno(m, "Listing addresses failed: %m");
	printf("{\"event\":\"state\",\"links\":[");
	for (int i = 0; i < n; i++) {
		char q[64];
		json_quote(links[i].name, q, sizeof(q));
		printf("%s{\"ifindex\":%d,\"name\":%s,\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\","
		       "\"up\":%s,\"carrier\":%s,\"type\":%u,\"mtu\":%u}",
		       i ? "," : "", links[i].ifindex, q, links[i].mac[0], links[i].mac[1],
		       links[i].mac[2], links[i].mac[3], links[i].mac[4], links[i].mac[5],
		       links[i].flags & IFF_UP ? "true" : "false",
		       links[i].carrier ? "true" : "false", links[i].type, links[i].mtu);
	}
	printf("],\"addresses\":[");
	for (int i = 0; i < m; i++) {
		char a[INET6_ADDRSTRLEN];
		inet_ntop(addrs[i].family, addrs[i].addr, a, sizeof(a));
		printf("%s{\"address\":\"%s\",\"prefix\":%u,\"valid\":%u,\"preferred\":%u,"
		       "\"flags\":%u,\"scope\":%u}",
		       i ? "," : "", a, addrs[i].prefix, addrs[i].valid_s, addrs[i].preferred_s,
		       addrs[i].flags, addrs[i].scope);
	}
	printf("]}\n");
	fflush(stdout);
	return 0;
}

struct maintain_args {
	struct dhcp_client_config *config;
	struct dhcp_lease *lease;
	int r;
};

static void *maintain_thread(void *p)
{
	struct maintain_args *a = p;

	a->r = dhcp_client_maintain(a->config, a->lease);
	return NULL;
}

static int run_ndisc(const char *ifname, int ifindex, uint64_t timeout_ms)
{
	_cleanup_close_ int fd = -EBADF;
	struct ndisc_rdnss rd;
	struct in6_addr addr;
	char a[INET6_ADDRSTRLEN];
	int r;

	fd = ndisc_rdnss_listen();
	if (fd < 0)
		return log_error_errno(fd, "Listening for RDNSS failed: %m");
	r = ndisc_enable_slaac(ifname);
	if (r < 0)
		return log_error_errno(r, "Enabling SLAAC on %s failed: %m", ifname);
	r = netlink_link_set_up(ifindex);
	if (r < 0)
		return log_error_errno(r, "Bringing %s up failed: %m", ifname);
	r = ndisc_rdnss_wait(fd, ifindex, timeout_ms, NULL, &rd);
	if (r < 0)
		return log_error_errno(r, "No RDNSS on %s: %m", ifname);
	r = ndisc_wait_global_address(ifindex, timeout_ms, NULL, &addr);
	if (r < 0)
		return log_error_errno(r, "No global IPv6 address on %s: %m", ifname);
	inet_ntop(AF_INET6, &addr, a, sizeof(a));
	printf("{\"event\":\"ndisc\",\"address\":\"%s\",\"lifetime\":%u,\"dns\":[", a,
	       rd.lifetime_s);
	for (size_t i = 0; i < rd.n_servers; i++) {
		inet_ntop(AF_INET6, &rd.servers[i], a, sizeof(a));
		printf("%s\"%s\"", i ? "," : "", a);
	}
	printf("]}\n");
	fflush(stdout);
	return print_state(ifindex);
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char end;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &end) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

static int run(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "resolv-conf", required_argument, NULL, 'c' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "retransmit-ms", required_argument, NULL, 'x' },
		{ "mac", required_argument, NULL, 'm' },
		{ "renew", no_argument, NULL, 'r' },
		{ "rebind", no_argument, NULL, 'b' },
		{ "maintain-ms", required_argument, NULL, 'M' },
		{ "ndisc", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{}
	};
	struct dhcp_client_config config = { .timeout_ms = 30000 };
	uint64_t maintain_ms = 0;
	bool renew = false, rebind = false, ndisc = false, set_mac = false;
	uint8_t mac[6];
	struct netlink_link link;
	struct dhcp_lease lease;
	const char *ifname;
	int c, r;

	while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
		switch (c) {
		case 'c':
			config.resolv_conf = optarg;
			break;
		case 't':
			if (parse_u64(optarg, &config.timeout_ms) < 0)
				return log_error_errno(-EINVAL, "Bad --timeout-ms");
			break;
		case 'x':
			if (parse_u64(optarg, &config.initial_retransmit_ms) < 0)
				return log_error_errno(-EINVAL, "Bad --retransmit-ms");
			break;
		case 'm':
			if (parse_mac(optarg, mac) < 0)
				return log_error_errno(-EINVAL, "Bad --mac");
			set_mac = true;
			break;
		case 'r':
			renew = true;
			break;
		case 'b':
			rebind = true;
			break;
		case 'M':
			if (parse_u64(optarg, &maintain_ms) < 0)
				return log_error_errno(-EINVAL, "Bad --maintain-ms");
			break;
		case 'n':
			ndisc = true;
			break;
		case 'v':
			log_set_max_level(LOG_LEVEL_DEBUG);
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind + 1 != argc)
		return log_error_errno(-EINVAL, "Usage: %s [OPTIONS] IFNAME", argv[0]);
	ifname = argv[optind];
	config.ifindex = (int)if_nametoindex(ifname);
	if (config.ifindex <= 0)
		return log_error_errno(-ENODEV, "No interface %s", ifname);

	if (ndisc)
		return run_ndisc(ifname, config.ifindex, config.timeout_ms);

	if (set_mac) {
		r = netlink_link_set_down(config.ifindex);
		if (r >= 0)
			r = netlink_link_set_mac(config.ifindex, mac);
		if (r < 0)
			return log_error_errno(r, "Setting the MAC of %s failed: %m", ifname);
	}
	r = netlink_link_set_up(config.ifindex);
	if (r < 0)
		return log_error_errno(r, "Bringing %s up failed: %m", ifname);
	r = netlink_link_wait_carrier(config.ifindex, 10000, NULL);
	if (r < 0)
		return log_error_errno(r, "No carrier on %s: %m", ifname);
	r = netlink_link_get(config.ifindex, &link);
	if (r < 0)
		return log_error_errno(r, "Reading %s failed: %m", ifname);
	memcpy(config.mac, link.mac, 6);

	r = dhcp_client_acquire(&config, &lease);
	if (r < 0)
		return log_error_errno(r, "No DHCP lease on %s: %m", ifname);
	print_lease("lease", &lease);
	r = dhcp_lease_apply(config.ifindex, &lease, config.resolv_conf);
	if (r < 0)
		return log_error_errno(r, "Applying the lease failed: %m");
	r = print_state(config.ifindex);
	if (r < 0)
		return r;

	if (renew || rebind) {
		r = dhcp_client_renew(&config, rebind, config.timeout_ms, &lease);
		if (r < 0)
			return log_error_errno(r, "%s failed: %m",
					       rebind ? "Rebinding" : "Renewing");
		r = dhcp_lease_apply(config.ifindex, &lease, config.resolv_conf);
		if (r < 0)
			return log_error_errno(r, "Applying the renewed lease failed: %m");
		print_lease(rebind ? "rebind" : "renew", &lease);
		r = print_state(config.ifindex);
		if (r < 0)
			return r;
	}

	if (maintain_ms > 0) {
		volatile int stop = 0;
		struct maintain_args a = { .config = &config, .lease = &lease };
		pthread_t t;

		config.stop = &stop;
		r = -pthread_create(&t, NULL, maintain_thread, &a);
		if (r < 0)
			return log_error_errno(r, "Starting the renewal thread failed: %m");
		sleep_ms(maintain_ms, NULL);
		stop = 1;
		pthread_join(t, NULL);
		printf("{\"event\":\"maintain\",\"rc\":%d}\n", a.r);
		print_lease("maintained", &lease);
		r = print_state(config.ifindex);
		if (r < 0)
			return r;
		if (a.r < 0)
			return log_error_errno(a.r, "Keeping the lease failed: %m");
	}
	return 0;
}

int main(int argc, char *argv[])
{
	log_set_prefix("test-dhcp-live");
	return run(argc, argv) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
