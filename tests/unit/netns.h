/* SPDX-License-Identifier: GPL-2.0-or-later */
/* For tests that change network configuration: move the calling thread into a fresh network
 * namespace (so nothing of the host's is touched) or skip the test (exit 77) where that is not
 * allowed. */
#pragma once

#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/netlink.h"

#define EXIT_TEST_SKIP 77

static inline void netns_enter_private_or_skip(void)
{
	if (unshare(CLONE_NEWNET) < 0) {
		perror("unshare(CLONE_NEWNET) failed, skipping (needs root)");
		exit(EXIT_TEST_SKIP);
	}
}

/* Run a shell command (iproute2) in the namespace of the calling thread, or skip. */
static inline void netns_sh_or_skip(const char *cmd)
{
	if (system(cmd) != 0) {
		fprintf(stderr, "'%s' failed, skipping (iproute2 or veth missing?)\n", cmd);
		exit(EXIT_TEST_SKIP);
	}
}

/* A veth pair split between two namespaces: the test's (the client's end) and that of a fake
 * server's thread (the other end). The main thread, already in its private namespace:
 *   netns_sh_or_skip("ip link add C type veth peer name S");
 *   pthread_create(... server ...);
 *   ifindex = netns_split_client(&split, "C", "S", mac);
 * The server thread: ifindex = netns_split_server_enter(&split, "S", no_dad); set up its
 * address and socket; netns_split_server_ready(&split); serve. */
struct netns_split {
	pthread_mutex_t lock;
	pid_t server_tid;
	int state; /* 1: the server's namespace exists; 2: the server listens */
};
#define NETNS_SPLIT_INIT { .lock = PTHREAD_MUTEX_INITIALIZER }

static inline void netns_split_set(struct netns_split *s, int state)
{
	pthread_mutex_lock(&s->lock);
	if (state == 1)
		s->server_tid = gettid();
	s->state = state;
	pthread_mutex_unlock(&s->lock);
}

static inline void netns_split_wait(struct netns_split *s, int state)
{
	for (;;) {
		int v;

		pthread_mutex_lock(&s->lock);
		v = s->state;
		pthread_mutex_unlock(&s->lock);
		if (v >= state)
			return;
		usleep(10000);
	}
}

/* IPv6 duplicate address detection off for links that appear in this namespace from now on:
 * their link-local addresses are usable at once. */
static inline void netns_no_dad(void)
{
	FILE *f = fopen("/proc/sys/net/ipv6/conf/default/accept_dad", "we");

	if (!f || fputs("0", f) < 0 || fclose(f) != 0) {
		perror("cannot turn IPv6 DAD off in the test namespace");
		exit(1);
	}
}

/* In the server's thread: a namespace of its own, then wait for ifname to be moved in and set
 * it up. Its ifindex. */
static inline int netns_split_server_enter(struct netns_split *s, const char *ifname, bool no_dad)
{
	int ifindex;

	netns_enter_private_or_skip();
	if (no_dad)
		netns_no_dad();
	netns_split_set(s, 1);
	while ((ifindex = (int)if_nametoindex(ifname)) <= 0)
		usleep(10000);
	if (netlink_link_set_up(ifindex) < 0) {
		fprintf(stderr, "cannot set %s up\n", ifname);
		exit(1);
	}
	return ifindex;
}

static inline void netns_split_server_ready(struct netns_split *s)
{
	netns_split_set(s, 2);
}

/* In the main thread, once the server's thread runs: move server_if into its namespace, wait
 * until it listens, set client_if up and wait for its carrier. client_if's ifindex, and its MAC
 * in mac. */
static inline int netns_split_client(struct netns_split *s, const char *client_if,
				     const char *server_if, uint8_t mac[6])
{
	struct netlink_link l;
	char cmd[160];
	int ifindex;

	netns_split_wait(s, 1);
	snprintf(cmd, sizeof(cmd), "ip link set %s netns /proc/%d/task/%d/ns/net", server_if,
		 getpid(), s->server_tid);
	netns_sh_or_skip(cmd);
	netns_split_wait(s, 2);
	ifindex = (int)if_nametoindex(client_if);
	if (ifindex <= 0 || netlink_link_set_up(ifindex) < 0 ||
	    netlink_link_wait_carrier(ifindex, 5000, NULL) < 0 || netlink_link_get(ifindex, &l) < 0) {
		fprintf(stderr, "cannot bring %s up\n", client_if);
		exit(1);
	}
	memcpy(mac, l.mac, 6);
	return ifindex;
}
