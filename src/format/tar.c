// SPDX-License-Identifier: GPL-2.0-or-later
/* tar header, pax record and sparse map parsing; every number is range checked. */
#include "format/tar.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool tar_block_is_zero(const uint8_t *b)
{
	return b[0] == 0 && memcmp(b, b + 1, TAR_BLOCK - 1) == 0;
}

bool tar_has_magic(const uint8_t *b, size_t n)
{
	return n >= 263 && memcmp(b + 257, "ustar", 5) == 0 && (b[262] == 0 || b[262] == ' ');
}

/* A numeric field: octal digits (space or NUL padded), or GNU base-256 (high bit of the first
 * byte set; negative values refused). */
static int parse_number(const uint8_t *f, size_t len, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i = 0;

	if (f[0] & 0x80) {
		if (f[0] & 0x40)
			return -EBADMSG; /* negative */
		v = f[0] & 0x3f;
		for (i = 1; i < len; i++) {
			if (v > (UINT64_MAX >> 8))
				return -EBADMSG;
			v = v << 8 | f[i];
		}
		*ret = v;
		return 0;
	}
	while (i < len && f[i] == ' ')
		i++;
	for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v > (UINT64_MAX >> 3))
			return -EBADMSG;
		v = v << 3 | (uint64_t)(f[i] - '0');
	}
	for (; i < len; i++)
		if (f[i] != ' ' && f[i] != 0)
			return -EBADMSG;
	*ret = v;
	return 0;
}

static void copy_field(char *dst, const uint8_t *src, size_t len)
{
	size_t n = strnlen((const char *)src, len);
	memcpy(dst, src, n);
	dst[n] = 0;
}

int tar_header_parse(const uint8_t *b, struct tar_header *ret, char *why, size_t whylen)
{
	struct tar_header h = { 0 };
	uint64_t want, sum = 0;
	int64_t ssum = 0;
	bool gnu;

	if (parse_number(b + 148, 8, &want) < 0) {
		snprintf(why, whylen, "tar: a header's checksum field is not a number");
		return -EBADMSG;
	}
	for (size_t i = 0; i < TAR_BLOCK; i++) {
		uint8_t c = i >= 148 && i < 156 ? ' ' : b[i];
		sum += c;
		ssum += (int8_t)c; /* some old tars summed signed chars */
	}
	if (sum != want && (uint64_t)ssum != want) {
		snprintf(why, whylen, "tar: header checksum mismatch (not a tar archive, or corrupt)");
		return -EBADMSG;
	}
	h.typeflag = (char)b[156];
	if (parse_number(b + 124, 12, &h.size) < 0) {
		snprintf(why, whylen, "tar: a header's size field is not a number");
		return -EBADMSG;
	}
	gnu = memcmp(b + 257, "ustar  \0", 8) == 0;
	if (!gnu && memcmp(b + 257, "ustar", 5) == 0 && b[345] != 0) {
		/* ustar: prefix "/" name */
		size_t pl = strnlen((const char *)b + 345, 155);
		memcpy(h.name, b + 345, pl);
		h.name[pl] = '/';
		copy_field(h.name + pl + 1, b, 100);
	} else
		copy_field(h.name, b, 100);
	if (gnu && h.typeflag == 'S') {
		for (unsigned i = 0; i < 4; i++) {
			const uint8_t *e = b + 386 + i * 24;
			struct tar_region r;
			if (e[0] == 0)
				break;
			if (parse_number(e, 12, &r.offset) < 0 || parse_number(e + 12, 12, &r.len) < 0) {
				snprintf(why, whylen, "tar: a sparse map entry is not a number");
				return -EBADMSG;
			}
			h.sparse[h.n_sparse++] = r;
		}
		h.sparse_extended = b[482] != 0;
		if (parse_number(b + 483, 12, &h.real_size) < 0) {
			snprintf(why, whylen, "tar: the sparse real size is not a number");
			return -EBADMSG;
		}
	}
	*ret = h;
	return 0;
}

