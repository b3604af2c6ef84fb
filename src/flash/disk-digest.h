/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SHA-256 of a disk image whose pieces arrive in any order (qcow2 clusters come in file order,
 * which `qemu-img convert -c` makes differ from disk order by a few clusters): pieces ahead of
 * the hashed prefix are held, data copied, zero runs as bare ranges, until the gap before them
 * is filled. Memory for held data has a hard cap. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "crypto/digest.h"

/* Data held out of order, at most. */
#define DISK_DIGEST_HELD_MAX (64ULL << 20)

struct disk_piece;

struct disk_digest {
	struct digest *d; /* not owned */
	uint64_t next;	  /* bytes [0, next) are hashed */
	struct disk_piece *heap;
	size_t n, cap;
	uint64_t held;
};

void disk_digest_init(struct disk_digest *dd, struct digest *d);
void disk_digest_done(struct disk_digest *dd);

/* A piece of the disk: data (buf) or a zero run (buf NULL). Each byte must come once.
 * 0; -EFBIG when more than DISK_DIGEST_HELD_MAX would be held; -EBADMSG for a byte that came
 * twice; -ENOMEM; or the digest's error. */
int disk_digest_add(struct disk_digest *dd, uint64_t off, const uint8_t *buf, uint64_t len);

/* Every piece came: the disk is size bytes (what no piece covered reads as zeros). 0, -EBADMSG
 * when pieces overlap or lie past size, or the digest's error. */
int disk_digest_finish(struct disk_digest *dd, uint64_t size);
