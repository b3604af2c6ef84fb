// SPDX-License-Identifier: GPL-2.0-or-later
/* Tests of the DHCPv4 client state machine against a scripted fake server: retransmission, NAK,
 * timeouts, cancellation, renewing (unicast), rebinding (broadcast) and losing a lease. The client
 * runs in a private network namespace, the server thread in another one, joined by a veth pair. */
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
#include "dhcp-reply.h"
#include "net/dhcp-client.h"
#include "net/netlink.h"
#include "netns.h"
#include "tests.h"

/* What the fake server does; set between scenarios while the client is idle. */
struct server {
	pthread_mutex_t lock;
	pthread_t thread;
	int stop;
	/* script */
	int drop_discovers; /* ignore this many DISCOVERs */
	int nak_selecting;  /* NAK this many REQUESTs in SELECTING state */
	bool nak_renew;	    /* NAK REQUESTs with ciaddr set */
	bool ignore_renew;  /* do not answer REQUESTs with ciaddr set */
	uint32_t lease_s, t1_s, t2_s;
	/* what it saw */
	int discovers, selecting, renews, rebinds;
	uint16_t last_secs;
};

static struct server srv = { .lock = PTHREAD_MUTEX_INITIALIZER };
static struct netns_split split = NETNS_SPLIT_INIT;
static int client_ifindex;
static uint8_t client_mac[6];

static void server_script(int drop_discovers, int nak_selecting, bool nak_renew,
			  bool ignore_renew, uint32_t lease_s, uint32_t t1_s, uint32_t t2_s)
{
	pthread_mutex_lock(&srv.lock);
	srv.drop_discovers = drop_discovers;
	srv.nak_selecting = nak_selecting;
	srv.nak_renew = nak_renew;
	srv.ignore_renew = ignore_renew;
	srv.lease_s = lease_s;
	srv.t1_s = t1_s;
	srv.t2_s = t2_s;
	srv.discovers = srv.selecting = srv.renews = srv.rebinds = 0;
	pthread_mutex_unlock(&srv.lock);
}

/* Options of a client message (our own client's, so trusted enough for a test). */
static bool request_option(const uint8_t *b, size_t n, uint8_t code, uint8_t *out, size_t len)
{
	for (size_t i = 240; i + 1 < n && b[i] != 255;) {
		if (b[i] == 0) {
			i++;
			continue;
		}
		if (b[i] == code && b[i + 1] == len && i + 2 + len <= n) {
			memcpy(out, b + i + 2, len);
			return true;
		}
		i += 2 + b[i + 1];
	}
	return false;
}

