// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the file sink: holes for zero runs, byte-identical content, fail-closed head. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/digest.h"
#include "flash/sink.h"
#include "tests.h"

static char dir[] = "/tmp/reimage-test-sink-XXXXXX";

static void check_file(const char *path, const uint8_t *want, size_t n)
{
	uint8_t *got = malloc(n + 1);
	int fd = open(path, O_RDONLY);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(read(fd, got, n + 1), (ssize_t)n);
	ASSERT_TRUE(memcmp(got, want, n) == 0);
	close(fd);
	free(got);
}

TEST(holes_and_content)
{
	char path[256], why[256];
	struct sink s;
	size_t n = 8 << 20;
	uint8_t *img = calloc(1, n), d1[32], d2[32];
	struct digest *d;
	struct stat st;

	/* data, 6 MiB of zeros, data; an odd tail */
	memset(img, 0xaa, 1 << 20);
	memset(img + (7 << 20), 0x55, (1 << 20) - 100);
	snprintf(path, sizeof(path), "%s/out.img", dir);
	ASSERT_EQ(sink_prepare(&s, path, why, sizeof(why)), 0);
	ASSERT_TRUE(s.zero_skip);
	ASSERT_EQ(sink_open(&s), 0);
	/* feed in uneven pieces */
	for (size_t off = 0; off < n - 100;) {
		size_t len = 12345;
		if (off + len > n - 100)
			len = n - 100 - off;
		ASSERT_EQ(sink_write(&s, off, img + off, len), 0);
		off += len;
	}
	ASSERT_EQ(sink_finish(&s, n - 100), 0);
	ASSERT_EQ(stat(path, &st), 0);
	ASSERT_EQ(st.st_size, (off_t)(n - 100));
	/* the zero run became a hole (file systems without holes would still be correct) */
	ASSERT_TRUE((uint64_t)st.st_blocks * 512 < n);
	check_file(path, img, n - 100);

	ASSERT_EQ(sink_read_back_sha256(&s, n - 100, d1), 0);
	ASSERT_EQ(digest_new_sha256(&d), 0);
	ASSERT_EQ(digest_update(d, img, n - 100), 0);
	ASSERT_EQ(digest_final(d, d2, 32), 0);
	digest_free(d);
	ASSERT_TRUE(memcmp(d1, d2, 32) == 0);

	ASSERT_EQ(sink_zero_head(&s, 1 << 20), 0);
	memset(img, 0, 1 << 20);
	check_file(path, img, n - 100);
	sink_close(&s);
	unlink(path);
	free(img);
}

TEST(refusals)
{
	char why[256];
	struct sink s;
	ASSERT_EQ(sink_prepare(&s, "/nonexistent-dir/x.img", why, sizeof(why)), -ENOENT);
	ASSERT_TRUE(strstr(why, "does not exist") != NULL);
	sink_close(&s);
	ASSERT_EQ(sink_prepare(&s, "/dev/null", why, sizeof(why)), -ENOTBLK);
	ASSERT_TRUE(strstr(why, "neither a block device nor a regular file") != NULL);
	sink_close(&s);
	ASSERT_EQ(sink_prepare(&s, "/dev/reimage-no-such-disk", why, sizeof(why)), -ENOENT);
	sink_close(&s);
}

int main(void)
{
	static const struct test_case cases[] = { T(holes_and_content), T(refusals) };
	int r;
	ASSERT_TRUE(mkdtemp(dir) != NULL);
	r = run_tests(cases, sizeof(cases) / sizeof(cases[0]));
	rmdir(dir);
	return r;
}
