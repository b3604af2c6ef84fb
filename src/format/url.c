// SPDX-License-Identifier: GPL-2.0-or-later
/* URL helpers for display (redaction) and for naming the file a URL points to. */
#include "format/url.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "basic/parse-util.h"

bool url_is_http(const char *s)
{
	return strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0;
}

/* Offset of the authority (after "scheme://"), or 0 if there is none. */
static size_t authority_start(const char *url)
{
	const char *p = strstr(url, "://");
	return p ? (size_t)(p - url) + 3 : 0;
}

static void append(char *buf, size_t n, size_t *o, const char *s, size_t len)
{
	for (size_t i = 0; i < len && *o + 1 < n; i++)
		buf[(*o)++] = s[i];
}

void url_redact(const char *url, char *buf, size_t n)
{
	size_t o = 0, a = authority_start(url);
	const char *p = url + a;
	size_t auth_len = strcspn(p, "/?#");
	/* the last '@' ends the userinfo: a password with a raw '@' in it is all hidden */
	const char *at = memrchr(p, '@', auth_len);
	const char *q;

	if (n == 0)
		return;
	append(buf, n, &o, url, a);
	if (at) {
		append(buf, n, &o, "***@", 4);
		append(buf, n, &o, at + 1, (size_t)(p + auth_len - at - 1));
	} else
		append(buf, n, &o, p, auth_len);
	p += auth_len;
	q = p + strcspn(p, "?#");
	append(buf, n, &o, p, (size_t)(q - p));
	if (*q == '?') {
		p = q + 1;
		append(buf, n, &o, "?", 1);
		while (*p && *p != '#') {
			size_t kv = strcspn(p, "&#");
			const char *eq = memchr(p, '=', kv);
			if (eq) {
				append(buf, n, &o, p, (size_t)(eq - p));
				append(buf, n, &o, "=***", 4);
			} else
				append(buf, n, &o, p, kv);
			p += kv;
			if (*p == '&') {
				append(buf, n, &o, "&", 1);
				p++;
			}
		}
	}
	buf[o] = 0;
}

static int emit(int (*fn)(const char *), const char *s, size_t len)
{
	char *c = strndup(s, len);
	int r;

	if (!c)
		return -ENOMEM;
	r = len ? fn(c) : 0;
	explicit_bzero(c, len);
	free(c);
	return r;
}

int url_foreach_secret(const char *url, int (*fn)(const char *secret))
{
	size_t a = authority_start(url);
	const char *p = url + a;
	size_t auth_len = strcspn(p, "/?#");
	const char *at = memrchr(p, '@', auth_len); /* as url_redact() */
	const char *q;
	int r;

	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		r = colon ? emit(fn, colon + 1, (size_t)(at - colon - 1))
			  : emit(fn, p, (size_t)(at - p));
		if (r < 0)
			return r;
	}
	q = strchr(p, '?');
	if (!q)
		return 0;
	for (p = q + 1; *p && *p != '#';) {
		size_t kv = strcspn(p, "&#");
		const char *eq = memchr(p, '=', kv);
		if (eq) {
			r = emit(fn, eq + 1, (size_t)(p + kv - eq - 1));
			if (r < 0)
				return r;
		}
		p += kv;
		if (*p == '&')
			p++;
	}
	return 0;
}

int url_file_name(const char *url, char *buf, size_t n)
{
	size_t a = authority_start(url);
	const char *path = url + a + (a ? strcspn(url + a, "/?#") : 0);
	size_t plen = strcspn(path, "?#");
	const char *seg_end = path + plen, *seg;
	size_t o = 0;

	while (seg_end > path && seg_end[-1] == '/')
		seg_end--;
	seg = seg_end;
	while (seg > path && seg[-1] != '/')
		seg--;
	if (seg == seg_end)
		return -ENOENT;
	for (const char *p = seg; p < seg_end; p++) {
		char c = *p;
		if (c == '%') {
			int hi, lo;
			if (seg_end - p < 3 || (hi = unhexchar(p[1])) < 0 || (lo = unhexchar(p[2])) < 0)
				return -EINVAL;
			c = (char)(hi << 4 | lo);
			p += 2;
		}
		if (c == 0 || c == '/' || o + 1 >= n)
			return -EINVAL;
		buf[o++] = c;
	}
	buf[o] = 0;
	return 0;
}
