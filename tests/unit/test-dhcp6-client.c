// SPDX-License-Identifier: GPL-2.0-or-later
/* Tests of the DHCPv6 client (src/net/dhcp6-client.c) against a scripted fake server: the
 * stateful exchange, then keeping the address alive (dhcp6_client_maintain): Renew to the
 * server at T1, Rebind to any server at T2 when the server stops answering Renews, losing the
 * address when nobody answers, and a server that hands out another address. The client runs in
 * a private network namespace, the server thread in another one, joined by a veth pair; DAD is
 * off in both, so link-local addresses are usable at once. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "basic/macro.h"
#include "basic/time-util.h"
#include "net/dhcp6-client.h"
#include "net/netlink.h"
#include "netns.h"
#include "tests.h"

#define LEASED "fd60::50"
#define OTHER "fd60::77"

/* What the fake server does; set between scenarios while the client is idle. */
struct server {
	pthread_mutex_t lock;
	pthread_t thread;
	int stop;
	/* script */
	bool ignore_renew, ignore_rebind;
	const char *address; /* what it hands out */
	uint32_t preferred_s, valid_s, t1_s, t2_s;
	/* what it saw */
	int solicits, requests, renews, rebinds;
	bool renew_without_server_id, rebind_with_server_id;
};

static struct server srv = { .lock = PTHREAD_MUTEX_INITIALIZER };
static struct netns_split split = NETNS_SPLIT_INIT;
static int client_ifindex;
static uint8_t client_mac[6];
static const uint8_t server_duid[] = { 0, 3, 0, 1, 0x02, 0x60, 0, 0, 0, 1 };

static void server_script(bool ignore_renew, bool ignore_rebind, const char *address,
			  uint32_t preferred_s, uint32_t valid_s, uint32_t t1_s, uint32_t t2_s)
{
	pthread_mutex_lock(&srv.lock);
	srv.ignore_renew = ignore_renew;
	srv.ignore_rebind = ignore_rebind;
	srv.address = address;
	srv.preferred_s = preferred_s;
	srv.valid_s = valid_s;
	srv.t1_s = t1_s;
	srv.t2_s = t2_s;
	srv.solicits = srv.requests = srv.renews = srv.rebinds = 0;
	srv.renew_without_server_id = srv.rebind_with_server_id = false;
	pthread_mutex_unlock(&srv.lock);
}

/* An option of a client message (our own client's, so trusted enough for a test): its value
 * and length, or NULL. */
static const uint8_t *find_option(const uint8_t *b, size_t n, uint16_t code, size_t *len)
{
	for (size_t i = 4; i + 4 <= n;) {
		uint16_t c = (uint16_t)(b[i] << 8 | b[i + 1]), l = (uint16_t)(b[i + 2] << 8 | b[i + 3]);
		if (i + 4 + l > n)
			return NULL;
		if (c == code) {
			*len = l;
			return b + i + 4;
		}
		i += 4 + (size_t)l;
	}
	return NULL;
}

struct out {
	uint8_t buf[512];
	size_t len;
};

