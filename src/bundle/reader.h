/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading a bundle file (format/bundle.h) in one pass: every byte the digest covers is read
 * once, hashed, and copied from that same buffer to where it goes (the kernel and initramfs
 * to file descriptors, the text sections to memory), so what was verified is exactly what
 * gets used even if the file changes while it is read. Shared by the loader and by
 * `reimage bundle --info`; the SHA-256 comes from the caller (nettle in the static loader,
 * libcrypto in reimage). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "format/bundle.h"

struct bundle_hash {
	void *ctx;
	void (*update)(void *ctx, const uint8_t *buf, size_t n);
	void (*final)(void *ctx, uint8_t out[32]);
};

struct bundle_contents {
	struct bundle_trailer trailer;
	struct bundle_meta meta;
	char *info;    /* NUL-terminated, malloc'ed */
	char *cmdline; /* NUL-terminated, malloc'ed; "" when none */
};

/* Read the bundle open at fd. When kernel_fd/initrd_fd are >= 0 the sections are written to
 * them. Returns 0; -ENOMSG not a bundle or cut short (no trailer at the end); -EIO a read or
 * write failed or the file is shorter than recorded; -EBADMSG a damaged trailer or meta
 * section, or a digest mismatch (corrupted); -EPROTONOSUPPORT another format version. why
 * says which, for people. On failure ret holds nothing to free. */
int bundle_read(int fd, const struct bundle_hash *h, int kernel_fd, int initrd_fd,
		struct bundle_contents *ret, char *why, size_t whylen);
void bundle_contents_done(struct bundle_contents *c);
