/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel command line as the kernel itself splits it (lib/cmdline.c next_arg()): words
 * separated by spaces, double quotes group spaces into a word and are removed from a quoted
 * value ("key=\"a b\"" gives key and a b). */
#pragma once

#include <stddef.h>

#define CMDLINE_MAX 4096

/* Call fn(key, value, userdata) for each word; value is NULL for a word without '='. Stops and
 * returns fn's value when it is non-zero. Returns 0, or -E2BIG when the command line is longer
 * than CMDLINE_MAX. */
int cmdline_foreach(const char *cmdline, int (*fn)(const char *key, const char *value, void *userdata),
		    void *userdata);

/* The value of the last occurrence of key into buf (size n). Returns 1 when found (an empty
 * value for "key" without '='), 0 when absent, -ENOBUFS when the value does not fit. */
int cmdline_get(const char *cmdline, const char *key, char *buf, size_t n);
