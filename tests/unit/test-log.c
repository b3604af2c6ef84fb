// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for secret redaction in log output. */
#include "basic/log.h"
#include "basic/escape.h"
#include "tests.h"

TEST(redact)
{
	char b[128];
	ASSERT_EQ(log_add_secret("hunter2"), 0);
	ASSERT_EQ(log_add_secret("ab"), 0); /* too short: ignored */
	log_redact("token hunter2 and hunter2hunter2, ab", b, sizeof(b));
	ASSERT_STREQ(b, "token *** and ******, ab");
	/* the longest secret wins where two overlap */
	ASSERT_EQ(log_add_secret("hunter2-long"), 0);
	log_redact("x hunter2-long y", b, sizeof(b));
	ASSERT_STREQ(b, "x *** y");
	log_redact("hunter2", b, 3);
	ASSERT_STREQ(b, "**");
	log_forget_secrets();
	log_redact("hunter2", b, sizeof(b));
	ASSERT_STREQ(b, "hunter2");
}

TEST(errno_return)
{
	log_set_max_level(LOG_LEVEL_ERR - 1); /* keep the test output quiet */
	ASSERT_EQ(log_error_errno(-5, "x"), -5);
	ASSERT_EQ(log_error_errno(5, "x"), -5);
	log_set_max_level(LOG_LEVEL_INFO);
}

/* Outside text cannot drive the terminal: ESC, CR, BEL, DEL and the C1 CSI are shown as
 * escapes; printable ASCII and other UTF-8 pass unchanged; truncation never cuts an escape. */
TEST(escape_controls)
{
	char b[64], small[6];

	escape_controls("ok \033[2J\r\a\x7f\xc2\x9b \\ caf\xc3\xa9", b, sizeof(b));
	ASSERT_STREQ(b, "ok \\x1b[2J\\x0d\\x07\\x7f\\xc2\\x9b \\\\ caf\xc3\xa9");
	escape_controls("ab\033", small, sizeof(small));
	ASSERT_STREQ(small, "ab");
	escape_controls("plain", b, sizeof(b));
	ASSERT_STREQ(b, "plain");
}

RUN(T(redact), T(errno_return), T(escape_controls))
