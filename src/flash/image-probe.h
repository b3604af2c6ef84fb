/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the first bytes of a source say about the disk image, for the checks `go` and `bundle`
 * make before anything is loaded: the compression, the container (flash/container.h), the
 * disk size when it can be known this early, and the refusals (a format that cannot be written,
 * a qcow2 with a backing file, encryption or an external data file). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "flash/container.h"
#include "flash/decompress.h"

struct image_probe {
	enum compression compression;
	enum container_kind container;
	uint64_t min_size; /* the disk needs at least this many bytes; UINT64_MAX: not known */
	char what[160];	   /* "qcow2 version 3, virtual size 2.2 GiB, zstd clusters" */
};

/* head: the first bytes of the source as published (64 KiB is plenty); src_size its total size
 * or UINT64_MAX. Compressed heads are decompressed as far as they go. Returns 0 with *ret set;
 * -EPROTONOSUPPORT or -EBADMSG with why saying what is wrong and what to do. */
int image_probe(const uint8_t *head, size_t n, uint64_t src_size, struct image_probe *ret,
		char *why, size_t whylen);
