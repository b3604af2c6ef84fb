/* SPDX-License-Identifier: GPL-2.0-or-later */
/* DHCPv6 client messages (RFC 8415): Solicit, Request, Renew, Rebind and Information-request
 * built in memory, Advertise and Reply parsed, without any I/O. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP6_CLIENT_PORT 546
#define DHCP6_SERVER_PORT 547
/* RFC 8415 §7.1: All_DHCP_Relay_Agents_and_Servers */
#define DHCP6_ALL_SERVERS "ff02::1:2"

/* RFC 8415 §7.3 message types */
enum {
	DHCP6_SOLICIT = 1,
	DHCP6_ADVERTISE = 2,
	DHCP6_REQUEST = 3,
	DHCP6_RENEW = 5,
	DHCP6_REBIND = 6,
	DHCP6_REPLY = 7,
	DHCP6_INFORMATION_REQUEST = 11,
};

/* RFC 8415 §21 option codes (and RFC 3646 for 23 and 24) */
enum {
	DHCP6_OPT_CLIENTID = 1,
	DHCP6_OPT_SERVERID = 2,
	DHCP6_OPT_IA_NA = 3,
	DHCP6_OPT_IAADDR = 5,
	DHCP6_OPT_ORO = 6,
	DHCP6_OPT_PREFERENCE = 7,
	DHCP6_OPT_ELAPSED_TIME = 8,
	DHCP6_OPT_STATUS_CODE = 13,
	DHCP6_OPT_DNS_SERVERS = 23,
	DHCP6_OPT_DOMAIN_LIST = 24,
};

/* RFC 8415 §21.13 status codes */
enum {
	DHCP6_STATUS_SUCCESS = 0,
	DHCP6_STATUS_UNSPEC_FAIL = 1,
	DHCP6_STATUS_NO_ADDRS_AVAIL = 2,
	DHCP6_STATUS_NO_BINDING = 3,
	DHCP6_STATUS_NOT_ON_LINK = 4,
	DHCP6_STATUS_USE_MULTICAST = 5,
};

/* RFC 8415 §11.1: a DUID is at most 128 bytes (plus the 2-byte type) */
#define DHCP6_MAX_DUID 130
#define DHCP6_MAX_DNS 4
#define DHCP6_INFINITE UINT32_MAX

/* Everything we build fits in this (header, client id, IA_NA with one address, server id,
 * elapsed time, ORO). */
#define DHCP6_MAX_BUILD 512

struct dhcp6_duid {
	uint8_t data[DHCP6_MAX_DUID];
	size_t len;
};

/* What an Advertise or Reply gives us. Absent options leave their field 0 or "". */
struct dhcp6_lease {
	struct dhcp6_duid server_id; /* option 2 */
	uint8_t preference;	     /* option 7, Advertise only; 0 when absent */
	bool has_address;	     /* an IA_NA with our IAID and a usable IAADDR */
	struct in6_addr address;
	uint32_t preferred_s, valid_s; /* of the address; preferred <= valid, valid > 0 */
	uint32_t t1_s, t2_s;	       /* of the IA_NA; 0 means "client's choice" (§21.4) */
	uint16_t status;	       /* the top-level status code, or the IA_NA's when absent */
	struct in6_addr dns[DHCP6_MAX_DNS]; /* option 23, first DHCP6_MAX_DNS servers */
	size_t n_dns;
	char domain[256]; /* first name of option 24, dotted, only letters/digits/'-'/'_' */
};

/* DUID-LL (RFC 8415 §11.4): type 3, hardware type 1 (Ethernet), the MAC. */
void dhcp6_duid_from_mac(const uint8_t mac[6], struct dhcp6_duid *ret);

/* Build a client message of type (SOLICIT, REQUEST, RENEW, REBIND or INFORMATION_REQUEST) with
 * transaction id xid (low 24 bits): Client Identifier, Elapsed Time (centiseconds, saturating),
 * Option Request (23, 24); for every type but INFORMATION_REQUEST an IA_NA with iaid and, when
 * addr is not NULL, an IAADDR asking for addr (lifetimes 0, §18.2); the Server Identifier
 * when server_id is not NULL (REQUEST and RENEW need it, §18.2.2/§18.2.4).
 * Returns the length written to buf, -ENOBUFS when cap is too small, -EINVAL for a bad type
 * or DUID length. */
int dhcp6_build(uint8_t *buf, size_t cap, uint8_t type, uint32_t xid,
		const struct dhcp6_duid *client_id, uint32_t iaid, const struct in6_addr *addr,
		const struct dhcp6_duid *server_id, uint32_t elapsed_cs);

/* Parse buf[0..len) as a server's answer to our message with transaction id xid.
 * Returns 0, the message type in ret_type (DHCP6_ADVERTISE or DHCP6_REPLY) and ret;
 * -ESRCH when it is not for us: another message type or xid, or a Client Identifier missing or
 * other than client_id (RFC 8415 §16.3, §16.10);
 * -EBADMSG when it is malformed: shorter than 4 bytes, an option that overruns its container,
 * no Server Identifier or one longer than a DUID, an option of the wrong length (IA_NA below 12,
 * IAADDR below 24, status code below 2, preference not 1, DNS servers not a multiple of 16),
 * or a domain list that is not a valid name sequence.
 * An IAADDR with preferred > valid, valid 0, or a multicast, loopback, link-local or
 * unspecified address is ignored (§21.6); an IA_NA with another IAID too; T1 > T2 (both
 * nonzero) discards the IA_NA (§21.4). ret_type and ret are untouched on failure. */
int dhcp6_parse(const uint8_t *buf, size_t len, uint32_t xid, const struct dhcp6_duid *client_id,
		uint32_t iaid, uint8_t *ret_type, struct dhcp6_lease *ret);

/* A name for a status code, e.g. "NoAddrsAvail"; "unknown" for others. */
const char *dhcp6_status_to_string(uint16_t status);
