// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for Boot Loader Specification entries: parsing, version order, menu order and the
 * choice of the entry to boot. */
#include "format/bls.h"
#include "tests.h"

static void parse_ok(const char *name, const char *text, struct bls_entry *e)
{
	char err[256] = "";
	int r = bls_entry_parse(name, text, strlen(text), e, err, sizeof(err));
	if (r != 0)
		fprintf(stderr, "parse %s: %d %s\n", name, r, err);
	ASSERT_EQ(r, 0);
}

TEST(parse_full_entry)
{
	struct bls_entry e;
	parse_ok("6a98-3.8.0-2.fc19.x86_64.conf",
		 "# a comment\n"
		 "title        Fedora 19 (Rawhide)\n"
		 "sort-key     fedora\n"
		 "machine-id   6a9857a393724b7a981ebb5b8495b9ea\r\n"
		 "version      3.8.0-2.fc19.x86_64\n"
		 "  options    root=UUID=6d33 quiet  \n"
		 "options\tconsole=ttyS0\n"
		 "architecture x64\n"
		 "linux        /6a98/3.8.0/linux\n"
		 "initrd       /6a98/3.8.0/initrd\n"
		 "initrd       6a98/3.8.0/extra\n"
		 "devicetree   /x.dtb\n"
		 "grub_users   $grub_users\n",
		 &e);
	ASSERT_STREQ(e.name, "6a98-3.8.0-2.fc19.x86_64");
	ASSERT_STREQ(e.id, "6a98-3.8.0-2.fc19.x86_64");
	ASSERT_STREQ(e.title, "Fedora 19 (Rawhide)");
	ASSERT_STREQ(e.sort_key, "fedora");
	ASSERT_STREQ(e.machine_id, "6a9857a393724b7a981ebb5b8495b9ea");
	ASSERT_STREQ(e.version, "3.8.0-2.fc19.x86_64");
	ASSERT_STREQ(e.options, "root=UUID=6d33 quiet console=ttyS0");
	ASSERT_STREQ(e.architecture, "x64");
	ASSERT_STREQ(e.linux_path, "/6a98/3.8.0/linux");
	ASSERT_EQ(e.n_initrds, 2);
	ASSERT_STREQ(e.initrds[0], "/6a98/3.8.0/initrd");
	ASSERT_STREQ(e.initrds[1], "6a98/3.8.0/extra");
	ASSERT_EQ(e.tries_left, -1);
	ASSERT_EQ(e.n_ignored, 2); /* devicetree, grub_users */
	bls_entry_done(&e);
}

TEST(parse_malformed)
{
	struct bls_entry e;
	char err[256], big[BLS_LINE_MAX + 20];
	const char nul[] = "linux /a\0b\n";

	/* keys without a value and unknown keys are skipped, the last single value wins */
	parse_ok("a.conf", "title\nlinux /old\nlinux /new\nfrobnicate yes\n\n", &e);
	ASSERT_STREQ(e.linux_path, "/new");
	ASSERT_TRUE(e.title == NULL);
	ASSERT_TRUE(e.options == NULL);
	ASSERT_EQ(e.n_ignored, 2);
	bls_entry_done(&e);
	/* a file without the last newline */
	parse_ok("b.conf", "linux /k", &e);
	ASSERT_STREQ(e.linux_path, "/k");
	bls_entry_done(&e);

	ASSERT_EQ(bls_entry_parse("c.conf", "title x\noptions quiet\n", 22, &e, err, sizeof(err)),
		  -EBADMSG);
	ASSERT_TRUE(strstr(err, "neither") != NULL);
	ASSERT_EQ(bls_entry_parse("d.conf", nul, sizeof(nul) - 1, &e, err, sizeof(err)), -EBADMSG);
	ASSERT_EQ(bls_entry_parse("e.txt", "linux /k\n", 9, &e, err, sizeof(err)), -EINVAL);
	ASSERT_EQ(bls_entry_parse(".conf", "linux /k\n", 9, &e, err, sizeof(err)), -EINVAL);
	ASSERT_EQ(bls_entry_parse("x/y.conf", "linux /k\n", 9, &e, err, sizeof(err)), -EINVAL);
	memset(big, 'a', sizeof(big));
	memcpy(big, "title ", 6);
	big[sizeof(big) - 1] = 0;
	ASSERT_EQ(bls_entry_parse("f.conf", big, strlen(big), &e, err, sizeof(err)), -EBADMSG);
	ASSERT_TRUE(strstr(err, "line 1") != NULL);
	{
		char many[64 * 40] = "linux /k\n";
		for (int i = 0; i <= BLS_MAX_INITRDS; i++)
			strcat(many, "initrd /i\n");
		ASSERT_EQ(bls_entry_parse("g.conf", many, strlen(many), &e, err, sizeof(err)),
			  -EFBIG);
	}
}

