/* SPDX-License-Identifier: GPL-2.0-or-later */
/* DHCPv4 messages: the BOOTP layout of RFC 2131 §2 and the options of RFC 2132, built and parsed
 * in memory without any I/O. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* RFC 2131 §2: op .. file is 236 bytes, then the 4-byte magic cookie. */
#define DHCP_HEADER_SIZE 236
#define DHCP_MIN_SIZE (DHCP_HEADER_SIZE + 4)
/* RFC 1542 §3.3: BOOTP messages are at least 300 bytes; pad short ones. */
#define DHCP_MIN_SEND_SIZE 300
/* RFC 2131 §2: a client must accept 576-byte messages; we say so in option 57. */
#define DHCP_MAX_MESSAGE_SIZE 576

#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68

/* Option 53 values (RFC 2132 §9.6). */
enum {
	DHCP_DISCOVER = 1,
	DHCP_OFFER = 2,
	DHCP_REQUEST = 3,
	DHCP_DECLINE = 4,
	DHCP_ACK = 5,
	DHCP_NAK = 6,
	DHCP_RELEASE = 7,
	DHCP_INFORM = 8,
};

/* Option 51 value for a lease that never expires (RFC 2132 §9.2). */
#define DHCP_INFINITE UINT32_MAX

#define DHCP_MAX_DNS 4
#define DHCP_MAX_ROUTES 16

struct dhcp_route {
	uint32_t dst; /* network byte order, host bits cleared */
	uint8_t prefix;
	uint32_t gateway; /* network byte order; 0 means the destination is on the link */
};

/* Addresses are in network byte order; absent options leave their field 0 or "". */
struct dhcp_lease {
	uint32_t address;   /* yiaddr */
	uint32_t server_id; /* option 54 */
	uint32_t router;    /* first address of option 3; 0 when option 121 is present */
	uint32_t broadcast; /* option 28 */
	uint8_t prefix;     /* option 1, or the classful prefix of address without it */
	uint32_t lease_s;   /* option 51; DHCP_INFINITE for an infinite lease */
	uint32_t t1_s;      /* option 58, or 0.5 × lease_s (RFC 2131 §4.4.5) */
	uint32_t t2_s;      /* option 59, or 0.875 × lease_s */
	uint32_t dns[DHCP_MAX_DNS]; /* option 6, first DHCP_MAX_DNS servers */
	size_t n_dns;
	char domain[256];   /* option 15, only when it is a valid domain name */
	char hostname[64];  /* option 12, only when it is a valid host name */
	uint16_t mtu;       /* option 26, 0 when absent or below 68 */
	struct dhcp_route routes[DHCP_MAX_ROUTES]; /* option 121 (RFC 3442), first 16 */
	size_t n_routes;
};

/* DHCPDISCOVER (RFC 2131 §4.4.1) with the BROADCAST flag set, so that the server broadcasts its
 * reply to a client without an address. Carries options 53, 61 (client identifier: type 1 and
 * mac, RFC 2132 §9.14), 57 (maximum message size DHCP_MAX_MESSAGE_SIZE) and 55 (parameter
 * request list 1, 3, 6, 15, 26, 28, 51, 54, 121), and is padded to DHCP_MIN_SEND_SIZE.
 * Returns the length written to buf, or -ENOBUFS when cap is too small. */
int dhcp_build_discover(uint8_t *buf, size_t cap, uint32_t xid, const uint8_t mac[6],
			uint16_t secs);

/* DHCPREQUEST (RFC 2131 §4.3.2, table 4), with the same options as the DISCOVER plus:
 *   SELECTING: requested = the offered address, server_id = the offering server, ciaddr = 0;
 *   INIT-REBOOT: requested set, server_id = 0, ciaddr = 0;
 *   RENEWING and REBINDING: requested = server_id = 0, ciaddr = our address.
 * Options 50 and 54 are written only when nonzero. The BROADCAST flag is set when ciaddr is 0
 * (we cannot receive unicast yet). Returns the length, or -ENOBUFS. */
int dhcp_build_request(uint8_t *buf, size_t cap, uint32_t xid, const uint8_t mac[6],
		       uint16_t secs, uint32_t requested, uint32_t server_id, uint32_t ciaddr);

/* Parse buf[0..len) as a BOOTREPLY to the client with transaction id xid and hardware address
 * mac. Options are read from the options field and, when option 52 (overload) says so, from the
 * file and sname fields; an option that appears several times is the concatenation of its
 * parts (RFC 3396).
 *
 * Returns 0, the message type in ret_type (DHCP_OFFER, DHCP_ACK or DHCP_NAK) and the lease in
 * ret (for a NAK only server_id is set);
 * -ESRCH when the message is not for us (not a BOOTREPLY, not Ethernet, other xid or chaddr);
 * -EBADMSG when it is malformed: shorter than DHCP_MIN_SIZE, bad magic cookie, an option that
 * overruns its field, an option of the wrong length, a non-contiguous netmask (option 1), a bad
 * classless route (option 121), no or an unexpected message type, and for OFFER and ACK a
 * missing or zero lease time (option 51) or an unusable yiaddr (0, loopback, multicast,
 * broadcast).
 * ret_type and ret are left untouched on failure.
 * Options 12 and 15 that are not host/domain names (letters, digits, '-', '_', '.') are dropped,
 * since they end up in resolv.conf. T1 and T2 that are not T1 <= T2 <= lease fall back to the
 * defaults. */
int dhcp_parse(const uint8_t *buf, size_t len, uint32_t xid, const uint8_t mac[6],
	       uint8_t *ret_type, struct dhcp_lease *ret);

/* Prefix length of a netmask in network byte order: 0..32, or -EINVAL when the mask is not
 * contiguous ones followed by zeros. */
int dhcp_netmask_to_prefix(uint32_t mask);

/* The netmask (network byte order) of a prefix length 0..32. */
uint32_t dhcp_prefix_to_netmask(uint8_t prefix);
