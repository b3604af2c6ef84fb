// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for base64, minisign key/signature parsing and verification, against real
 * signatures made with Debian's minisign (tests/data/minisign). */
#include "crypto/digest.h"
#include "crypto/minisign-verify.h"
#include "format/base64.h"
#include "format/minisign.h"
#include "initrd/initrd.h"
#include "tests.h"

static char *data_path(const char *name)
{
	static char p[4096];
	const char *d = getenv("REIMAGE_TEST_DATA");
	snprintf(p, sizeof(p), "%s/minisign/%s", d ? d : "tests/data", name);
	return p;
}

static uint8_t *load(const char *name, size_t *len)
{
	uint8_t *buf;
	ASSERT_EQ(read_full_file(data_path(name), 1 << 20, &buf, len), 0);
	return buf;
}

static void blake(const uint8_t *buf, size_t len, uint8_t out[64])
{
	struct digest *d;
	ASSERT_EQ(digest_new_blake2b512(&d), 0);
	ASSERT_EQ(digest_update(d, buf, len), 0);
	ASSERT_EQ(digest_final(d, out, 64), 0);
	digest_free(d);
}

TEST(base64)
{
	uint8_t b[4];
	ASSERT_EQ(base64_decode_exact("TWFu", 4, b, 3), 0);
	ASSERT_TRUE(memcmp(b, "Man", 3) == 0);
	ASSERT_EQ(base64_decode_exact("TWE=", 4, b, 2), 0);
	ASSERT_TRUE(memcmp(b, "Ma", 2) == 0);
	ASSERT_EQ(base64_decode_exact("TQ==", 4, b, 1), 0);
	ASSERT_EQ(b[0], 'M');
	ASSERT_EQ(base64_decode_exact("TR==", 4, b, 1), -EINVAL); /* not canonical */
	ASSERT_EQ(base64_decode_exact("TWE", 3, b, 2), -EINVAL);
	ASSERT_EQ(base64_decode_exact("TW=u", 4, b, 3), -EINVAL);
	ASSERT_EQ(base64_decode_exact("TWFu", 4, b, 2), -EINVAL);
	ASSERT_EQ(base64_decode_exact("T*Fu", 4, b, 3), -EINVAL);
}

TEST(verify_real_signature)
{
	size_t kl, sl, dl;
	uint8_t *key = load("test.pub", &kl), *sigtext = load("data.bin.minisig", &sl),
		*data = load("data.bin", &dl), h[64];
	struct minisign_pubkey pk;
	struct minisign_sig sig;
	char why[256], id[17];

	ASSERT_EQ(minisign_pubkey_parse((char *)key, kl, &pk), 0);
	minisign_keynum_format(pk.keynum, id);
	ASSERT_TRUE(strstr((char *)key, id) != NULL); /* the id minisign printed in the comment */
	ASSERT_EQ(minisign_sig_parse((char *)sigtext, sl, &sig), 0);
	ASSERT_TRUE(sig.prehashed);
	ASSERT_STREQ(sig.trusted_comment, "reimage test vector");
	blake(data, dl, h);
	ASSERT_EQ(minisign_verify_prehashed(&pk, &sig, h, why, sizeof(why)), 0);

	/* one changed byte of data */
	data[100] ^= 1;
	blake(data, dl, h);
	ASSERT_EQ(minisign_verify_prehashed(&pk, &sig, h, why, sizeof(why)), -EKEYREJECTED);
	ASSERT_TRUE(strstr(why, "does not match the data") != NULL);
	data[100] ^= 1;
	blake(data, dl, h);

	/* an altered trusted comment */
	sig.trusted_comment[0] = 'R';
	ASSERT_EQ(minisign_verify_prehashed(&pk, &sig, h, why, sizeof(why)), -EKEYREJECTED);
	ASSERT_TRUE(strstr(why, "trusted comment") != NULL);

	/* the bare key line works as well as the file */
	{
		char *line = strchr((char *)key, '\n') + 1;
		struct minisign_pubkey pk2;
		ASSERT_EQ(minisign_pubkey_parse(line, strlen(line), &pk2), 0);
		ASSERT_TRUE(memcmp(&pk, &pk2, sizeof(pk)) == 0);
	}
	free(key);
	free(sigtext);
	free(data);
}