static void server_handle(int fd, const uint8_t *b, size_t n, uint32_t dst)
{
	uint8_t type = 0, reply_type;
	uint32_t xid, ciaddr;
	struct reply r;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(68) };

	if (n < 240 || b[0] != 1 || !request_option(b, n, 53, &type, 1))
		return;
	xid = (uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7];
	memcpy(&ciaddr, b + 12, 4);
	pthread_mutex_lock(&srv.lock);
	srv.last_secs = (uint16_t)(b[8] << 8 | b[9]);
	if (type == DHCP_DISCOVER) {
		srv.discovers++;
		if (srv.drop_discovers > 0) {
			srv.drop_discovers--;
			pthread_mutex_unlock(&srv.lock);
			return;
		}
		reply_type = DHCP_OFFER;
	} else if (type == DHCP_REQUEST && ciaddr == 0) {
		uint32_t sid = 0;
		srv.selecting++;
		ASSERT_TRUE(request_option(b, n, 54, (uint8_t *)&sid, 4));
		ASSERT_EQ(sid, addr("10.60.0.1"));
		reply_type = DHCP_ACK;
		if (srv.nak_selecting > 0) {
			srv.nak_selecting--;
			reply_type = DHCP_NAK;
		}
	} else if (type == DHCP_REQUEST) {
		if (dst == htonl(INADDR_BROADCAST))
			srv.rebinds++;
		else
			srv.renews++;
		ASSERT_EQ(ciaddr, addr("10.60.0.50"));
		if (srv.ignore_renew) {
			pthread_mutex_unlock(&srv.lock);
			return;
		}
		reply_type = srv.nak_renew ? DHCP_NAK : DHCP_ACK;
	} else {
		pthread_mutex_unlock(&srv.lock);
		return;
	}
	if (reply_type == DHCP_NAK) {
		reply_init(&r, DHCP_NAK, xid, b + 28, NULL);
		reply_opt_addr(&r, 54, "10.60.0.1");
		reply_end(&r);
	} else {
		reply_init(&r, reply_type, xid, b + 28, "10.60.0.50");
		reply_opt_addr(&r, 54, "10.60.0.1");
		reply_opt_u32(&r, 51, srv.lease_s);
		if (srv.t1_s)
			reply_opt_u32(&r, 58, srv.t1_s);
		if (srv.t2_s)
			reply_opt_u32(&r, 59, srv.t2_s);
		reply_opt_addr(&r, 1, "255.255.255.0");
		reply_opt_addr(&r, 3, "10.60.0.1");
		reply_opt_addr(&r, 6, "10.60.0.53");
		reply_opt(&r, 15, "fake.test", 9);
		reply_end(&r);
	}
	pthread_mutex_unlock(&srv.lock);
	/* RFC 2131 §4.1: broadcast while the client has no address, else unicast to ciaddr */
	to.sin_addr.s_addr = (b[10] & 0x80) || ciaddr == 0 ? htonl(INADDR_BROADCAST) : ciaddr;
	r.len = MAX(r.len, (size_t)300);
	ASSERT_TRUE(sendto(fd, r.buf, r.len, 0, (struct sockaddr *)&to, sizeof(to)) ==
		    (ssize_t)r.len);
}

static void *server_main(void *p)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(67) };
	uint32_t a;
	int fd, one = 1, ifindex;

	/* Only this thread moves: network namespaces are per thread. */
	ifindex = netns_split_server_enter(&split, "rdc1", false);
	a = addr("10.60.0.1");
	ASSERT_EQ(netlink_addr_add(ifindex, AF_INET, &a, 24, NETLINK_LIFETIME_FOREVER,
				   NETLINK_LIFETIME_FOREVER),
		  0);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)), 0);
	ASSERT_EQ(setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)), 0);
	ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "rdc1", 5), 0);
	ASSERT_EQ(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	netns_split_server_ready(&split);

	while (!__atomic_load_n(&srv.stop, __ATOMIC_RELAXED)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint8_t b[1500];
		char cbuf[256];
		struct iovec iov = { .iov_base = b, .iov_len = sizeof(b) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		uint32_t dst = 0;
		ssize_t n;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		n = recvmsg(fd, &mh, 0);
		if (n <= 0)
			continue;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;
				memcpy(&pi, CMSG_DATA(c), sizeof(pi));
				dst = pi.ipi_addr.s_addr;
			}
		server_handle(fd, b, (size_t)n, dst);
	}
	close(fd);
	return p;
}

static struct dhcp_client_config config(void)
{
	struct dhcp_client_config c = {
		.ifindex = client_ifindex,
		.timeout_ms = 10000,
		.initial_retransmit_ms = 200,
	};

	memcpy(c.mac, client_mac, 6);
	return c;
}

TEST(setup)
{
	netns_enter_private_or_skip();
	netns_sh_or_skip("ip link add rdc0 type veth peer name rdc1");
	ASSERT_EQ(pthread_create(&srv.thread, NULL, server_main, NULL), 0);
	client_ifindex = netns_split_client(&split, "rdc0", "rdc1", client_mac);
}

