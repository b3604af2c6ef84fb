// SPDX-License-Identifier: GPL-2.0-or-later
/* JSON string quoting for the --json event stream. */
#include "format/json.h"

#include <stdint.h>
#include <stdio.h>

static void put(char *buf, size_t n, size_t *o, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (*o + 1 < n)
			buf[*o] = s[i];
		(*o)++;
	}
}

/* Length of a valid UTF-8 sequence at s (max bytes available), or 0 if invalid. */
static size_t utf8_valid_len(const unsigned char *s, size_t max)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (len > max)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

size_t json_quote(const char *s, char *buf, size_t n)
{
	size_t o = 0;
	const unsigned char *p = (const unsigned char *)s;
	size_t left = 0;

	for (const unsigned char *q = p; *q; q++)
		left++;
	put(buf, n, &o, "\"", 1);
	while (*p) {
		char esc[8];
		size_t l;

		switch (*p) {
		case '"': put(buf, n, &o, "\\\"", 2); p++; left--; continue;
		case '\\': put(buf, n, &o, "\\\\", 2); p++; left--; continue;
		case '\n': put(buf, n, &o, "\\n", 2); p++; left--; continue;
		case '\r': put(buf, n, &o, "\\r", 2); p++; left--; continue;
		case '\t': put(buf, n, &o, "\\t", 2); p++; left--; continue;
		default: break;
		}
		if (*p < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			put(buf, n, &o, esc, 6);
			p++;
			left--;
			continue;
		}
		l = utf8_valid_len(p, left);
		if (l == 0) {
			put(buf, n, &o, "\\ufffd", 6);
			p++;
			left--;
			continue;
		}
		put(buf, n, &o, (const char *)p, l);
		p += l;
		left -= l;
	}
	put(buf, n, &o, "\"", 1);
	if (n > 0)
		buf[o < n ? o : n - 1] = 0;
	return o;
}
