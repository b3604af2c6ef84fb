// SPDX-License-Identifier: GPL-2.0-or-later
/* Job file parser and writer. */
#include "format/job.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "basic/macro.h"
#include "basic/parse-util.h"
#include "basic/strbuf.h"
#include "format/base64.h"
#include "format/cmdline.h"
#include "format/http-header.h"

void job_init(struct job *j)
{
	*j = (struct job){
		.retries = 10,
		.retry_for_ms = 600000,
		.attempts = 3,
		.then = JOB_THEN_REBOOT,
		.target_timeout_ms = 60000,
		.net_timeout_ms = 120000,
		.dhcp_fallback = true,
		.hold_timeout_ms = 900000,
		.ssh_port = 22,
	};
}

bool job_may_boot_new_system(const struct job *j)
{
	return j->then == JOB_THEN_KEXEC || j->hold;
}

bool job_wants_configure(const struct job *j)
{
	return j->hostname || j->keep_network || j->authorized_keys || j->ci_user_data ||
	       j->ci_meta_data || j->grow || j->n_host_keys || j->n_copies;
}

bool job_hostname_is_valid(const char *s)
{
	size_t n = strlen(s), label = 0;

	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char c = s[i];
		if (c == '.' || c == 0) {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (c == '-' && label > 0)))
			return false;
		label++;
	}
	return true;
}