TEST(acquire_retransmit_and_nak)
{
	struct dhcp_client_config c = config();
	struct dhcp_lease l;
	uint64_t t0 = now_ms();

	server_script(1, 1, false, false, 600, 0, 0);
	ASSERT_EQ(dhcp_client_acquire(&c, &l), 0);
	ASSERT_TRUE(now_ms() - t0 < 5000);
	ASSERT_EQ(l.address, addr("10.60.0.50"));
	ASSERT_EQ(l.server_id, addr("10.60.0.1"));
	ASSERT_EQ(l.prefix, 24);
	ASSERT_EQ(l.router, addr("10.60.0.1"));
	ASSERT_EQ(l.lease_s, 600);
	ASSERT_EQ(l.n_dns, 1);
	ASSERT_STREQ(l.domain, "fake.test");
	pthread_mutex_lock(&srv.lock);
	/* dropped, answered, and again after the NAK */
	ASSERT_EQ(srv.discovers, 3);
	ASSERT_EQ(srv.selecting, 2);
	pthread_mutex_unlock(&srv.lock);
}

TEST(acquire_timeout_and_cancel)
{
	struct dhcp_client_config c = config();
	struct dhcp_lease l = { .address = 1234 };
	volatile int stop = 1;
	uint64_t t0 = now_ms();

	server_script(1000, 0, false, false, 600, 0, 0);
	c.timeout_ms = 700;
	ASSERT_EQ(dhcp_client_acquire(&c, &l), -ETIMEDOUT);
	ASSERT_TRUE(now_ms() - t0 >= 700 && now_ms() - t0 < 2000);
	ASSERT_EQ(l.address, 1234);
	pthread_mutex_lock(&srv.lock);
	ASSERT_TRUE(srv.discovers >= 2); /* 200 ms, then about 400 ms */
	pthread_mutex_unlock(&srv.lock);

	c.stop = &stop;
	c.timeout_ms = 0;
	ASSERT_EQ(dhcp_client_acquire(&c, &l), -ECANCELED);
	c.ifindex = 99999;
	ASSERT_EQ(dhcp_client_acquire(&c, &l), -ENODEV);
}

static void acquire_and_apply(struct dhcp_lease *l, uint32_t lease_s, uint32_t t1, uint32_t t2)
{
	struct dhcp_client_config c = config();

	server_script(0, 0, false, false, lease_s, t1, t2);
	ASSERT_EQ(dhcp_client_acquire(&c, l), 0);
	ASSERT_EQ(dhcp_lease_apply(client_ifindex, l, NULL), 0);
}

static uint32_t valid_lifetime(void)
{
	_cleanup_free_ struct netlink_addr *a = NULL;
	int n = netlink_addr_list(AF_INET, client_ifindex, &a);

	for (int i = 0; i < n; i++)
		if (memcmp(a[i].addr, "\x0a\x3c\x00\x32", 4) == 0)
			return a[i].valid_s;
	return 0;
}

TEST(renew_and_rebind)
{
	struct dhcp_client_config c = config();
	struct dhcp_lease l, copy;

	acquire_and_apply(&l, 600, 0, 0);
	ASSERT_TRUE(valid_lifetime() > 590 && valid_lifetime() <= 600);

	server_script(0, 0, false, false, 900, 0, 0);
	ASSERT_EQ(dhcp_client_renew(&c, false, 5000, &l), 0);
	ASSERT_EQ(l.lease_s, 900);
	ASSERT_EQ(dhcp_lease_apply(client_ifindex, &l, NULL), 0);
	ASSERT_TRUE(valid_lifetime() > 890);
	pthread_mutex_lock(&srv.lock);
	ASSERT_EQ(srv.renews, 1); /* unicast to the server */
	ASSERT_EQ(srv.rebinds, 0);
	pthread_mutex_unlock(&srv.lock);

	server_script(0, 0, false, false, 1200, 0, 0);
	ASSERT_EQ(dhcp_client_renew(&c, true, 5000, &l), 0);
	ASSERT_EQ(l.lease_s, 1200);
	pthread_mutex_lock(&srv.lock);
	ASSERT_EQ(srv.renews, 0);
	ASSERT_EQ(srv.rebinds, 1); /* broadcast */
	pthread_mutex_unlock(&srv.lock);

	/* NAK and silence leave the lease alone */
	copy = l;
	server_script(0, 0, true, false, 600, 0, 0);
	ASSERT_EQ(dhcp_client_renew(&c, false, 5000, &l), -EADDRNOTAVAIL);
	ASSERT_TRUE(memcmp(&copy, &l, sizeof(l)) == 0);
	server_script(0, 0, false, true, 600, 0, 0);
	ASSERT_EQ(dhcp_client_renew(&c, false, 500, &l), -ETIMEDOUT);
	ASSERT_TRUE(memcmp(&copy, &l, sizeof(l)) == 0);
	pthread_mutex_lock(&srv.lock);
	ASSERT_TRUE(srv.renews >= 2); /* retransmitted */
	pthread_mutex_unlock(&srv.lock);

	l.server_id = 0;
	ASSERT_EQ(dhcp_client_renew(&c, false, 500, &l), -EINVAL);
	ASSERT_EQ(netlink_addr_del(client_ifindex, AF_INET, &copy.address, copy.prefix), 0);
}

