/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading an initramfs back: a sequence of members, each a cpio archive that is raw or
 * compressed with gzip, xz or zstd (one stream per member), NUL padding between them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/cpio.h"

#define INITRD_LIST_MAX_UNPACKED (2ULL << 30)

/* Call fn for every entry of every member; member is 0, 1, … and compression names the
 * member's compression ("none" for a raw cpio). Returns 0, fn's non-zero value, -EBADMSG for a
 * damaged archive or member, -EPROTONOSUPPORT for a compression we do not read, -EFBIG when
 * a member unpacks to more than INITRD_LIST_MAX_UNPACKED. */
int initrd_list(const uint8_t *buf, size_t len,
		int (*fn)(unsigned member, const char *compression, const struct cpio_entry *e,
			  void *userdata),
		void *userdata);
