// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the newc cpio writer and reader: round trip of every entry type, the exact
 * bytes of one entry, path and mode checks, concatenated archives and malformed headers.
 *
 * Checked once by hand (not here: unit tests do not run host tools): the archive of
 * test_round_trip, written to a file, extracts with GNU cpio 2.13 `cpio -idv` into the same
 * tree (file contents, modes, the symlink target and the 5:1 character device); and
 * `cpio -o -H newc --owner=0:0 --renumber-inodes --ignore-devno` of a 0755 "init" holding "ab\n"
 * with mtime 1700000000 gives the bytes of small_entry and trailer below, but for the inode
 * number (GNU cpio counts from 0). */
#include <errno.h>
#include <sys/stat.h>

#include "basic/macro.h"
#include "format/cpio.h"
#include "tests.h"

#define MTIME 1700000000U /* 0x6553F100 */

struct expect {
	const char *name;
	uint32_t mode, nlink, rmajor, rminor;
	size_t size;
};

static const struct expect tree[] = {
	{ "dev", S_IFDIR | 0755, 2, 0, 0, 0 },
	{ "etc", S_IFDIR | 0700, 2, 0, 0, 0 },
	{ "etc/empty", S_IFREG | 0644, 1, 0, 0, 0 },
	{ "etc/one", S_IFREG | 0600, 1, 0, 0, 1 },
	{ "etc/three", S_IFREG | 0644, 1, 0, 0, 3 },
	{ "etc/four", S_IFREG | 0644, 1, 0, 0, 4 },
	{ "etc/five", S_IFREG | 04755, 1, 0, 0, 5 },
	{ "etc/page-and-one", S_IFREG | 0644, 1, 0, 0, 4097 },
	{ "bin", S_IFLNK | 0777, 1, 0, 0, 7 },
	{ "dev/console", S_IFCHR | 0600, 1, 5, 1, 0 },
	{ "dev/initctl", S_IFIFO | 0600, 1, 0, 0, 0 },
};

static void fill(uint8_t *p, size_t n, size_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + seed);
}

static void write_tree(uint8_t **ret_buf, size_t *ret_len)
{
	_cleanup_(cpio_writer_freep) struct cpio_writer *w = NULL;
	static uint8_t data[4097];

	ASSERT_EQ(cpio_writer_new(MTIME, &w), 0);
	for (size_t i = 0; i < ELEMENTSOF(tree); i++) {
		const struct expect *e = &tree[i];

		switch (e->mode & S_IFMT) {
		case S_IFDIR:
			ASSERT_EQ(cpio_writer_add_dir(w, e->name, e->mode & 07777), 0);
			break;
		case S_IFREG:
			fill(data, e->size, i);
			ASSERT_EQ(cpio_writer_add_file(w, e->name, e->mode & 07777, data, e->size), 0);
			break;
		case S_IFLNK:
			ASSERT_EQ(cpio_writer_add_symlink(w, e->name, "usr/bin"), 0);
			break;
		default:
			ASSERT_EQ(cpio_writer_add_node(w, e->name, e->mode, e->rmajor, e->rminor), 0);
		}
	}
	ASSERT_EQ(cpio_writer_finish(w, ret_buf, ret_len), 0);
}

