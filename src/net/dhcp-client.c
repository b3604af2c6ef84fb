// SPDX-License-Identifier: GPL-2.0-or-later
/* The DHCPv4 client state machine over a broadcast UDP socket, and applying its lease. */
#include "net/dhcp-client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "basic/io-util.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/random-util.h"
#include "basic/time-util.h"
#include "net/netlink.h"

#define RETRANSMIT_DEFAULT_MS 4000
#define RETRANSMIT_MAX_MS 64000
/* RFC 2131 §4.4.1 leaves the number of REQUEST retransmissions to the client. */
#define REQUEST_TRIES 4
/* A reply bigger than this is truncated and then rejected by the parser. */
#define RECV_BUF 4096

/* RFC 2131 §4.1: the 4 s first interval is randomized by ±1 s; scale that to other intervals. */
#define JITTER_FRACTION 4

static int socket_open(int ifindex)
{
	_cleanup_close_ int fd = -EBADF;
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(DHCP_CLIENT_PORT),
		.sin_addr.s_addr = htonl(INADDR_ANY),
	};
	char ifname[IF_NAMESIZE];
	int one = 1;

	if (ifindex <= 0 || !if_indextoname((unsigned)ifindex, ifname))
		return -ENODEV;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0)
		return negative_errno();
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname) + 1) < 0)
		return negative_errno();
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return negative_errno();
	return TAKE_FD(fd);
}

/* What to send, to whom, and which replies count. */
struct exchange {
	uint8_t type; /* DHCP_DISCOVER or DHCP_REQUEST */
	uint32_t xid;
	uint32_t requested, server_id, ciaddr; /* as for dhcp_build_request() */
	uint32_t dst;			       /* network byte order */
	uint32_t expect_server; /* accept replies from this server only; 0: any */
	unsigned max_tries;	/* 0: until the deadline */
	uint64_t start_ms;	/* for the secs field */
};

static void addr_to_string(uint32_t a, char buf[static INET_ADDRSTRLEN])
{
	if (!inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN))
		strcpy(buf, "?");
}

/* Send e's message and retransmit it with exponential backoff until a wanted reply arrives.
 * 0 and the reply; -ETIMEDOUT (deadline, or max_tries sends unanswered); -ECANCELED. */
static int exchange_run(int fd, const struct dhcp_client_config *c, const struct exchange *e,
			uint64_t deadline, uint8_t *ret_type, struct dhcp_lease *ret)
{
	uint64_t interval = c->initial_retransmit_ms ? c->initial_retransmit_ms
						     : RETRANSMIT_DEFAULT_MS;
	uint8_t msg[DHCP_MAX_MESSAGE_SIZE];
	uint8_t buf[RECV_BUF];

	for (unsigned tries = 0; e->max_tries == 0 || tries < e->max_tries; tries++) {
		struct sockaddr_in dst = {
			.sin_family = AF_INET,
			.sin_port = htons(DHCP_SERVER_PORT),
			.sin_addr.s_addr = e->dst,
		};
		uint64_t now = now_ms(), wait_until;
		uint16_t secs = (uint16_t)MIN((now - e->start_ms) / 1000, (uint64_t)UINT16_MAX);
		int n;

		if (now >= deadline)
			return -ETIMEDOUT;
		if (e->type == DHCP_DISCOVER)
			n = dhcp_build_discover(msg, sizeof(msg), e->xid, c->mac, secs);
		else
			n = dhcp_build_request(msg, sizeof(msg), e->xid, c->mac, secs, e->requested,
					       e->server_id, e->ciaddr);
		if (n < 0)
			return n;
		/* A lost send is like a lost packet: the next retransmission tries again. */
		if (sendto(fd, msg, (size_t)n, 0, (struct sockaddr *)&dst, sizeof(dst)) < 0)
			log_debug_errno(negative_errno(), "DHCP: sending type %u failed: %m",
					e->type);

		wait_until = MIN(now + random_jitter(interval, JITTER_FRACTION), deadline);
		interval = MIN(interval * 2, (uint64_t)RETRANSMIT_MAX_MS);
		for (;;) {
			struct sockaddr_in src;
			socklen_t slen = sizeof(src);
			struct dhcp_lease l;
			uint8_t type;
			ssize_t len;
			int r;

			r = fd_wait_readable(fd, wait_until, c->stop);
			if (r < 0)
				return r;
			if (r == 0)
				break;
			len = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&src,
				       &slen);
			if (len < 0) {
				if (errno == EAGAIN || errno == EINTR)
					continue;
				return negative_errno();
			}
			r = dhcp_parse(buf, (size_t)len, e->xid, c->mac, &type, &l);
			if (r < 0) {
				if (r != -ESRCH)
					log_debug_errno(r, "DHCP: ignoring malformed reply: %m");
				continue;
			}
			/* RFC 2131 table 3 requires option 54; fall back to the sender. */
			if (l.server_id == 0 && slen >= sizeof(src))
				l.server_id = src.sin_addr.s_addr;
			if (e->type == DHCP_DISCOVER ? type != DHCP_OFFER
						     : type != DHCP_ACK && type != DHCP_NAK)
				continue;
			if (e->expect_server && l.server_id != e->expect_server)
				continue;
			*ret_type = type;
			*ret = l;
			return 0;
		}
	}
	return -ETIMEDOUT;
}

