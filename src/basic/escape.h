/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Showing text that came from outside (a signature's comment, a server's words) on a terminal
 * without letting it move the cursor, retitle the window or hide earlier lines. */
#pragma once

#include <stddef.h>

/* Copy s into buf (size n >= 1), with every C0 control byte, DEL, the UTF-8 encoding of a C1
 * control (U+0080..U+009F) and the backslash written as \xNN (\\ for the backslash); other
 * bytes as they are. Truncated to fit, never in the middle of an escape. */
void escape_controls(const char *s, char *buf, size_t n);
