// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for finding the target disk in the flasher (src/init/target.c), over a fake /sys
 * and /dev in a temporary directory (device nodes made with mknod: run as root, as the suite
 * does). A disk found by name must have the recorded size; a model+size identity is decided
 * only once the list of disks has stopped changing. */
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "basic/time-util.h"
#include "init/target.h"
#include "tests.h"

static char root[256];

static void put(const char *rel, const char *text)
{
	char p[512], cmd[600];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", p);
	ASSERT_EQ(system(cmd), 0);
	f = fopen(p, "we");
	ASSERT_TRUE(f != NULL);
	fputs(text, f);
	fclose(f);
}

/* A whole disk NAME with device number 254:MINOR, SECTORS 512-byte sectors and MODEL. */
static void add_disk(const char *name, unsigned minor_nr, unsigned long long sectors,
		     const char *model, const char *serial)
{
	char rel[256], v[64], p[512];

	snprintf(v, sizeof(v), "%llu\n", sectors);
	snprintf(rel, sizeof(rel), "sys/class/block/%s/size", name);
	put(rel, v);
	snprintf(rel, sizeof(rel), "sys/dev/block/254:%u/size", minor_nr);
	put(rel, v);
	snprintf(rel, sizeof(rel), "sys/class/block/%s/device/model", name);
	put(rel, model);
	if (serial) {
		snprintf(rel, sizeof(rel), "sys/class/block/%s/serial", name);
		put(rel, serial);
	}
	snprintf(p, sizeof(p), "%s/dev", root);
	(void)mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/dev/%s", root, name);
	ASSERT_EQ(mknod(p, S_IFBLK | 0600, makedev(254, minor_nr)), 0);
}

static void fresh_root(void)
{
	char cmd[300];

	if (root[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		ASSERT_EQ(system(cmd), 0);
	}
	snprintf(root, sizeof(root), "/tmp/reimage-test-target-XXXXXX");
	ASSERT_TRUE(mkdtemp(root) != NULL);
	target_set_root(root);
}

TEST(by_name_needs_the_recorded_size)
{
	char path[512], why[1024] = "", want[512];

	fresh_root();
	add_disk("vda", 0, 2048, "QEMU HARDDISK", NULL);
	snprintf(want, sizeof(want), "%s/dev/vda", root);
	ASSERT_EQ(target_find("/dev/vda", NULL, NULL, NULL, 2048 * 512, 1000, path, sizeof(path),
			      why, sizeof(why)),
		  0);
	ASSERT_STREQ(path, want);
	/* nothing recorded: the name is all there is */
	ASSERT_EQ(target_find("/dev/vda", NULL, NULL, NULL, 0, 1000, path, sizeof(path), why,
			      sizeof(why)),
		  0);
	/* another disk has the name in this boot: refused at once, both sizes named */
	ASSERT_EQ(target_find("/dev/vda", NULL, NULL, NULL, 4096 * 512, 5000, path, sizeof(path),
			      why, sizeof(why)),
		  -ENXIO);
	ASSERT_TRUE(strstr(why, "1048576 bytes") && strstr(why, "2097152 bytes"));
}

TEST(serial_decides_at_once)
{
	char path[512], why[1024] = "";
	uint64_t t0;

	fresh_root();
	add_disk("vda", 0, 2048, "QEMU HARDDISK", "SER-A");
	add_disk("vdb", 16, 2048, "QEMU HARDDISK", "SER-B");
	t0 = now_ms();
	ASSERT_EQ(target_find("/dev/vda", "SER-B", NULL, NULL, 2048 * 512, 10000, path,
			      sizeof(path), why, sizeof(why)),
		  0);
	ASSERT_TRUE(strstr(path, "/dev/vdb") != NULL);
	ASSERT_TRUE(now_ms() - t0 < 2000);
}

static void *add_twin_later(void *arg)
{
	(void)arg;
	sleep_ms(1000, NULL);
	add_disk("vdb", 16, 2048, "QEMU HARDDISK", NULL);
	return NULL;
}

TEST(model_and_size_wait_for_a_full_scan)
{
	char path[512], why[1024] = "";
	pthread_t t;
	uint64_t t0;

	/* one disk of that model and size: chosen, but only after the list has settled */
	fresh_root();
	add_disk("vda", 0, 2048, "QEMU HARDDISK", NULL);
	t0 = now_ms();
	ASSERT_EQ(target_find("/dev/vda", NULL, NULL, "QEMU HARDDISK", 2048 * 512, 20000, path,
			      sizeof(path), why, sizeof(why)),
		  0);
	ASSERT_TRUE(now_ms() - t0 >= 2500);
	/* a second one that shows up a moment later: both are seen, the choice refused */
	fresh_root();
	add_disk("vda", 0, 2048, "QEMU HARDDISK", NULL);
	ASSERT_EQ(pthread_create(&t, NULL, add_twin_later, NULL), 0);
	ASSERT_EQ(target_find("/dev/vda", NULL, NULL, "QEMU HARDDISK", 2048 * 512, 20000, path,
			      sizeof(path), why, sizeof(why)),
		  -ENOTUNIQ);
	pthread_join(t, NULL);
	ASSERT_TRUE(strstr(why, "2 disks match") != NULL);
}

static void test_cleanup(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	ASSERT_EQ(system(cmd), 0);
}

RUN(T(by_name_needs_the_recorded_size), T(serial_decides_at_once),
    T(model_and_size_wait_for_a_full_scan), { "cleanup", test_cleanup })
