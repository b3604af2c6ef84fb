/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The options that give the new system this machine's identity, shared by reimage go, initrd,
 * bundle and configure: --keep-identity and its parts, --hostname, cloud-init data, --copy,
 * --grow. */
#pragma once

#include <stdbool.h>

#include "initrd/identity.h"

#define IDENTITY_OPTIONS_HELP                                                                      \
	"The new system (written into it after a verified write; a failure holds):\n"              \
	"      --keep-identity       all of the --keep-* options, --hostname of this machine\n"    \
	"                            and --grow\n"                                                 \
	"      --keep-ssh-host-keys  this machine's SSH host keys (the plan shows fingerprints)\n" \
	"      --keep-authorized-keys  root's and $SUDO_USER's ~/.ssh/authorized_keys\n"           \
	"      --ssh-authorized-keys FILE  more keys for root (repeatable)\n"                      \
	"      --keep-network        this machine's addresses, routes and DNS, for cloud-init,\n"  \
	"                            systemd-networkd, ifupdown or NetworkManager\n"               \
	"      --hostname NAME       the new system's host name\n"                                 \
	"      --cloud-init-user-data FILE  --cloud-init-meta-data FILE   a NoCloud seed,\n"       \
	"                            merged with the above, with a fresh instance-id\n"            \
	"      --copy SRC:DEST[:MODE]  a file from here into the new system (repeatable; its\n"   \
	"                            contents are secrets of the job)\n"                           \
	"      --grow, --no-grow     grow the last root partition and its file system (ext4,\n"    \
	"                            xfs, btrfs) to the disk's end (default with --keep-identity)\n"

enum {
	OPT_ID_KEEP_IDENTITY = 0x400,
	OPT_ID_KEEP_HOST_KEYS,
	OPT_ID_KEEP_AUTHORIZED_KEYS,
	OPT_ID_SSH_AUTHORIZED_KEYS,
	OPT_ID_KEEP_NETWORK,
	OPT_ID_HOSTNAME,
	OPT_ID_USER_DATA,
	OPT_ID_META_DATA,
	OPT_ID_COPY,
	OPT_ID_GROW,
	OPT_ID_NO_GROW,
};

#define IDENTITY_LONG_OPTIONS                                                                      \
	{ "keep-identity", no_argument, NULL, OPT_ID_KEEP_IDENTITY },                              \
	{ "keep-ssh-host-keys", no_argument, NULL, OPT_ID_KEEP_HOST_KEYS },                        \
	{ "keep-authorized-keys", no_argument, NULL, OPT_ID_KEEP_AUTHORIZED_KEYS },                \
	{ "ssh-authorized-keys", required_argument, NULL, OPT_ID_SSH_AUTHORIZED_KEYS },            \
	{ "keep-network", no_argument, NULL, OPT_ID_KEEP_NETWORK },                                \
	{ "hostname", required_argument, NULL, OPT_ID_HOSTNAME },                                  \
	{ "cloud-init-user-data", required_argument, NULL, OPT_ID_USER_DATA },                     \
	{ "cloud-init-meta-data", required_argument, NULL, OPT_ID_META_DATA },                     \
	{ "copy", required_argument, NULL, OPT_ID_COPY },                                          \
	{ "grow", no_argument, NULL, OPT_ID_GROW },                                                \
	{ "no-grow", no_argument, NULL, OPT_ID_NO_GROW }

/* Take option c: 1 when it is one of these, 0 when not, -errno after logging. */
int identity_option_apply(struct identity_options *o, int c, const char *arg);
