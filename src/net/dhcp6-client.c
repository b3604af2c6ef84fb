// SPDX-License-Identifier: GPL-2.0-or-later
/* The DHCPv6 client exchanges (RFC 8415 §18.2) over a link-local UDP socket, and applying the
 * address it gets. */
#include "net/dhcp6-client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "basic/io-util.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/random-util.h"
#include "basic/time-util.h"
#include "net/netlink.h"

#define RETRANSMIT_DEFAULT_MS 1000
#define RETRANSMIT_MAX_MS 30000
/* RFC 8415 §7.6 REQ_MAX_RC: a Request is sent at most 10 times, then we solicit again */
#define REQUEST_TRIES 10
#define RECV_BUF 4096

/* RFC 8415 §15: RAND is in -0.1 .. +0.1 of the interval */
#define JITTER_FRACTION 10

uint32_t dhcp6_client_iaid(const struct dhcp6_client_config *c)
{
	return (uint32_t)c->mac[2] << 24 | (uint32_t)c->mac[3] << 16 | (uint32_t)c->mac[4] << 8 |
	       c->mac[5];
}

static int socket_open(int ifindex)
{
	_cleanup_close_ int fd = -EBADF;
	struct sockaddr_in6 sa = {
		.sin6_family = AF_INET6,
		.sin6_port = htons(DHCP6_CLIENT_PORT),
		.sin6_addr = IN6ADDR_ANY_INIT,
	};
	char ifname[IF_NAMESIZE];
	int one = 1, hops = 1;

	if (ifindex <= 0 || !if_indextoname((unsigned)ifindex, ifname))
		return -ENODEV;
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0)
		return negative_errno();
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof(ifindex)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname) + 1) < 0)
		return negative_errno();
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return negative_errno();
	return TAKE_FD(fd);
}

struct exchange6 {
	uint8_t type;
	uint8_t want; /* DHCP6_ADVERTISE or DHCP6_REPLY */
	uint32_t xid;
	const struct in6_addr *addr;	   /* IAADDR to ask for, or NULL */
	const struct dhcp6_duid *server_id; /* or NULL */
	unsigned max_tries;		   /* 0: until the deadline */
	uint64_t start_ms;		   /* for Elapsed Time */
};

/* Send e's message and retransmit it until a wanted answer arrives. 0 and the answer;
 * -ETIMEDOUT; -ECANCELED. */
static int exchange_run(int fd, const struct dhcp6_client_config *c, const struct dhcp6_duid *duid,
			const struct exchange6 *e, uint64_t deadline, struct dhcp6_lease *ret)
{
	uint64_t interval = c->initial_retransmit_ms ? c->initial_retransmit_ms
						     : RETRANSMIT_DEFAULT_MS;
	uint8_t msg[DHCP6_MAX_BUILD], buf[RECV_BUF];
	struct sockaddr_in6 dst = {
		.sin6_family = AF_INET6,
		.sin6_port = htons(DHCP6_SERVER_PORT),
		.sin6_scope_id = (uint32_t)c->ifindex,
	};

	inet_pton(AF_INET6, DHCP6_ALL_SERVERS, &dst.sin6_addr);
	for (unsigned tries = 0; e->max_tries == 0 || tries < e->max_tries; tries++) {
		uint64_t now = now_ms(), wait_until;
		int n;

		if (now >= deadline)
			return -ETIMEDOUT;
		n = dhcp6_build(msg, sizeof(msg), e->type, e->xid, duid, dhcp6_client_iaid(c), e->addr,
				e->server_id, (uint32_t)MIN((now - e->start_ms) / 10, (uint64_t)UINT16_MAX));
		if (n < 0)
			return n;
		/* no usable link-local address yet (DAD) fails the send: like a lost packet */
		if (sendto(fd, msg, (size_t)n, 0, (struct sockaddr *)&dst, sizeof(dst)) < 0)
			log_debug_errno(negative_errno(), "DHCPv6: sending type %u failed: %m",
					e->type);
		wait_until = MIN(now + random_jitter(interval, JITTER_FRACTION), deadline);
		interval = MIN(interval * 2, (uint64_t)RETRANSMIT_MAX_MS);
		for (;;) {
			struct dhcp6_lease l;
			uint8_t type;
			ssize_t len;
			int r;

			r = fd_wait_readable(fd, wait_until, c->stop);
			if (r < 0)
				return r;
			if (r == 0)
				break;
			len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (len < 0) {
				if (errno == EAGAIN || errno == EINTR)
					continue;
				return negative_errno();
			}
			r = dhcp6_parse(buf, (size_t)len, e->xid, duid, dhcp6_client_iaid(c), &type, &l);
			if (r < 0) {
				if (r != -ESRCH)
					log_debug_errno(r, "DHCPv6: ignoring malformed answer: %m");
				continue;
			}
			if (type != e->want)
				continue;
			if (e->type == DHCP6_SOLICIT && !l.has_address) {
				log_debug("DHCPv6: ignoring an Advertise without an address (%s)",
					  dhcp6_status_to_string(l.status));
				continue;
			}
			*ret = l;
			return 0;
		}
	}
	return -ETIMEDOUT;
}

