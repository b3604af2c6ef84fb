// SPDX-License-Identifier: GPL-2.0-or-later
/* URLs split by libcurl's URL API (CURLU), the parser libcurl itself uses for the request, so
 * what is redacted, named or compared here is exactly what goes on the wire. */
#include "format/url.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "basic/macro.h"
#include "basic/parse-util.h"

bool url_is_http(const char *s)
{
	return strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0;
}

static void curl_urlp(CURLU **u)
{
	if (*u)
		curl_url_cleanup(*u);
}

static void curl_freep(char **p)
{
	if (*p)
		curl_free(*p);
}

static CURLU *parse_exact(const char *url, unsigned flags)
{
	CURLU *u = curl_url();

	if (!u)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, flags) != CURLUE_OK) {
		curl_url_cleanup(u);
		return NULL;
	}
	return u;
}

/* url with every '@' of its authority but the last percent-encoded, malloc'ed; NULL when
 * there is at most one. A password with a raw '@' is how people paste them: the last '@' ends
 * the user info (what a person means, and what curl's own tool does with such a URL). */
static char *encode_extra_at(const char *url)
{
	const char *sep = strstr(url, "://"), *auth = sep ? sep + 3 : url, *last;
	size_t len = strcspn(auth, "/?#"), extra = 0, o = 0;
	char *out;

	last = memrchr(auth, '@', len);
	for (const char *p = auth; last && p < last; p++)
		extra += *p == '@';
	if (!extra)
		return NULL;
	out = malloc(strlen(url) + 2 * extra + 1);
	if (!out)
		return NULL;
	for (const char *p = url; *p; p++) {
		if (*p == '@' && p >= auth && p < last) {
			memcpy(out + o, "%40", 3);
			o += 3;
		} else
			out[o++] = *p;
	}
	out[o] = 0;
	return out;
}

/* Parse url with libcurl (any scheme; with a raw '@' in the user info as encode_extra_at()
 * says); NULL when it is not a URL libcurl accepts. *reencoded (may be NULL) tells whether
 * the user info had to be encoded: then its parts, decoded, are what the person wrote. */
static CURLU *parse_flags(const char *url, unsigned flags, bool *reencoded)
{
	CURLU *u = parse_exact(url, flags);
	char *fixed;

	if (reencoded)
		*reencoded = false;
	if (u)
		return u;
	fixed = encode_extra_at(url);
	if (!fixed)
		return NULL;
	u = parse_exact(fixed, flags);
	explicit_bzero(fixed, strlen(fixed));
	free(fixed);
	if (u && reencoded)
		*reencoded = true;
	return u;
}

static CURLU *parse(const char *url)
{
	return parse_flags(url, CURLU_NON_SUPPORT_SCHEME, NULL);
}

/* A string without "://" that holds user info before its first '/' ("user:pw@proxy:3128", as
 * proxies are often written, and libcurl takes them): parsed with the scheme libcurl guesses.
 * *ret NULL when s has no user info; -EINVAL when it has but does not parse. */
static int parse_schemeless(const char *s, CURLU **ret, bool *reencoded)
{
	CURLU *u;

	*ret = NULL;
	*reencoded = false;
	if (!memchr(s, '@', strcspn(s, "/?#")))
		return 0;
	u = parse_flags(s, CURLU_GUESS_SCHEME, reencoded);
	if (!u)
		return -EINVAL;
	*ret = u;
	return 0;
}

/* One part of u as libcurl has it (not decoded), or NULL when absent. Free with curl_free. */
static char *part(CURLU *u, CURLUPart what, unsigned flags)
{
	char *s = NULL;

	if (curl_url_get(u, what, &s, flags) != CURLUE_OK)
		return NULL;
	return s;
}

static void append(char *buf, size_t n, size_t *o, const char *s, size_t len)
{
	for (size_t i = 0; i < len && *o + 1 < n; i++)
		buf[(*o)++] = s[i];
}

static void appends(char *buf, size_t n, size_t *o, const char *s)
{
	append(buf, n, o, s, strlen(s));
}

