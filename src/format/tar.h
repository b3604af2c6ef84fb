/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tar headers: POSIX ustar and pax (IEEE 1003.1-2017, "pax Interchange Format"), GNU tar's
 * extensions (long names, base-256 numbers, old-style sparse headers) and the GNU sparse pax keys
 * of formats 0.0, 0.1 and 1.0 (GNU tar manual, "Storing Sparse Files"). Pure functions over
 * bytes; the streaming reader is flash/container-tar.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TAR_BLOCK 512U
#define TAR_NAME_MAX 4096
/* Extended headers larger than this are refused: they only carry names and sparse maps. */
#define TAR_PAX_MAX (4U << 20)
/* A sparse map with more regions than this is refused (16 bytes each in memory). */
#define TAR_SPARSE_MAX (1U << 20)

struct tar_region {
	uint64_t offset, len;
};

struct tar_header {
	char name[TAR_NAME_MAX];
	char typeflag;
	uint64_t size; /* bytes of data that follow the header (rounded up to blocks) */
	/* old GNU sparse ('S'): the regions in the header and whether extension blocks follow */
	struct tar_region sparse[4];
	unsigned n_sparse;
	bool sparse_extended;
	uint64_t real_size;
};

/* True when the 512-byte block is all zeros (the end-of-archive marker). */
bool tar_block_is_zero(const uint8_t *block);

/* True when buf holds a ustar, GNU or pax header magic at offset 257. */
bool tar_has_magic(const uint8_t *buf, size_t n);

/* Parse a header block. Returns 0, or -EBADMSG (checksum, a number that does not parse). */
int tar_header_parse(const uint8_t *block, struct tar_header *ret, char *why, size_t whylen);

/* Parse an old-GNU sparse extension block: up to 21 regions appended to *regions (count *n) (capacity
 * grows; at most TAR_SPARSE_MAX). *more is set when another extension block follows.
 * 0, -EBADMSG, -EFBIG, -ENOMEM. */
int tar_sparse_ext_parse(const uint8_t *block, struct tar_region **regions, size_t *n,
			 bool *more, char *why, size_t whylen);

/* What a pax extended header says about the next member. */
struct tar_pax {
	char path[TAR_NAME_MAX];
	bool has_path;
	uint64_t size;
	bool has_size;
	/* GNU sparse */
	unsigned sparse_major, sparse_minor;
	bool is_sparse;
	uint64_t sparse_real_size;
	char sparse_name[TAR_NAME_MAX];
	struct tar_region *regions; /* formats 0.0 and 0.1 */
	size_t n_regions;
	uint64_t pending_offset; /* 0.0: an offset waiting for its numbytes */
	bool has_pending_offset;
};

/* Apply the records of an extended header (len bytes) to *pax. 0, -EBADMSG, -EFBIG, -ENOMEM. */
int tar_pax_parse(const char *buf, size_t len, struct tar_pax *pax, char *why, size_t whylen);
void tar_pax_done(struct tar_pax *pax);

/* Check a sparse map: regions in order, not overlapping, inside real_size; their lengths add up
 * to stored. 0 or -EBADMSG. */
int tar_sparse_check(const struct tar_region *r, size_t n, uint64_t real_size, uint64_t stored,
		     char *why, size_t whylen);
