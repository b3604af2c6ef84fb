// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for URL redaction, secret extraction and file names. */
#include <errno.h>

#include "flash/url-origin.h"
#include "format/url.h"
#include "tests.h"

TEST(redact)
{
	char b[256];
	url_redact("https://user:pw@host:8443/a/b.img?X-Sig=abc&y=2#frag", b, sizeof(b));
	ASSERT_STREQ(b, "https://***@host:8443/a/b.img?X-Sig=***&y=***");
	url_redact("http://host/a.img", b, sizeof(b));
	ASSERT_STREQ(b, "http://host/a.img");
	url_redact("http://host/a@b.img", b, sizeof(b));
	ASSERT_STREQ(b, "http://host/a@b.img");
	url_redact("http://tok@host/", b, sizeof(b));
	ASSERT_STREQ(b, "http://***@host/");
	url_redact("http://host/x?flag", b, sizeof(b));
	ASSERT_STREQ(b, "http://host/x?flag");
	url_redact("http://user:pw@host/", b, 10);
	ASSERT_EQ(strlen(b), 9);
}

static char seen[8][64];
static int n_seen;
static int collect(const char *s)
{
	snprintf(seen[n_seen++], sizeof(seen[0]), "%s", s);
	return 0;
}

TEST(secrets)
{
	n_seen = 0;
	ASSERT_EQ(url_foreach_secret("https://user:pw123@host/p?a=1&tok=xyz", collect), 0);
	ASSERT_EQ(n_seen, 3);
	ASSERT_STREQ(seen[0], "pw123");
	ASSERT_STREQ(seen[1], "1");
	ASSERT_STREQ(seen[2], "xyz");
	n_seen = 0;
	ASSERT_EQ(url_foreach_secret("https://token@host/p", collect), 0);
	ASSERT_EQ(n_seen, 1);
	ASSERT_STREQ(seen[0], "token");
}

TEST(file_name)
{
	char b[64];
	ASSERT_EQ(url_file_name("https://h/dir/debian.img.zst?sig=1#x", b, sizeof(b)), 0);
	ASSERT_STREQ(b, "debian.img.zst");
	ASSERT_EQ(url_file_name("https://h/dir/a%20b.img/", b, sizeof(b)), 0);
	ASSERT_STREQ(b, "a b.img");
	ASSERT_EQ(url_file_name("https://h/", b, sizeof(b)), -ENOENT);
	ASSERT_EQ(url_file_name("https://h", b, sizeof(b)), -ENOENT);
	ASSERT_EQ(url_file_name("https://h/a%2Fb", b, sizeof(b)), -EINVAL);
	ASSERT_EQ(url_file_name("https://h/a%00b", b, sizeof(b)), -EINVAL);
	ASSERT_EQ(url_file_name("https://h/a%zz", b, sizeof(b)), -EINVAL);
	ASSERT_EQ(url_file_name("https://h/aaaaaaaaaa", b, 5), -EINVAL);
	ASSERT_TRUE(url_is_http("HTTPS://x"));
	ASSERT_TRUE(!url_is_http("ftp://x"));
}

/* A raw '@' inside the password (not percent-encoded, as people paste them): the userinfo ends
 * at the last '@' of the authority, and none of the password shows. */
TEST(at_sign_in_password)
{
	char b[256];

	url_redact("https://alice:p@ss@w0rd@host/x.img", b, sizeof(b));
	ASSERT_STREQ(b, "https://***@host/x.img");
	n_seen = 0;
	ASSERT_EQ(url_foreach_secret("https://alice:p@ss@w0rd@host/x.img", collect), 0);
	ASSERT_EQ(n_seen, 1);
	ASSERT_STREQ(seen[0], "p@ss@w0rd");
}

/* The origin that decides where the user's headers may go (RFC 6454: scheme, host, port). */
TEST(same_origin)
{
	ASSERT_TRUE(url_same_origin("http://h.example/a.img", "http://h.example:80/SHA256SUMS"));
	ASSERT_TRUE(url_same_origin("HTTPS://H.Example/a", "https://h.example:443/b?x=1"));
	ASSERT_TRUE(url_same_origin("https://u:pw@h.example/a", "https://h.example/b"));
	ASSERT_TRUE(!url_same_origin("http://h.example/a", "https://h.example/a"));
	ASSERT_TRUE(!url_same_origin("http://h.example/a", "http://h.example:8080/a"));
	ASSERT_TRUE(!url_same_origin("http://h.example/a", "http://cdn.h.example/a"));
	ASSERT_TRUE(!url_same_origin("http://h.example@evil.example/a", "http://h.example/a"));
	ASSERT_TRUE(!url_same_origin("/srv/a.img", "/srv/SHA256SUMS"));
	ASSERT_TRUE(!url_same_origin("http://h.example/a", "ftp://h.example/a"));
}

RUN(T(redact), T(secrets), T(file_name), T(at_sign_in_password), T(same_origin))
