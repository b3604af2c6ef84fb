// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the SHA256SUMS parser: GNU, binary-mode, escaped and BSD-tagged lines. */
#include <errno.h>

#include "basic/parse-util.h"
#include "format/sha256sums.h"
#include "tests.h"

#define H1 "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define H2 "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
#define H3 "fd61a03af4f77d870fc21e05e7e80678095c92d808cfb3b5c279ee04c74aca13"

static void expect(const char *text, const char *name, int want, const char *hex)
{
	uint8_t d[32], e[32];
	int r = sha256sums_find(text, strlen(text), name, d, NULL);
	ASSERT_EQ(r, want);
	if (want == 0) {
		ASSERT_EQ(hex_decode_exact(hex, 64, e, 32), 0);
		ASSERT_TRUE(memcmp(d, e, 32) == 0);
	}
}

TEST(gnu)
{
	const char *t = H1 "  debian.img.zst\n" H2 " *other.img.xz\n";
	expect(t, "debian.img.zst", 0, H1);
	expect(t, "other.img.xz", 0, H2);
	expect(t, "missing.img", -ENOENT, NULL);
	expect(t, "debian.img", -ENOENT, NULL);
}

TEST(crlf_and_no_final_newline)
{
	expect(H1 "  a.img\r\n" H2 "  b.img", "a.img", 0, H1);
	expect(H1 "  a.img\r\n" H2 "  b.img", "b.img", 0, H2);
}

TEST(bsd_tag)
{
	expect("SHA256 (x.img.gz) = " H3 "\n", "x.img.gz", 0, H3);
	expect("SHA256 (x (1).img) = " H3 "\n", "x (1).img", 0, H3);
	expect("MD5 (x.img.gz) = d41d8cd98f00b204e9800998ecf8427e\n", "x.img.gz", -ENOENT, NULL);
}

TEST(escaped)
{
	expect("\\" H1 "  a\\\\b\\nc\n", "a\\b\nc", 0, H1);
	expect("\\" H1 "  bad\\q\n", "bad\\q", -ENOENT, NULL);
}

TEST(paths)
{
	expect(H1 "  ./img.zst\n", "img.zst", 0, H1);
	expect(H1 "  images/img.zst\n", "img.zst", 0, H1);
	/* an exact match wins over a basename match */
	expect(H1 "  images/img.zst\n" H2 "  img.zst\n", "img.zst", 0, H2);
	expect(H1 "  a/img.zst\n" H2 "  b/img.zst\n", "img.zst", -ENOTUNIQ, NULL);
	expect(H1 "  a/img.zst\n" H1 "  b/img.zst\n", "img.zst", 0, H1);
	expect(H1 "  img.zst\n" H2 "  img.zst\n", "img.zst", -ENOTUNIQ, NULL);
}

TEST(junk_skipped)
{
	const char *t = "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n# comment\n"
			"nothex  x\n" H1 "x img\n" H1 "  img\n";
	unsigned n = 0;
	uint8_t d[32];
	ASSERT_EQ(sha256sums_find(t, strlen(t), "img", d, &n), 0);
	ASSERT_EQ(n, 1);
	/* upper-case hex is accepted */
	expect("9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08  u\n", "u", 0, H1);
	/* short digests are not entries */
	expect("9f86d081  u\n", "u", -ENOENT, NULL);
}

TEST(limits)
{
	uint8_t d[32];
	ASSERT_EQ(sha256sums_find("", 0, "x", d, NULL), -ENOENT);
	ASSERT_EQ(sha256sums_find("x", 1, "", d, NULL), -EINVAL);
	ASSERT_EQ(sha256sums_find("x", SHA256SUMS_MAX_SIZE + 1, "x", d, NULL), -EFBIG);
	/* embedded NUL inside a name never matches */
	{
		char t[] = H1 "  a\0b\n";
		ASSERT_EQ(sha256sums_find(t, sizeof(t) - 1, "a", d, NULL), -ENOENT);
	}
}

RUN(T(gnu), T(crlf_and_no_final_newline), T(bsd_tag), T(escaped), T(paths), T(junk_skipped),
    T(limits))
