// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for OpenPGP armor, gpgv status lines, and gpgv_verify against real keys and
 * signatures made with GnuPG (tests/data/openpgp). */
#include <errno.h>
#include <stdlib.h>

#include "crypto/gpgv.h"
#include "format/base64.h"
#include "format/openpgp.h"
#include "initrd/initrd.h"
#include "tests.h"

static uint8_t *load(const char *name, size_t *len)
{
	char p[4096];
	const char *d = getenv("REIMAGE_TEST_DATA");
	uint8_t *buf;

	snprintf(p, sizeof(p), "%s/openpgp/%s", d ? d : "tests/data", name);
	ASSERT_EQ(read_full_file(p, 1 << 20, &buf, len), 0);
	return buf;
}

TEST(base64_lines)
{
	uint8_t out[16];
	size_t n;

	ASSERT_EQ(base64_decode_lines("TW\nFu\r\n TWE=\n", 13, out, sizeof(out), &n), 0);
	ASSERT_EQ(n, 5);
	ASSERT_TRUE(memcmp(out, "ManMa", 5) == 0);
	ASSERT_EQ(base64_decode_lines("TWE", 3, out, sizeof(out), &n), -EINVAL);
	ASSERT_EQ(base64_decode_lines("TWE=TWFu", 8, out, sizeof(out), &n), -EINVAL);
	ASSERT_EQ(base64_decode_lines("T===", 4, out, sizeof(out), &n), -EINVAL);
	ASSERT_EQ(base64_decode_lines("TW!u", 4, out, sizeof(out), &n), -EINVAL);
	ASSERT_EQ(base64_decode_lines("TWFuTWFu", 8, out, 4, &n), -EFBIG);
	ASSERT_EQ(base64_decode_lines("", 0, out, sizeof(out), &n), 0);
	ASSERT_EQ(n, 0);
}

TEST(dearmor_matches_binary)
{
	size_t alen, blen, dlen;
	uint8_t *asc = load("keyring.asc", &alen), *bin = load("keyring.gpg", &blen), *d = NULL;

	ASSERT_TRUE(openpgp_is_armored((char *)asc, alen));
	ASSERT_TRUE(!openpgp_is_armored((char *)bin, blen));
	ASSERT_EQ(openpgp_dearmor((char *)asc, alen, &d, &dlen), 0);
	ASSERT_EQ(dlen, blen);
	ASSERT_TRUE(memcmp(d, bin, blen) == 0);
	free(d);

	/* one flipped base64 character: the CRC-24 line catches it */
	{
		char *bad = strndup((char *)asc, alen);
		char *body = strstr(bad, "\n\n") + 2;
		body[10] = body[10] == 'A' ? 'B' : 'A';
		ASSERT_EQ(openpgp_dearmor(bad, alen, &d, &dlen), -EBADMSG);
		free(bad);
	}
	/* no END line */
	{
		char *cut = strndup((char *)asc, alen);
		*strstr(cut, "-----END") = 0;
		ASSERT_EQ(openpgp_dearmor(cut, strlen(cut), &d, &dlen), -EBADMSG);
		free(cut);
	}
	/* two blocks concatenate */
	{
		char *two = malloc(2 * alen);
		memcpy(two, asc, alen);
		memcpy(two + alen, asc, alen);
		ASSERT_EQ(openpgp_dearmor(two, 2 * alen, &d, &dlen), 0);
		ASSERT_EQ(dlen, 2 * blen);
		free(d);
		free(two);
	}
	ASSERT_EQ(openpgp_dearmor("garbage", 7, &d, &dlen), -EBADMSG);
	ASSERT_EQ(openpgp_dearmor("", 0, &d, &dlen), -EBADMSG);
	free(asc);
	free(bin);
}

