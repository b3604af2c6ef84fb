// SPDX-License-Identifier: GPL-2.0-or-later
/* /proc/iomem: usable RAM for kexec_load segments, and aligned placement in it. */
#include "format/iomem.h"
#include "tests.h"

/* an arm64 QEMU virt guest with 512 MiB (layout as /proc/iomem shows it as root) */
static const char virt[] =
	"09000000-09000fff : pl011@9000000\n"
	"  09000000-09000fff : 9000000.pl011 pl011@9000000\n"
	"40000000-5fffffff : System RAM\n"
	"  40210000-4157ffff : Kernel code\n"
	"  41580000-4180ffff : reserved\n"
	"  41810000-41bdffff : Kernel data\n"
	"  48000000-480fffff : reserved\n"
	"  5d400000-5fffffff : reserved\n"
	"    5e000000-5e0fffff : nested under reserved\n"
	"4010000000-401fffffff : PCI ECAM\n";

static struct iomem_ram ram;

TEST(virt_layout)
{
	ASSERT_EQ(iomem_parse_usable_ram(virt, strlen(virt), &ram), 0);
	/* the kernel's own code and data are usable (kexec replaces them last); reserved
	 * children are not; nothing outside System RAM is */
	ASSERT_EQ(ram.n, 3);
	ASSERT_EQ(ram.r[0].start, 0x40000000);
	ASSERT_EQ(ram.r[0].end, 0x41580000);
	ASSERT_EQ(ram.r[1].start, 0x41810000);
	ASSERT_EQ(ram.r[1].end, 0x48000000);
	ASSERT_EQ(ram.r[2].start, 0x48100000);
	ASSERT_EQ(ram.r[2].end, 0x5d400000);
}

TEST(hidden_addresses_and_no_ram)
{
	static const char hidden[] = "00000000-00000000 : System RAM\n"
				     "  00000000-00000000 : Kernel code\n";
	static const char no_ram[] = "09000000-09000fff : pl011@9000000\n";

	ASSERT_EQ(iomem_parse_usable_ram(hidden, strlen(hidden), &ram), -EPERM);
	ASSERT_EQ(iomem_parse_usable_ram(no_ram, strlen(no_ram), &ram), -ENOENT);
	ASSERT_EQ(iomem_parse_usable_ram("", 0, &ram), -ENOENT);
}

TEST(malformed)
{
	static const char *const bad[] = {
		"40000000 : System RAM\n",              /* no end */
		"40000000-3fffffff : System RAM\n",     /* start above end */
		"4000zz00-5fffffff : System RAM\n",     /* not hex */
		"40000000-5fffffff System RAM\n",       /* no " : " */
		"10000000000000000-1 : System RAM\n",   /* over 64 bits */
		"-5fffffff : System RAM\n",             /* no start */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ASSERT_EQ(iomem_parse_usable_ram(bad[i], strlen(bad[i]), &ram), -EBADMSG);
}

TEST(adjacent_ram_merges_without_trailing_newline)
{
	static const char t[] = "40000000-4fffffff : System RAM\n50000000-5fffffff : System RAM";

	ASSERT_EQ(iomem_parse_usable_ram(t, strlen(t), &ram), 0);
	ASSERT_EQ(ram.n, 1);
	ASSERT_EQ(ram.r[0].start, 0x40000000);
	ASSERT_EQ(ram.r[0].end, 0x60000000);
}

TEST(take_aligned_lowest_and_exhaust)
{
	uint64_t a = 0;
	struct iomem_ram before;

	ASSERT_EQ(iomem_parse_usable_ram(virt, strlen(virt), &ram), 0);
	/* 2 MiB aligned, lowest first: 0x40000000 itself */
	ASSERT_EQ(iomem_ram_take(&ram, 0x400000, 0x200000, 0, &a), 0);
	ASSERT_EQ(a, 0x40000000);
	ASSERT_EQ(ram.r[0].start, 0x40400000);
	/* what is left of the first range is too small for the Debian kernel's image_size:
	 * the first 2 MiB boundary in the second range, which splits */
	ASSERT_EQ(iomem_ram_take(&ram, 0x1ab0000, 0x200000, 0, &a), 0);
	ASSERT_EQ(a, 0x41a00000);
	ASSERT_EQ(ram.n, 4);
	ASSERT_EQ(ram.r[1].start, 0x41810000);
	ASSERT_EQ(ram.r[1].end, 0x41a00000);
	ASSERT_EQ(ram.r[2].start, 0x434b0000);
	/* a page, at or above a minimum, splits a range in the middle */
	ASSERT_EQ(iomem_ram_take(&ram, 0x1000, 0x1000, 0x50000000, &a), 0);
	ASSERT_EQ(a, 0x50000000);
	ASSERT_EQ(ram.r[ram.n - 1].start, 0x50001000);
	ASSERT_EQ(ram.r[ram.n - 2].end, 0x50000000);
	/* too big: nothing changes */
	before = ram;
	ASSERT_EQ(iomem_ram_take(&ram, 0x40000000, 0x1000, 0, &a), -EADDRNOTAVAIL);
	ASSERT_EQ(memcmp(&before, &ram, sizeof(ram)), 0);
	ASSERT_EQ(iomem_ram_take(&ram, 0, 0x1000, 0, &a), -EINVAL);
	ASSERT_EQ(iomem_ram_take(&ram, 0x1000, 0x3000, 0, &a), -EINVAL);
}

RUN(T(virt_layout), T(hidden_addresses_and_no_ram), T(malformed),
    T(adjacent_ram_merges_without_trailing_newline), T(take_aligned_lowest_and_exhaust))
