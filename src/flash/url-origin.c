// SPDX-License-Identifier: GPL-2.0-or-later
/* Origins of URLs (scheme, host, port) with libcurl's URL parser: the one that decides where a
 * request goes also decides whether it is the same server. */
#include "flash/url-origin.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "format/url.h"

struct origin {
	char *scheme, *host, *port;
};

static void origin_done(struct origin *o)
{
	curl_free(o->scheme);
	curl_free(o->host);
	curl_free(o->port);
}

static bool origin_get(const char *url, struct origin *ret)
{
	CURLU *u;
	bool ok;

	*ret = (struct origin){};
	if (!url || !url_is_http(url))
		return false;
	u = curl_url();
	if (!u)
		return false;
	ok = curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	     curl_url_get(u, CURLUPART_SCHEME, &ret->scheme, 0) == CURLUE_OK &&
	     curl_url_get(u, CURLUPART_HOST, &ret->host, 0) == CURLUE_OK &&
	     curl_url_get(u, CURLUPART_PORT, &ret->port, CURLU_DEFAULT_PORT) == CURLUE_OK;
	curl_url_cleanup(u);
	if (!ok)
		origin_done(ret);
	return ok;
}

bool url_same_origin(const char *a, const char *b)
{
	struct origin oa, ob;
	bool same;

	if (!origin_get(a, &oa))
		return false;
	if (!origin_get(b, &ob)) {
		origin_done(&oa);
		return false;
	}
	same = strcasecmp(oa.scheme, ob.scheme) == 0 && strcasecmp(oa.host, ob.host) == 0 &&
	       strcmp(oa.port, ob.port) == 0;
	origin_done(&oa);
	origin_done(&ob);
	return same;
}

char *url_without_userinfo(const char *url)
{
	CURLU *u = curl_url();
	char *s = NULL, *ret = NULL;

	if (!u)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_USER, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK)
		ret = strdup(s);
	curl_free(s);
	curl_url_cleanup(u);
	return ret;
}