int dhcp_client_acquire(const struct dhcp_client_config *c, struct dhcp_lease *ret)
{
	_cleanup_close_ int fd = -EBADF;
	uint64_t start = now_ms();
	uint64_t deadline = c->timeout_ms ? start + c->timeout_ms : UINT64_MAX;
	int r;

	fd = socket_open(c->ifindex);
	if (fd < 0)
		return fd;
	for (;;) {
		struct exchange e = {
			.type = DHCP_DISCOVER,
			.xid = (uint32_t)random_u64(),
			.dst = htonl(INADDR_BROADCAST),
			.start_ms = start,
		};
		struct dhcp_lease offer, ack;
		char a[INET_ADDRSTRLEN], s[INET_ADDRSTRLEN];
		uint64_t left;
		uint8_t type;

		r = exchange_run(fd, c, &e, deadline, &type, &offer);
		if (r < 0)
			return r;
		addr_to_string(offer.address, a);
		addr_to_string(offer.server_id, s);
		log_debug("DHCP: offer of %s from %s", a, s);

		/* RFC 2131 §4.4.1: the REQUEST keeps the OFFER's xid. */
		e.type = DHCP_REQUEST;
		e.requested = offer.address;
		e.server_id = e.expect_server = offer.server_id;
		e.max_tries = REQUEST_TRIES;
		r = exchange_run(fd, c, &e, deadline, &type, &ack);
		if (r == -ETIMEDOUT && now_ms() < deadline) {
			log_debug("DHCP: no answer to REQUEST from %s, starting over", s);
			continue;
		}
		if (r < 0)
			return r;
		if (type == DHCP_NAK) {
			log_debug("DHCP: NAK from %s, starting over", s);
			/* Do not hammer a server that keeps refusing. */
			left = deadline - MIN(deadline, now_ms());
			sleep_ms(MIN(c->initial_retransmit_ms ? c->initial_retransmit_ms
							      : RETRANSMIT_DEFAULT_MS,
				     left),
				 c->stop);
			continue;
		}
		addr_to_string(ack.address, a);
		log_debug("DHCP: ACK for %s/%u from %s, lease %us", a, ack.prefix, s, ack.lease_s);
		*ret = ack;
		return 0;
	}
}

int dhcp_client_renew(const struct dhcp_client_config *c, bool rebind, uint64_t timeout_ms,
		      struct dhcp_lease *lease)
{
	_cleanup_close_ int fd = -EBADF;
	uint64_t start = now_ms();
	struct exchange e = {
		.type = DHCP_REQUEST,
		.xid = (uint32_t)random_u64(),
		.ciaddr = lease->address,
		.dst = rebind ? htonl(INADDR_BROADCAST) : lease->server_id,
		.expect_server = rebind ? 0 : lease->server_id,
		.start_ms = start,
	};
	struct dhcp_lease l;
	uint8_t type;
	int r;

	if (lease->address == 0 || (!rebind && lease->server_id == 0))
		return -EINVAL;
	fd = socket_open(c->ifindex);
	if (fd < 0)
		return fd;
	r = exchange_run(fd, c, &e, timeout_ms ? start + timeout_ms : UINT64_MAX, &type, &l);
	if (r < 0)
		return r;
	if (type == DHCP_NAK)
		return -EADDRNOTAVAIL;
	*lease = l;
	return 0;
}

static bool in_subnet(uint32_t addr, uint32_t net, uint8_t prefix)
{
	uint32_t mask = dhcp_prefix_to_netmask(prefix);

	return (addr & mask) == (net & mask);
}

static int route_add(int ifindex, const struct dhcp_lease *l, uint32_t dst, uint8_t prefix,
		     uint32_t gateway)
{
	struct netlink_route rt = {
		.family = AF_INET,
		.dst_prefix = prefix,
		.oif = ifindex,
		.protocol = RTPROT_DHCP,
		/* Cloud /32 leases put the router outside the subnet: it is on the link anyway. */
		.onlink = gateway != 0 && !in_subnet(gateway, l->address, l->prefix),
	};
	char d[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];
	int r;

	memcpy(rt.dst, &dst, 4);
	memcpy(rt.gateway, &gateway, 4);
	memcpy(rt.prefsrc, &l->address, 4);
	r = netlink_route_add(&rt);
	addr_to_string(dst, d);
	addr_to_string(gateway, g);
	if (r < 0)
		return log_debug_errno(r, "DHCP: adding route %s/%u via %s%s failed: %m", d, prefix,
				       g, rt.onlink ? " onlink" : "");
	log_debug("DHCP: route %s/%u via %s%s", d, prefix, g, rt.onlink ? " onlink" : "");
	return 0;
}

