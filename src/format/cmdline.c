// SPDX-License-Identifier: GPL-2.0-or-later
/* Splitting the kernel command line into key=value words, quotes handled like the kernel. */
#include "format/cmdline.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int cmdline_foreach(const char *cmdline, int (*fn)(const char *key, const char *value, void *userdata),
		    void *userdata)
{
	char word[CMDLINE_MAX + 1];
	const char *p = cmdline;

	if (strlen(cmdline) > CMDLINE_MAX)
		return -E2BIG;
	for (;;) {
		bool in_quote = false;
		size_t o = 0;
		char *eq, *value = NULL;
		int r;

		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			return 0;
		/* The kernel drops quote characters wherever they are and lets them protect spaces. */
		for (; *p; p++) {
			if (*p == '"') {
				in_quote = !in_quote;
				continue;
			}
			if (!in_quote && (*p == ' ' || *p == '\t' || *p == '\n'))
				break;
			word[o++] = *p;
		}
		word[o] = 0;
		eq = strchr(word, '=');
		if (eq) {
			*eq = 0;
			value = eq + 1;
		}
		if (!word[0])
			continue;
		r = fn(word, value, userdata);
		if (r != 0)
			return r;
	}
}

struct get_ctx {
	const char *key;
	char *buf;
	size_t n;
	int found;
};

static int get_one(const char *key, const char *value, void *userdata)
{
	struct get_ctx *c = userdata;

	if (strcmp(key, c->key) != 0)
		return 0;
	if (strlen(value ? value : "") >= c->n) {
		c->found = -ENOBUFS;
		return 0;
	}
	snprintf(c->buf, c->n, "%s", value ? value : "");
	c->found = 1;
	return 0;
}

int cmdline_get(const char *cmdline, const char *key, char *buf, size_t n)
{
	struct get_ctx c = { .key = key, .buf = buf, .n = n };
	int r = cmdline_foreach(cmdline, get_one, &c);

	return r < 0 ? r : c.found;
}
