// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for URL redaction, secret extraction and file names. */
#include <errno.h>

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

/* The cases where hand-written splitters disagreed (first or last '@', '@' in the path, an
 * IPv6 literal): the answers are libcurl's, the parser the transfer uses. */
TEST(one_parser)
{
	char b[256];

	/* a second '@' in the authority: the last one ends the user info (a pasted password);
	 * the host is libcurl's */
	url_redact("http://a@b@host/x.img", b, sizeof(b));
	ASSERT_STREQ(b, "http://***@host/x.img");
	n_seen = 0;
	ASSERT_EQ(url_foreach_secret("http://a@b@host/x.img", collect), 0);
	ASSERT_EQ(n_seen, 1);
	ASSERT_STREQ(seen[0], "a@b");
	ASSERT_EQ(url_host("https://u:p@ss@images.example/x", b, sizeof(b)), 0);
	ASSERT_STREQ(b, "images.example");
	/* not a URL at all: nothing of it is shown */
	url_redact("http://exa mple/x?t=1", b, sizeof(b));
	ASSERT_STREQ(b, "http://*** (not a valid URL)");
	/* an escaped '@' in the password: redacted, and registered as written */
	url_redact("https://u:p%40ss@host/x", b, sizeof(b));
	ASSERT_STREQ(b, "https://***@host/x");
	n_seen = 0;
	ASSERT_EQ(url_foreach_secret("https://u:p%40ss@host/x", collect), 0);
	ASSERT_EQ(n_seen, 1);
	ASSERT_STREQ(seen[0], "p%40ss");
	/* the host as written, not as libcurl normalizes it (%XX decoded) */
	url_redact("http://u:pw@h%41st.example/a/../b", b, sizeof(b));
	ASSERT_STREQ(b, "http://***@h%41st.example/a/../b");
	/* host: never the user info, an IPv6 literal keeps its brackets, no port */
	ASSERT_EQ(url_host("https://user:pw@images.example:8443/a@b", b, sizeof(b)), 0);
	ASSERT_STREQ(b, "images.example");
	ASSERT_EQ(url_host("http://[::1]:8080/x", b, sizeof(b)), 0);
	ASSERT_STREQ(b, "[::1]");
	ASSERT_EQ(url_host("not a url", b, sizeof(b)), -EINVAL);
	ASSERT_EQ(url_host("https://images.example/", b, 4), -ENOBUFS);
	url_redact("http://[::1]:8080/a?k=v#f", b, sizeof(b));
	ASSERT_STREQ(b, "http://[::1]:8080/a?k=***");
	/* origin: scheme, host (any case) and port, default ports filled in; user info aside */
	ASSERT_TRUE(url_same_origin("https://h.example/a", "https://H.EXAMPLE:443/b?x"));
	ASSERT_TRUE(url_same_origin("https://tok@h.example/a", "https://h.example/SUMS"));
	ASSERT_TRUE(!url_same_origin("https://h.example/a", "http://h.example/a"));
	ASSERT_TRUE(!url_same_origin("https://h.example/a", "https://h.example:8443/a"));
	ASSERT_TRUE(!url_same_origin("https://h.example/a", "https://h.example.evil/a"));
	ASSERT_TRUE(!url_same_origin("https://h.example@evil.example/a", "https://h.example/a"));
	/* no scheme but user info, as proxies are written: still redacted */
	url_redact("user:pw@proxy.example:3128", b, sizeof(b));
	ASSERT_STREQ(b, "***@proxy.example:3128");
	url_redact("http://u:p@proxy.example:3128", b, sizeof(b));
	ASSERT_STREQ(b, "http://***@proxy.example:3128");
	url_redact("http://h.example?a=1", b, sizeof(b));
	ASSERT_STREQ(b, "http://h.example?a=***");
	n_seen = 0;
	ASSERT_EQ(url_foreach_secret("user:pw@proxy.example:3128", collect), 0);
	ASSERT_EQ(n_seen, 1);
	ASSERT_STREQ(seen[0], "pw");
	url_redact("a@b@proxy:3128", b, sizeof(b));
	ASSERT_STREQ(b, "***@proxy:3128");
	url_redact("a@b@pro xy:3128", b, sizeof(b));
	ASSERT_STREQ(b, "*** (not a valid URL)");
	/* a path, not a URL: shown as it is, its file name is its last component */
	url_redact("/srv/img/a@b.img", b, sizeof(b));
	ASSERT_STREQ(b, "/srv/img/a@b.img");
	ASSERT_EQ(url_file_name("dir/disk.img.zst", b, sizeof(b)), 0);
	ASSERT_STREQ(b, "disk.img.zst");
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

RUN(T(redact), T(secrets), T(file_name), T(at_sign_in_password), T(same_origin), T(one_parser))
