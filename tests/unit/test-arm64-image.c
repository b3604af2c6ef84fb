// SPDX-License-Identifier: GPL-2.0-or-later
/* The arm64 Image header and kernel wrappers (gzip, EFI zboot). */
#include <stdio.h>

#include "basic/macro.h"
#include "format/arm64-image.h"
#include "tests.h"

static uint8_t debian[ARM64_IMAGE_HEADER_SIZE];

/* the first 64 bytes of Debian 12's linux-image-6.1.0-*-cloud-arm64 /boot/vmlinuz */
static void load_debian(void)
{
	const char *dir = getenv("REIMAGE_TEST_DATA");
	char path[4096];
	_cleanup_fclose_ FILE *f = NULL;

	ASSERT_TRUE(dir);
	snprintf(path, sizeof(path), "%s/arm64-image-header-debian12", dir);
	f = fopen(path, "rb");
	ASSERT_TRUE(f);
	ASSERT_EQ(fread(debian, 1, sizeof(debian), f), sizeof(debian));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

TEST(debian_cloud_kernel)
{
	struct arm64_image img;
	enum kernel_wrapper w = KERNEL_WRAPPER_GZIP;

	load_debian();
	ASSERT_EQ(arm64_image_parse(debian, sizeof(debian), &img), 0);
	ASSERT_EQ(img.text_offset, 0);
	ASSERT_EQ(img.image_size, 0x1ab0000);
	ASSERT_EQ(img.flags, 0xa);
	ASSERT_EQ(img.page_size_kib, 4);
	ASSERT_TRUE(img.anywhere);
	/* an EFI-stub Image starts with "MZ" too; it is not zboot */
	ASSERT_EQ(kernel_wrapper_detect(debian, sizeof(debian), &w, NULL, NULL, NULL, 0), 0);
	ASSERT_EQ(w, KERNEL_WRAPPER_NONE);
}

TEST(bad_headers)
{
	uint8_t h[ARM64_IMAGE_HEADER_SIZE];
	struct arm64_image img = { .text_offset = 42 };

	load_debian();
	ASSERT_EQ(arm64_image_parse(debian, 63, &img), -ENOEXEC);
	memcpy(h, debian, sizeof(h));
	h[59] = 0;
	ASSERT_EQ(arm64_image_parse(h, sizeof(h), &img), -ENOEXEC);
	memcpy(h, debian, sizeof(h));
	put64(h + 24, 0xb); /* big-endian */
	ASSERT_EQ(arm64_image_parse(h, sizeof(h), &img), -EPROTONOSUPPORT);
	memcpy(h, debian, sizeof(h));
	put64(h + 16, 0); /* before 3.17 */
	ASSERT_EQ(arm64_image_parse(h, sizeof(h), &img), -EPROTONOSUPPORT);
	memcpy(h, debian, sizeof(h));
	put64(h + 8, 0x200000);
	ASSERT_EQ(arm64_image_parse(h, sizeof(h), &img), -EBADMSG);
	put64(h + 8, 0x80001);
	ASSERT_EQ(arm64_image_parse(h, sizeof(h), &img), -EBADMSG);
	put64(h + 8, 0x80000); /* the old default text_offset is fine */
	ASSERT_EQ(arm64_image_parse(h, sizeof(h), &img), 0);
	ASSERT_EQ(img.text_offset, 0x80000);
}

TEST(wrappers)
{
	uint8_t z[256] = { 'M', 'Z', 0, 0, 'z', 'i', 'm', 'g' };
	static const uint8_t gz[] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
	enum kernel_wrapper w;
	uint64_t off = 0, size = 0;
	char type[40];

	ASSERT_EQ(kernel_wrapper_detect(gz, sizeof(gz), &w, NULL, NULL, NULL, 0), 0);
	ASSERT_EQ(w, KERNEL_WRAPPER_GZIP);
	/* zboot: payload at 128, 100 bytes, gzip */
	z[8] = 128;
	z[12] = 100;
	memcpy(z + 24, "gzip", 5);
	ASSERT_EQ(kernel_wrapper_detect(z, sizeof(z), &w, &off, &size, type, sizeof(type)), 0);
	ASSERT_EQ(w, KERNEL_WRAPPER_ZBOOT);
	ASSERT_EQ(off, 128);
	ASSERT_EQ(size, 100);
	ASSERT_STREQ(type, "gzip");
	/* payload beyond the file */
	z[12] = 129;
	ASSERT_EQ(kernel_wrapper_detect(z, sizeof(z), &w, &off, &size, type, sizeof(type)),
		  -EBADMSG);
	/* a compression name without its NUL */
	z[12] = 100;
	memset(z + 24, 'x', 32);
	ASSERT_EQ(kernel_wrapper_detect(z, sizeof(z), &w, &off, &size, type, sizeof(type)),
		  -EBADMSG);
	ASSERT_EQ(kernel_wrapper_detect((const uint8_t *)"#!/bin/sh\n", 10, &w, NULL, NULL, NULL,
					0),
		  -ENOEXEC);
}

RUN(T(debian_cloud_kernel), T(bad_headers), T(wrappers))
