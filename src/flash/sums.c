// SPDX-License-Identifier: GPL-2.0-or-later
/* SHA256SUMS lookup for reimage flash and reimage go. */
#include "flash/sums.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "basic/macro.h"
#include "crypto/gpgv.h"
#include "flash/source.h"
#include "flash/url-origin.h"
#include "format/sha256sums.h"
#include "format/url.h"

/* The settings for fetching url, a file that goes with SRC: the user's headers (secrets for
 * SRC's server) only when url is on that same server. */
static struct source_config config_for(const struct source_config *base,
				       const struct flash_options *o, const char *url)
{
	struct source_config cfg = *base;

	cfg.location = url;
	if (url_same_origin(url, o->src)) {
		cfg.headers = o->headers;
		cfg.n_headers = o->n_headers;
	} else {
		cfg.headers = NULL;
		cfg.n_headers = 0;
	}
	return cfg;
}

/* The list's signature, checked before a line of it is used. 0, or an exit code with msg. */
static int check_signature(const struct flash_options *o, const struct source_config *list_cfg, const char *text, size_t len,
			   const char *shown, const char *sig, const char *keyring, char *origin_extra,
			   size_t extra_len, char *msg, size_t msglen)
{
	struct source_config cfg = *list_cfg;
	_cleanup_free_ char *sigtext = NULL, *keys = NULL;
	char err[1024] = "", why[1024] = "", sig_shown[2048];
	struct gpg_status st;
	size_t sig_len, keys_len;
	int r;

	if (url_is_http(keyring)) {
		snprintf(msg, msglen, "--keyring must be a local file: a key fetched from the network "
				      "next to the data it vouches for proves nothing");
		return FLASH_EXIT_USAGE;
	}
	cfg.location = keyring;
	cfg.headers = NULL;
	cfg.n_headers = 0;
	r = source_read_all(&cfg, OPENPGP_KEYRING_MAX, &keys, &keys_len, err, sizeof(err));
	if (r < 0) {
		snprintf(msg, msglen, "cannot read the keyring %s: %s", keyring, err[0] ? err : strerror(-r));
		return FLASH_EXIT_USAGE;
	}
	if (url_is_http(sig))
		url_redact(sig, sig_shown, sizeof(sig_shown));
	else
		snprintf(sig_shown, sizeof(sig_shown), "%s", sig);
	cfg = config_for(list_cfg, o, sig);
	r = source_read_all(&cfg, 1U << 20, &sigtext, &sig_len, err, sizeof(err));
	if (r < 0) {
		snprintf(msg, msglen, "cannot read the signature %s: %s", sig_shown,
			 err[0] ? err : strerror(-r));
		if (!url_is_http(sig) && r != -EFBIG)
			return FLASH_EXIT_USAGE;
		return r == -EFBIG ? FLASH_EXIT_VERIFY : FLASH_EXIT_SOURCE;
	}
	r = gpgv_verify((const uint8_t *)keys, keys_len, (const uint8_t *)sigtext, sig_len,
			(const uint8_t *)text, len, &st, why, sizeof(why));
	if (r == -EKEYREJECTED) {
		snprintf(msg, msglen, "the signature %s of the checksum list %s does not hold: %s",
			 sig_shown, shown, why);
		return FLASH_EXIT_VERIFY;
	}
	if (r < 0) {
		snprintf(msg, msglen, "cannot check the signature of the checksum list: %s", why);
		return FLASH_EXIT_USAGE;
	}
	snprintf(origin_extra, extra_len, ", signed by %s (key %s)", st.uid[0] ? st.uid : "?",
		 st.primary[0] ? st.primary : st.fingerprint);
	return 0;
}

int sums_lookup(const struct flash_options *o, const char *sums, const char *name_override,
		const char *sig, const char *keyring, uint8_t ret_digest[32], char *origin, size_t originlen, char *msg, size_t msglen)
{
	struct source_config cfg = {
		.location = sums,
		.retries = o->retries,
		.retry_for_ms = o->retry_for_ms,
		.connect_timeout_ms = o->connect_timeout_ms,
		.stall_timeout_ms = o->stall_timeout_ms,
		.low_speed = o->low_speed,
		.tls = o->tls,
	};
	_cleanup_free_ char *text = NULL;
	char name[1024], err[1024] = "", shown[2048], signer[512] = "";
	unsigned count = 0;
	size_t len;
	int r;

	if (name_override)
		snprintf(name, sizeof(name), "%s", name_override);
	else if (strcmp(o->src, "-") == 0) {
		snprintf(msg, msglen, "--sums needs --name NAME when SRC is standard input");
		return FLASH_EXIT_USAGE;
	} else if (url_is_http(o->src)) {
		if (url_file_name(o->src, name, sizeof(name)) < 0) {
			snprintf(msg, msglen,
				 "cannot tell the file name of SRC to look up in --sums; give --name");
			return FLASH_EXIT_USAGE;
		}
	} else {
		_cleanup_free_ char *copy = strdup(o->src);
		if (!copy)
			return FLASH_EXIT_INTERNAL;
		snprintf(name, sizeof(name), "%s", basename(copy));
	}

	/* Send the user's headers only to the server SRC lives on. */
	cfg = config_for(&cfg, o, sums);
	if (url_is_http(sums))
		url_redact(sums, shown, sizeof(shown));
	else
		snprintf(shown, sizeof(shown), "%s", sums);

	r = source_read_all(&cfg, SHA256SUMS_MAX_SIZE, &text, &len, err, sizeof(err));
	if (r < 0) {
		snprintf(msg, msglen, "cannot read the checksum list %s: %s", shown,
			 err[0] ? err : strerror(-r));
		/* a local list that cannot be read is a bad option; a URL is a source like SRC */
		if (!url_is_http(sums) && r != -EFBIG)
			return FLASH_EXIT_USAGE;
		return r == -EFBIG ? FLASH_EXIT_VERIFY : FLASH_EXIT_SOURCE;
	}
	if (sig) {
		int ex = check_signature(o, &cfg, text, len, shown, sig, keyring, signer, sizeof(signer),
					 msg, msglen);
		if (ex != 0)
			return ex;
	}
	r = sha256sums_find(text, len, name, ret_digest, &count);
	if (r == -ENOENT) {
		snprintf(msg, msglen,
			 "no entry for '%s' in the checksum list %s (%u entr%s read); pick another "
			 "name with --name",
			 name, shown, count, count == 1 ? "y" : "ies");
		return FLASH_EXIT_VERIFY;
	}
	if (r == -ENOTUNIQ) {
		snprintf(msg, msglen,
			 "the checksum list %s has several different entries for '%s'; give the exact "
			 "path with --name",
			 shown, name);
		return FLASH_EXIT_VERIFY;
	}
	if (r < 0) {
		snprintf(msg, msglen, "cannot parse the checksum list %s: %s", shown, strerror(-r));
		return FLASH_EXIT_VERIFY;
	}
	snprintf(origin, originlen, "SHA256SUMS entry for %s in %s%s", name, shown, signer);
	return 0;
}
