/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What hold mode adds to a flasher: dropbear with its libraries, a busybox shell and disk tools,
 * the accounts file, and the secrets (the operators' authorized_keys and this machine's SSH host
 * keys converted for dropbear) that travel in the 0600 job archive. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/ssh-key.h"
#include "initrd/flasher.h"
#include "initrd/initrd.h"

/* Where the flasher finds them (inside the flasher). */
#define HOLD_DROPBEAR "/usr/sbin/dropbear"
#define HOLD_HOST_KEY_DIR "/etc/dropbear"
#define HOLD_AUTHORIZED_KEYS "/root/.ssh/authorized_keys"

struct hold_host_key {
	char name[16];	/* ed25519, ecdsa, rsa */
	char type[48];	/* ssh-ed25519, ... */
	char path[64];	/* in the flasher: /etc/dropbear/dropbear_<name>_host_key */
	uint8_t *data;	/* dropbear's format; a secret */
	size_t len;
	char fingerprint[64]; /* "SHA256:...", as ssh-keygen -l prints it */
};

struct hold_keys {
	struct ssh_keyset authorized;
	char *authorized_text;
	char sources[1024]; /* the files the keys came from, for messages */
	struct hold_host_key host[3];
	size_t n_host;
	char host_dir[PATH_MAX];
	bool host_new; /* generated here: clients will see a new host key */
	struct flasher_secret secrets[8];
};

/* Gather the authorized keys: root's and $SUDO_USER's ~/.ssh/authorized_keys (or the files
 * listed in $REIMAGE_AUTHORIZED_KEYS, colon-separated, instead), plus extra files; deduplicated.
 * Then the host keys from $REIMAGE_SSH_HOST_KEY_DIR (default /etc/ssh), converted with
 * dropbearconvert in a private directory on a RAM file system, or new ones made with
 * dropbearkey when there are none. Logs what it skipped. 0, or -errno with err set (no keys,
 * dropbear tools missing, an extra file unreadable). */
int hold_keys_collect(struct hold_keys *h, char *const *extra, size_t n_extra, char *err,
		      size_t errlen);

/* The files for flasher_options.secrets; valid while h lives. Returns their number. */
size_t hold_keys_secrets(struct hold_keys *h, const struct flasher_secret **ret);

/* Wipe and free. */
void hold_keys_done(struct hold_keys *h);

/* Add dropbear, busybox (as /bin/sh and the usual applets), lsblk, blkid, sfdisk, wipefs,
 * fdisk and blockdev when the host has them, /etc/passwd, group, shells, nsswitch.conf and a
 * profile. 0, or -errno with err set (-ENOENT when dropbear is not installed). */
int hold_add_tools(struct initrd *rd, char *err, size_t errlen);

/* "SHA256:" + unpadded base64 of SHA-256(blob) into out (at least 52 bytes). 0 or -EIO. */
int ssh_fingerprint_sha256(const uint8_t *blob, size_t len, char *out, size_t outsz);