static void put(struct out *o, const void *p, size_t n)
{
	ASSERT_TRUE(o->len + n <= sizeof(o->buf));
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void put16(struct out *o, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	put(o, b, 2);
}

static void put32(struct out *o, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	put(o, b, 4);
}

static void server_handle(int fd, const uint8_t *b, size_t n, const struct sockaddr_in6 *from)
{
	const uint8_t *client_id, *ia;
	size_t client_id_len, ia_len, sid_len;
	struct in6_addr a;
	struct out o = { .len = 0 };
	uint8_t type;

	if (n < 4)
		return;
	client_id = find_option(b, n, DHCP6_OPT_CLIENTID, &client_id_len);
	ia = find_option(b, n, DHCP6_OPT_IA_NA, &ia_len);
	if (!client_id || !ia || ia_len < 12)
		return;
	pthread_mutex_lock(&srv.lock);
	switch (b[0]) {
	case DHCP6_SOLICIT:
		srv.solicits++;
		type = DHCP6_ADVERTISE;
		break;
	case DHCP6_REQUEST:
		srv.requests++;
		type = DHCP6_REPLY;
		break;
	case DHCP6_RENEW:
		srv.renews++;
		if (!find_option(b, n, DHCP6_OPT_SERVERID, &sid_len))
			srv.renew_without_server_id = true;
		if (srv.ignore_renew) {
			pthread_mutex_unlock(&srv.lock);
			return;
		}
		type = DHCP6_REPLY;
		break;
	case DHCP6_REBIND:
		srv.rebinds++;
		if (find_option(b, n, DHCP6_OPT_SERVERID, &sid_len))
			srv.rebind_with_server_id = true;
		if (srv.ignore_rebind) {
			pthread_mutex_unlock(&srv.lock);
			return;
		}
		type = DHCP6_REPLY;
		break;
	default:
		pthread_mutex_unlock(&srv.lock);
		return;
	}
	ASSERT_EQ(inet_pton(AF_INET6, srv.address, &a), 1);
	put(&o, &type, 1);
	put(&o, b + 1, 3); /* the transaction id */
	put16(&o, DHCP6_OPT_CLIENTID);
	put16(&o, (uint16_t)client_id_len);
	put(&o, client_id, client_id_len);
	put16(&o, DHCP6_OPT_SERVERID);
	put16(&o, sizeof(server_duid));
	put(&o, server_duid, sizeof(server_duid));
	put16(&o, DHCP6_OPT_IA_NA);
	put16(&o, 12 + 4 + 24);
	put(&o, ia, 4); /* the client's IAID */
	put32(&o, srv.t1_s);
	put32(&o, srv.t2_s);
	put16(&o, DHCP6_OPT_IAADDR);
	put16(&o, 24);
	put(&o, &a, 16);
	put32(&o, srv.preferred_s);
	put32(&o, srv.valid_s);
	pthread_mutex_unlock(&srv.lock);
	ASSERT_TRUE(sendto(fd, o.buf, o.len, 0, (const struct sockaddr *)from, sizeof(*from)) ==
		    (ssize_t)o.len);
}

static void *server_main(void *p)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(DHCP6_SERVER_PORT) };
	struct ipv6_mreq mreq;
	int fd, ifindex;

	/* Only this thread moves: network namespaces are per thread. */
	ifindex = netns_split_server_enter(&split, "r6c1", true);
	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "r6c1", 5), 0);
	ASSERT_EQ(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ASSERT_EQ(inet_pton(AF_INET6, DHCP6_ALL_SERVERS, &mreq.ipv6mr_multiaddr), 1);
	mreq.ipv6mr_interface = (unsigned)ifindex;
	ASSERT_EQ(setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mreq, sizeof(mreq)), 0);
	netns_split_server_ready(&split);

	while (!__atomic_load_n(&srv.stop, __ATOMIC_RELAXED)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct sockaddr_in6 from;
		socklen_t fl = sizeof(from);
		uint8_t b[1500];
		ssize_t n;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		n = recvfrom(fd, b, sizeof(b), 0, (struct sockaddr *)&from, &fl);
		if (n <= 0)
			continue;
		server_handle(fd, b, (size_t)n, &from);
	}
	close(fd);
	return p;
}

static struct dhcp6_client_config config(void)
{
	struct dhcp6_client_config c = {
		.ifindex = client_ifindex,
		.timeout_ms = 10000,
		.initial_retransmit_ms = 200,
	};

	memcpy(c.mac, client_mac, 6);
	return c;
}

/* the remaining valid lifetime of address a on the client's link; 0 when it is not there */
static uint32_t valid_lifetime(const char *a)
{
	_cleanup_free_ struct netlink_addr *list = NULL;
	struct in6_addr want;
	int n = netlink_addr_list(AF_INET6, client_ifindex, &list);

	ASSERT_EQ(inet_pton(AF_INET6, a, &want), 1);
	for (int i = 0; i < n; i++)
		if (memcmp(list[i].addr, &want, 16) == 0)
			return list[i].valid_s ? list[i].valid_s : 1;
	return 0;
}