TEST(round_trip)
{
	_cleanup_free_ uint8_t *buf = NULL;
	static struct cpio_entry ent;
	static uint8_t data[4097];
	size_t len, off = 0;

	write_tree(&buf, &len);
	ASSERT_EQ(len % 4, 0);
	for (size_t i = 0; i < ELEMENTSOF(tree); i++) {
		const struct expect *e = &tree[i];

		ASSERT_EQ(off % 4, 0);
		ASSERT_EQ(cpio_reader_next(buf, len, &off, &ent), 1);
		ASSERT_STREQ(ent.name, e->name);
		ASSERT_EQ(ent.ino, i + 1);
		ASSERT_EQ(ent.mode, e->mode);
		ASSERT_EQ(ent.uid, 0);
		ASSERT_EQ(ent.gid, 0);
		ASSERT_EQ(ent.nlink, e->nlink);
		ASSERT_EQ(ent.mtime, MTIME);
		ASSERT_EQ(ent.devmajor, 0);
		ASSERT_EQ(ent.devminor, 0);
		ASSERT_EQ(ent.rdevmajor, e->rmajor);
		ASSERT_EQ(ent.rdevminor, e->rminor);
		ASSERT_EQ(ent.size, e->size);
		ASSERT_TRUE(ent.data != NULL);
		if (S_ISLNK(e->mode)) {
			ASSERT_TRUE(memcmp(ent.data, "usr/bin", 7) == 0);
		} else {
			fill(data, e->size, i);
			ASSERT_TRUE(memcmp(ent.data, data, e->size) == 0);
		}
	}
	ASSERT_EQ(cpio_reader_next(buf, len, &off, &ent), 0);
	ASSERT_STREQ(ent.name, CPIO_TRAILER);
	ASSERT_EQ(off, len);
	ASSERT_EQ(cpio_reader_next(buf, len, &off, &ent), -ENODATA);
	ASSERT_TRUE(!cpio_reader_skip_padding(buf, len, &off));
}

/* "init" holding "ab\n": 110 + 5 name bytes padded to 116, 3 data bytes padded to 4. */
static const char small_entry[] = "070701"
				  "00000001" /* ino */
				  "000081ED" /* mode: S_IFREG|0755 */
				  "00000000" /* uid */
				  "00000000" /* gid */
				  "00000001" /* nlink */
				  "6553F100" /* mtime */
				  "00000003" /* filesize */
				  "00000000" /* devmajor */
				  "00000000" /* devminor */
				  "00000000" /* rdevmajor */
				  "00000000" /* rdevminor */
				  "00000005" /* namesize */
				  "00000000" /* chksum */
				  "init\0\0"
				  "ab\n\0";
static const char trailer[] = "070701"
			      "00000000"
			      "00000000"
			      "00000000"
			      "00000000"
			      "00000001"
			      "00000000"
			      "00000000"
			      "00000000"
			      "00000000"
			      "00000000"
			      "00000000"
			      "0000000B"
			      "00000000"
			      "TRAILER!!!\0\0\0\0";
#define SMALL_ENTRY_LEN 120
#define TRAILER_LEN 124

TEST(exact_bytes)
{
	_cleanup_(cpio_writer_freep) struct cpio_writer *w = NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len;

	ASSERT_EQ(sizeof(small_entry) - 1, SMALL_ENTRY_LEN);
	ASSERT_EQ(sizeof(trailer) - 1, TRAILER_LEN);
	ASSERT_EQ(cpio_writer_new(MTIME, &w), 0);
	ASSERT_EQ(cpio_writer_add_file(w, "/init", 0755, "ab\n", 3), 0);
	ASSERT_EQ(cpio_writer_finish(w, &buf, &len), 0);
	ASSERT_EQ(len, SMALL_ENTRY_LEN + TRAILER_LEN);
	ASSERT_TRUE(memcmp(buf, small_entry, SMALL_ENTRY_LEN) == 0);
	ASSERT_TRUE(memcmp(buf + SMALL_ENTRY_LEN, trailer, TRAILER_LEN) == 0);

	/* the writer is spent */
	ASSERT_EQ(cpio_writer_finish(w, &buf, &len), -EINVAL);
	ASSERT_EQ(cpio_writer_add_dir(w, "x", 0755), -EINVAL);
}

