// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for src/format/cmdline.c: words split as the kernel splits them (quotes), and
 * which words of the running kernel's command line the flasher's carries. */
#include "format/cmdline.h"
#include "tests.h"

static int count_words(const char *key, const char *value, void *userdata)
{
	(void)key;
	(void)value;
	(*(int *)userdata)++;
	return 0;
}

TEST(split_and_get)
{
	char buf[64];
	int n = 0;

	ASSERT_EQ(cmdline_foreach("  a=1 b \"c=x y\" d=\"p q\"\n", count_words, &n), 0);
	ASSERT_EQ(n, 4);
	ASSERT_EQ(cmdline_get("a=1 c=\"x y\" a=2", "a", buf, sizeof(buf)), 1);
	ASSERT_STREQ(buf, "2");
	ASSERT_EQ(cmdline_get("a=1 c=\"x y\"", "c", buf, sizeof(buf)), 1);
	ASSERT_STREQ(buf, "x y");
	ASSERT_EQ(cmdline_get("quiet", "quiet", buf, sizeof(buf)), 1);
	ASSERT_STREQ(buf, "");
	ASSERT_EQ(cmdline_get("a=1", "b", buf, sizeof(buf)), 0);
	ASSERT_EQ(cmdline_get("a=123456", "a", buf, 4), -ENOBUFS);
}

TEST(which_words_carry)
{
	ASSERT_TRUE(cmdline_word_carries("console"));
	ASSERT_TRUE(cmdline_word_carries("nvme_core.io_timeout"));
	ASSERT_TRUE(cmdline_word_carries("nvme_core.default_ps_max_latency_us"));
	ASSERT_TRUE(cmdline_word_carries("kvm-intel.nested"));
	ASSERT_TRUE(cmdline_word_carries("pci"));
	ASSERT_TRUE(cmdline_word_carries("intel_iommu"));
	ASSERT_TRUE(!cmdline_word_carries("root"));
	ASSERT_TRUE(!cmdline_word_carries("init"));
	ASSERT_TRUE(!cmdline_word_carries("BOOT_IMAGE"));
	ASSERT_TRUE(!cmdline_word_carries("quiet"));
	ASSERT_TRUE(!cmdline_word_carries("panic"));
	ASSERT_TRUE(!cmdline_word_carries("lockdown"));
	ASSERT_TRUE(!cmdline_word_carries("rd.luks.uuid"));
	ASSERT_TRUE(!cmdline_word_carries("systemd.unit"));
	ASSERT_TRUE(!cmdline_word_carries("printk.devkmsg"));
	ASSERT_TRUE(!cmdline_word_carries(".x"));
	ASSERT_TRUE(!cmdline_word_carries("x."));
	ASSERT_TRUE(!cmdline_word_carries("a/b.c"));
}

TEST(carry)
{
	char buf[256] = "";

	ASSERT_EQ(cmdline_carry("BOOT_IMAGE=/vmlinuz-6.1 root=UUID=1234 ro quiet console=tty0 "
				"console=ttyS0,115200n8 nvme_core.io_timeout=600 systemd.unit=x "
				"rd.break noapic mod.p=\"a b\" panic=-1",
				buf, sizeof(buf)),
		  4);
	ASSERT_STREQ(buf, "console=tty0 console=ttyS0,115200n8 nvme_core.io_timeout=600 noapic ");
	/* words after "--" are init's, not the kernel's */
	buf[0] = 0;
	ASSERT_EQ(cmdline_carry("console=ttyS0 -- --addr 0.0.0.0:2024 a.b=c", buf, sizeof(buf)), 1);
	ASSERT_STREQ(buf, "console=ttyS0 ");
	/* appends, and stops at half the buffer */
	char small[40] = "x ";
	ASSERT_EQ(cmdline_carry("console=ttyS0 console=ttyS1 console=ttyS2", small, sizeof(small)), 1);
	ASSERT_STREQ(small, "x console=ttyS0 ");
}

RUN(T(split_and_get), T(which_words_carry), T(carry))
