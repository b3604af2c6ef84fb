// SPDX-License-Identifier: GPL-2.0-or-later
/* Escaping control characters of outside text before it reaches a terminal. */
#include "basic/escape.h"

#include <stdio.h>
#include <string.h>

void escape_controls(const char *s, char *buf, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	if (n == 0)
		return;
	for (; *p; p++) {
		char e[5];
		size_t l;

		if (*p == '\\')
			l = (size_t)snprintf(e, sizeof(e), "\\\\");
		else if (*p < 0x20 || *p == 0x7f)
			l = (size_t)snprintf(e, sizeof(e), "\\x%02x", *p);
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			/* a C1 control (CSI is U+009B): both bytes shown */
			if (o + 8 >= n)
				break;
			o += (size_t)snprintf(buf + o, n - o, "\\x%02x\\x%02x", p[0], p[1]);
			p++;
			continue;
		} else {
			e[0] = (char)*p;
			e[1] = 0;
			l = 1;
		}
		if (o + l >= n)
			break;
		memcpy(buf + o, e, l);
		o += l;
	}
	buf[o] = 0;
}