TEST(paths)
{
	_cleanup_(cpio_writer_freep) struct cpio_writer *w = NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	static char longname[CPIO_NAME_MAX + 1];
	static const char *const bad[] = {
		"", "/", "//", "a//b", "a/", "..", "../x", "a/../b", "a/..", "./a", "a/./b",
		"//etc", CPIO_TRAILER, "/TRAILER!!!",
	};
	static const char *const good[] = { ".", "a..b", "...", ".a/b.", "/etc", "a/b/c" };
	static struct cpio_entry ent;
	size_t len, off = 0;

	ASSERT_EQ(cpio_writer_new(0, &w), 0);
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		ASSERT_EQ(cpio_writer_add_dir(w, bad[i], 0755), -EINVAL);
		ASSERT_EQ(cpio_writer_add_file(w, bad[i], 0644, "x", 1), -EINVAL);
		ASSERT_EQ(cpio_writer_add_symlink(w, bad[i], "x"), -EINVAL);
		ASSERT_EQ(cpio_writer_add_node(w, bad[i], S_IFCHR | 0600, 1, 3), -EINVAL);
	}
	ASSERT_EQ(cpio_writer_add_dir(w, NULL, 0755), -EINVAL);
	for (size_t i = 0; i < ELEMENTSOF(good); i++)
		ASSERT_EQ(cpio_writer_add_dir(w, good[i], 0755), 0);

	/* names up to PATH_MAX - 1 bytes */
	memset(longname, 'n', CPIO_NAME_MAX - 1);
	ASSERT_EQ(cpio_writer_add_file(w, longname, 0644, NULL, 0), 0);
	longname[CPIO_NAME_MAX - 1] = 'n';
	ASSERT_EQ(cpio_writer_add_file(w, longname, 0644, NULL, 0), -EINVAL);
	/* symlink targets likewise, and never empty */
	ASSERT_EQ(cpio_writer_add_symlink(w, "l", longname), -EINVAL);
	ASSERT_EQ(cpio_writer_add_symlink(w, "l", ""), -EINVAL);
	ASSERT_EQ(cpio_writer_add_symlink(w, "l", NULL), -EINVAL);

	ASSERT_EQ(cpio_writer_finish(w, &buf, &len), 0);
	for (size_t i = 0; i < ELEMENTSOF(good); i++) {
		ASSERT_EQ(cpio_reader_next(buf, len, &off, &ent), 1);
		ASSERT_STREQ(ent.name, good[i][0] == '/' ? good[i] + 1 : good[i]);
		/* failed calls used no inode number */
		ASSERT_EQ(ent.ino, i + 1);
	}
	ASSERT_EQ(cpio_reader_next(buf, len, &off, &ent), 1);
	ASSERT_EQ(strlen(ent.name), CPIO_NAME_MAX - 1);
	ASSERT_EQ(cpio_reader_next(buf, len, &off, &ent), 0);
}

TEST(modes)
{
	_cleanup_(cpio_writer_freep) struct cpio_writer *w = NULL;

	ASSERT_EQ(cpio_writer_new(0, &w), 0);
	ASSERT_EQ(cpio_writer_add_dir(w, "d", 010000), -EINVAL);
	ASSERT_EQ(cpio_writer_add_dir(w, "d", S_IFDIR | 0755), -EINVAL);
	ASSERT_EQ(cpio_writer_add_file(w, "f", S_IFREG | 0644, "", 0), -EINVAL);
	ASSERT_EQ(cpio_writer_add_file(w, "f", 0644, NULL, 1), -EINVAL);
	ASSERT_EQ(cpio_writer_add_node(w, "n", S_IFREG | 0644, 0, 0), -EINVAL);
	ASSERT_EQ(cpio_writer_add_node(w, "n", S_IFDIR | 0755, 0, 0), -EINVAL);
	ASSERT_EQ(cpio_writer_add_node(w, "n", 0600, 1, 3), -EINVAL);
	ASSERT_EQ(cpio_writer_add_node(w, "n", S_IFCHR | 010600, 1, 3), -EINVAL);
	ASSERT_EQ(cpio_writer_add_node(w, "n", S_IFCHR | 0600, 4096, 0), -EINVAL);
	ASSERT_EQ(cpio_writer_add_node(w, "n", S_IFBLK | 0600, 0, 1U << 20), -EINVAL);
	ASSERT_EQ(cpio_writer_add_node(w, "n", S_IFIFO | 0600, 0, 1), -EINVAL);
	ASSERT_EQ(cpio_writer_add_node(w, "n", S_IFCHR | 0600, 4095, (1U << 20) - 1), 0);
	ASSERT_EQ(cpio_writer_add_node(w, "b", S_IFBLK | 0660, 8, 0), 0);
	ASSERT_EQ(cpio_writer_add_node(w, "s", S_IFSOCK | 0666, 0, 0), 0);
#if SIZE_MAX > UINT32_MAX
	/* the size is refused before the data is looked at */
	ASSERT_EQ(cpio_writer_add_file(w, "big", 0644, "", (size_t)UINT32_MAX + 1), -EFBIG);
#endif
}

