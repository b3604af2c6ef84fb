/* SPDX-License-Identifier: GPL-2.0-or-later */
/* OpenSSH public key lines and authorized_keys files (sshd(8) "AUTHORIZED_KEYS FILE FORMAT",
 * RFC 4253 §6.6 for the key blob): parsing one line, and merging several files into one
 * deduplicated list of the keys dropbear can use. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SSH_KEY_LINE_MAX 16384
#define SSH_KEY_BLOB_MAX 8192
#define SSH_KEY_COMMENT_MAX 128
#define SSH_KEYSET_MAX 256
#define SSH_KEYS_TEXT_MAX (1U << 20)

struct ssh_pubkey {
	char type[48];			     /* "ssh-ed25519" */
	uint8_t blob[SSH_KEY_BLOB_MAX];	     /* the decoded base64 field */
	size_t blob_len;
	bool has_options;		     /* authorized_keys options before the type */
	char comment[SSH_KEY_COMMENT_MAX];   /* printable ASCII only, may be truncated */
};

/* Parse "[options ]type base64[ comment]" from line[0..len) (no newline). Options are allowed
 * only when allow_options. The blob must start with the same type name, as the SSH wire format
 * says. 0; -EBADMSG when malformed; -EPROTONOSUPPORT for a well-formed key of a type dropbear
 * does not accept (certificates, DSA, unknown types); -EFBIG over the caps. */
int ssh_pubkey_parse(const char *line, size_t len, bool allow_options, struct ssh_pubkey *ret);

/* Is type one dropbear 2022 accepts for authentication? */
bool ssh_key_type_is_supported(const char *type);

struct ssh_keyset_entry {
	char *line; /* the line as given, trimmed */
	char type[48];
	char comment[SSH_KEY_COMMENT_MAX];
	uint8_t *blob;
	size_t blob_len;
};

struct ssh_keyset {
	struct ssh_keyset_entry keys[SSH_KEYSET_MAX];
	size_t n;
};

/* Called for each line that is skipped: 1-based line number and why. */
typedef void (*ssh_keyset_skip_fn)(void *userdata, unsigned lineno, const char *why);

/* Add every usable key of an authorized_keys text; blank lines and '#' comments are ignored,
 * a key already in the set (same type and blob) is skipped silently, other bad lines are
 * reported through skip and skipped. Returns the number of keys added, -EFBIG over
 * SSH_KEYS_TEXT_MAX or SSH_KEYSET_MAX keys, -ENOMEM. */
int ssh_keyset_add_text(struct ssh_keyset *s, const char *text, size_t len, ssh_keyset_skip_fn skip,
			void *userdata);

/* The set as an authorized_keys file (malloc'ed, NUL-terminated). 0 or -ENOMEM. */
int ssh_keyset_format(const struct ssh_keyset *s, char **ret);

void ssh_keyset_done(struct ssh_keyset *s);
