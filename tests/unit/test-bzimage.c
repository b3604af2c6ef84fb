// SPDX-License-Identifier: GPL-2.0-or-later
/* The bzImage setup header and the boot_params built from it (x86 kexec_load). */
#include <stdio.h>

#include "basic/macro.h"
#include "format/bzimage.h"
#include "tests.h"

/* Debian 12's linux-image-6.1.0-*-cloud-amd64 /boot/vmlinuz: its first KiB, then zeros */
static uint8_t k[32768];

static void load(void)
{
	const char *dir = getenv("REIMAGE_TEST_DATA");
	char path[4096];
	_cleanup_fclose_ FILE *f = NULL;

	ASSERT_TRUE(dir);
	snprintf(path, sizeof(path), "%s/bzimage-header-debian12", dir);
	f = fopen(path, "rb");
	ASSERT_TRUE(f);
	memset(k, 0, sizeof(k));
	ASSERT_EQ(fread(k, 1, 1024, f), 1024);
}

static uint64_t get(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	while (n--)
		v = v << 8 | p[n];
	return v;
}

TEST(debian_header)
{
	struct bzimage b;

	load();
	ASSERT_EQ(bzimage_parse(k, sizeof(k), &b), 0);
	ASSERT_EQ(b.setup_size, 40 * 512);
	ASSERT_EQ(b.version, 0x020f);
	ASSERT_EQ(b.kernel_alignment, 0x200000);
	ASSERT_EQ(b.cmdline_size, 2047);
	ASSERT_EQ(b.pref_address, 0x1000000);
	ASSERT_EQ(b.init_size, 0x3378000);
}

TEST(refusals)
{
	struct bzimage b;

	load();
	ASSERT_EQ(bzimage_parse(k, 0x267, &b), -ENOEXEC);
	ASSERT_EQ(bzimage_parse(k, 20480, &b), -EBADMSG); /* no kernel after the setup */
	k[0x236] &= (uint8_t)~2; /* not loadable above 4 GiB */
	ASSERT_EQ(bzimage_parse(k, sizeof(k), &b), -EPROTONOSUPPORT);
	load();
	k[0x206] = 0x0b; /* protocol 2.11 */
	ASSERT_EQ(bzimage_parse(k, sizeof(k), &b), -EPROTONOSUPPORT);
	load();
	k[0x230] = 0x01, k[0x232] = 0x20; /* alignment 0x200001 */
	ASSERT_EQ(bzimage_parse(k, sizeof(k), &b), -EBADMSG);
	load();
	k[0x1fe] = 0;
	ASSERT_EQ(bzimage_parse(k, sizeof(k), &b), -ENOEXEC);
}

TEST(boot_params)
{
	static uint8_t bp[BOOT_PARAMS_SIZE];
	struct e820_entry e[3] = { { 0, 0x9fc00, 1 }, { 0xf0000, 0x10000, 2 },
				   { 0x100000, 0x1fed7000, 1 } };

	load();
	memset(bp, 0xee, sizeof(bp));
	ASSERT_EQ(boot_params_build(bp, k, sizeof(k), 0x123456789000ULL, 0x1e000000, 0x845123, e,
				    3, 0xabcdef),
		  0);
	/* the kernel's own header, as it is, where the loader does not write */
	ASSERT_EQ(memcmp(bp + 0x202, "HdrS", 4), 0);
	ASSERT_EQ(get(bp + 0x206, 2), 0x020f);
	ASSERT_EQ(get(bp + 0x260, 4), 0x3378000);
	ASSERT_EQ(bp[0x210], 0xff);
	ASSERT_EQ(get(bp + 0x228, 4), 0x56789000);
	ASSERT_EQ(get(bp + 0x0c8, 4), 0x1234);
	ASSERT_EQ(get(bp + 0x218, 4), 0x1e000000);
	ASSERT_EQ(get(bp + 0x0c0, 4), 0);
	ASSERT_EQ(get(bp + 0x21c, 4), 0x845123);
	ASSERT_EQ(get(bp + 0x070, 8), 0xabcdef);
	ASSERT_EQ(bp[0x1e8], 3);
	ASSERT_EQ(get(bp + 0x2d0 + 40, 8), 0x100000);
	ASSERT_EQ(get(bp + 0x2d0 + 48, 8), 0x1fed7000);
	ASSERT_EQ(get(bp + 0x2d0 + 56, 4), 1);
	ASSERT_EQ(get(bp + 0x2d0 + 36, 4), 2);
	/* everything else zeroed: the sentinel at 0x1ef, screen_info, the EDD buffers */
	ASSERT_EQ(bp[0x1ef], 0);
	ASSERT_EQ(bp[0], 0);
	ASSERT_EQ(bp[0xfff], 0);
	/* a header that claims to run past the file */
	ASSERT_EQ(boot_params_build(bp, k, 0x250, 0, 0, 0, e, 3, 0), -EBADMSG);
	ASSERT_EQ(boot_params_build(bp, k, sizeof(k), 0, 0, 0, e, 129, 0), -EFBIG);
}

TEST(e820_names)
{
	ASSERT_EQ(e820_type_from_name("System RAM"), 1);
	ASSERT_EQ(e820_type_from_name("ACPI Tables"), 3);
	ASSERT_EQ(e820_type_from_name("ACPI Non-volatile Storage"), 4);
	ASSERT_EQ(e820_type_from_name("Persistent Memory"), 7);
	ASSERT_EQ(e820_type_from_name("something new"), 2);
}

RUN(T(debian_header), T(refusals), T(boot_params), T(e820_names))
