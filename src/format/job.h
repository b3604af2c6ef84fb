/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The flasher's job file, /etc/reimage/job.conf: UTF-8 text, one "key = value" per line,
 * '#' starts a comment line, keys as listed in docs/job-file.md. Unknown keys, repeated
 * single-valued keys and malformed values are errors that name the line. The same struct is
 * filled from reimage.src=/reimage.dst=/reimage.sha256= on the kernel command line. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/minisign.h"
#include "format/net-link.h"

#define JOB_MAX_SIZE (256U << 10)
#define JOB_MAX_HEADERS 32
#define JOB_MAX_ADDRESSES 8
#define JOB_MAX_DNS 4
#define JOB_MAX_LINKS 8
#define JOB_MAX_COPIES 32
#define JOB_MAX_HOST_KEYS 3

enum job_then {
	JOB_THEN_REBOOT,
	JOB_THEN_POWEROFF,
	JOB_THEN_HOLD,
	JOB_THEN_KEXEC, /* boot the system just written (src/init/boot-new.c) */
};

struct job_ip {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t prefix;
};

struct job {
	char *src, *dst;
	/* stable identity of the target, as recorded where the job was made */
	char *dst_serial, *dst_wwn, *dst_model;
	uint64_t dst_size;

	char *member; /* the tar member that holds the disk image (reimage flash --member) */
	bool have_sha256, have_image_sha256, verify;
	uint8_t sha256[32], image_sha256[32];
	char *headers[JOB_MAX_HEADERS]; /* secrets */
	size_t n_headers;

	unsigned retries;	/* network retries in a row, as reimage flash --retries */
	uint64_t retry_for_ms;
	unsigned attempts;	/* whole-job attempts before giving up and holding */
	enum job_then then;
	uint64_t target_timeout_ms, net_timeout_ms;

	/* network carried over from the machine that made the job */
	bool have_mac;
	uint8_t mac[6];
	char *net_path; /* bus path of the interface, e.g. pci-0000:00:03.0 */
	struct job_ip addresses[JOB_MAX_ADDRESSES];
	size_t n_addresses;
	struct job_ip gateways[2]; /* one per family at most */
	size_t n_gateways;
	struct job_ip dns[JOB_MAX_DNS];
	size_t n_dns;
	bool dhcp_fallback; /* try DHCP when the static configuration gets nowhere */
	/* VLANs, bonds and bridges under the address, bottom first; the addresses go on the last
	 * one (net-link lines; a lower name refers to an earlier line) */
	struct net_link links[JOB_MAX_LINKS];
	size_t n_links;

	/* TLS for the source, as reimage flash --cacert/--pin/--client-cert/--client-key/--insecure;
	 * certificates and the key as PEM text (the job carries them, not file names) */
	char *tls_cacert, *tls_client_cert, *tls_client_key; /* the key is a secret */
	char *tls_pin;
	bool tls_insecure;

	/* a minisign signature of the published bytes, checked before the job was made */
	bool have_minisig;
	struct minisign_pubkey minisign_key;
	struct minisign_sig minisign_sig;

	/* proxies for the source, as libcurl's http_proxy, https_proxy and no_proxy (carried
	 * from the environment of `reimage go`, or --proxy); a proxy's user info is a secret */
	char *http_proxy, *https_proxy, *no_proxy;

	/* hold mode: an SSH server in the flasher waits for an operator (docs/flasher.md) */
	bool hold;
	uint64_t hold_timeout_ms; /* while nothing was written; 0: no timeout */
	unsigned ssh_port;

	/* the new system's identity, written into it after a verified write (docs/flasher.md,
	 * "Configuring the new system"); the files travel in the job archive under
	 * /etc/reimage/identity/ */
	char *net_ifname; /* the carried interface's name, for ifupdown and cloud-init */
	char *hostname;
	bool keep_network;   /* write the carried network configuration */
	bool authorized_keys; /* identity/authorized_keys: root's and cloud-init's default user's */
	bool ci_user_data, ci_meta_data; /* identity/user-data, identity/meta-data */
	bool grow;	     /* grow the last root partition and its file system to the disk's end */
	char host_keys[JOB_MAX_HOST_KEYS][16]; /* ed25519, ecdsa, rsa: identity/ssh_host_NAME_key */
	size_t n_host_keys;
	struct job_copy {
		char *dest; /* absolute path in the new system; contents in identity/copy-N */
		uint32_t mode;
	} copies[JOB_MAX_COPIES];
	size_t n_copies;
	/* reports to the operator's collector (src/flash/report.h, docs/fleet.md) */
	char *report_url;
	char *report_headers[JOB_MAX_HEADERS]; /* secrets */
	size_t n_report_headers;
	char *report_cacert; /* PEM text */
	char *report_run_id, *report_hostname, *report_machine_id; /* of the machine that made it */
	uint64_t start_jitter_ms; /* wait a random time up to this before the first request */
};

/* Does the job ask for anything to be written into the new system after the image? */
bool job_wants_configure(const struct job *j);
/* Is s a host name the job takes (RFC 1123 labels of letters, digits and '-', 1 to 63 each,
 * 253 in all)? */
bool job_hostname_is_valid(const char *s);
/* Is s an absolute path the job may write to (no "." or ".." component, no "//", no trailing
 * '/', printable, under PATH_MAX)? */
bool job_dest_path_is_valid(const char *s);

/* Defaults: retries 10, retry-for 10 min, attempts 3, then reboot, target-timeout 60 s,
 * net-timeout 120 s, dhcp-fallback yes, hold no, hold-timeout 15 min, ssh-port 22. */
void job_init(struct job *j);
/* May the flasher boot the system it wrote (then = kexec, or `reimage done kexec` in a
 * hold)? It then needs the file-system drivers and room to load that system. */
bool job_may_boot_new_system(const struct job *j);
/* Free everything, wiping secrets first. */
void job_done(struct job *j);

/* Parse text[0..len). 0, or -EBADMSG with "line N: what is wrong" in err; -EFBIG over
 * JOB_MAX_SIZE; -EINVAL when src or dst is missing (both are optional with hold = yes, but src
 * still needs dst). */
int job_parse(const char *text, size_t len, struct job *ret, char *err, size_t errlen);

/* Fill from the kernel command line (reimage.src, reimage.dst, reimage.sha256,
 * reimage.image-sha256, reimage.then, reimage.verify). 1 when the command line holds a job, 0 when it has
 * no reimage.src, -EBADMSG with err for a malformed value. */
int job_from_cmdline(const char *cmdline, struct job *ret, char *err, size_t errlen);

/* Serialise as a job file (malloc'ed, NUL-terminated). 0 or -ENOMEM. */
int job_format(const struct job *j, char **ret);

/* "10.0.2.15/24", "fd00::2/64", or without prefix when allow_no_prefix. 0 or -EINVAL. */
int job_ip_parse(const char *s, bool allow_no_prefix, struct job_ip *ret);
/* Address (and "/prefix" when with_prefix) into buf. */
void job_ip_format(const struct job_ip *ip, bool with_prefix, char *buf, size_t n);

/* Is s a proxy as libcurl takes it: [scheme://][user:password@]host[:port][/], scheme one of
 * http, https, socks4, socks4a, socks5, socks5h? 0, or -EINVAL with the reason in *why. */
int job_proxy_check(const char *s, const char **why);

/* "reboot", "poweroff", "hold", "kexec". */
const char *job_then_to_string(enum job_then t);
/* The reverse; 0 or -EINVAL. */
int job_then_from_string(const char *s, enum job_then *ret);
