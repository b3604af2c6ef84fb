// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for src/basic/strbuf.c: text grows across many reallocations intact, appends
 * take bytes as given, an empty buffer finishes as "", and a finished buffer starts over. */
#include "basic/strbuf.h"
#include "tests.h"

TEST(grows_intact)
{
	struct strbuf b = { 0 };
	char *s = NULL, want[16];

	for (int i = 0; i < 5000; i++)
		strbuf_printf(&b, "%04d,", i % 10000);
	ASSERT_EQ(strbuf_finish(&b, &s), 0);
	ASSERT_EQ(strlen(s), 5000 * 5);
	for (int i = 0; i < 5000; i += 499) {
		snprintf(want, sizeof(want), "%04d,", i);
		ASSERT_TRUE(memcmp(s + 5 * i, want, 5) == 0);
	}
	ASSERT_TRUE(b.s == NULL && b.len == 0 && b.cap == 0);
	free(s);
}

TEST(append_and_empty)
{
	struct strbuf b = { 0 };
	char *s = NULL;

	ASSERT_EQ(strbuf_finish(&b, &s), 0);
	ASSERT_STREQ(s, "");
	free(s);
	strbuf_append(&b, "abc\0def", 3);
	strbuf_printf(&b, "-%s-", "x");
	strbuf_append(&b, "", 0);
	ASSERT_EQ(strbuf_finish(&b, &s), 0);
	ASSERT_STREQ(s, "abc-x-");
	free(s);
}

RUN(T(grows_intact), T(append_and_empty))