TEST(setup)
{
	netns_enter_private_or_skip();
	netns_no_dad();
	netns_sh_or_skip("ip link add r6c0 type veth peer name r6c1");
	ASSERT_EQ(pthread_create(&srv.thread, NULL, server_main, NULL), 0);
	client_ifindex = netns_split_client(&split, "r6c0", "r6c1", client_mac);
}

static void acquire_and_apply(struct dhcp6_lease *l, uint32_t preferred_s, uint32_t valid_s,
			      uint32_t t1_s, uint32_t t2_s)
{
	struct dhcp6_client_config c = config();
	char a[INET6_ADDRSTRLEN];

	server_script(false, false, LEASED, preferred_s, valid_s, t1_s, t2_s);
	ASSERT_EQ(dhcp6_client_acquire(&c, true, l), 0);
	ASSERT_TRUE(l->has_address);
	ASSERT_STREQ(inet_ntop(AF_INET6, &l->address, a, sizeof(a)), LEASED);
	ASSERT_EQ(l->valid_s, valid_s);
	ASSERT_EQ(l->t1_s, t1_s);
	ASSERT_EQ(l->t2_s, t2_s);
	ASSERT_EQ(dhcp6_lease_apply(client_ifindex, l), 0);
	ASSERT_TRUE(valid_lifetime(LEASED) > valid_s - 2);
}

struct maintain_run {
	struct dhcp6_client_config c;
	struct dhcp6_lease l;
	volatile int stop;
	int r, done;
};

