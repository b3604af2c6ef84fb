/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writing JSON strings (RFC 8259 §7): escapes quotes, backslashes and control characters;
 * bytes that are not valid UTF-8 are replaced by U+FFFD so every line stays valid JSON. */
#pragma once

#include <stddef.h>

/* Write s as a quoted JSON string into buf (size n). Returns the length the full output needs
 * (excluding the NUL); the output is truncated (still NUL-terminated) when that is >= n. */
size_t json_quote(const char *s, char *buf, size_t n);