int dhcp_lease_write_resolv_conf(const struct dhcp_lease *l, const char *path)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	int fd, r;

	if (!l || !path)
		return -EINVAL;
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	f = fdopen(fd, "w");
	if (!f) {
		r = negative_errno();
		close(fd);
		unlink(tmp);
		return r;
	}
	fprintf(f, "# Written by reimage from a DHCP lease.\n");
	for (size_t i = 0; i < l->n_dns && i < DHCP_MAX_DNS; i++) {
		char a[INET_ADDRSTRLEN];
		addr_to_string(l->dns[i], a);
		fprintf(f, "nameserver %s\n", a);
	}
	/* dhcp_parse() only keeps names made of letters, digits, '-', '_' and '.'. */
	if (l->domain[0])
		fprintf(f, "search %s\n", l->domain);
	if (fchmod(fileno(f), 0644) < 0 || fflush(f) != 0 || ferror(f) || fsync(fileno(f)) < 0) {
		r = negative_errno();
		unlink(tmp);
		return r;
	}
	if (rename(tmp, path) < 0) {
		r = negative_errno();
		unlink(tmp);
		return r;
	}
	return 0;
}

int dhcp_lease_apply(int ifindex, const struct dhcp_lease *l, const char *resolv_conf)
{
	uint32_t lifetime;
	int r;

	if (!l || l->address == 0 || l->prefix > 32 || l->lease_s == 0)
		return -EINVAL;
	if (l->mtu) {
		r = netlink_link_set_mtu(ifindex, l->mtu);
		if (r < 0)
			log_debug_errno(r, "DHCP: setting MTU %u failed, ignoring: %m", l->mtu);
	}
	lifetime = l->lease_s == DHCP_INFINITE ? NETLINK_LIFETIME_FOREVER : l->lease_s;
	r = netlink_addr_add(ifindex, AF_INET, &l->address, l->prefix, lifetime, lifetime);
	if (r < 0)
		return log_debug_errno(r, "DHCP: adding the address failed: %m");

	if (l->n_routes > 0) {
		/* Routes without a gateway first: a gateway may be reachable only through them. */
		for (int pass = 0; pass < 2; pass++)
			for (size_t i = 0; i < l->n_routes && i < DHCP_MAX_ROUTES; i++) {
				const struct dhcp_route *rt = &l->routes[i];
				if ((rt->gateway == 0) != (pass == 0))
					continue;
				r = route_add(ifindex, l, rt->dst, rt->prefix, rt->gateway);
				if (r < 0)
					return r;
			}
	} else if (l->router != 0) {
		r = route_add(ifindex, l, 0, 0, l->router);
		if (r < 0)
			return r;
	}

	if (resolv_conf && (l->n_dns > 0 || l->domain[0])) {
		r = dhcp_lease_write_resolv_conf(l, resolv_conf);
		if (r < 0)
			return log_debug_errno(r, "DHCP: writing %s failed: %m", resolv_conf);
	}
	return 0;
}

int dhcp_client_maintain(const struct dhcp_client_config *c, struct dhcp_lease *lease)
{
	uint64_t start = now_ms();

	for (;;) {
		uint64_t t1, t2, end, sent;
		struct dhcp_lease l = *lease;
		int r;

		if (lease->lease_s == DHCP_INFINITE) {
			while (!(c->stop && *c->stop))
				sleep_ms(1000, c->stop);
			return 0;
		}
		t1 = start + (uint64_t)lease->t1_s * 1000;
		t2 = start + (uint64_t)lease->t2_s * 1000;
		end = start + (uint64_t)lease->lease_s * 1000;

		sleep_ms(t1 - MIN(t1, now_ms()), c->stop);
		if (c->stop && *c->stop)
			return 0;
		sent = now_ms();
		r = -ETIMEDOUT;
		if (sent < t2) {
			log_debug("DHCP: T1 reached, renewing");
			r = dhcp_client_renew(c, false, t2 - sent, &l);
		}
		if (r == -ETIMEDOUT && now_ms() < end) {
			log_debug("DHCP: T2 reached, rebinding");
			sent = now_ms();
			r = dhcp_client_renew(c, true, end - sent, &l);
		}
		if (r == -ECANCELED)
			return 0;
		if (r == -ETIMEDOUT || r == -EADDRNOTAVAIL) {
			/* The kernel drops the address itself at the end of its valid lifetime;
			 * after a NAK it must go now. */
			(void)netlink_addr_del(c->ifindex, AF_INET, &lease->address, lease->prefix);
			return log_debug_errno(r, "DHCP: lease lost: %m");
		}
		if (r < 0)
			return r;
		if (l.address != lease->address)
			(void)netlink_addr_del(c->ifindex, AF_INET, &lease->address, lease->prefix);
		r = dhcp_lease_apply(c->ifindex, &l, c->resolv_conf);
		if (r < 0)
			return r;
		*lease = l;
		start = sent;
	}
}
