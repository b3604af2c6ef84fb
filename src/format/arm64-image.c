// SPDX-License-Identifier: GPL-2.0-or-later
/* arm64 Image header and kernel wrapper detection, from untrusted bytes. */
#include "format/arm64-image.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int arm64_image_parse(const uint8_t *buf, size_t len, struct arm64_image *ret)
{
	struct arm64_image img = {};
	static const unsigned page_kib[4] = { 0, 4, 16, 64 };

	if (!buf || !ret)
		return -EINVAL;
	if (len < ARM64_IMAGE_HEADER_SIZE || memcmp(buf + 56, "ARM\x64", 4) != 0)
		return -ENOEXEC;
	img.text_offset = le64(buf + 8);
	img.image_size = le64(buf + 16);
	img.flags = le64(buf + 24);
	if (img.flags & 1)
		return -EPROTONOSUPPORT; /* big-endian */
	if (img.image_size == 0)
		return -EPROTONOSUPPORT;
	if (img.text_offset >= ARM64_IMAGE_ALIGN || img.text_offset % 4096 ||
	    img.image_size < ARM64_IMAGE_HEADER_SIZE)
		return -EBADMSG;
	img.page_size_kib = page_kib[(img.flags >> 1) & 3];
	img.anywhere = img.flags & 8;
	*ret = img;
	return 0;
}

int kernel_wrapper_detect(const uint8_t *buf, size_t len, enum kernel_wrapper *ret_wrapper,
			  uint64_t *ret_offset, uint64_t *ret_size, char *type, size_t typelen)
{
	if (!buf || !ret_wrapper)
		return -EINVAL;
	if (len >= ARM64_IMAGE_HEADER_SIZE && memcmp(buf + 56, "ARM\x64", 4) == 0 &&
	    memcmp(buf + 4, "zimg", 4) != 0) {
		*ret_wrapper = KERNEL_WRAPPER_NONE;
		return 0;
	}
	if (len >= 3 && buf[0] == 0x1f && buf[1] == 0x8b && buf[2] == 8) {
		*ret_wrapper = KERNEL_WRAPPER_GZIP;
		return 0;
	}
	if (len >= 56 && buf[0] == 'M' && buf[1] == 'Z' && memcmp(buf + 4, "zimg", 4) == 0) {
		uint64_t off = le32(buf + 8), size = le32(buf + 12);
		const char *name = (const char *)buf + 24;
		size_t n = strnlen(name, 32);

		if (off > len || size > len - off || size == 0 || n == 32 || n == 0)
			return -EBADMSG;
		if (type)
			snprintf(type, typelen, "%.*s", (int)n, name);
		if (ret_offset)
			*ret_offset = off;
		if (ret_size)
			*ret_size = size;
		*ret_wrapper = KERNEL_WRAPPER_ZBOOT;
		return 0;
	}
	return -ENOEXEC;
}

int arm64_image_release(const uint8_t *buf, size_t len, char *version, size_t versionlen)
{
	static const char banner[] = "Linux version ";
	const uint8_t *p = buf, *end = buf + len;

	if (!buf || !version || versionlen == 0)
		return -EINVAL;
	while ((p = memmem(p, (size_t)(end - p), banner, sizeof(banner) - 1))) {
		const uint8_t *v = p + sizeof(banner) - 1, *e = v;
		while (e < end && *e > ' ' && *e < 0x7f)
			e++;
		/* the banner is "Linux version %s (%s@%s) ...": a release, then " (" */
		if (e > v && end - e >= 2 && e[0] == ' ' && e[1] == '(') {
			if ((size_t)(e - v) >= versionlen)
				return -EFBIG;
			memcpy(version, v, (size_t)(e - v));
			version[e - v] = 0;
			return 0;
		}
		p = v;
	}
	return -ENOENT;
}