TEST(boot_counter)
{
	struct bls_entry e;
	parse_ok("fedora-6.1+3-1.conf", "linux /k\n", &e);
	ASSERT_STREQ(e.id, "fedora-6.1");
	ASSERT_STREQ(e.name, "fedora-6.1+3-1");
	ASSERT_EQ(e.tries_left, 3);
	ASSERT_EQ(e.tries_done, 1);
	bls_entry_done(&e);
	parse_ok("x+0.conf", "linux /k\n", &e);
	ASSERT_EQ(e.tries_left, 0);
	ASSERT_STREQ(e.id, "x");
	bls_entry_done(&e);
	/* not a counter: stays part of the id */
	parse_ok("x+a.conf", "linux /k\n", &e);
	ASSERT_EQ(e.tries_left, -1);
	ASSERT_STREQ(e.id, "x+a");
	bls_entry_done(&e);
	parse_ok("x+1-.conf", "linux /k\n", &e);
	ASSERT_EQ(e.tries_left, -1);
	bls_entry_done(&e);
}

#define V(a, op, b) ASSERT_TRUE(bls_version_compare(a, b) op 0)

TEST(version_order)
{
	/* the Version Format Specification's examples */
	V("11", ==, "11");
	V("systemd-123", ==, "systemd-123");
	V("bar-123", <, "foo-123");
	V("123a", >, "123");
	V("123.a", >, "123");
	V("123.a", <, "123.b");
	V("123a", >, "123.a");
	V("11\xce\xb1", ==, "11\xce\xb2");
	V("A", <, "a");
	V("", <, "0");
	V("0.", >, "0");
	V("0.0", >, "0");
	V("", <, "~");
	V("1_", ==, "1");
	V("_1", ==, "1");
	V("1_", <, "1.2");
	V("1_2_3", >, "1.3.3");
	V("1+", ==, "1");
	V("+1", ==, "1");
	V("1+2+3", >, "1.3.3");
	/* and what kernels need */
	V("6.1.0-10-amd64", >, "6.1.0-9-amd64");
	V("6.10", >, "6.9");
	V("5.10.0", <, "6.1.0");
	V("1.0~rc1", <, "1.0");
	V("1.0^p1", >, "1.0");
	V("1.0-1", <, "1.0.1");
	V("007", ==, "7");
	V("99999999999999999999999", >, "9999999999999999999999");
	V(NULL, ==, "");
}

static void entry(struct bls_entry *e, const char *name, const char *text)
{
	char file[128];
	snprintf(file, sizeof(file), "%s.conf", name);
	parse_ok(file, text, e);
}