bool job_dest_path_is_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 2 || n >= 4096 || s[0] != '/' || s[n - 1] == '/' || strstr(s, "//"))
		return false;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	for (const char *p = s + 1; *p;) {
		size_t c = strcspn(p, "/");
		if ((c == 1 && p[0] == '.') || (c == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += c + (p[c] == '/');
	}
	return true;
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void job_done(struct job *j)
{
	free(j->src);
	free(j->dst);
	free(j->dst_serial);
	free(j->dst_wwn);
	free(j->dst_model);
	free(j->member);
	free(j->net_path);
	free(j->tls_cacert);
	free(j->tls_client_cert);
	wipe_free(j->tls_client_key);
	free(j->tls_pin);
	free(j->net_ifname);
	free(j->hostname);
	for (size_t i = 0; i < j->n_copies; i++)
		free(j->copies[i].dest);
	/* a proxy's user info is a secret */
	if (j->http_proxy)
		explicit_bzero(j->http_proxy, strlen(j->http_proxy));
	if (j->https_proxy)
		explicit_bzero(j->https_proxy, strlen(j->https_proxy));
	free(j->http_proxy);
	free(j->https_proxy);
	free(j->no_proxy);
	for (size_t i = 0; i < j->n_headers; i++)
		wipe_free(j->headers[i]);
	free(j->report_url);
	for (size_t i = 0; i < j->n_report_headers; i++)
		wipe_free(j->report_headers[i]);
	free(j->report_cacert);
	free(j->report_run_id);
	free(j->report_hostname);
	free(j->report_machine_id);
	explicit_bzero(j, sizeof(*j));
}

int job_ip_parse(const char *s, bool allow_no_prefix, struct job_ip *ret)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned prefix = 0;
	struct job_ip ip = { 0 };

	if (alen == 0 || alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, alen);
	addr[alen] = 0;
	if (inet_pton(AF_INET, addr, ip.addr) == 1)
		ip.family = AF_INET;
	else if (inet_pton(AF_INET6, addr, ip.addr) == 1)
		ip.family = AF_INET6;
	else
		return -EINVAL;
	if (slash) {
		if (parse_uint(slash + 1, &prefix) < 0 || prefix > (ip.family == AF_INET ? 32U : 128U))
			return -EINVAL;
	} else if (!allow_no_prefix)
		return -EINVAL;
	else
		prefix = ip.family == AF_INET ? 32 : 128;
	ip.prefix = (uint8_t)prefix;
	*ret = ip;
	return 0;
}

void job_ip_format(const struct job_ip *ip, bool with_prefix, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(ip->family, ip->addr, a, sizeof(a));
	if (with_prefix)
		snprintf(buf, n, "%s/%u", a, ip->prefix);
	else
		snprintf(buf, n, "%s", a);
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned b[6];
	char end;

	if (strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &end) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (s[i * 3] == ' ' || s[i * 3] == '+' || s[i * 3] == '-')
			return -EINVAL;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

static int parse_bool(const char *s, bool *ret)
{
	if (!strcmp(s, "yes") || !strcmp(s, "true") || !strcmp(s, "1"))
		*ret = true;
	else if (!strcmp(s, "no") || !strcmp(s, "false") || !strcmp(s, "0"))
		*ret = false;
	else
		return -EINVAL;
	return 0;
}

static const char *const then_names[] = {
	[JOB_THEN_REBOOT] = "reboot",
	[JOB_THEN_POWEROFF] = "poweroff",
	[JOB_THEN_HOLD] = "hold",
	[JOB_THEN_KEXEC] = "kexec",
};

int job_then_from_string(const char *s, enum job_then *ret)
{
	for (size_t i = 0; i < sizeof(then_names) / sizeof(then_names[0]); i++)
		if (!strcmp(s, then_names[i])) {
			*ret = (enum job_then)i;
			return 0;
		}
	return -EINVAL;
}

const char *job_then_to_string(enum job_then t)
{
	return (size_t)t < sizeof(then_names) / sizeof(then_names[0]) ? then_names[t] : "reboot";
}

enum key_flags {
	KEY_REPEAT = 1,
};

struct key {
	const char *name;
	unsigned flags;
};

static const struct key keys[] = {
	{ "src" }, { "dst" }, { "dst-serial" }, { "dst-wwn" }, { "dst-model" }, { "dst-size" },
	{ "sha256" }, { "image-sha256" }, { "verify" }, { "header", KEY_REPEAT }, { "member" },
	{ "retries" }, { "retry-for" }, { "attempts" }, { "then" }, { "target-timeout" },
	{ "net-timeout" }, { "net-mac" }, { "net-path" }, { "net-address", KEY_REPEAT },
	{ "net-gateway", KEY_REPEAT }, { "net-dns", KEY_REPEAT }, { "dhcp-fallback" },
	{ "net-link", KEY_REPEAT },
	{ "minisign-pubkey" }, { "minisign-sig" }, { "minisign-comment" }, { "minisign-global-sig" },
	{ "minisign-comment-base64" },
	{ "tls-cacert", KEY_REPEAT }, { "tls-client-cert", KEY_REPEAT },
	{ "tls-client-key", KEY_REPEAT }, { "tls-pin" }, { "tls-insecure" },
	{ "hold" }, { "hold-timeout" }, { "ssh-port" },
	{ "net-ifname" }, { "hostname" }, { "keep-network" }, { "authorized-keys" },
	{ "cloud-init-user-data" }, { "cloud-init-meta-data" }, { "grow" },
	{ "ssh-host-key", KEY_REPEAT }, { "copy", KEY_REPEAT },
	{ "report-url" }, { "report-header", KEY_REPEAT }, { "report-cacert", KEY_REPEAT },
	{ "report-run-id" }, { "report-hostname" }, { "report-machine-id" }, { "start-jitter" },
	{ "http-proxy" }, { "https-proxy" }, { "no-proxy" },
};

int job_proxy_check(const char *s, const char **why)
{
	static const char *const schemes[] = { "http", "https", "socks4", "socks4a", "socks5",
					       "socks5h" };
	const char *sep = strstr(s, "://"), *host = s;

	if (!*s || strlen(s) > 2048)
		return *why = "expected a proxy URL such as http://proxy.example:3128", -EINVAL;
	if (sep) {
		bool known = false;
		for (size_t i = 0; i < ELEMENTSOF(schemes); i++)
			if ((size_t)(sep - s) == strlen(schemes[i]) &&
			    !strncasecmp(s, schemes[i], strlen(schemes[i])))
				known = true;
		if (!known)
			return *why = "a proxy's scheme is http, https, socks4, socks4a, socks5 or "
				      "socks5h",
			       -EINVAL;
		host = sep + 3;
	}
	for (const char *c = host; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f || *c == '#' || *c == '?')
			return *why = "a proxy URL has no spaces, control characters, query or "
				      "fragment",
			       -EINVAL;
	if (!*host || *host == '/' || *host == ':')
		return *why = "the proxy URL names no host", -EINVAL;
	return 0;
}

/* One line of PEM text per key line: joined back with newlines. */
static int append_line(char **dst, const char *v)
{
	size_t old = *dst ? strlen(*dst) : 0, n = strlen(v);
	char *c;

	if (old + n + 2 > JOB_MAX_SIZE)
		return -EFBIG;
	c = malloc(old + n + 2);
	if (!c)
		return -ENOMEM;
	if (old)
		memcpy(c, *dst, old);
	memcpy(c + old, v, n);
	c[old + n] = '\n';
	c[old + n + 1] = 0;
	if (*dst) {
		explicit_bzero(*dst, old); /* it may be the client key */
		free(*dst);
	}
	*dst = c;
	return 0;
}

static int set_string(char **dst, const char *v)
{
	char *c = strdup(v);
	if (!c)
		return -ENOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

/* Apply one key; returns 0, -EINVAL with a reason in why, or -ENOMEM. */
static int apply(struct job *j, const char *k, const char *v, const char **why)
{
	uint64_t u;
	unsigned ui;

	*why = NULL;
	if (!strcmp(k, "src"))
		return *v ? set_string(&j->src, v) : (*why = "empty source", -EINVAL);
	if (!strcmp(k, "dst"))
		return *v ? set_string(&j->dst, v) : (*why = "empty target", -EINVAL);
	if (!strcmp(k, "dst-serial"))
		return set_string(&j->dst_serial, v);
	if (!strcmp(k, "dst-wwn"))
		return set_string(&j->dst_wwn, v);
	if (!strcmp(k, "dst-model"))
		return set_string(&j->dst_model, v);
	if (!strcmp(k, "member"))
		return *v ? set_string(&j->member, v) : (*why = "empty member name", -EINVAL);
	if (!strcmp(k, "net-path"))
		return set_string(&j->net_path, v);
	if (!strcmp(k, "dst-size")) {
		if (parse_u64(v, &u) < 0)
			return *why = "expected a size in bytes", -EINVAL;
		j->dst_size = u;
		return 0;
	}
	if (!strcmp(k, "sha256") || !strcmp(k, "image-sha256")) {
		bool img = k[0] == 'i';
		if (hex_decode_exact(v, strlen(v), img ? j->image_sha256 : j->sha256, 32) < 0)
			return *why = "expected 64 hexadecimal digits", -EINVAL;
		*(img ? &j->have_image_sha256 : &j->have_sha256) = true;
		return 0;
	}
	if (!strcmp(k, "hold"))
		return parse_bool(v, &j->hold) < 0 ? (*why = "expected yes or no", -EINVAL) : 0;
	if (!strcmp(k, "hold-timeout"))
		return parse_duration_ms(v, &j->hold_timeout_ms) < 0
			       ? (*why = "expected a duration such as 20s, 15m or 0 (none)", -EINVAL)
			       : 0;
	if (!strcmp(k, "ssh-port")) {
		if (parse_uint(v, &ui) < 0 || ui == 0 || ui > 65535)
			return *why = "expected a TCP port, 1 to 65535", -EINVAL;
		j->ssh_port = ui;
		return 0;
	}
	if (!strcmp(k, "verify") || !strcmp(k, "dhcp-fallback"))
		return parse_bool(v, k[0] == 'v' ? &j->verify : &j->dhcp_fallback) < 0
			       ? (*why = "expected yes or no", -EINVAL)
			       : 0;
	if (!strcmp(k, "header")) {
		if (http_request_header_validate(v) < 0)
			return *why = "expected 'Name: value'", -EINVAL;
		if (j->n_headers >= JOB_MAX_HEADERS)
			return *why = "too many headers", -EINVAL;
		j->headers[j->n_headers] = strdup(v);
		if (!j->headers[j->n_headers])
			return -ENOMEM;
		j->n_headers++;
		return 0;
	}
	if (!strcmp(k, "retries") || !strcmp(k, "attempts")) {
		if (parse_uint(v, &ui) < 0)
			return *why = "expected a whole number", -EINVAL;
		if (k[0] == 'a' && ui == 0)
			return *why = "at least 1 attempt", -EINVAL;
		*(k[0] == 'r' ? &j->retries : &j->attempts) = ui;
		return 0;
	}
	if (!strcmp(k, "retry-for") || !strcmp(k, "target-timeout") || !strcmp(k, "net-timeout")) {
		if (parse_duration_ms(v, &u) < 0)
			return *why = "expected a duration such as 30, 90s, 15m", -EINVAL;
		*(k[0] == 'r' ? &j->retry_for_ms : k[0] == 't' ? &j->target_timeout_ms
							       : &j->net_timeout_ms) = u;
		return 0;
	}
	if (!strcmp(k, "then"))
		return job_then_from_string(v, &j->then) < 0
			       ? (*why = "expected reboot, poweroff, hold or kexec", -EINVAL)
			       : 0;
	if (!strcmp(k, "net-mac")) {
		if (parse_mac(v, j->mac) < 0)
			return *why = "expected a MAC address like 52:54:00:12:34:56", -EINVAL;
		j->have_mac = true;
		return 0;
	}
	if (!strcmp(k, "net-address")) {
		if (j->n_addresses >= JOB_MAX_ADDRESSES)
			return *why = "too many addresses", -EINVAL;
		if (job_ip_parse(v, false, &j->addresses[j->n_addresses]) < 0)
			return *why = "expected ADDRESS/PREFIX", -EINVAL;
		j->n_addresses++;
		return 0;
	}
	if (!strcmp(k, "net-gateway")) {
		struct job_ip g;
		if (job_ip_parse(v, true, &g) < 0)
			return *why = "expected an IPv4 or IPv6 address", -EINVAL;
		for (size_t i = 0; i < j->n_gateways; i++)
			if (j->gateways[i].family == g.family)
				return *why = "one gateway per address family", -EINVAL;
		j->gateways[j->n_gateways++] = g;
		return 0;
	}
	if (!strcmp(k, "net-link")) {
		struct net_link l;
		if (j->n_links >= JOB_MAX_LINKS)
			return *why = "at most 8 net-link lines", -EINVAL;
		if (net_link_parse(v, &l, why) < 0)
			return -EINVAL;
		for (size_t i = 0; i < j->n_links; i++)
			if (!strcmp(j->links[i].name, l.name))
				return *why = "this interface name has a net-link line already", -EINVAL;
		for (size_t m = 0; m < l.n_lower; m++) {
			bool found = net_link_lower_is_mac(l.lower[m], NULL);
			for (size_t i = 0; !found && i < j->n_links; i++)
				found = !strcmp(j->links[i].name, l.lower[m]);
			if (!found)
				return *why = "a lower link is neither a MAC nor the name of an "
					      "earlier net-link line",
				       -EINVAL;
		}
		j->links[j->n_links++] = l;
		return 0;
	}
	if (!strcmp(k, "net-dns")) {
		if (j->n_dns >= JOB_MAX_DNS)
			return *why = "at most 4 DNS servers", -EINVAL;
		if (job_ip_parse(v, true, &j->dns[j->n_dns]) < 0)
			return *why = "expected an IPv4 or IPv6 address", -EINVAL;
		j->n_dns++;
		return 0;
	}
	if (!strcmp(k, "minisign-pubkey"))
		return minisign_pubkey_parse(v, strlen(v), &j->minisign_key) < 0
			       ? (*why = "expected a minisign public key line (RW...)", -EINVAL)
			       : 0;
	if (!strcmp(k, "minisign-sig") || !strcmp(k, "minisign-global-sig")) {
		uint8_t raw[74];
		bool global = k[9] == 'g';
		if (base64_decode_exact(v, strlen(v), raw, global ? 64 : 74) < 0)
			return *why = "expected the base64 line of a minisign signature", -EINVAL;
		if (global)
			memcpy(j->minisign_sig.global_sig, raw, 64);
		else {
			if (raw[0] != 'E' || raw[1] != 'D')
				return *why = "only prehashed (ED) minisign signatures", -EINVAL;
			j->minisign_sig.prehashed = true;
			memcpy(j->minisign_sig.keynum, raw + 2, 8);
			memcpy(j->minisign_sig.sig, raw + 10, 64);
		}
		return 0;
	}
	if (!strcmp(k, "tls-cacert") || !strcmp(k, "tls-client-cert") || !strcmp(k, "tls-client-key")) {
		char **dst = !strcmp(k, "tls-cacert")	   ? &j->tls_cacert
			     : !strcmp(k, "tls-client-cert") ? &j->tls_client_cert
							      : &j->tls_client_key;
		if (!*v)
			return *why = "expected a line of PEM text", -EINVAL;
		return append_line(dst, v) == -EFBIG ? (*why = "too long", -EINVAL) : 0;
	}
	if (!strcmp(k, "tls-pin")) {
		if (strncmp(v, "sha256//", 8) != 0)
			return *why = "expected sha256//BASE64[;sha256//BASE64...]", -EINVAL;
		return set_string(&j->tls_pin, v);
	}
	if (!strcmp(k, "report-url")) {
		if (strncasecmp(v, "http://", 7) != 0 && strncasecmp(v, "https://", 8) != 0)
			return *why = "expected an http:// or https:// URL", -EINVAL;
		return set_string(&j->report_url, v);
	}
	if (!strcmp(k, "report-header")) {
		if (http_request_header_validate(v) < 0)
			return *why = "expected 'Name: value'", -EINVAL;
		if (j->n_report_headers >= JOB_MAX_HEADERS)
			return *why = "too many headers", -EINVAL;
		j->report_headers[j->n_report_headers] = strdup(v);
		if (!j->report_headers[j->n_report_headers])
			return -ENOMEM;
		j->n_report_headers++;
		return 0;
	}
	if (!strcmp(k, "report-cacert")) {
		if (!*v)
			return *why = "expected a line of PEM text", -EINVAL;
		return append_line(&j->report_cacert, v) == -EFBIG ? (*why = "too long", -EINVAL) : 0;
	}
	if (!strcmp(k, "report-run-id") || !strcmp(k, "report-hostname") ||
	    !strcmp(k, "report-machine-id")) {
		if (!*v || strlen(v) > 255)
			return *why = "expected 1 to 255 characters", -EINVAL;
		return set_string(k[7] == 'r' ? &j->report_run_id
				  : k[7] == 'h' ? &j->report_hostname
						: &j->report_machine_id,
				  v);
	}
	if (!strcmp(k, "start-jitter")) {
		if (parse_duration_ms(v, &u) < 0 || u > 24ULL * 3600 * 1000)
			return *why = "expected a duration up to 24h such as 30s or 5m", -EINVAL;
		j->start_jitter_ms = u;
		return 0;

	}
	if (!strcmp(k, "http-proxy") || !strcmp(k, "https-proxy")) {
		if (job_proxy_check(v, why) < 0)
			return -EINVAL;
		return set_string(!strcmp(k, "http-proxy") ? &j->http_proxy : &j->https_proxy, v);
	}
	if (!strcmp(k, "no-proxy")) {
		for (const char *c = v; *c; c++)
			if (!isalnum((unsigned char)*c) && !strchr(".-_:,*[]/ ", *c))
				return *why = "expected host names, domains, addresses or '*', "
					      "separated by commas",
				       -EINVAL;
		return set_string(&j->no_proxy, v);
	}
	if (!strcmp(k, "tls-insecure"))
		return parse_bool(v, &j->tls_insecure) < 0 ? (*why = "expected yes or no", -EINVAL) : 0;
	if (!strcmp(k, "net-ifname")) {
		if (!*v || strlen(v) >= 16 || strpbrk(v, "/: \t") || !strcmp(v, ".") || !strcmp(v, ".."))
			return *why = "expected a network interface name", -EINVAL;
		return set_string(&j->net_ifname, v);
	}
	if (!strcmp(k, "hostname")) {
		if (!job_hostname_is_valid(v))
			return *why = "expected a host name: letters, digits, '-' and '.'", -EINVAL;
		return set_string(&j->hostname, v);
	}
	if (!strcmp(k, "keep-network") || !strcmp(k, "authorized-keys") || !strcmp(k, "grow") ||
	    !strcmp(k, "cloud-init-user-data") || !strcmp(k, "cloud-init-meta-data")) {
		bool *b = !strcmp(k, "keep-network")	     ? &j->keep_network
			  : !strcmp(k, "authorized-keys")    ? &j->authorized_keys
			  : !strcmp(k, "grow")		     ? &j->grow
			  : !strcmp(k, "cloud-init-user-data") ? &j->ci_user_data
							       : &j->ci_meta_data;
		return parse_bool(v, b) < 0 ? (*why = "expected yes or no", -EINVAL) : 0;
	}
	if (!strcmp(k, "ssh-host-key")) {
		if (strcmp(v, "ed25519") && strcmp(v, "ecdsa") && strcmp(v, "rsa"))
			return *why = "expected ed25519, ecdsa or rsa", -EINVAL;
		for (size_t i = 0; i < j->n_host_keys; i++)
			if (!strcmp(j->host_keys[i], v))
				return *why = "given twice", -EINVAL;
		if (j->n_host_keys >= JOB_MAX_HOST_KEYS)
			return *why = "too many host keys", -EINVAL;
		snprintf(j->host_keys[j->n_host_keys++], sizeof(j->host_keys[0]), "%s", v);
		return 0;
	}
	if (!strcmp(k, "copy")) {
		/* "MODE DEST": the mode first, so that DEST may hold any character but '/'-rules */
		char *end;
		unsigned long mode;
		if (j->n_copies >= JOB_MAX_COPIES)
			return *why = "at most 32 copied files", -EINVAL;
		if (*v < '0' || *v > '7')
			return *why = "expected an octal MODE, a space and an absolute DEST", -EINVAL;
		mode = strtoul(v, &end, 8);
		if (*end != ' ' || mode > 07777 || !job_dest_path_is_valid(end + 1))
			return *why = "expected an octal MODE, a space and an absolute DEST", -EINVAL;
		j->copies[j->n_copies].dest = strdup(end + 1);
		if (!j->copies[j->n_copies].dest)
			return -ENOMEM;
		j->copies[j->n_copies++].mode = (uint32_t)mode;
		return 0;
	}
	if (!strcmp(k, "minisign-comment-base64")) {
		/* the comment's bytes exactly as signed: a plain value would lose its leading and
		 * trailing blanks to the trimming of every value */
		uint8_t raw[MINISIGN_COMMENT_MAX];
		size_t l;
		if (base64_decode_lines(v, strlen(v), raw, sizeof(raw) - 1, &l) < 0 ||
		    memchr(raw, 0, l))
			return *why = "expected the base64 of the trusted comment (at most 1023 bytes, "
				      "no NUL)",
			       -EINVAL;
		memcpy(j->minisign_sig.trusted_comment, raw, l);
		j->minisign_sig.trusted_comment[l] = 0;
		return 0;
	}
	if (!strcmp(k, "minisign-comment")) {
		if (strlen(v) >= sizeof(j->minisign_sig.trusted_comment))
			return *why = "too long", -EINVAL;
		snprintf(j->minisign_sig.trusted_comment, sizeof(j->minisign_sig.trusted_comment),
			 "%s", v);
		return 0;
	}
	return *why = "unknown key", -EINVAL;
}

int job_parse(const char *text, size_t len, struct job *ret, char *err, size_t errlen)
{
	struct job j;
	unsigned seen[sizeof(keys) / sizeof(keys[0])] = { 0 };
	const char *p = text, *end = text + len;
	unsigned lineno = 0;
	char line[8192];
	int r;

	if (len > JOB_MAX_SIZE) {
		snprintf(err, errlen, "the job is larger than %u bytes", JOB_MAX_SIZE);
		return -EFBIG;
	}
	job_init(&j);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *k, *v, *eq, *t;
		const char *why;
		size_t ki;

		lineno++;
		if (n >= sizeof(line) || memchr(p, 0, n)) {
			snprintf(err, errlen, "line %u: too long or holds a NUL byte", lineno);
			goto fail;
		}
		memcpy(line, p, n);
		line[n] = 0;
		p += n + (nl ? 1 : 0);
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = 0;
		k = line + strspn(line, " \t");
		if (*k == 0 || *k == '#')
			continue;
		eq = strchr(k, '=');
		if (!eq) {
			snprintf(err, errlen, "line %u: expected 'key = value'", lineno);
			goto fail;
		}
		for (t = eq; t > k && (t[-1] == ' ' || t[-1] == '\t'); t--)
			;
		*t = 0;
		v = eq + 1 + strspn(eq + 1, " \t");
		for (t = v + strlen(v); t > v && (t[-1] == ' ' || t[-1] == '\t'); t--)
			;
		*t = 0;
		for (ki = 0; ki < sizeof(keys) / sizeof(keys[0]); ki++)
			if (!strcmp(keys[ki].name, k))
				break;
		if (ki == sizeof(keys) / sizeof(keys[0])) {
			snprintf(err, errlen, "line %u: unknown key '%.64s'", lineno, k);
			goto fail;
		}
		if (seen[ki]++ && !(keys[ki].flags & KEY_REPEAT)) {
			snprintf(err, errlen, "line %u: '%s' given twice", lineno, k);
			goto fail;
		}
		r = apply(&j, k, v, &why);
		if (r == -ENOMEM) {
			snprintf(err, errlen, "out of memory");
			job_done(&j);
			return r;
		}
		if (r < 0) {
			/* never echo a header value: it is a secret */
			snprintf(err, errlen, "line %u: bad value for '%s': %s", lineno, k, why);
			goto fail;
		}
	}
	explicit_bzero(line, sizeof(line));
	{
		static const char *const ms[] = { "minisign-pubkey", "minisign-sig", "minisign-comment",
						  "minisign-global-sig", "minisign-comment-base64" };
		unsigned n = 0, comments = 0;
		for (size_t ki = 0; ki < sizeof(keys) / sizeof(keys[0]); ki++)
			for (size_t m = 0; m < ELEMENTSOF(ms); m++)
				if (!strcmp(keys[ki].name, ms[m]) && seen[ki]) {
					n++;
					comments += m == 2 || m == 4;
				}
		if (comments > 1) {
			snprintf(err, errlen, "minisign-comment and minisign-comment-base64 are the same "
					      "thing: give one");
			job_done(&j);
			return -EBADMSG;
		}
		if (n != 0 && n != 4) {
			snprintf(err, errlen, "a minisign signature needs all of minisign-pubkey, "
					      "minisign-sig, minisign-comment and minisign-global-sig");
			job_done(&j);
			return -EBADMSG;
		}
		j.have_minisig = n == 4;
	}
	if (!j.tls_client_cert != !j.tls_client_key) {
		snprintf(err, errlen, "tls-client-cert and tls-client-key go together");
		job_done(&j);
		return -EBADMSG;
	}
	if ((!j.hold && !j.src) || (j.src && !j.dst)) {
		snprintf(err, errlen, "the job has no %s", !j.src ? "src" : "dst");
		job_done(&j);
		return -EINVAL;
	}
	for (size_t ki = 0; ki < sizeof(keys) / sizeof(keys[0]); ki++)
		if (j.hold && seen[ki] && !strcmp(keys[ki].name, "then") && j.then != JOB_THEN_HOLD) {
			/* the operator ends a hold with `reimage done`, not the job */
			snprintf(err, errlen, "'then = %s' does not go with 'hold = yes': a hold ends "
					      "with 'reimage done reboot|poweroff|kexec'",
				 job_then_to_string(j.then));
			job_done(&j);
			return -EINVAL;
		}
	if (j.hold)
		j.then = JOB_THEN_HOLD;
	*ret = j;
	return 0;
fail:
	explicit_bzero(line, sizeof(line));
	job_done(&j);
	return -EBADMSG;
}

struct cmdline_ctx {
	struct job *j;
	char *err;
	size_t errlen;
	bool found;
};

static int cmdline_one(const char *key, const char *value, void *userdata)
{
	static const char *const map[][2] = {
		{ "reimage.src", "src" },	    { "reimage.dst", "dst" },
		{ "reimage.sha256", "sha256" },	    { "reimage.image-sha256", "image-sha256" },
		{ "reimage.then", "then" },	    { "reimage.verify", "verify" },
	};
	struct cmdline_ctx *c = userdata;
	const char *why;
	int r;

	if (strncmp(key, "reimage.", 8) != 0)
		return 0;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcmp(key, map[i][0]) != 0)
			continue;
		r = apply(c->j, map[i][1], value ? value : "", &why);
		if (r < 0) {
			snprintf(c->err, c->errlen, "kernel command line: bad value for %s: %s", key,
				 why ? why : strerror(-r));
			return r == -ENOMEM ? r : -EBADMSG;
		}
		if (!strcmp(key, "reimage.src"))
			c->found = true;
		return 0;
	}
	snprintf(c->err, c->errlen,
		 "kernel command line: unknown parameter %s (known: reimage.src, reimage.dst, "
		 "reimage.sha256, reimage.image-sha256, reimage.then, reimage.verify)",
		 key);
	return -EBADMSG;
}