static void expect_bad(const char *hdr, size_t len)
{
	static struct cpio_entry ent;
	size_t off = 0;

	ASSERT_EQ(cpio_reader_next((const uint8_t *)hdr, len, &off, &ent), -EBADMSG);
	ASSERT_EQ(off, 0);
}

/* A copy of small_entry with the 8 digits of field i replaced. */
static void patched(char out[SMALL_ENTRY_LEN + 1], size_t field, const char *digits)
{
	memcpy(out, small_entry, SMALL_ENTRY_LEN + 1);
	memcpy(out + 6 + 8 * field, digits, 8);
}

TEST(malformed)
{
	char b[SMALL_ENTRY_LEN + 1];
	static struct cpio_entry ent;
	size_t off;

	/* the reference entry itself is fine */
	off = 0;
	ASSERT_EQ(cpio_reader_next((const uint8_t *)small_entry, SMALL_ENTRY_LEN, &off, &ent), 1);
	ASSERT_EQ(off, SMALL_ENTRY_LEN);
	ASSERT_EQ(ent.mode, S_IFREG | 0755);

	/* truncated header, name, data */
	expect_bad(small_entry, 1);
	expect_bad(small_entry, CPIO_HEADER_SIZE - 1);
	expect_bad(small_entry, CPIO_HEADER_SIZE);
	expect_bad(small_entry, CPIO_HEADER_SIZE + 4);
	expect_bad(small_entry, CPIO_HEADER_SIZE + 5);
	expect_bad(small_entry, SMALL_ENTRY_LEN - 2);

	/* magic: old binary, odc and unknown newc variants */
	memcpy(b, small_entry, sizeof(b));
	memcpy(b, "070707", 6);
	expect_bad(b, SMALL_ENTRY_LEN);
	b[5] = '3';
	expect_bad(b, SMALL_ENTRY_LEN);
	b[0] = (char)0xc7;
	b[1] = 0x71;
	expect_bad(b, SMALL_ENTRY_LEN);

	/* digits */
	patched(b, 1, "000081EG");
	expect_bad(b, SMALL_ENTRY_LEN);
	patched(b, 1, " 00081ED");
	expect_bad(b, SMALL_ENTRY_LEN);
	patched(b, 1, "+00081ED");
	expect_bad(b, SMALL_ENTRY_LEN);
	patched(b, 6, "0x000003");
	expect_bad(b, SMALL_ENTRY_LEN);

	/* namesize 0, over PATH_MAX, beyond the buffer */
	patched(b, 11, "00000000");
	expect_bad(b, SMALL_ENTRY_LEN);
	patched(b, 11, "00001001");
	expect_bad(b, SMALL_ENTRY_LEN);
	patched(b, 11, "FFFFFFFF");
	expect_bad(b, SMALL_ENTRY_LEN);
	patched(b, 11, "00000010");
	expect_bad(b, SMALL_ENTRY_LEN);

	/* name without its NUL, or with one inside */
	memcpy(b, small_entry, sizeof(b));
	b[CPIO_HEADER_SIZE + 4] = 'x';
	expect_bad(b, SMALL_ENTRY_LEN);
	memcpy(b, small_entry, sizeof(b));
	b[CPIO_HEADER_SIZE + 2] = 0;
	expect_bad(b, SMALL_ENTRY_LEN);

	/* data beyond the end */
	patched(b, 6, "00000005");
	expect_bad(b, SMALL_ENTRY_LEN);
	patched(b, 6, "FFFFFFFF");
	expect_bad(b, SMALL_ENTRY_LEN);

	/* cursor: at the end, past it, not aligned */
	off = SMALL_ENTRY_LEN;
	ASSERT_EQ(cpio_reader_next((const uint8_t *)small_entry, SMALL_ENTRY_LEN, &off, &ent),
		  -ENODATA);
	off = SMALL_ENTRY_LEN + 1;
	ASSERT_EQ(cpio_reader_next((const uint8_t *)small_entry, SMALL_ENTRY_LEN, &off, &ent),
		  -EINVAL);
	off = 2;
	ASSERT_EQ(cpio_reader_next((const uint8_t *)small_entry, SMALL_ENTRY_LEN, &off, &ent),
		  -EBADMSG);
	ASSERT_EQ(off, 2);
}

