// SPDX-License-Identifier: GPL-2.0-or-later
/* /chosen for the next kernel (arm64 builds only: libfdt), on the device tree QEMU's virt board
 * gives its guests (tests/data/qemu-virt.dtb, from -M virt,dumpdtb=, packed). */
#include <libfdt.h>
#include <stdio.h>

#include "basic/macro.h"
#include "kexec/fdt-chosen.h"
#include "tests.h"

static uint8_t dtb[65536];
static size_t dtb_len;

static void load(void)
{
	const char *dir = getenv("REIMAGE_TEST_DATA");
	char path[4096];
	_cleanup_fclose_ FILE *f = NULL;

	ASSERT_TRUE(dir);
	snprintf(path, sizeof(path), "%s/qemu-virt.dtb", dir);
	f = fopen(path, "rb");
	ASSERT_TRUE(f);
	dtb_len = fread(dtb, 1, sizeof(dtb), f);
	ASSERT_TRUE(dtb_len > 100 && dtb_len < sizeof(dtb));
}

static uint64_t get_u64(const void *fdt, int node, const char *name)
{
	int len = 0;
	const fdt64_t *p = fdt_getprop(fdt, node, name, &len);

	ASSERT_TRUE(p);
	ASSERT_EQ(len, 8);
	return fdt64_to_cpu(*p);
}

TEST(chosen_rewritten)
{
	static const uint8_t seed[64] = { 1, 2, 3, 4, 5, 6, 7, 8, [63] = 0x99 };
	uint8_t in[65536 + 256];
	_cleanup_free_ void *out = NULL;
	size_t out_len = 0;
	const uint8_t *p;
	int node, len;

	load();
	/* what a crash kernel's tree, or an earlier kexec, would leave behind */
	ASSERT_EQ(fdt_open_into(dtb, in, sizeof(in)), 0);
	node = fdt_path_offset(in, "/chosen");
	ASSERT_TRUE(node >= 0);
	ASSERT_EQ(fdt_setprop_u64(in, node, "linux,elfcorehdr", 0x1234), 0);
	ASSERT_EQ(fdt_setprop_string(in, node, "bootargs", "old args"), 0);
	ASSERT_EQ(fdt_setprop_u32(in, node, "linux,initrd-start", 0x48000000), 0);
	ASSERT_EQ(fdt_setprop_string(in, node, "stdout-path", "/pl011@9000000"), 0);

	ASSERT_EQ(fdt_chosen_update(in, sizeof(in),
				    &(struct fdt_chosen){ .bootargs = "console=ttyAMA0 reimage",
							  .initrd_start = 0x44000000,
							  .initrd_end = 0x44a00123,
							  .rng_seed = seed,
							  .rng_seed_len = sizeof(seed),
							  .kaslr_seed = 0xfeedface12345678ULL },
				    &out, &out_len),
		  0);
	ASSERT_EQ(fdt_check_full(out, out_len), 0);
	ASSERT_EQ(fdt_totalsize(out), out_len);
	node = fdt_path_offset(out, "/chosen");
	ASSERT_TRUE(node >= 0);
	ASSERT_STREQ(fdt_getprop(out, node, "bootargs", NULL), "console=ttyAMA0 reimage");
	ASSERT_EQ(get_u64(out, node, "linux,initrd-start"), 0x44000000);
	ASSERT_EQ(get_u64(out, node, "linux,initrd-end"), 0x44a00123);
	ASSERT_EQ(get_u64(out, node, "kaslr-seed"), 0xfeedface12345678ULL);
	p = fdt_getprop(out, node, "rng-seed", &len);
	ASSERT_TRUE(p);
	ASSERT_EQ(len, 64);
	ASSERT_EQ(memcmp(p, seed, 64), 0);
	ASSERT_TRUE(fdt_getprop(out, node, "linux,elfcorehdr", NULL) == NULL);
	/* what is not ours stays */
	ASSERT_STREQ(fdt_getprop(out, node, "stdout-path", NULL), "/pl011@9000000");
	ASSERT_TRUE(fdt_path_offset(out, "/memory@40000000") >= 0);
}

TEST(no_initrd_no_seeds_no_chosen)
{
	uint8_t in[65536];
	_cleanup_free_ void *out = NULL;
	size_t out_len = 0;
	int node;

	load();
	ASSERT_EQ(fdt_open_into(dtb, in, sizeof(in)), 0);
	ASSERT_EQ(fdt_del_node(in, fdt_path_offset(in, "/chosen")), 0);
	ASSERT_EQ(fdt_chosen_update(in, sizeof(in), &(struct fdt_chosen){ .bootargs = "x" }, &out,
				    &out_len),
		  0);
	node = fdt_path_offset(out, "/chosen");
	ASSERT_TRUE(node >= 0); /* made */
	ASSERT_STREQ(fdt_getprop(out, node, "bootargs", NULL), "x");
	ASSERT_TRUE(fdt_getprop(out, node, "linux,initrd-start", NULL) == NULL);
	ASSERT_TRUE(fdt_getprop(out, node, "rng-seed", NULL) == NULL);
	ASSERT_TRUE(fdt_getprop(out, node, "kaslr-seed", NULL) == NULL);
}

TEST(damaged_trees)
{
	void *out = NULL;
	size_t out_len = 0;
	uint8_t bad[65536];
	struct fdt_chosen c = { .bootargs = "x" };

	load();
	/* cut short of what its header says */
	ASSERT_EQ(fdt_chosen_update(dtb, dtb_len - 1, &c, &out, &out_len), -EBADMSG);
	ASSERT_EQ(fdt_chosen_update(dtb, 10, &c, &out, &out_len), -EBADMSG);
	memcpy(bad, dtb, dtb_len);
	bad[0] ^= 0xff; /* magic */
	ASSERT_EQ(fdt_chosen_update(bad, dtb_len, &c, &out, &out_len), -EBADMSG);
	ASSERT_TRUE(out == NULL);
}

RUN(T(chosen_rewritten), T(no_initrd_no_seeds_no_chosen), T(damaged_trees))
