// SPDX-License-Identifier: GPL-2.0-or-later
/* The purgatory's freestanding SHA-256 against FIPS 180-4's examples and libcrypto, for every
 * length around the block and padding boundaries and for odd update splits. */
#include "crypto/digest.h"
#include "kexec/purgatory/sha256.h"
#include "tests.h"

static void ours(const uint8_t *p, size_t n, size_t split, uint8_t out[32])
{
	struct sha256_ctx c;

	sha256_init(&c);
	while (n) {
		size_t k = split && split < n ? split : n;
		sha256_update(&c, p, k);
		p += k;
		n -= k;
	}
	sha256_final(&c, out);
}

static void theirs(const uint8_t *p, size_t n, uint8_t out[32])
{
	struct digest *d = NULL;

	ASSERT_EQ(digest_new_sha256(&d), 0);
	ASSERT_EQ(digest_update(d, p, n), 0);
	ASSERT_EQ(digest_final(d, out, 32), 0);
	digest_free(d);
}

TEST(fips_abc)
{
	static const uint8_t want[32] = { 0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
					  0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
					  0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
					  0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad };
	uint8_t got[32];

	ours((const uint8_t *)"abc", 3, 0, got);
	ASSERT_EQ(memcmp(got, want, 32), 0);
}

TEST(matches_libcrypto)
{
	static uint8_t buf[1 << 20];
	uint8_t a[32], b[32];
	uint32_t x = 12345;

	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245 + 12345;
		buf[i] = (uint8_t)(x >> 16);
	}
	for (size_t n = 0; n < 300; n++) {
		ours(buf, n, 0, a);
		theirs(buf, n, b);
		ASSERT_EQ(memcmp(a, b, 32), 0);
		ours(buf + 1, n, 7, a); /* unaligned start, uneven pieces */
		theirs(buf + 1, n, b);
		ASSERT_EQ(memcmp(a, b, 32), 0);
	}
	ours(buf, sizeof(buf), 4093, a);
	theirs(buf, sizeof(buf), b);
	ASSERT_EQ(memcmp(a, b, 32), 0);
}

RUN(T(fips_abc), T(matches_libcrypto))
