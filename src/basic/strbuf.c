/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "basic/strbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool grow(struct strbuf *b, size_t need)
{
	size_t cap;
	char *ns;

	if (b->oom)
		return false;
	if (need <= b->cap)
		return true;
	cap = need < 256 ? 256 : need * 2;
	if (cap < need || !(ns = malloc(cap))) {
		b->oom = true;
		return false;
	}
	if (b->s) {
		memcpy(ns, b->s, b->len + 1);
		explicit_bzero(b->s, b->cap);
		free(b->s);
	} else
		ns[0] = 0;
	b->s = ns;
	b->cap = cap;
	return true;
}

void strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if (!grow(b, b->len + (size_t)n + 1))
		return;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void strbuf_append(struct strbuf *b, const char *p, size_t n)
{
	if (!grow(b, b->len + n + 1))
		return;
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = 0;
}

int strbuf_finish(struct strbuf *b, char **ret)
{
	if (!b->oom && !b->s)
		grow(b, 1);
	if (b->oom) {
		if (b->s)
			explicit_bzero(b->s, b->cap);
		free(b->s);
		*b = (struct strbuf){ 0 };
		return -ENOMEM;
	}
	*ret = b->s;
	*b = (struct strbuf){ 0 };
	return 0;
}