TEST(menu_order)
{
	struct bls_entry e[7];
	bool matched;
	int idx;

	entry(&e[0], "a-10", "version 10\nmachine-id dd\nlinux /k\n");
	entry(&e[1], "a-5", "version 5\nmachine-id dd\nlinux /k\n");
	entry(&e[2], "b", "version 3\nmachine-id b7\nlinux /k\n");
	entry(&e[3], "c", "sort-key xxxx\nversion 5\nmachine-id 30\nlinux /k\n");
	entry(&e[4], "cx", "sort-key xxxx\nversion 10\nmachine-id 30\nlinux /k\n");
	entry(&e[5], "d", "sort-key kkkk\nversion 100\nmachine-id 81\nlinux /k\n");
	entry(&e[6], "z+0-3", "sort-key aaaa\nlinux /k\n"); /* bad: last of all */
	idx = bls_select(e, 7, NULL, "x64", &matched);
	ASSERT_EQ(idx, 0);
	ASSERT_TRUE(!matched);
	/* sort-key ascending, then version descending; then names, newest version first */
	ASSERT_STREQ(e[0].name, "d");
	ASSERT_STREQ(e[1].name, "cx");
	ASSERT_STREQ(e[2].name, "c");
	ASSERT_STREQ(e[3].name, "b");
	ASSERT_STREQ(e[4].name, "a-10");
	ASSERT_STREQ(e[5].name, "a-5");
	ASSERT_STREQ(e[6].name, "z+0-3");
	/* loader.conf's default is a glob over the ids, with or without .conf */
	idx = bls_select(e, 7, "a-*", "x64", &matched);
	ASSERT_TRUE(matched);
	ASSERT_STREQ(e[idx].name, "a-10");
	idx = bls_select(e, 7, "c.conf", "x64", &matched);
	ASSERT_TRUE(matched);
	ASSERT_STREQ(e[idx].name, "c");
	idx = bls_select(e, 7, "z", "x64", &matched);
	ASSERT_TRUE(matched);
	ASSERT_STREQ(e[idx].name, "z+0-3");
	idx = bls_select(e, 7, "nothing*", "x64", &matched);
	ASSERT_TRUE(!matched);
	ASSERT_STREQ(e[idx].name, "d");
	for (int i = 0; i < 7; i++)
		bls_entry_done(&e[i]);
}

TEST(skips_what_kexec_cannot_boot)
{
	struct bls_entry e[4];
	const char *why;
	bool matched;
	int idx;

	entry(&e[0], "uki", "sort-key a\nefi /EFI/Linux/uki.efi\n");
	entry(&e[1], "arm", "sort-key b\nlinux /Image\narchitecture AA64\n");
	entry(&e[2], "both", "sort-key c\nlinux /k\nefi /x.efi\n");
	entry(&e[3], "plain", "linux /vmlinuz\narchitecture X64\n");
	ASSERT_TRUE(!bls_entry_is_bootable(&e[0], "x64", &why));
	ASSERT_TRUE(strstr(why, "EFI") != NULL);
	ASSERT_TRUE(!bls_entry_is_bootable(&e[1], "x64", &why));
	ASSERT_TRUE(bls_entry_is_bootable(&e[1], "aa64", &why));
	ASSERT_TRUE(bls_entry_is_bootable(&e[3], "x64", &why)); /* case-insensitive */
	idx = bls_select(e, 4, "uki*", "x64", &matched);
	ASSERT_TRUE(!matched);
	ASSERT_STREQ(e[idx].name, "plain");
	for (int i = 0; i < 4; i++)
		bls_entry_done(&e[i]);
	ASSERT_EQ(bls_select(NULL, 0, NULL, "x64", &matched), -ENOENT);
	entry(&e[0], "uki", "efi /EFI/Linux/uki.efi\n");
	ASSERT_EQ(bls_select(e, 1, NULL, "x64", &matched), -ENOENT);
	bls_entry_done(&e[0]);
}

TEST(loader_conf)
{
	char *p = NULL;
	const char *t = "timeout 3\n# default old\ndefault   debian-*  \r\nconsole-mode max\n";
	ASSERT_EQ(bls_loader_conf_default(t, strlen(t), &p), 1);
	ASSERT_STREQ(p, "debian-*");
	free(p);
	t = "default a\ndefault b\n";
	ASSERT_EQ(bls_loader_conf_default(t, strlen(t), &p), 1);
	ASSERT_STREQ(p, "b");
	free(p);
	t = "default @saved\n";
	ASSERT_EQ(bls_loader_conf_default(t, strlen(t), &p), 0);
	t = "timeout 5\ndefault\n";
	ASSERT_EQ(bls_loader_conf_default(t, strlen(t), &p), 0);
	ASSERT_EQ(bls_loader_conf_default("default a\0", 10, &p), -EBADMSG);
}

RUN(T(parse_full_entry), T(parse_malformed), T(boot_counter), T(version_order), T(menu_order),
    T(skips_what_kexec_cannot_boot), T(loader_conf))