int dhcp6_client_acquire(const struct dhcp6_client_config *c, bool stateful,
			 struct dhcp6_lease *ret)
{
	_cleanup_close_ int fd = -EBADF;
	uint64_t start = now_ms();
	uint64_t deadline = c->timeout_ms ? start + c->timeout_ms : UINT64_MAX;
	struct dhcp6_duid duid;
	int r;

	dhcp6_duid_from_mac(c->mac, &duid);
	fd = socket_open(c->ifindex);
	if (fd < 0)
		return fd;
	if (!stateful) {
		struct exchange6 e = { .type = DHCP6_INFORMATION_REQUEST,
				       .want = DHCP6_REPLY,
				       .xid = (uint32_t)random_u64() & 0xffffff,
				       .start_ms = start };
		return exchange_run(fd, c, &duid, &e, deadline, ret);
	}
	for (;;) {
		struct exchange6 e = { .type = DHCP6_SOLICIT,
				       .want = DHCP6_ADVERTISE,
				       .xid = (uint32_t)random_u64() & 0xffffff,
				       .start_ms = start };
		struct dhcp6_lease adv, reply;

		r = exchange_run(fd, c, &duid, &e, deadline, &adv);
		if (r < 0)
			return r;
		e = (struct exchange6){ .type = DHCP6_REQUEST,
					.want = DHCP6_REPLY,
					.xid = (uint32_t)random_u64() & 0xffffff,
					.addr = &adv.address,
					.server_id = &adv.server_id,
					.max_tries = REQUEST_TRIES,
					.start_ms = now_ms() };
		r = exchange_run(fd, c, &duid, &e, deadline, &reply);
		if (r == -ECANCELED || (r == -ETIMEDOUT && now_ms() >= deadline))
			return r;
		if (r < 0)
			continue;
		if (!reply.has_address) {
			log_debug("DHCPv6: the Reply to our Request has no address (%s); soliciting "
				  "again",
				  dhcp6_status_to_string(reply.status));
			continue;
		}
		*ret = reply;
		return 0;
	}
}

int dhcp6_lease_apply(int ifindex, const struct dhcp6_lease *l)
{
	if (!l->has_address)
		return 0;
	return netlink_addr_add(ifindex, AF_INET6, &l->address, 128,
				l->valid_s == DHCP6_INFINITE ? NETLINK_LIFETIME_FOREVER : l->valid_s,
				l->preferred_s == DHCP6_INFINITE ? NETLINK_LIFETIME_FOREVER
								 : l->preferred_s);
}

static void sleep_until(uint64_t t, const volatile int *stop)
{
	uint64_t now = now_ms();
	if (t > now)
		sleep_ms(t - now, stop);
}

int dhcp6_client_maintain(const struct dhcp6_client_config *c, struct dhcp6_lease *lease)
{
	_cleanup_close_ int fd = -EBADF;
	struct dhcp6_duid duid;

	dhcp6_duid_from_mac(c->mac, &duid);
	fd = socket_open(c->ifindex);
	if (fd < 0)
		return fd;
	for (;;) {
		uint64_t base = now_ms(), t1, t2, end;
		uint32_t pref = lease->preferred_s, valid = lease->valid_s;
		struct dhcp6_lease reply;
		int r = -ETIMEDOUT;

		if (valid == DHCP6_INFINITE) {
			while (!(c->stop && *c->stop))
				sleep_ms(1000, c->stop);
			return 0;
		}
		t1 = lease->t1_s ? lease->t1_s : pref / 2;
		t2 = lease->t2_s ? lease->t2_s : (uint64_t)pref * 4 / 5;
		t1 = MIN(t1, (uint64_t)valid);
		t2 = MIN(t2, (uint64_t)valid);
		if (t2 < t1)
			t2 = t1;
		t1 = base + t1 * 1000;
		t2 = base + t2 * 1000;
		end = base + (uint64_t)valid * 1000;

		sleep_until(t1, c->stop);
		if (c->stop && *c->stop)
			return 0;
		struct exchange6 e = { .type = DHCP6_RENEW,
				       .want = DHCP6_REPLY,
				       .xid = (uint32_t)random_u64() & 0xffffff,
				       .addr = &lease->address,
				       .server_id = &lease->server_id,
				       .start_ms = now_ms() };
		if (t2 > now_ms())
			r = exchange_run(fd, c, &duid, &e, t2, &reply);
		if (r == -ETIMEDOUT) {
			e.type = DHCP6_REBIND;
			e.server_id = NULL;
			e.xid = (uint32_t)random_u64() & 0xffffff;
			e.start_ms = now_ms();
			r = exchange_run(fd, c, &duid, &e, end, &reply);
		}
		if (r == -ECANCELED)
			return 0;
		if (r < 0)
			return r;
		if (!reply.has_address || memcmp(&reply.address, &lease->address, 16) != 0)
			return -EADDRNOTAVAIL;
		r = dhcp6_lease_apply(c->ifindex, &reply);
		if (r < 0)
			return r;
		*lease = reply;
	}
}
