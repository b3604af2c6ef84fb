// SPDX-License-Identifier: GPL-2.0-or-later
/* qcow2 header and table parsing; every field is checked before it is used. */
#include "format/qcow2.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define OFFSET_MASK 0x00fffffffffffe00ULL
#define ENTRY_COMPRESSED (1ULL << 62)
#define ENTRY_ZERO 1ULL

#define INCOMPAT_DIRTY (1ULL << 0)
#define INCOMPAT_CORRUPT (1ULL << 1)
#define INCOMPAT_DATA_FILE (1ULL << 2)
#define INCOMPAT_COMPRESSION (1ULL << 3)
#define INCOMPAT_EXTL2 (1ULL << 4)
#define INCOMPAT_KNOWN (INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_DATA_FILE | \
			INCOMPAT_COMPRESSION | INCOMPAT_EXTL2)

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

bool qcow2_has_magic(const uint8_t *buf, size_t n)
{
	return n >= 4 && memcmp(buf, QCOW2_MAGIC, 4) == 0;
}

#define CONVERT_HINT "convert it with qemu-img convert -O qcow2 (or -O raw) first"

int qcow2_header_parse(const uint8_t *b, size_t n, struct qcow2_header *ret, char *why,
		       size_t whylen)
{
	struct qcow2_header h = { 0 };
	uint64_t backing_off, incompat = 0, clusters, l1_needed;
	uint32_t backing_len, crypt;

	if (n < 72 || !qcow2_has_magic(b, n)) {
		snprintf(why, whylen, "qcow2: the header is truncated or has no qcow2 magic");
		return -EBADMSG;
	}
	h.version = be32(b + 4);
	if (h.version != 2 && h.version != 3) {
		snprintf(why, whylen,
			 "qcow2 version %u is not supported (only 2 and 3); " CONVERT_HINT,
			 h.version);
		return -EPROTONOSUPPORT;
	}
	backing_off = be64(b + 8);
	backing_len = be32(b + 16);
	h.cluster_bits = be32(b + 20);
	h.size = be64(b + 24);
	crypt = be32(b + 32);
	h.l1_size = be32(b + 36);
	h.l1_offset = be64(b + 40);
	h.header_length = 72;
	if (h.version == 3) {
		if (n < 104) {
			snprintf(why, whylen, "qcow2: the version 3 header is truncated");
			return -EBADMSG;
		}
		incompat = be64(b + 72);
		h.header_length = be32(b + 100);
		if (h.header_length < 104 || h.header_length > QCOW2_HEADER_SIZE ||
		    h.header_length > n) {
			snprintf(why, whylen, "qcow2: header length %u is out of range",
				 h.header_length);
			return -EBADMSG;
		}
		if (h.header_length > 104)
			h.compression = b[104];
	}
	if (backing_off != 0) {
		char name[256] = "";
		if (backing_len > 0 && backing_len < sizeof(name) && backing_off < n &&
		    n - backing_off >= backing_len) {
			memcpy(name, b + backing_off, backing_len);
			name[backing_len] = 0;
			for (char *p = name; *p; p++)
				if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
					*p = '?';
		}
		snprintf(why, whylen,
			 "the qcow2 image has a backing file%s%s%s: its data is partly in another "
			 "file, which reimage does not fetch; flatten it with qemu-img convert -O "
			 "qcow2 (or -O raw) first",
			 name[0] ? " (" : "", name, name[0] ? ")" : "");
		return -EPROTONOSUPPORT;
	}
	if (crypt != 0) {
		snprintf(why, whylen,
			 "the qcow2 image is encrypted (method %u); reimage does not decrypt images: "
			 "decrypt it with qemu-img convert -O raw first",
			 crypt);
		return -EPROTONOSUPPORT;
	}
	if (incompat & INCOMPAT_DATA_FILE) {
		snprintf(why, whylen,
			 "the qcow2 image keeps its data in an external data file, which reimage "
			 "does not fetch; " CONVERT_HINT);
		return -EPROTONOSUPPORT;
	}
	if (incompat & INCOMPAT_CORRUPT) {
		snprintf(why, whylen,
			 "the qcow2 image is marked corrupt; repair it with qemu-img check -r all, "
			 "then convert it");
		return -EPROTONOSUPPORT;
	}
	if (incompat & ~INCOMPAT_KNOWN) {
		snprintf(why, whylen,
			 "the qcow2 image uses incompatible features reimage does not know "
			 "(bits 0x%llx); " CONVERT_HINT,
			 (unsigned long long)(incompat & ~INCOMPAT_KNOWN));
		return -EPROTONOSUPPORT;
	}
	if (h.compression != QCOW2_COMPRESSION_ZLIB && h.compression != QCOW2_COMPRESSION_ZSTD) {
		snprintf(why, whylen, "qcow2 compression type %u is not supported; " CONVERT_HINT,
			 h.compression);
		return -EPROTONOSUPPORT;
	}
	if (h.compression != QCOW2_COMPRESSION_ZLIB && !(incompat & INCOMPAT_COMPRESSION)) {
		snprintf(why, whylen, "qcow2: compression type set without its feature bit");
		return -EBADMSG;
	}
	h.extended_l2 = incompat & INCOMPAT_EXTL2;
	if (h.cluster_bits < QCOW2_MIN_CLUSTER_BITS || h.cluster_bits > QCOW2_MAX_CLUSTER_BITS ||
	    (h.extended_l2 && h.cluster_bits < 14)) {
		snprintf(why, whylen, "qcow2: cluster size 2^%u is out of range", h.cluster_bits);
		return -EBADMSG;
	}
	h.cluster_size = 1ULL << h.cluster_bits;
	h.l2_entry_size = h.extended_l2 ? 16 : 8;
	h.l2_entries = (uint32_t)(h.cluster_size / h.l2_entry_size);
	h.subcluster_size = h.extended_l2 ? h.cluster_size / 32 : h.cluster_size;
	if (h.size > QCOW2_MAX_SIZE) {
		snprintf(why, whylen, "qcow2: virtual size %llu is out of range",
			 (unsigned long long)h.size);
		return -EBADMSG;
	}
	clusters = (h.size + h.cluster_size - 1) >> h.cluster_bits;
	l1_needed = (clusters + h.l2_entries - 1) / h.l2_entries;
	if ((uint64_t)h.l1_size * 8 > QCOW2_MAX_L1_BYTES || h.l1_size < l1_needed) {
		snprintf(why, whylen,
			 "qcow2: L1 table size %u does not fit the virtual size (needs %llu entries)",
			 h.l1_size, (unsigned long long)l1_needed);
		return -EBADMSG;
	}
	if (h.l1_size > 0 && (h.l1_offset == 0 || h.l1_offset % h.cluster_size != 0 ||
			      h.l1_offset > QCOW2_MAX_SIZE)) {
		snprintf(why, whylen, "qcow2: L1 table offset %llu is not a cluster boundary",
			 (unsigned long long)h.l1_offset);
		return -EBADMSG;
	}
	*ret = h;
	return 0;
}