static int region_add(struct tar_region **regions, size_t *n, uint64_t off, uint64_t len,
		      char *why, size_t whylen)
{
	struct tar_region *nr;

	if (*n >= TAR_SPARSE_MAX) {
		snprintf(why, whylen, "tar: the sparse map has more than %u regions",
			 TAR_SPARSE_MAX);
		return -EFBIG;
	}
	if ((*n & (*n - 1)) == 0) { /* grow at powers of two */
		nr = realloc(*regions, (*n ? *n * 2 : 8) * sizeof(**regions));
		if (!nr)
			return -ENOMEM;
		*regions = nr;
	}
	(*regions)[(*n)++] = (struct tar_region){ off, len };
	return 0;
}

int tar_sparse_ext_parse(const uint8_t *b, struct tar_region **regions, size_t *n, bool *more,
			 char *why, size_t whylen)
{
	for (unsigned i = 0; i < 21; i++) {
		const uint8_t *e = b + i * 24;
		uint64_t off, len;
		int r;

		if (e[0] == 0)
			break;
		if (parse_number(e, 12, &off) < 0 || parse_number(e + 12, 12, &len) < 0) {
			snprintf(why, whylen, "tar: a sparse map entry is not a number");
			return -EBADMSG;
		}
		r = region_add(regions, n, off, len, why, whylen);
		if (r < 0)
			return r;
	}
	*more = b[504] != 0;
	return 0;
}

static int parse_decimal(const char *s, size_t len, uint64_t *ret)
{
	uint64_t v = 0;

	if (len == 0)
		return -EBADMSG;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - 9) / 10)
			return -EBADMSG;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*ret = v;
	return 0;
}

static bool key_is(const char *k, size_t kl, const char *name)
{
	return strlen(name) == kl && memcmp(k, name, kl) == 0;
}

static int set_string(char *dst, const char *v, size_t vl, char *why, size_t whylen)
{
	if (vl >= TAR_NAME_MAX || memchr(v, 0, vl)) {
		snprintf(why, whylen, "tar: a pax path is too long or holds a NUL byte");
		return -EBADMSG;
	}
	memcpy(dst, v, vl);
	dst[vl] = 0;
	return 0;
}

/* GNU.sparse.map = "offset,size,offset,size,..." (format 0.1) */
static int parse_map(struct tar_pax *pax, const char *v, size_t vl, char *why, size_t whylen)
{
	size_t i = 0;
	uint64_t nums[2];
	unsigned k = 0;
	int r;

	pax->n_regions = 0;
	while (i <= vl && vl > 0) {
		size_t j = i;
		while (j < vl && v[j] != ',')
			j++;
		if (parse_decimal(v + i, j - i, &nums[k]) < 0) {
			snprintf(why, whylen, "tar: GNU.sparse.map holds something that is not a number");
			return -EBADMSG;
		}
		if (++k == 2) {
			r = region_add(&pax->regions, &pax->n_regions, nums[0], nums[1], why, whylen);
			if (r < 0)
				return r;
			k = 0;
		}
		i = j + 1;
	}
	if (k != 0) {
		snprintf(why, whylen, "tar: GNU.sparse.map has an odd count of numbers");
		return -EBADMSG;
	}
	return 0;
}