/* The query with every value replaced by "***". */
static void redact_query(char *buf, size_t n, size_t *o, const char *q)
{
	while (*q) {
		size_t kv = strcspn(q, "&");
		const char *eq = memchr(q, '=', kv);

		if (eq) {
			append(buf, n, o, q, (size_t)(eq - q));
			appends(buf, n, o, "=***");
		} else
			append(buf, n, o, q, kv);
		q += kv;
		if (*q == '&') {
			appends(buf, n, o, "&");
			q++;
		}
	}
}

/* Where the parts of url are in its text, once libcurl accepted it: libcurl decides whether it
 * is a URL and that the user info ends at the last '@' of the authority (the others encoded,
 * see parse_flags()); the text shown is the person's own, not libcurl's normalized form (which
 * decodes %XX in host names and drops dot segments). */
struct url_text {
	const char *auth, *at, *rest, *query, *query_end; /* at, query: NULL when absent */
	size_t auth_len;
};

static void url_text_split(const char *url, const char *sep, struct url_text *t)
{
	t->auth = sep ? sep + 3 : url;
	t->auth_len = strcspn(t->auth, "/?#");
	t->at = memrchr(t->auth, '@', t->auth_len);
	t->rest = t->auth + t->auth_len;
	t->query = t->rest + strcspn(t->rest, "?#");
	t->query = *t->query == '?' ? t->query + 1 : NULL;
	t->query_end = t->query ? t->query + strcspn(t->query, "#") : NULL;
}

/* Parse url (with or without a scheme) for url_redact() and url_foreach_secret(). 1 with the
 * text split, 0 for a string that is no URL and carries no user info (a path, "-"), -EINVAL for
 * one libcurl refuses. */
static int url_text_parse(const char *url, struct url_text *t)
{
	_cleanup_(curl_urlp) CURLU *u = NULL;
	const char *sep = strstr(url, "://");
	bool reencoded;
	int r;

	if (sep)
		u = parse(url);
	else {
		r = parse_schemeless(url, &u, &reencoded);
		if (r < 0)
			return r == -EINVAL ? -EINVAL : r;
		if (!u)
			return 0;
	}
	if (!u)
		return -EINVAL;
	url_text_split(url, sep, t);
	return 1;
}

void url_redact(const char *url, char *buf, size_t n)
{
	const char *sep = strstr(url, "://");
	struct url_text t;
	size_t o = 0;
	int r;

	if (n == 0)
		return;
	r = url_text_parse(url, &t);
	if (r == 0) {
		/* a path or "-": nothing of a URL to hide */
		appends(buf, n, &o, url);
	} else if (r < 0) {
		/* libcurl cannot split it, so nobody can say where a secret ends: show the scheme
		 * only (the transfer fails on the same URL with a clear message) */
		if (sep) {
			append(buf, n, &o, url, (size_t)(sep - url));
			appends(buf, n, &o, "://");
		}
		appends(buf, n, &o, "*** (not a valid URL)");
	} else {
		append(buf, n, &o, url, (size_t)(t.auth - url)); /* the scheme, as written */
		if (t.at) {
			appends(buf, n, &o, "***@");
			append(buf, n, &o, t.at + 1, (size_t)(t.auth + t.auth_len - t.at - 1));
		} else
			append(buf, n, &o, t.auth, t.auth_len);
		append(buf, n, &o, t.rest, (size_t)((t.query ? t.query - 1 : t.rest + strcspn(t.rest, "#")) - t.rest));
		if (t.query) {
			_cleanup_free_ char *q = strndup(t.query, (size_t)(t.query_end - t.query));
			appends(buf, n, &o, "?");
			if (q)
				redact_query(buf, n, &o, q);
		}
	}
	buf[o] = 0;
}

static int emit(int (*fn)(const char *), const char *s, size_t len)
{
	char *c;
	int r;

	if (len == 0)
		return 0;
	c = strndup(s, len);
	if (!c)
		return -ENOMEM;
	r = fn(c);
	explicit_bzero(c, len);
	free(c);
	return r;
}


