/* SPDX-License-Identifier: GPL-2.0-or-later */
/* qcow2 header, L1 and L2 table parsing (QEMU's docs/interop/qcow2.txt, versions 2 and 3, with
 * extended L2 entries and the zstd compression type). Pure functions over bytes: nothing here
 * reads a file; the streaming container (flash/container-qcow2.c) feeds them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QCOW2_MAGIC "QFI\xfb"
/* The part of the file the header parser looks at: the fixed header of version 3 (104 bytes plus
 * the compression type) fits, and so do the few future fields a longer header_length may add. */
#define QCOW2_HEADER_SIZE 512U
#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21
/* QEMU refuses L1 tables over 32 MiB (QCOW_MAX_L1_SIZE); so do we. */
#define QCOW2_MAX_L1_BYTES (32U << 20)
/* Virtual sizes beyond 2^56 bytes (64 PiB) are not disks anyone flashes; it keeps sums in range. */
#define QCOW2_MAX_SIZE (1ULL << 56)

enum qcow2_compression {
	QCOW2_COMPRESSION_ZLIB = 0,
	QCOW2_COMPRESSION_ZSTD = 1,
};

struct qcow2_header {
	uint32_t version;
	uint32_t cluster_bits;
	uint64_t cluster_size;
	uint64_t size; /* virtual disk size in bytes */
	uint32_t l1_size;
	uint64_t l1_offset;
	uint32_t header_length;
	bool extended_l2;
	enum qcow2_compression compression;
	uint32_t l2_entries; /* entries per L2 table (one cluster) */
	uint32_t l2_entry_size;
	uint64_t subcluster_size; /* cluster_size / 32 with extended L2, else cluster_size */
};

/* What one L2 entry (or a run of its subclusters) says about guest bytes that hold data. Zero and
 * unallocated clusters produce no extent: they read as zeros. */
enum qcow2_extent_kind {
	QCOW2_EXTENT_DATA,	 /* guest [guest, guest+len) = file [host, host+len) */
	QCOW2_EXTENT_COMPRESSED, /* guest [guest, guest+len) = decompress(file [host, host+host_len)) */
};

struct qcow2_extent {
	enum qcow2_extent_kind kind;
	uint64_t guest, len;
	uint64_t host, host_len;
};

/* True when buf starts with the qcow2 magic. */
bool qcow2_has_magic(const uint8_t *buf, size_t n);

/* Parse the header from the first bytes of the file (at least the fixed header; n >= 112 is
 * always enough for version 2 and 3 headers of the usual length). Returns 0; -EBADMSG when the
 * header is inconsistent (why says how); -EPROTONOSUPPORT for a feature reimage refuses: a
 * backing file, encryption, an external data file, a corrupt-flagged image, an unknown
 * incompatible feature or version (why names it and the way out). */
int qcow2_header_parse(const uint8_t *buf, size_t n, struct qcow2_header *ret, char *why,
		       size_t whylen);

/* Where the backing file name is, when the header names one: 1 with *ret_off and *ret_len set (the
 * length capped at 1023), 0 when there is no backing file or buf is not a qcow2 header. */
int qcow2_backing_name(const uint8_t *buf, size_t n, uint64_t *ret_off, size_t *ret_len);

/* The L2 table offset in an L1 entry: 0 for an unallocated L2 table, a positive offset, or
 * -EBADMSG when the offset is not cluster aligned. */
int64_t qcow2_l1_entry(const struct qcow2_header *h, uint64_t be_entry);

/* Parse one L2 table (cluster_size bytes) that maps guest clusters from l1_index on, and call
 * cb for each extent that holds data, in guest order. Extents lie inside the virtual size (the
 * part of the last cluster past it is dropped). Returns 0, the callback's negative return, or
 * -EBADMSG for a corrupt entry (unaligned offset, subcluster both allocated and zero). */
int qcow2_l2_parse(const struct qcow2_header *h, uint32_t l1_index, const uint8_t *table,
		   int (*cb)(void *userdata, const struct qcow2_extent *e), void *userdata,
		   char *why, size_t whylen);