int job_from_cmdline(const char *cmdline, struct job *ret, char *err, size_t errlen)
{
	struct job j;
	struct cmdline_ctx c = { .j = &j, .err = err, .errlen = errlen };
	int r;

	job_init(&j);
	r = cmdline_foreach(cmdline, cmdline_one, &c);
	if (r < 0) {
		if (r == -E2BIG)
			snprintf(err, errlen, "kernel command line too long");
		job_done(&j);
		return r == -ENOMEM ? r : -EBADMSG;
	}
	if (!c.found) {
		job_done(&j);
		return 0;
	}
	if (!j.dst) {
		snprintf(err, errlen, "kernel command line: reimage.src without reimage.dst");
		job_done(&j);
		return -EBADMSG;
	}
	*ret = j;
	return 1;
}

int job_format(const struct job *j, char **ret)
{
	struct strbuf b = { 0 };
	char hex[65], ip[64];

	strbuf_printf(&b, "# reimage job\n");
	if (j->src)
		strbuf_printf(&b, "src = %s\n", j->src);
	if (j->dst)
		strbuf_printf(&b, "dst = %s\n", j->dst);
	if (j->dst_serial)
		strbuf_printf(&b, "dst-serial = %s\n", j->dst_serial);
	if (j->dst_wwn)
		strbuf_printf(&b, "dst-wwn = %s\n", j->dst_wwn);
	if (j->dst_model)
		strbuf_printf(&b, "dst-model = %s\n", j->dst_model);
	if (j->dst_size)
		strbuf_printf(&b, "dst-size = %llu\n", (unsigned long long)j->dst_size);
	if (j->member)
		strbuf_printf(&b, "member = %s\n", j->member);
	if (j->have_sha256) {
		hex_encode(j->sha256, 32, hex);
		strbuf_printf(&b, "sha256 = %s\n", hex);
	}
	if (j->have_image_sha256) {
		hex_encode(j->image_sha256, 32, hex);
		strbuf_printf(&b, "image-sha256 = %s\n", hex);
	}
	strbuf_printf(&b, "verify = %s\n", j->verify ? "yes" : "no");
	for (size_t i = 0; i < j->n_headers; i++)
		strbuf_printf(&b, "header = %s\n", j->headers[i]);
	strbuf_printf(&b, "retries = %u\nretry-for = %llu.%03llu\nattempts = %u\nthen = %s\n", j->retries,
		  (unsigned long long)(j->retry_for_ms / 1000),
		  (unsigned long long)(j->retry_for_ms % 1000), j->attempts, job_then_to_string(j->then));
	strbuf_printf(&b, "target-timeout = %llu.%03llu\nnet-timeout = %llu.%03llu\n",
		  (unsigned long long)(j->target_timeout_ms / 1000),
		  (unsigned long long)(j->target_timeout_ms % 1000),
		  (unsigned long long)(j->net_timeout_ms / 1000),
		  (unsigned long long)(j->net_timeout_ms % 1000));
	if (j->have_mac)
		strbuf_printf(&b, "net-mac = %02x:%02x:%02x:%02x:%02x:%02x\n", j->mac[0], j->mac[1],
			  j->mac[2], j->mac[3], j->mac[4], j->mac[5]);
	if (j->net_path)
		strbuf_printf(&b, "net-path = %s\n", j->net_path);
	for (size_t i = 0; i < j->n_addresses; i++) {
		job_ip_format(&j->addresses[i], true, ip, sizeof(ip));
		strbuf_printf(&b, "net-address = %s\n", ip);
	}
	for (size_t i = 0; i < j->n_gateways; i++) {
		job_ip_format(&j->gateways[i], false, ip, sizeof(ip));
		strbuf_printf(&b, "net-gateway = %s\n", ip);
	}
	for (size_t i = 0; i < j->n_dns; i++) {
		job_ip_format(&j->dns[i], false, ip, sizeof(ip));
		strbuf_printf(&b, "net-dns = %s\n", ip);
	}
	for (size_t i = 0; i < j->n_links; i++) {
		char line[512];
		if (net_link_format(&j->links[i], line, sizeof(line)) == 0)
			strbuf_printf(&b, "net-link = %s\n", line);
	}
	strbuf_printf(&b, "dhcp-fallback = %s\n", j->dhcp_fallback ? "yes" : "no");
	if (j->have_minisig) {
		uint8_t raw[74];
		char b64[128];
		raw[0] = 'E';
		raw[1] = 'd';
		memcpy(raw + 2, j->minisign_key.keynum, 8);
		memcpy(raw + 10, j->minisign_key.key, 32);
		base64_encode(raw, 42, b64, sizeof(b64));
		strbuf_printf(&b, "minisign-pubkey = %s\n", b64);
		raw[1] = 'D';
		memcpy(raw + 2, j->minisign_sig.keynum, 8);
		memcpy(raw + 10, j->minisign_sig.sig, 64);
		base64_encode(raw, 74, b64, sizeof(b64));
		strbuf_printf(&b, "minisign-sig = %s\n", b64);
		{
			char c64[4 * MINISIGN_COMMENT_MAX / 3 + 8];
			base64_encode((const uint8_t *)j->minisign_sig.trusted_comment,
				      strlen(j->minisign_sig.trusted_comment), c64, sizeof(c64));
			strbuf_printf(&b, "minisign-comment-base64 = %s\n", c64);
		}
		base64_encode(j->minisign_sig.global_sig, 64, b64, sizeof(b64));
		strbuf_printf(&b, "minisign-global-sig = %s\n", b64);
	}
	{
		const char *const pem[] = { j->tls_cacert, j->tls_client_cert, j->tls_client_key };
		const char *const names[] = { "tls-cacert", "tls-client-cert", "tls-client-key" };
		for (size_t i = 0; i < 3; i++)
			for (const char *p = pem[i]; p && *p;) {
				size_t n = strcspn(p, "\n");
				if (n)
					strbuf_printf(&b, "%s = %.*s\n", names[i], (int)n, p);
				p += n + (p[n] == '\n');
			}
	}
	if (j->tls_pin)
		strbuf_printf(&b, "tls-pin = %s\n", j->tls_pin);
	if (j->tls_insecure)
		strbuf_printf(&b, "tls-insecure = yes\n");
	if (j->net_ifname)
		strbuf_printf(&b, "net-ifname = %s\n", j->net_ifname);
	if (j->hostname)
		strbuf_printf(&b, "hostname = %s\n", j->hostname);
	if (j->keep_network)
		strbuf_printf(&b, "keep-network = yes\n");
	if (j->authorized_keys)
		strbuf_printf(&b, "authorized-keys = yes\n");
	if (j->ci_user_data)
		strbuf_printf(&b, "cloud-init-user-data = yes\n");
	if (j->ci_meta_data)
		strbuf_printf(&b, "cloud-init-meta-data = yes\n");
	if (j->grow)
		strbuf_printf(&b, "grow = yes\n");
	for (size_t i = 0; i < j->n_host_keys; i++)
		strbuf_printf(&b, "ssh-host-key = %s\n", j->host_keys[i]);
	for (size_t i = 0; i < j->n_copies; i++)
		strbuf_printf(&b, "copy = %04o %s\n", (unsigned)j->copies[i].mode, j->copies[i].dest);
	if (j->http_proxy)
		strbuf_printf(&b, "http-proxy = %s\n", j->http_proxy);
	if (j->https_proxy)
		strbuf_printf(&b, "https-proxy = %s\n", j->https_proxy);
	if (j->no_proxy)
		strbuf_printf(&b, "no-proxy = %s\n", j->no_proxy);
	/* the timeout also ends a failed job that wrote nothing, hold mode or not */
	strbuf_printf(&b, "hold-timeout = %llu.%03llu\n", (unsigned long long)(j->hold_timeout_ms / 1000),
		  (unsigned long long)(j->hold_timeout_ms % 1000));
	if (j->hold)
		strbuf_printf(&b, "hold = yes\nssh-port = %u\n", j->ssh_port);
	if (j->report_url)
		strbuf_printf(&b, "report-url = %s\n", j->report_url);
	for (size_t i = 0; i < j->n_report_headers; i++)
		strbuf_printf(&b, "report-header = %s\n", j->report_headers[i]);
	for (const char *p = j->report_cacert; p && *p;) {
		size_t n = strcspn(p, "\n");
		if (n)
			strbuf_printf(&b, "report-cacert = %.*s\n", (int)n, p);
		p += n + (p[n] == '\n');
	}
	if (j->report_run_id)
		strbuf_printf(&b, "report-run-id = %s\n", j->report_run_id);
	if (j->report_hostname)
		strbuf_printf(&b, "report-hostname = %s\n", j->report_hostname);
	if (j->report_machine_id)
		strbuf_printf(&b, "report-machine-id = %s\n", j->report_machine_id);
	if (j->start_jitter_ms)
		strbuf_printf(&b, "start-jitter = %llu.%03llu\n",
			  (unsigned long long)(j->start_jitter_ms / 1000),
			  (unsigned long long)(j->start_jitter_ms % 1000));
	return strbuf_finish(&b, ret);
}
