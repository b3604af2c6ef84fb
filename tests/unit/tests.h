/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A minimal test harness: TEST() functions registered in a table, ASSERT_* macros that report
 * file:line and the values involved, exit 1 on the first failure of a test. */
#pragma once

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ASSERT_TRUE(x)                                                                             \
	do {                                                                                       \
		if (!(x)) {                                                                        \
			fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #x);  \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

#define ASSERT_EQ(a, b)                                                                            \
	do {                                                                                       \
		long long _a = (long long)(a), _b = (long long)(b);                                \
		if (_a != _b) {                                                                    \
			fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__,        \
				__LINE__, #a, #b, _a, _b);                                         \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

#define ASSERT_STREQ(a, b)                                                                         \
	do {                                                                                       \
		const char *_a = (a), *_b = (b);                                                   \
		if (strcmp(_a, _b) != 0) {                                                         \
			fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__,    \
				__LINE__, #a, #b, _a, _b);                                         \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

struct test_case {
	const char *name;
	void (*fn)(void);
};

#define TEST(n) static void test_##n(void)
#define T(n) { #n, test_##n }

static inline int run_tests(const struct test_case *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		t[i].fn();
		printf("ok %zu - %s\n", i + 1, t[i].name);
	}
	return 0;
}
#define RUN(...)                                                                                   \
	int main(void)                                                                             \
	{                                                                                          \
		static const struct test_case cases[] = { __VA_ARGS__ };                           \
		return run_tests(cases, sizeof(cases) / sizeof(cases[0]));                         \
	}