TEST(status_lines)
{
	struct gpg_status s;
	const char *good =
		"[GNUPG:] NEWSIG\n"
		"[GNUPG:] KEY_CONSIDERED CC7590F5C565A8C90D278A0CAA111A58AC5D9343 0\n"
		"[GNUPG:] GOODSIG AA111A58AC5D9343 reimage test signer <signer@reimage.test>\n"
		"[GNUPG:] VALIDSIG CC7590F5C565A8C90D278A0CAA111A58AC5D9343 2026-11-25 1795643494 0 4 0 "
		"22 8 00 CC7590F5C565A8C90D278A0CAA111A58AC5D9343\n";
	const char *bad = "[GNUPG:] NEWSIG\n[GNUPG:] BADSIG AA111A58AC5D9343 x <y>\n";
	const char *nokey = "[GNUPG:] NEWSIG\n[GNUPG:] ERRSIG AA111A58AC5D9343 22 8 00 1 9 -\n"
			    "[GNUPG:] NO_PUBKEY AA111A58AC5D9343\n";
	const char *mixed = "gpgv: noise\n[GNUPG:] NEWSIG\n[GNUPG:] GOODSIG AA111A58AC5D9343 a\x01"
			    "b\n[GNUPG:] VALIDSIG nothex\n";

	gpg_status_parse(good, strlen(good), &s);
	ASSERT_TRUE(gpg_status_is_good(&s));
	ASSERT_STREQ(s.fingerprint, "CC7590F5C565A8C90D278A0CAA111A58AC5D9343");
	ASSERT_STREQ(s.primary, "CC7590F5C565A8C90D278A0CAA111A58AC5D9343");
	ASSERT_STREQ(s.uid, "reimage test signer <signer@reimage.test>");
	ASSERT_STREQ(s.keyid, "AA111A58AC5D9343");
	gpg_status_parse(bad, strlen(bad), &s);
	ASSERT_TRUE(!gpg_status_is_good(&s) && s.bad);
	gpg_status_parse(nokey, strlen(nokey), &s);
	ASSERT_TRUE(!gpg_status_is_good(&s) && s.no_pubkey);
	gpg_status_parse(mixed, strlen(mixed), &s);
	ASSERT_TRUE(!gpg_status_is_good(&s) && s.good && !s.valid);
	ASSERT_STREQ(s.uid, "a?b");
	gpg_status_parse("", 0, &s);
	ASSERT_TRUE(!gpg_status_is_good(&s));
}

TEST(gpgv_real_signatures)
{
	size_t kl, al, sl, gl, ol, okl, ql;
	uint8_t *sums = load("SHA256SUMS", &ql), *kr = load("keyring.gpg", &kl),
		*kra = load("keyring.asc", &al), *sig = load("SHA256SUMS.gpg", &gl),
		*asig = load("SHA256SUMS.asc", &sl), *osig = load("SHA256SUMS.other.gpg", &ol),
		*okr = load("other-keyring.gpg", &okl);
	struct gpg_status st;
	char msg[1024];

	ASSERT_EQ(gpgv_verify(kr, kl, sig, gl, sums, ql, &st, msg, sizeof(msg)), 0);
	ASSERT_STREQ(st.uid, "reimage test signer <signer@reimage.test>");
	ASSERT_EQ(strlen(st.fingerprint), 40);
	/* armored keyring and armored signature */
	ASSERT_EQ(gpgv_verify(kra, al, asig, sl, sums, ql, &st, msg, sizeof(msg)), 0);
	/* one changed byte of the list */
	sums[0] ^= 1;
	ASSERT_EQ(gpgv_verify(kr, kl, sig, gl, sums, ql, &st, msg, sizeof(msg)), -EKEYREJECTED);
	ASSERT_TRUE(st.bad && strstr(msg, "BAD signature"));
	sums[0] ^= 1;
	/* signed by a key that is not in the keyring */
	ASSERT_EQ(gpgv_verify(kr, kl, osig, ol, sums, ql, &st, msg, sizeof(msg)), -EKEYREJECTED);
	ASSERT_TRUE(st.no_pubkey && strstr(msg, "not in the keyring"));
	ASSERT_EQ(gpgv_verify(okr, okl, sig, gl, sums, ql, &st, msg, sizeof(msg)), -EKEYREJECTED);
	/* not a signature at all */
	ASSERT_EQ(gpgv_verify(kr, kl, sums, ql, sums, ql, &st, msg, sizeof(msg)), -EKEYREJECTED);
	/* not a keyring */
	ASSERT_EQ(gpgv_verify(sums, ql, sig, gl, sums, ql, &st, msg, sizeof(msg)), -EBADMSG);
	/* no gpgv */
	setenv("REIMAGE_GPGV", "/nonexistent/gpgv", 1);
	ASSERT_EQ(gpgv_verify(kr, kl, sig, gl, sums, ql, &st, msg, sizeof(msg)), -ENOENT);
	ASSERT_TRUE(strstr(msg, "apt-get install gpgv") != NULL);
	unsetenv("REIMAGE_GPGV");
	free(sums);
	free(kr);
	free(kra);
	free(sig);
	free(asig);
	free(osig);
	free(okr);
}

RUN(T(base64_lines), T(dearmor_matches_binary), T(status_lines), T(gpgv_real_signatures))
