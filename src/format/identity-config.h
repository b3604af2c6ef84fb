/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The files that give a freshly written system this machine's identity: network configuration
 * for systemd-networkd (systemd.network(5)), ifupdown (interfaces(5)), NetworkManager
 * (nm-settings-keyfile(5)) and cloud-init (NoCloud seed: meta-data, user-data as MIME
 * multipart, network-config version 2), and /etc/hosts with the new name. Pure text; every
 * function returns 0 with a malloc'ed NUL-terminated text in *ret, or -ENOMEM (-EINVAL where
 * said). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "format/job.h"

#define IDENTITY_TEXT_MAX (1U << 20)

/* [Match] MACAddress= of the carried interface, its addresses, gateways (on-link when outside
 * every prefix) and DNS servers. -EINVAL when the job carries no MAC or no address. */
int netcfg_networkd(const struct job *j, char **ret);
/* "auto IF" and one static stanza per family; -EINVAL without net_ifname or addresses. */
int netcfg_ifupdown(const struct job *j, char **ret);
/* A keyfile matched by MAC, with uuid (36 characters) as connection.uuid. -EINVAL as networkd. */
int netcfg_nm_keyfile(const struct job *j, const char *uuid, char **ret);
/* network-config version 2: one ethernet matched by MAC, set-name to the carried name. */
int netcfg_cloud_init_v2(const struct job *j, char **ret);
/* "nameserver A" lines. */
int netcfg_resolv_conf(const struct job *j, char **ret);

/* meta-data: the operator's (may be NULL) without its top-level instance-id (and
 * local-hostname when hostname is set), then ours. -EINVAL for a NUL byte or over the cap. */
int cloud_init_meta_data(const char *user, size_t len, const char *instance_id,
			 const char *hostname, char **ret);

struct cloud_init_identity {
	const char *hostname;	     /* NULL: leave it */
	const char *authorized_keys; /* authorized_keys text for the default user and root */
	bool keep_host_keys;	     /* do not let cloud-init delete the host keys we wrote */
};
/* user-data: our #cloud-config alone, or a MIME multipart of the operator's user-data (any
 * kind cloud-init knows) and ours, merged by appending lists. boundary must not occur in the
 * operator's text (-EINVAL when it does). */
int cloud_init_user_data(const char *user, size_t len, const struct cloud_init_identity *id,
			 const char *boundary, char **ret);

/* /etc/hosts with "127.0.1.1 NAME[ SHORT]" in place of the old 127.0.1.1 line (or added);
 * hosts may be NULL (a minimal file). -EINVAL for a NUL byte or over the cap. */
int hosts_set_hostname(const char *hosts, size_t len, const char *hostname, char **ret);