int url_foreach_secret(const char *url, int (*fn)(const char *secret))
{
	const char *sep = strstr(url, "://");
	struct url_text t;
	int r;

	r = url_text_parse(url, &t);
	if (r == 0)
		return 0;
	if (r == -EINVAL)
		/* no way to tell its parts apart: all of it after the scheme is secret */
		return emit(fn, sep ? sep + 3 : url, strlen(sep ? sep + 3 : url));
	if (r < 0)
		return r;
	if (t.at) {
		/* the password (libcurl splits user and password at the first ':'); a user name
		 * alone is often the token itself */
		const char *colon = memchr(t.auth, ':', (size_t)(t.at - t.auth));
		const char *s = colon ? colon + 1 : t.auth;
		_cleanup_free_ char *v = strndup(s, (size_t)(t.at - s));

		if (!v)
			return -ENOMEM;
		r = emit(fn, v, strlen(v));
		explicit_bzero(v, strlen(v));
		if (r < 0)
			return r;
	}
	for (const char *q = t.query; q && q < t.query_end;) {
		size_t kv = strcspn(q, "&#");
		const char *eq = memchr(q, '=', kv);
		if (eq && eq + 1 < q + kv) {
			_cleanup_free_ char *v = strndup(eq + 1, (size_t)(q + kv - eq - 1));
			if (!v)
				return -ENOMEM;
			r = emit(fn, v, strlen(v));
			explicit_bzero(v, strlen(v));
			if (r < 0)
				return r;
		}
		q += kv;
		if (*q == '&')
			q++;
	}
	return 0;
}

int url_file_name(const char *url, char *buf, size_t n)
{
	_cleanup_(curl_urlp) CURLU *u = NULL;
	_cleanup_(curl_freep) char *cpath = NULL;
	const char *path, *seg_end, *seg;
	size_t o = 0;

	if (strstr(url, "://")) {
		u = parse(url);
		if (!u)
			return -EINVAL;
		cpath = part(u, CURLUPART_PATH, 0);
		path = cpath ? cpath : "/";
	} else
		path = url; /* a file name or path */
	seg_end = path + strlen(path);
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

int url_host(const char *url, char *buf, size_t n)
{
	_cleanup_(curl_urlp) CURLU *u = parse(url);
	_cleanup_(curl_freep) char *host = NULL;

	if (n)
		buf[0] = 0;
	if (!u)
		return -EINVAL;
	host = part(u, CURLUPART_HOST, 0);
	if (!host)
		return -ENOENT;
	if (strlen(host) >= n)
		return -ENOBUFS;
	memcpy(buf, host, strlen(host) + 1);
	return 0;
}

bool url_same_origin(const char *a, const char *b)
{
	_cleanup_(curl_urlp) CURLU *ua = parse(a);
	_cleanup_(curl_urlp) CURLU *ub = parse(b);
	static const CURLUPart parts[] = { CURLUPART_SCHEME, CURLUPART_HOST, CURLUPART_PORT };

	if (!url_is_http(a) || !url_is_http(b) || !ua || !ub)
		return false;
	for (size_t i = 0; i < ELEMENTSOF(parts); i++) {
		_cleanup_(curl_freep) char *x = part(ua, parts[i], CURLU_DEFAULT_PORT);
		_cleanup_(curl_freep) char *y = part(ub, parts[i], CURLU_DEFAULT_PORT);
		/* host names compare without case (RFC 3986 §6.2.2.1); libcurl keeps the case */
		if (!x || !y || strcasecmp(x, y) != 0)
			return false;
	}
	return true;
}

char *url_without_userinfo(const char *url)
{
	_cleanup_(curl_urlp) CURLU *u = parse(url);
	_cleanup_(curl_freep) char *s = NULL;

	if (!u || curl_url_set(u, CURLUPART_USER, NULL, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK)
		return NULL;
	return strdup(s);
}