static void *maintain_main(void *p)
{
	struct maintain_run *m = p;

	m->r = dhcp6_client_maintain(&m->c, &m->l);
	__atomic_store_n(&m->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* run maintain on m until it returns by itself, for at most ms milliseconds: true when it
 * did (a client that should give up but keeps going fails the test instead of hanging it) */
static bool maintain_ends_within(struct maintain_run *m, uint64_t ms)
{
	uint64_t deadline = now_ms() + ms;
	pthread_t t;
	bool ended;

	m->c.stop = &m->stop;
	ASSERT_EQ(pthread_create(&t, NULL, maintain_main, m), 0);
	while (!__atomic_load_n(&m->done, __ATOMIC_ACQUIRE) && now_ms() < deadline)
		sleep_ms(20, NULL);
	ended = __atomic_load_n(&m->done, __ATOMIC_ACQUIRE);
	m->stop = 1;
	pthread_join(t, NULL);
	return ended;
}

/* run maintain on m for ms milliseconds, then stop it */
static void maintain_for(struct maintain_run *m, uint64_t ms)
{
	pthread_t t;

	m->c.stop = &m->stop;
	ASSERT_EQ(pthread_create(&t, NULL, maintain_main, m), 0);
	sleep_ms(ms, NULL);
	m->stop = 1;
	pthread_join(t, NULL);
}

TEST(acquire)
{
	struct dhcp6_lease l;
	struct in6_addr a;

	acquire_and_apply(&l, 20, 30, 10, 16);
	pthread_mutex_lock(&srv.lock);
	ASSERT_EQ(srv.solicits, 1);
	ASSERT_EQ(srv.requests, 1);
	pthread_mutex_unlock(&srv.lock);
	ASSERT_EQ(inet_pton(AF_INET6, LEASED, &a), 1);
	ASSERT_EQ(netlink_addr_del(client_ifindex, AF_INET6, &a, 128), 0);
}

TEST(maintain_renews_at_t1)
{
	struct maintain_run m = { .c = config() };

	/* T1 = 1 s: a Renew (with the server's id) about once a second, each Reply (now with
	 * longer lifetimes) applied: 3 s hold two or three of them, even on a loaded machine */
	acquire_and_apply(&m.l, 20, 30, 1, 20);
	server_script(false, false, LEASED, 40, 60, 1, 20);
	maintain_for(&m, 3000);
	ASSERT_EQ(m.r, 0);
	pthread_mutex_lock(&srv.lock);
	ASSERT_TRUE(srv.renews >= 2 && srv.renews <= 3);
	ASSERT_EQ(srv.rebinds, 0);
	ASSERT_TRUE(!srv.renew_without_server_id);
	pthread_mutex_unlock(&srv.lock);
	ASSERT_EQ(m.l.valid_s, 60);
	ASSERT_TRUE(valid_lifetime(LEASED) >= 58);
	ASSERT_EQ(netlink_addr_del(client_ifindex, AF_INET6, &m.l.address, 128), 0);
}

TEST(maintain_rebinds_at_t2)
{
	struct maintain_run m = { .c = config() };

	/* the server ignores Renews: from T2 = 2 s the client Rebinds (no server id) and the
	 * server's Reply to that (T1 10 s: nothing more in this test's time) keeps the address */
	acquire_and_apply(&m.l, 20, 30, 1, 2);
	server_script(true, false, LEASED, 20, 40, 10, 20);
	maintain_for(&m, 3500);
	ASSERT_EQ(m.r, 0);
	pthread_mutex_lock(&srv.lock);
	ASSERT_TRUE(srv.renews >= 2); /* retransmitted between T1 and T2 */
	ASSERT_EQ(srv.rebinds, 1);
	ASSERT_TRUE(!srv.rebind_with_server_id);
	pthread_mutex_unlock(&srv.lock);
	ASSERT_EQ(m.l.valid_s, 40);
	ASSERT_TRUE(valid_lifetime(LEASED) >= 38);
	ASSERT_EQ(netlink_addr_del(client_ifindex, AF_INET6, &m.l.address, 128), 0);
}

TEST(maintain_loses_the_address)
{
	struct maintain_run m = { .c = config() };
	uint64_t t0;

	/* valid 3 s, and nobody answers: Renew, Rebind, then the address runs out */
	acquire_and_apply(&m.l, 3, 3, 1, 2);
	server_script(true, true, LEASED, 3, 3, 1, 2);
	t0 = now_ms();
	ASSERT_TRUE(maintain_ends_within(&m, 6000));
	ASSERT_EQ(m.r, -ETIMEDOUT);
	ASSERT_TRUE(now_ms() - t0 >= 2900 && now_ms() - t0 < 4500);
	pthread_mutex_lock(&srv.lock);
	ASSERT_TRUE(srv.renews >= 2);
	ASSERT_TRUE(srv.rebinds >= 2);
	pthread_mutex_unlock(&srv.lock);
	/* the kernel removes it when its valid lifetime ends */
	for (int i = 0; i < 30 && valid_lifetime(LEASED); i++)
		sleep_ms(100, NULL);
	ASSERT_EQ(valid_lifetime(LEASED), 0);
}

TEST(maintain_refuses_another_address)
{
	struct maintain_run m = { .c = config() };

	acquire_and_apply(&m.l, 20, 30, 1, 20);
	server_script(false, false, OTHER, 20, 30, 1, 20);
	ASSERT_TRUE(maintain_ends_within(&m, 3000));
	ASSERT_EQ(m.r, -EADDRNOTAVAIL);
	ASSERT_EQ(valid_lifetime(OTHER), 0); /* never added */
	ASSERT_EQ(netlink_addr_del(client_ifindex, AF_INET6, &m.l.address, 128), 0);
}

TEST(teardown)
{
	__atomic_store_n(&srv.stop, 1, __ATOMIC_RELAXED);
	pthread_join(srv.thread, NULL);
}

RUN(T(setup), T(acquire), T(maintain_renews_at_t1), T(maintain_rebinds_at_t2),
    T(maintain_loses_the_address), T(maintain_refuses_another_address), T(teardown))