TEST(lenient)
{
	char b[SMALL_ENTRY_LEN + 1];
	static struct cpio_entry ent;
	size_t off;

	/* lower-case hex, as some writers produce */
	patched(b, 1, "000081ed");
	off = 0;
	ASSERT_EQ(cpio_reader_next((const uint8_t *)b, SMALL_ENTRY_LEN, &off, &ent), 1);
	ASSERT_EQ(ent.mode, S_IFREG | 0755);

	/* the checksum variant: read, checksum not verified */
	patched(b, 12, "DEADBEEF");
	b[5] = '2';
	off = 0;
	ASSERT_EQ(cpio_reader_next((const uint8_t *)b, SMALL_ENTRY_LEN, &off, &ent), 1);
	ASSERT_STREQ(ent.name, "init");

	/* data padding cut off by the end of the buffer */
	off = 0;
	ASSERT_EQ(cpio_reader_next((const uint8_t *)small_entry, SMALL_ENTRY_LEN - 1, &off, &ent),
		  1);
	ASSERT_EQ(off, SMALL_ENTRY_LEN - 1);
	ASSERT_EQ(ent.size, 3);
	ASSERT_TRUE(memcmp(ent.data, "ab\n", 3) == 0);

	/* a trailer cut right after its NUL */
	off = 0;
	ASSERT_EQ(cpio_reader_next((const uint8_t *)trailer, TRAILER_LEN - 2, &off, &ent), 0);
	ASSERT_EQ(off, TRAILER_LEN - 2);
}

TEST(concatenated)
{
	uint8_t b[2 * (SMALL_ENTRY_LEN + TRAILER_LEN) + 12];
	static struct cpio_entry ent;
	size_t off = 0, n = 0;

	memcpy(b, small_entry, SMALL_ENTRY_LEN);
	memcpy(b + n + SMALL_ENTRY_LEN, trailer, TRAILER_LEN);
	n = SMALL_ENTRY_LEN + TRAILER_LEN;
	memset(b + n, 0, 12);
	n += 12;
	memcpy(b + n, small_entry, SMALL_ENTRY_LEN);
	memcpy(b + n + SMALL_ENTRY_LEN, trailer, TRAILER_LEN);
	n += SMALL_ENTRY_LEN + TRAILER_LEN;
	ASSERT_EQ(n, sizeof(b));

	for (int archive = 0; archive < 2; archive++) {
		ASSERT_EQ(cpio_reader_next(b, n, &off, &ent), 1);
		ASSERT_STREQ(ent.name, "init");
		ASSERT_EQ(cpio_reader_next(b, n, &off, &ent), 0);
		ASSERT_EQ(cpio_reader_skip_padding(b, n, &off), archive == 0);
	}
	ASSERT_EQ(off, n);

	/* padding that does not end 4-byte aligned: the kernel would stop there, and so do we */
	off = SMALL_ENTRY_LEN + TRAILER_LEN + 1;
	ASSERT_TRUE(cpio_reader_skip_padding(b, n, &off) == true);
	ASSERT_EQ(off, SMALL_ENTRY_LEN + TRAILER_LEN + 12);
	b[off - 1] = 'x';
	off--;
	ASSERT_EQ(cpio_reader_next(b, n, &off, &ent), -EBADMSG);
}

TEST(truncations)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len;

	/* every prefix of a valid archive reads as entries and then an error, never further */
	write_tree(&buf, &len);
	for (size_t n = 0; n < len; n++) {
		_cleanup_free_ uint8_t *p = malloc(n ? n : 1);
		static struct cpio_entry ent;
		size_t off = 0;
		int r;

		ASSERT_TRUE(p != NULL);
		memcpy(p, buf, n);
		while ((r = cpio_reader_next(p, n, &off, &ent)) == 1)
			ASSERT_TRUE(off <= n);
		ASSERT_TRUE(r == -EBADMSG || r == -ENODATA || (r == 0 && n >= len - 3));
	}
}

RUN(T(round_trip), T(exact_bytes), T(paths), T(modes), T(malformed), T(lenient), T(concatenated),
    T(truncations))