TEST(wrong_key_and_legacy)
{
	size_t kl, sl, ll;
	uint8_t *key = load("other.pub", &kl), *sigtext = load("data.bin.minisig", &sl),
		*legacy = load("data.bin.legacy.minisig", &ll);
	struct minisign_pubkey pk;
	struct minisign_sig sig;
	char why[256];

	ASSERT_EQ(minisign_pubkey_parse((char *)key, kl, &pk), 0);
	ASSERT_EQ(minisign_sig_parse((char *)sigtext, sl, &sig), 0);
	ASSERT_EQ(minisign_check_params(&pk, &sig, why, sizeof(why)), -EKEYREJECTED);
	ASSERT_TRUE(strstr(why, "made with key") != NULL);
	free(key);
	key = load("test.pub", &kl);
	ASSERT_EQ(minisign_pubkey_parse((char *)key, kl, &pk), 0);
	ASSERT_EQ(minisign_sig_parse((char *)legacy, ll, &sig), 0);
	ASSERT_TRUE(!sig.prehashed);
	ASSERT_EQ(minisign_check_params(&pk, &sig, why, sizeof(why)), -EPROTONOSUPPORT);
	ASSERT_TRUE(strstr(why, "minisign -S") != NULL);
	free(key);
	free(sigtext);
	free(legacy);
}

TEST(malformed)
{
	struct minisign_pubkey pk;
	struct minisign_sig sig;
	const char *s;

	ASSERT_EQ(minisign_pubkey_parse("", 0, &pk), -EBADMSG);
	s = "untrusted comment: x\nRWQ=\n";
	ASSERT_EQ(minisign_pubkey_parse(s, strlen(s), &pk), -EBADMSG);
	s = "untrusted comment: x\n";
	ASSERT_EQ(minisign_sig_parse(s, strlen(s), &sig), -EBADMSG);
	s = "no comment\nAAAA\n";
	ASSERT_EQ(minisign_sig_parse(s, strlen(s), &sig), -EBADMSG);
}

/* The comment can be trusted, and so shown, before the data arrives: the global signature
 * covers it. One byte changed, added or trimmed and it is refused. */
TEST(comment_verified_before_data)
{
	size_t kl, sl;
	uint8_t *key = load("test.pub", &kl), *sigtext = load("data.bin.minisig", &sl);
	struct minisign_pubkey pk;
	struct minisign_sig sig, bad;
	char why[256] = "";
	size_t n;

	ASSERT_EQ(minisign_pubkey_parse((char *)key, kl, &pk), 0);
	ASSERT_EQ(minisign_sig_parse((char *)sigtext, sl, &sig), 0);
	ASSERT_EQ(minisign_verify_comment(&pk, &sig, why, sizeof(why)), 0);
	bad = sig;
	bad.trusted_comment[0] ^= 0x20;
	ASSERT_EQ(minisign_verify_comment(&pk, &bad, why, sizeof(why)), -EKEYREJECTED);
	ASSERT_TRUE(strstr(why, "trusted comment") != NULL);
	bad = sig;
	n = strlen(bad.trusted_comment);
	bad.trusted_comment[n] = ' ';
	bad.trusted_comment[n + 1] = 0;
	ASSERT_EQ(minisign_verify_comment(&pk, &bad, why, sizeof(why)), -EKEYREJECTED);
	bad = sig;
	bad.trusted_comment[n - 1] = 0;
	ASSERT_EQ(minisign_verify_comment(&pk, &bad, why, sizeof(why)), -EKEYREJECTED);
	free(key);
	free(sigtext);
}

RUN(T(base64), T(verify_real_signature), T(wrong_key_and_legacy), T(malformed),
    T(comment_verified_before_data))