static int apply(struct tar_pax *pax, const char *k, size_t kl, const char *v, size_t vl,
		 char *why, size_t whylen)
{
	uint64_t n;
	int r;

	if (key_is(k, kl, "path")) {
		pax->has_path = true;
		return set_string(pax->path, v, vl, why, whylen);
	}
	if (key_is(k, kl, "GNU.sparse.name")) {
		pax->is_sparse = true;
		return set_string(pax->sparse_name, v, vl, why, whylen);
	}
	if (key_is(k, kl, "size") || key_is(k, kl, "GNU.sparse.size") ||
	    key_is(k, kl, "GNU.sparse.realsize") || key_is(k, kl, "GNU.sparse.major") ||
	    key_is(k, kl, "GNU.sparse.minor") || key_is(k, kl, "GNU.sparse.offset") ||
	    key_is(k, kl, "GNU.sparse.numbytes")) {
		if (parse_decimal(v, vl, &n) < 0) {
			snprintf(why, whylen, "tar: pax record %.*s is not a number", (int)kl, k);
			return -EBADMSG;
		}
		if (key_is(k, kl, "size")) {
			pax->size = n;
			pax->has_size = true;
		} else if (key_is(k, kl, "GNU.sparse.major")) {
			pax->sparse_major = (unsigned)(n > 1000 ? 1000 : n);
			pax->is_sparse = true;
		} else if (key_is(k, kl, "GNU.sparse.minor"))
			pax->sparse_minor = (unsigned)(n > 1000 ? 1000 : n);
		else if (key_is(k, kl, "GNU.sparse.offset")) {
			pax->pending_offset = n;
			pax->has_pending_offset = true;
		} else if (key_is(k, kl, "GNU.sparse.numbytes")) {
			if (!pax->has_pending_offset) {
				snprintf(why, whylen, "tar: GNU.sparse.numbytes without an offset");
				return -EBADMSG;
			}
			pax->has_pending_offset = false;
			pax->is_sparse = true;
			r = region_add(&pax->regions, &pax->n_regions, pax->pending_offset, n, why,
				       whylen);
			if (r < 0)
				return r;
		} else {
			pax->sparse_real_size = n;
			pax->is_sparse = true;
		}
		return 0;
	}
	if (key_is(k, kl, "GNU.sparse.map")) {
		pax->is_sparse = true;
		return parse_map(pax, v, vl, why, whylen);
	}
	return 0; /* other keys (times, owners, xattrs) do not matter for a disk image */
}

int tar_pax_parse(const char *buf, size_t len, struct tar_pax *pax, char *why, size_t whylen)
{
	size_t pos = 0;

	if (len > TAR_PAX_MAX) {
		snprintf(why, whylen, "tar: an extended header is larger than %u bytes", TAR_PAX_MAX);
		return -EFBIG;
	}
	while (pos < len) {
		/* "%d %s=%s\n": the length counts the whole record */
		size_t i = pos, reclen = 0, eq;
		const char *k, *v;
		int r;

		if (buf[pos] == 0)
			break; /* padding */
		while (i < len && buf[i] >= '0' && buf[i] <= '9' && i - pos < 10)
			reclen = reclen * 10 + (size_t)(buf[i++] - '0');
		if (i >= len || buf[i] != ' ' || reclen <= i - pos + 1 || reclen > len - pos ||
		    buf[pos + reclen - 1] != '\n') {
			snprintf(why, whylen, "tar: a malformed pax extended header record");
			return -EBADMSG;
		}
		k = buf + i + 1;
		for (eq = 0; k + eq < buf + pos + reclen - 1 && k[eq] != '='; eq++)
			;
		if (k + eq >= buf + pos + reclen - 1) {
			snprintf(why, whylen, "tar: a pax extended header record has no '='");
			return -EBADMSG;
		}
		v = k + eq + 1;
		r = apply(pax, k, eq, v, (size_t)(buf + pos + reclen - 1 - v), why, whylen);
		if (r < 0)
			return r;
		pos += reclen;
	}
	return 0;
}

void tar_pax_done(struct tar_pax *pax)
{
	free(pax->regions);
	*pax = (struct tar_pax){ 0 };
}

int tar_sparse_check(const struct tar_region *r, size_t n, uint64_t real_size, uint64_t stored,
		     char *why, size_t whylen)
{
	uint64_t end = 0, sum = 0;

	for (size_t i = 0; i < n; i++) {
		if (r[i].offset < end || r[i].offset > real_size ||
		    r[i].len > real_size - r[i].offset) {
			snprintf(why, whylen,
				 "tar: sparse region %zu (offset %llu, %llu bytes) is out of order or "
				 "past the file's size %llu",
				 i, (unsigned long long)r[i].offset, (unsigned long long)r[i].len,
				 (unsigned long long)real_size);
			return -EBADMSG;
		}
		end = r[i].offset + r[i].len;
		sum += r[i].len;
	}
	if (sum != stored) {
		snprintf(why, whylen,
			 "tar: the sparse map covers %llu bytes but the member stores %llu",
			 (unsigned long long)sum, (unsigned long long)stored);
		return -EBADMSG;
	}
	return 0;
}