struct maintain_run {
	struct dhcp_client_config c;
	struct dhcp_lease l;
	volatile int stop;
	int r;
};

static void *maintain_main(void *p)
{
	struct maintain_run *m = p;

	m->r = dhcp_client_maintain(&m->c, &m->l);
	return NULL;
}

TEST(maintain_renews)
{
	struct maintain_run m = { .c = config() };
	pthread_t t;

	/* T1 = 1 s: maintain must renew about once per second, unicast */
	acquire_and_apply(&m.l, 30, 1, 20);
	m.c.stop = &m.stop;
	server_script(0, 0, false, false, 30, 1, 20);
	ASSERT_EQ(pthread_create(&t, NULL, maintain_main, &m), 0);
	sleep_ms(2600, NULL);
	m.stop = 1;
	pthread_join(t, NULL);
	ASSERT_EQ(m.r, 0);
	pthread_mutex_lock(&srv.lock);
	ASSERT_EQ(srv.renews, 2);
	ASSERT_EQ(srv.rebinds, 0);
	ASSERT_TRUE(srv.last_secs <= 1);
	pthread_mutex_unlock(&srv.lock);
	ASSERT_TRUE(valid_lifetime() >= 28);
	ASSERT_EQ(netlink_addr_del(client_ifindex, AF_INET, &m.l.address, m.l.prefix), 0);
}

TEST(maintain_loses_lease)
{
	struct maintain_run m = { .c = config() };
	uint64_t t0;
	pthread_t t;

	/* Lease 3 s, T1 1 s, T2 2 s, and the server stops answering: renew, rebind, give up. */
	acquire_and_apply(&m.l, 3, 1, 2);
	m.c.stop = &m.stop;
	server_script(0, 0, false, true, 3, 1, 2);
	t0 = now_ms();
	ASSERT_EQ(pthread_create(&t, NULL, maintain_main, &m), 0);
	pthread_join(t, NULL);
	ASSERT_EQ(m.r, -ETIMEDOUT);
	ASSERT_TRUE(now_ms() - t0 >= 2900 && now_ms() - t0 < 4500);
	pthread_mutex_lock(&srv.lock);
	ASSERT_TRUE(srv.renews >= 2);
	ASSERT_TRUE(srv.rebinds >= 2);
	pthread_mutex_unlock(&srv.lock);
	ASSERT_EQ(valid_lifetime(), 0); /* the address is gone */

	/* and a NAK at renewal removes it at once */
	acquire_and_apply(&m.l, 30, 1, 20);
	server_script(0, 0, true, false, 30, 1, 20);
	m.stop = 0;
	ASSERT_EQ(dhcp_client_maintain(&m.c, &m.l), -EADDRNOTAVAIL);
	ASSERT_EQ(valid_lifetime(), 0);
}

TEST(teardown)
{
	__atomic_store_n(&srv.stop, 1, __ATOMIC_RELAXED);
	pthread_join(srv.thread, NULL);
}

RUN(T(setup), T(acquire_retransmit_and_nak), T(acquire_timeout_and_cancel), T(renew_and_rebind),
    T(maintain_renews), T(maintain_loses_lease), T(teardown))
