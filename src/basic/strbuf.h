/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A growing text buffer for the writers of job files and of the new system's configuration.
 * Their text can hold secrets (request headers, cloud-init user-data), so growing never
 * leaves a copy behind in freed memory: the old buffer is wiped first. An allocation failure
 * is remembered and reported once, by strbuf_finish(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

void strbuf_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_append(struct strbuf *b, const char *p, size_t n);
/* The NUL-terminated text into *ret (the caller frees it; an empty buffer gives ""), or
 * -ENOMEM after any failed allocation, with the buffer wiped and freed. */
int strbuf_finish(struct strbuf *b, char **ret);
