// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the file sink: holes for zero runs, byte-identical content, the held first and
 * last MiB, fail-closed ends. */
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
	ASSERT_EQ(sink_commit(&s, n - 100), 0);
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

	ASSERT_EQ(sink_fail_closed(&s), 0);
	memset(img, 0, 1 << 20);
	/* the committed tail is zeroed too */
	memset(img + (n - 100) - (1 << 20), 0, 1 << 20);
	check_file(path, img, n - 100);
	sink_close(&s);
	unlink(path);
	free(img);
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((i * 7 + seed) % 251 + 1); /* never a zero block */
}

/* What the file holds now, n bytes from offset off; zeros past its end. */
static void read_at(const char *path, uint64_t off, uint8_t *buf, size_t n)
{
	int fd = open(path, O_RDONLY);
	ssize_t got;
	ASSERT_TRUE(fd >= 0);
	memset(buf, 0, n);
	got = pread(fd, buf, n, (off_t)off);
	ASSERT_TRUE(got >= 0);
	close(fd);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* A file of unknown length written in order: until the commit, neither the first MiB nor the
 * last MiB written so far is on the target; the body is. */
TEST(held_ends_sliding)
{
	char path[256], why[256];
	struct sink s;
	size_t n = (5 << 20) + 12345;
	uint8_t *img = malloc(n), *buf = malloc(1 << 20);

	fill(img, n, 3);
	snprintf(path, sizeof(path), "%s/slide.img", dir);
	ASSERT_EQ(sink_prepare(&s, path, why, sizeof(why)), 0);
	ASSERT_EQ(sink_open(&s), 0);
	for (size_t off = 0; off < n;) {
		size_t len = off + 700001 > n ? n - off : 700001;
		ASSERT_EQ(sink_write(&s, off, img + off, len), 0);
		off += len;
		/* the head and the window are held: the file has only the body so far */
		read_at(path, 0, buf, 1 << 20);
		ASSERT_TRUE(all_zero(buf, 1 << 20));
		if (off > (2 << 20)) {
			read_at(path, off - (1 << 20), buf, 1 << 20);
			ASSERT_TRUE(all_zero(buf, 1 << 20));
		}
	}
	/* the body between the ends is there */
	read_at(path, 1 << 20, buf, 1 << 20);
	ASSERT_TRUE(memcmp(buf, img + (1 << 20), 1 << 20) == 0);
	ASSERT_EQ(sink_commit(&s, n), 0);
	check_file(path, img, n);
	sink_close(&s);
	unlink(path);
	free(img);
	free(buf);
}

/* A known size (a qcow2's virtual size): writes in any order, zero runs, the ends held until
 * the commit; a write past the declared size is refused. */
TEST(held_ends_known_size)
{
	char path[256], why[256];
	struct sink s;
	size_t n = 4 << 20, c = 64 << 10;
	uint8_t *img = calloc(1, n), *buf = malloc(1 << 20);

	fill(img, n, 9);
	memset(img + (2 << 20), 0, 3 * c); /* a zero run, given as zeros */
	snprintf(path, sizeof(path), "%s/scatter.img", dir);
	ASSERT_EQ(sink_prepare(&s, path, why, sizeof(why)), 0);
	ASSERT_EQ(sink_open(&s), 0);
	ASSERT_EQ(sink_set_size(&s, n), 0);
	/* clusters backwards, the zero run as sink_write_zeroes */
	for (size_t off = n; off > 0;) {
		off -= c;
		if (off >= (2 << 20) && off < (2 << 20) + 3 * c)
			ASSERT_EQ(sink_write_zeroes(&s, off, c), 0);
		else
			ASSERT_EQ(sink_write(&s, off, img + off, c), 0);
	}
	ASSERT_EQ(sink_write(&s, n - 10, img, 20), -EFBIG);
	read_at(path, 0, buf, 1 << 20);
	ASSERT_TRUE(all_zero(buf, 1 << 20));
	read_at(path, n - (1 << 20), buf, 1 << 20);
	ASSERT_TRUE(all_zero(buf, 1 << 20));
	read_at(path, 1 << 20, buf, 1 << 20);
	ASSERT_TRUE(memcmp(buf, img + (1 << 20), 1 << 20) == 0);
	ASSERT_EQ(sink_commit(&s, n), 0);
	check_file(path, img, n);
	/* after a failure (say the read-back differs), both ends are zero again */
	ASSERT_EQ(sink_fail_closed(&s), 0);
	read_at(path, 0, buf, 1 << 20);
	ASSERT_TRUE(all_zero(buf, 1 << 20));
	read_at(path, n - (1 << 20), buf, 1 << 20);
	ASSERT_TRUE(all_zero(buf, 1 << 20));
	sink_close(&s);
	unlink(path);
	free(img);
	free(buf);
}

/* What PID 1 does for a writer that died: the first MiB of the file is zero afterwards. */
TEST(zero_ends_of_a_path)
{
	char path[256];
	size_t n = 3 << 20;
	uint8_t *img = malloc(n), *buf = malloc(n);
	int fd;

	fill(img, n, 5);
	snprintf(path, sizeof(path), "%s/dead.img", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(write(fd, img, n), (ssize_t)n);
	close(fd);
	ASSERT_EQ(sink_zero_ends(path), 0);
	read_at(path, 0, buf, n);
	ASSERT_TRUE(all_zero(buf, 1 << 20));
	ASSERT_TRUE(memcmp(buf + (1 << 20), img + (1 << 20), n - (1 << 20)) == 0);
	ASSERT_EQ(sink_zero_ends("/dev/null"), -ENOTBLK);
	unlink(path);
	free(img);
	free(buf);
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
	static const struct test_case cases[] = { T(holes_and_content), T(held_ends_sliding),
						  T(held_ends_known_size), T(zero_ends_of_a_path),
						  T(refusals) };
	int r;
	ASSERT_TRUE(mkdtemp(dir) != NULL);
	r = run_tests(cases, sizeof(cases) / sizeof(cases[0]));
	rmdir(dir);
	return r;
}