int qcow2_backing_name(const uint8_t *b, size_t n, uint64_t *ret_off, size_t *ret_len)
{
	uint64_t off;
	uint32_t len;

	if (n < 20 || !qcow2_has_magic(b, n))
		return 0;
	off = be64(b + 8);
	len = be32(b + 16);
	if (off == 0 || len == 0)
		return 0;
	*ret_off = off;
	*ret_len = len > 1023 ? 1023 : len;
	return 1;
}

int64_t qcow2_l1_entry(const struct qcow2_header *h, uint64_t be_entry)
{
	uint64_t off = be64((const uint8_t *)&be_entry) & OFFSET_MASK;

	if (off % h->cluster_size != 0)
		return -EBADMSG;
	return (int64_t)off;
}

int qcow2_l2_parse(const struct qcow2_header *h, uint32_t l1_index, const uint8_t *table,
		   int (*cb)(void *userdata, const struct qcow2_extent *e), void *userdata,
		   char *why, size_t whylen)
{
	uint64_t base = (uint64_t)l1_index * h->l2_entries * h->cluster_size;
	unsigned csize_shift = 62 - (h->cluster_bits - 8);
	uint64_t csize_mask = (1ULL << (h->cluster_bits - 8)) - 1;
	int r;

	for (uint32_t i = 0; i < h->l2_entries; i++) {
		const uint8_t *e = table + (size_t)i * h->l2_entry_size;
		uint64_t entry = be64(e), guest = base + (uint64_t)i * h->cluster_size;
		uint64_t bitmap = h->extended_l2 ? be64(e + 8) : 0;
		uint64_t avail;
		struct qcow2_extent x;

		if (guest >= h->size)
			break;
		avail = h->size - guest < h->cluster_size ? h->size - guest : h->cluster_size;
		if (entry & ENTRY_COMPRESSED) {
			uint64_t host = entry & ((1ULL << csize_shift) - 1);
			uint64_t sectors = ((entry >> csize_shift) & csize_mask) + 1;
			uint64_t end = (host & ~511ULL) + sectors * 512;

			if (host == 0 || host > QCOW2_MAX_SIZE) {
				snprintf(why, whylen,
					 "qcow2: compressed cluster at guest offset %llu has host "
					 "offset %llu",
					 (unsigned long long)guest, (unsigned long long)host);
				return -EBADMSG;
			}
			x = (struct qcow2_extent){ .kind = QCOW2_EXTENT_COMPRESSED,
						   .guest = guest,
						   .len = avail,
						   .host = host,
						   .host_len = end - host };
			r = cb(userdata, &x);
			if (r < 0)
				return r;
			continue;
		}
		{
			uint64_t host = entry & OFFSET_MASK;

			if (host % h->cluster_size != 0 || host > QCOW2_MAX_SIZE) {
				snprintf(why, whylen,
					 "qcow2: cluster at guest offset %llu has an unaligned host "
					 "offset %llu",
					 (unsigned long long)guest, (unsigned long long)host);
				return -EBADMSG;
			}
			if (!h->extended_l2) {
				/* bit 0 (version 3): reads as zeros whatever is allocated */
				if (host == 0 || (h->version >= 3 && (entry & ENTRY_ZERO)))
					continue;
				x = (struct qcow2_extent){ .kind = QCOW2_EXTENT_DATA,
							   .guest = guest,
							   .len = avail,
							   .host = host,
							   .host_len = avail };
				r = cb(userdata, &x);
				if (r < 0)
					return r;
				continue;
			}
			avail = (uint32_t)bitmap & (uint32_t)(bitmap >> 32);
			if (avail != 0) {
				snprintf(why, whylen,
					 "qcow2: subclusters at guest offset %llu are both allocated "
					 "and zero",
					 (unsigned long long)guest);
				return -EBADMSG;
			}
			if ((bitmap & 0xffffffffULL) != 0 && host == 0) {
				snprintf(why, whylen,
					 "qcow2: subclusters at guest offset %llu are allocated in an "
					 "unallocated cluster",
					 (unsigned long long)guest);
				return -EBADMSG;
			}
			/* runs of allocated subclusters; zero and unallocated ones read as zeros */
			for (unsigned s = 0; s < 32;) {
				unsigned t = s;
				uint64_t g, len;

				if (!(bitmap & (1ULL << s))) {
					s++;
					continue;
				}
				while (t < 32 && (bitmap & (1ULL << t)))
					t++;
				g = guest + s * h->subcluster_size;
				if (g >= h->size)
					break;
				len = (uint64_t)(t - s) * h->subcluster_size;
				if (len > h->size - g)
					len = h->size - g;
				x = (struct qcow2_extent){ .kind = QCOW2_EXTENT_DATA,
							   .guest = g,
							   .len = len,
							   .host = host + s * h->subcluster_size,
							   .host_len = len };
				r = cb(userdata, &x);
				if (r < 0)
					return r;
				s = t;
			}
		}
	}
	return 0;
}
