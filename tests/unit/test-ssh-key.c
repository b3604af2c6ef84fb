// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for OpenSSH public key lines, authorized_keys merging and fingerprints. */
#include "format/ssh-key.h"
#include "initrd/hold.h"
#include "tests.h"

/* made with ssh-keygen; fingerprints as `ssh-keygen -lf` prints them */
#define ED1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDO983RjTsPex57nypaZxKmMmKZKg3u5vjP/hiFVVlDo"
#define ED1_FP "SHA256:ltZ4G5/fXZzZ6sxyNKJXPjp58fsAOXhLhcIRnOfUACQ"
#define EC1                                                                                        \
	"ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBKDvCr//uSq+t3Sz" \
	"nKYfGy6fM00zDAjOHJ0nUEKLSlxuLGJKiamHi1YFc06Iqp2Fut0VObNtHRT36hhlk6FPJkw="
#define EC1_FP "SHA256:ZCXP2Zixq7qZw8gXACD7HjS/hiYQ6P4H2ka1FAMIrWQ"

static struct ssh_pubkey k;

TEST(parse_plain)
{
	char fp[64];
	const char *l = ED1 " alice@laptop";

	ASSERT_EQ(ssh_pubkey_parse(l, strlen(l), false, &k), 0);
	ASSERT_STREQ(k.type, "ssh-ed25519");
	ASSERT_STREQ(k.comment, "alice@laptop");
	ASSERT_TRUE(!k.has_options);
	ASSERT_EQ(k.blob_len, 51);
	ASSERT_EQ(ssh_fingerprint_sha256(k.blob, k.blob_len, fp, sizeof(fp)), 0);
	ASSERT_STREQ(fp, ED1_FP);
	ASSERT_EQ(ssh_pubkey_parse(EC1, strlen(EC1), false, &k), 0);
	ASSERT_STREQ(k.comment, "");
	ASSERT_EQ(ssh_fingerprint_sha256(k.blob, k.blob_len, fp, sizeof(fp)), 0);
	ASSERT_STREQ(fp, EC1_FP);
}

TEST(parse_options)
{
	const char *l = "no-pty,command=\"echo \\\"a b\\\"\" " ED1 " bob";

	ASSERT_EQ(ssh_pubkey_parse(l, strlen(l), false, &k), -EBADMSG);
	ASSERT_EQ(ssh_pubkey_parse(l, strlen(l), true, &k), 0);
	ASSERT_TRUE(k.has_options);
	ASSERT_STREQ(k.type, "ssh-ed25519");
	ASSERT_STREQ(k.comment, "bob");
	/* an unterminated quote */
	l = "command=\"echo " ED1;
	ASSERT_EQ(ssh_pubkey_parse(l, strlen(l), true, &k), -EBADMSG);
}

TEST(parse_bad)
{
	static const char *const bad[] = {
		"",
		"ssh-ed25519",
		"ssh-ed25519 ",
		"ssh-ed25519 AAAA",
		"ssh-ed25519 !!!!",
		/* blob of another type than the line says */
		"ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIDO983RjTsPex57nypaZxKmMmKZKg3u5vjP/hiFVVlDo",
		/* not canonical base64 (missing padding) */
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDO983RjTsPex57nypaZxKmMmKZKg3u5vjP/hiFVVlD",
		"hello world",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ASSERT_TRUE(ssh_pubkey_parse(bad[i], strlen(bad[i]), true, &k) < 0);
	/* a well-formed key of a type dropbear does not take */
	{
		const char *dss = "ssh-dss AAAAB3NzaC1kc3MAAAAA";
		ASSERT_EQ(ssh_pubkey_parse(dss, strlen(dss), false, &k), -EPROTONOSUPPORT);
	}
	{
		const char nul[] = ED1 "\0x";
		ASSERT_EQ(ssh_pubkey_parse(nul, sizeof(nul) - 1, false, &k), -EBADMSG);
	}
}

static unsigned skipped[8], n_skipped;

static void on_skip(void *u, unsigned lineno, const char *why)
{
	if (n_skipped < 8)
		skipped[n_skipped++] = lineno;
}

TEST(keyset)
{
	static struct ssh_keyset s;
	const char *a = "# root's keys\n\n" ED1 " alice\r\n  garbage here\n" EC1 " carol\n";
	const char *b = "no-pty " ED1 " alice-again\n" ED1 " alice-3";
	char *text;

	ASSERT_EQ(ssh_keyset_add_text(&s, a, strlen(a), on_skip, NULL), 2);
	ASSERT_EQ(n_skipped, 1);
	ASSERT_EQ(skipped[0], 4);
	/* the same key from another file is not added twice */
	ASSERT_EQ(ssh_keyset_add_text(&s, b, strlen(b), on_skip, NULL), 0);
	ASSERT_EQ(s.n, 2);
	ASSERT_STREQ(s.keys[0].comment, "alice");
	ASSERT_STREQ(s.keys[1].comment, "carol");
	ASSERT_EQ(ssh_keyset_format(&s, &text), 0);
	ASSERT_STREQ(text, ED1 " alice\n" EC1 " carol\n");
	free(text);
	ssh_keyset_done(&s);
	ASSERT_EQ(s.n, 0);
}

RUN(T(parse_plain), T(parse_options), T(parse_bad), T(keyset))
