// SPDX-License-Identifier: GPL-2.0-or-later
/* The http(s) source: libcurl, our own stall detection, retries with backoff, and resume with
 * Range + If-Range so that a changed file is never spliced into the stream; TLS verified by
 * default, and a TLS failure is final, never retried. */
#include <curl/curl.h>
#include <errno.h>
#include <openssl/x509_vfy.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "basic/macro.h"
#include "basic/random-util.h"
#include "basic/time-util.h"
#include "flash/retry.h"
#include "flash/source.h"
#include "format/url.h"
#include "format/base64.h"
#include "format/http-header.h"

#define VALIDATOR_MAX 256
#define ERROR_BODY_MAX 512
#define PIN_PREFIX "sha256//"
#define MAX_REDIRECTS 10

struct http_source {
	const struct source_config *cfg;
	const struct source_callbacks *cb;
	CURL *curl;
	char display_url[2048]; /* redacted */

	uint64_t pos;	    /* stream bytes delivered so far */
	uint64_t total;	    /* stream size, UINT64_MAX while unknown */
	bool total_reported;

	/* validators of the first successful response: a resume must see the same ones */
	char etag[VALIDATOR_MAX];
	char last_modified[VALIDATOR_MAX];

	/* the current response (reset at every status line: redirects have several) */
	unsigned status;
	char resp_etag[VALIDATOR_MAX];
	char resp_last_modified[VALIDATOR_MAX];
	bool resp_has_range;
	uint64_t resp_range_first, resp_range_total;
	uint64_t resp_length; /* Content-Length, UINT64_MAX if absent */
	uint64_t retry_after_s;
	bool resp_checked; /* the body's first bytes have been validated */
	uint64_t skip;	   /* body bytes to drop: already delivered (server ignored Range) */

	/* why the transfer was stopped from a callback */
	int stop_error; /* fatal, message in errbuf */
	bool http_error;
	bool stalled;
	bool canceled;
	/* the start of an error response's body: it may say why (a missing client certificate) */
	char error_body[ERROR_BODY_MAX];
	size_t error_body_len;

	/* stall detection */
	uint64_t window_start_ms, window_bytes;

	char *errbuf;
	size_t errlen;
	char last_reason[256]; /* why the previous attempt failed, for a refused resume */
};

static int fail(struct http_source *s, int r, const char *fmt, ...) _printf_(3, 4);
static int fail(struct http_source *s, int r, const char *fmt, ...)
{
	va_list ap;
	int l;

	l = snprintf(s->errbuf, s->errlen, "fetching %s failed: ", s->display_url);
	if (l < 0 || (size_t)l >= s->errlen)
		return r;
	va_start(ap, fmt);
	vsnprintf(s->errbuf + l, s->errlen - (size_t)l, fmt, ap);
	va_end(ap);
	return r;
}

static void copy_value(char *dst, size_t dstsz, const char *v, size_t n)
{
	if (n >= dstsz)
		n = dstsz - 1;
	memcpy(dst, v, n);
	dst[n] = 0;
}

static size_t header_cb(char *buffer, size_t size, size_t nitems, void *userdata)
{
	struct http_source *s = userdata;
	size_t n = size * nitems;
	struct http_field f;
	unsigned code;

	if (http_status_line_parse(buffer, n, &code) == 0) {
		s->status = code;
		s->resp_etag[0] = s->resp_last_modified[0] = 0;
		s->resp_has_range = false;
		s->resp_length = UINT64_MAX;
		s->retry_after_s = 0;
		return n;
	}
	if (http_field_parse(buffer, n, &f) < 0)
		return n; /* the blank line, or a header we cannot parse: not ours to judge */
	if (http_field_is(&f, "ETag"))
		copy_value(s->resp_etag, sizeof(s->resp_etag), f.value, f.value_len);
	else if (http_field_is(&f, "Last-Modified"))
		copy_value(s->resp_last_modified, sizeof(s->resp_last_modified), f.value, f.value_len);
	else if (http_field_is(&f, "Content-Range")) {
		uint64_t first, last, total;
		if (http_content_range_parse(f.value, f.value_len, &first, &last, &total) == 0) {
			s->resp_has_range = true;
			s->resp_range_first = first;
			s->resp_range_total = total;
		}
	} else if (http_field_is(&f, "Content-Length")) {
		uint64_t v = 0;
		bool ok = f.value_len > 0 && f.value_len < 20;
		for (size_t i = 0; ok && i < f.value_len; i++) {
			if (f.value[i] < '0' || f.value[i] > '9')
				ok = false;
			else
				v = v * 10 + (uint64_t)(f.value[i] - '0');
		}
		if (ok)
			s->resp_length = v;
	} else if (http_field_is(&f, "Retry-After")) {
		uint64_t secs;
		if (http_retry_after_parse(f.value, f.value_len, &secs) == 0)
			s->retry_after_s = secs;
	}
	return n;
}

static bool is_transient_status(unsigned code)
{
	return code == 408 || code == 429 || (code >= 500 && code <= 599);
}

static const char *status_text(unsigned code)
{
	switch (code) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 408: return "Request Timeout";
	case 410: return "Gone";
	case 416: return "Range Not Satisfiable";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "";
	}
}

static void report_size(struct http_source *s, uint64_t total)
{
	if (s->total_reported || total == UINT64_MAX)
		return;
	s->total = total;
	s->total_reported = true;
	if (s->cb->size_known)
		s->cb->size_known(s->cb->userdata, total);
}

/* Decide, at the first body byte of a response, whether its bytes continue our stream. */
static int check_response(struct http_source *s)
{
	if (s->status >= 400) {
		s->http_error = true;
		s->error_body_len = 0;
		s->error_body[0] = 0;
		return 0;
	}
	if (s->status != 200 && s->status != 206) {
		snprintf(s->errbuf, s->errlen, "unexpected HTTP status %u from %s", s->status,
			 s->display_url);
		return s->stop_error = -EPROTO;
	}
	/* Same file? Compare the strongest validator we had. (The first answer to a range read,
	 * source_read_range, starts at range_start and is no resume.) */
	if (s->pos > s->cfg->range_start || s->etag[0] || s->last_modified[0]) {
		bool changed = false, unconfirmed = false;
		if (s->etag[0]) {
			unconfirmed = !s->resp_etag[0];
			changed = s->resp_etag[0] && strcmp(s->etag, s->resp_etag) != 0;
		} else if (s->last_modified[0]) {
			unconfirmed = !s->resp_last_modified[0];
			changed = s->resp_last_modified[0] &&
				  strcmp(s->last_modified, s->resp_last_modified) != 0;
		} else
			unconfirmed = true;
		if (unconfirmed && s->pos > s->cfg->range_start && !s->cfg->end_verified) {
			/* a server that ignores If-Range, or answers without the validator it gave
			 * before, may send another version's bytes: never splice blind */
			snprintf(s->errbuf, s->errlen,
				 "%s: the answer to the request to resume at byte %llu carries no ETag "
				 "or Last-Modified that matches the first one, so it could be another "
				 "version of the file; resuming refused. Give --sha256, --sums or "
				 "--minisig so that the result is checked, then it may resume",
				 s->display_url, (unsigned long long)s->pos);
			return s->stop_error = -ESTALE;
		}
		if (changed) {
			snprintf(s->errbuf, s->errlen,
				 "%s changed on the server while it was being downloaded (ETag or "
				 "Last-Modified differs after %llu bytes); nothing of the new version "
				 "was used. Run again to flash the new version",
				 s->display_url, (unsigned long long)s->pos);
			return s->stop_error = -ESTALE;
		}
	} else {
		copy_value(s->etag, sizeof(s->etag), s->resp_etag, strlen(s->resp_etag));
		copy_value(s->last_modified, sizeof(s->last_modified), s->resp_last_modified,
			   strlen(s->resp_last_modified));
	}
	if (s->status == 206) {
		if (!s->resp_has_range || s->resp_range_first != s->pos) {
			snprintf(s->errbuf, s->errlen,
				 "%s answered a request for byte %llu with a different range",
				 s->display_url, (unsigned long long)s->pos);
			return s->stop_error = -EPROTO;
		}
		report_size(s, s->resp_range_total);
		s->skip = 0;
	} else {
		/* A full body: either the first request, or a server that ignores Range. */
		if (s->resp_length != UINT64_MAX)
			report_size(s, s->resp_length);
		s->skip = s->pos;
	}
	if (s->total_reported && s->pos > s->total) {
		snprintf(s->errbuf, s->errlen, "%s is now shorter than what was already received",
			 s->display_url);
		return s->stop_error = -ESTALE;
	}
	return 0;
}

static bool is_redirect_status(unsigned code)
{
	return code == 301 || code == 302 || code == 303 || code == 307 || code == 308;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct http_source *s = userdata;
	size_t n = size * nmemb, off = 0;
	bool waited = false;
	int r;

	if (is_redirect_status(s->status))
		return n; /* a redirect's page: attempt() follows its Location */
	if (!s->resp_checked) {
		r = check_response(s);
		if (r < 0)
			return 0;
		s->resp_checked = true;
	}
	if (s->http_error) {
		size_t take = MIN(n, sizeof(s->error_body) - 1 - s->error_body_len);
		memcpy(s->error_body + s->error_body_len, ptr, take);
		s->error_body_len += take;
		s->error_body[s->error_body_len] = 0;
		return take == n ? n : 0; /* enough read to tell why */
	}
	if (s->skip > 0) {
		size_t drop = s->skip < n ? (size_t)s->skip : n;
		s->skip -= drop;
		off = drop;
	}
	if (off < n) {
		r = s->cb->deliver(s->cb->userdata, (const uint8_t *)ptr + off, n - off, &waited);
		if (r < 0) {
			s->stop_error = r;
			return 0;
		}
		s->pos += n - off;
	}
	s->window_bytes += n;
	if (waited) {
		/* The disk was the bottleneck, not the network: restart the speed window. */
		s->window_start_ms = now_ms();
		s->window_bytes = 0;
	}
	return n;
}

static int xferinfo_cb(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct http_source *s = userdata;
	uint64_t now = now_ms();

	if (s->cb->should_stop && s->cb->should_stop(s->cb->userdata)) {
		s->canceled = true;
		return 1;
	}
	if (s->cfg->stall_timeout_ms == 0)
		return 0;
	if (now - s->window_start_ms >= s->cfg->stall_timeout_ms) {
		uint64_t need = s->cfg->low_speed * s->cfg->stall_timeout_ms / 1000;
		if (s->window_bytes < need) {
			s->stalled = true;
			return 1;
		}
		s->window_start_ms = now;
		s->window_bytes = 0;
	}
	return 0;
}

static const char *curl_reason(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST: return "cannot resolve host name";
	case CURLE_COULDNT_RESOLVE_PROXY: return "cannot resolve proxy name";
	case CURLE_COULDNT_CONNECT: return "connection refused or host unreachable";
	case CURLE_OPERATION_TIMEDOUT: return "timed out";
	case CURLE_PARTIAL_FILE: return "connection closed before the end of the file";
	case CURLE_GOT_NOTHING: return "server closed the connection without answering";
	case CURLE_SEND_ERROR: return "connection reset while sending";
	case CURLE_RECV_ERROR: return "connection reset while receiving";
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM: return "HTTP/2 stream error";
	case CURLE_SSL_CONNECT_ERROR: return "TLS handshake failed";
	default: return curl_easy_strerror(cc);
	}
}

static bool is_transient_curl(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		return true;
	default:
		return false;
	}
}

static int errno_for_curl(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT: return -EHOSTUNREACH;
	case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE: return -EKEYREJECTED;
	default: return -ECONNRESET;
	}
}

int source_tls_pin_validate(const char *pin)
{
	const size_t prefix = strlen(PIN_PREFIX);
	const char *p = pin;
	uint8_t digest[32];

	for (;;) {
		size_t len = strcspn(p, ";");
		if (len <= prefix || strncmp(p, PIN_PREFIX, prefix) != 0 ||
		    base64_decode_exact(p + prefix, len - prefix, digest, sizeof(digest)) < 0)
			return -EINVAL;
		if (p[len] == 0)
			return 0;
		p += len + 1;
	}
}

static bool text_has(const char *s, const char *needle)
{
	return strcasestr(s, needle) != NULL;
}

/* The server's TLS alerts that say it refused our client certificate (OpenSSL's texts). */
static bool is_client_cert_alert(const char *curl_err)
{
	static const char *const alerts[] = {
		"alert bad certificate",	 "alert unknown ca",
		"alert certificate expired",	 "alert certificate revoked",
		"alert certificate unknown",	 "alert unsupported certificate",
		"alert access denied",
	};
	for (size_t i = 0; i < ELEMENTSOF(alerts); i++)
		if (text_has(curl_err, alerts[i]))
			return true;
	return false;
}

/* What to call the CA certificates and the client certificate in messages. */
static const char *ca_name(const struct source_tls *t)
{
	return t->cacert ? t->cacert : t->cacert_pem ? "the job's tls-cacert" : NULL;
}

static const char *client_cert_name(const struct source_tls *t)
{
	return t->client_cert ? t->client_cert : t->client_cert_pem ? "the job's tls-client-cert" : "(none)";
}

static int client_cert_failure(struct http_source *s, const char *host, const char *why)
{
	const struct source_tls *t = &s->cfg->tls;

	if (!t->client_cert && !t->client_cert_pem)
		return fail(s, -EACCES,
			    "%s requires a client certificate and none was given (%s): give it with "
			    "--client-cert FILE --client-key FILE",
			    host, why);
	return fail(s, -EACCES,
		    "%s refused the client certificate %s (%s): give one issued by a CA that the "
		    "server trusts, not expired, with its key",
		    host, client_cert_name(t), why);
}

/* A failure that no retry can cure because it is about trust, not the network: the cause and
 * the fix go to errbuf and its errno is returned. 0 when cc is not such a failure. */
static int tls_failure(struct http_source *s, CURLcode cc, const char *curl_err)
{
	const struct source_tls *t = &s->cfg->tls;
	const char *eff = NULL, *bundle = ca_name(t);
	char host[256], now[64], shown[2048];
	long vr = X509_V_OK;
	struct tm tm;
	time_t sec;

	if (curl_easy_getinfo(s->curl, CURLINFO_EFFECTIVE_URL, &eff) != CURLE_OK || !eff)
		eff = s->cfg->location;
	if (url_host(eff, host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "the server");

	switch (cc) {
	case CURLE_PEER_FAILED_VERIFICATION:
		/* curl checks the name itself, after the chain: the verify result stays unset */
		if (text_has(curl_err, "target host name"))
			return fail(s, -EKEYREJECTED,
				    "the certificate of %s was issued for another name (host name "
				    "mismatch: %s): use a URL with a name the certificate is for, or fix "
				    "the server's certificate",
				    host, curl_err);
		(void)curl_easy_getinfo(s->curl, CURLINFO_SSL_VERIFYRESULT, &vr);
		switch (vr) {
		case X509_V_ERR_CERT_HAS_EXPIRED:
		case X509_V_ERR_CERT_NOT_YET_VALID:
			sec = time(NULL);
			if (gmtime_r(&sec, &tm))
				strftime(now, sizeof(now), "%Y-%m-%d %H:%M UTC", &tm);
			else
				snprintf(now, sizeof(now), "an unknown time");
			return fail(s, -EKEYREJECTED,
				    "the certificate of %s %s, or the clock of this machine is wrong (it "
				    "says %s): %s",
				    host,
				    vr == X509_V_ERR_CERT_HAS_EXPIRED ? "has expired" : "is not valid yet",
				    now,
				    vr == X509_V_ERR_CERT_HAS_EXPIRED
					    ? "renew the certificate on the server, or set the clock"
					    : "set the clock");
		case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
		case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
		case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		case X509_V_ERR_CERT_UNTRUSTED:
			if (ca_name(t))
				return fail(s, -EKEYREJECTED,
					    "the certificate of %s is not trusted (unknown CA: not issued "
					    "by a CA in %s): give the CA that issued it with --cacert",
					    host, ca_name(t));
			return fail(s, -EKEYREJECTED,
				    "the certificate of %s is not trusted (unknown CA): give the CA that "
				    "issued it with --cacert FILE",
				    host);
		case X509_V_ERR_CERT_REVOKED:
			return fail(s, -EKEYREJECTED,
				    "the certificate of %s has been revoked: the server needs a new one",
				    host);
		default:
			return fail(s, -EKEYREJECTED,
				    "the certificate of %s failed verification (%s): give the CA that "
				    "issued it with --cacert, or fix the server's certificate",
				    host, curl_err[0] ? curl_err : "no details");
		}
	case CURLE_SSL_CACERT_BADFILE:
		if (!bundle && (curl_easy_getinfo(s->curl, CURLINFO_CAINFO, &bundle) != CURLE_OK ||
				!bundle))
			bundle = "libcurl's default CA bundle";
		return fail(s, -EKEYREJECTED, "cannot load CA certificates from %s (%s): %s", bundle,
			    curl_err[0] ? curl_err : "no details",
			    ca_name(t) ? "give a file of PEM CA certificates with --cacert"
				      : "install the ca-certificates package, or give the CA with "
					"--cacert");
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return fail(s, -EKEYREJECTED,
			    "the public key of %s does not match --pin (pin mismatch): the server "
			    "presents another key than the one pinned; check the pin against the "
			    "server's current certificate",
			    host);
	case CURLE_SSL_CERTPROBLEM:
		return fail(s, -EKEYREJECTED,
			    "the client certificate %s or its key %s cannot be used (%s): give a PEM "
			    "certificate and its matching, unencrypted private key",
			    client_cert_name(t),
			    t->client_key ? t->client_key : t->client_key_pem ? "(in the job)" : "(none)",
			    curl_err[0] ? curl_err : "no details");
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
		return fail(s, -EKEYREJECTED, "the certificate of %s failed verification: %s", host,
			    curl_err[0] ? curl_err : curl_easy_strerror(cc));
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		/* TLS 1.3 servers send their verdict on our certificate after the handshake */
		if (text_has(curl_err, "certificate required") ||
		    ((t->client_cert || t->client_cert_pem) && is_client_cert_alert(curl_err)))
			return client_cert_failure(s, host, curl_err);
		return 0;
	case CURLE_UNSUPPORTED_PROTOCOL:
		if (strncasecmp(s->cfg->location, "https://", 8) == 0 &&
		    strncasecmp(eff, "http://", 7) == 0) {
			url_redact(eff, shown, sizeof(shown));
			return fail(s, -EPROTO,
				    "the server redirected to %s, from https to plain http: refused, a "
				    "download that starts on https never goes on over plain http; fix the "
				    "redirect on the server, or give the http:// URL yourself if plain "
				    "http is acceptable",
				    shown);
		}
		return 0;
	default:
		return 0;
	}
}

/* nginx answers a missing or refused client certificate with HTTP 400 and says why in the
 * page (its internal statuses 496 and 495). */
static int client_cert_refusal(struct http_source *s)
{
	const char *eff = NULL;
	char host[256];

	if (s->status != 400 || strncasecmp(s->cfg->location, "https://", 8) != 0)
		return 0;
	if (curl_easy_getinfo(s->curl, CURLINFO_EFFECTIVE_URL, &eff) != CURLE_OK || !eff)
		eff = s->cfg->location;
	if (url_host(eff, host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "the server");
	if (text_has(s->error_body, "No required SSL certificate"))
		return client_cert_failure(s, host, "HTTP 400: no required SSL certificate was sent");
	if (text_has(s->error_body, "SSL certificate error"))
		return client_cert_failure(s, host, "HTTP 400: SSL certificate error");
	return 0;
}

/* A TLS option libcurl rejects (a backend without pinning, say) must not be silently dropped. */
static int set_tls(struct http_source *s, CURLoption opt, const char *what, const void *value)
{
	CURLcode cc = curl_easy_setopt(s->curl, opt, value);
	if (cc != CURLE_OK) {
		fail(s, -EOPNOTSUPP, "this libcurl does not support %s: %s", what,
		     curl_easy_strerror(cc));
		return -EOPNOTSUPP;
	}
	return 0;
}

static int set_blob(struct http_source *s, CURLoption opt, const char *what, const char *pem)
{
	struct curl_blob b = { .data = (void *)pem, .len = strlen(pem), .flags = CURL_BLOB_NOCOPY };
	return set_tls(s, opt, what, &b);
}

static int setup_tls(struct http_source *s)
{
	const struct source_tls *t = &s->cfg->tls;
	int r;

	if (t->cacert_pem) {
		r = set_blob(s, CURLOPT_CAINFO_BLOB, "the job's CA certificates", t->cacert_pem);
		if (r < 0)
			return r;
		r = set_tls(s, CURLOPT_CAPATH, "the job's CA certificates", NULL);
		if (r < 0)
			return r;
	} else if (t->cacert) {
		/* only the given CAs: Debian's libcurl would also trust /etc/ssl/certs (CAPATH) */
		r = set_tls(s, CURLOPT_CAINFO, "--cacert", t->cacert);
		if (r < 0)
			return r;
		r = set_tls(s, CURLOPT_CAPATH, "--cacert", NULL);
		if (r < 0)
			return r;
	}
	if (t->pin) {
		r = set_tls(s, CURLOPT_PINNEDPUBLICKEY, "--pin", t->pin);
		if (r < 0)
			return r;
	}
	if (t->client_cert_pem && t->client_key_pem) {
		r = set_blob(s, CURLOPT_SSLCERT_BLOB, "the job's client certificate", t->client_cert_pem);
		if (r >= 0)
			r = set_tls(s, CURLOPT_SSLCERTTYPE, "the job's client certificate", "PEM");
		if (r >= 0)
			r = set_blob(s, CURLOPT_SSLKEY_BLOB, "the job's client key", t->client_key_pem);
		if (r >= 0)
			r = set_tls(s, CURLOPT_SSLKEYTYPE, "the job's client key", "PEM");
		if (r >= 0)
			r = set_tls(s, CURLOPT_KEYPASSWD, "the job's client key", "");
		if (r < 0)
			return r;
	} else if (t->client_cert) {
		r = set_tls(s, CURLOPT_SSLCERT, "--client-cert", t->client_cert);
		if (r < 0)
			return r;
		r = set_tls(s, CURLOPT_SSLKEY, "--client-key", t->client_key);
		if (r < 0)
			return r;
		/* an encrypted key must fail, not wait for a passphrase typed at a console */
		r = set_tls(s, CURLOPT_KEYPASSWD, "--client-key", "");
		if (r < 0)
			return r;
	}
	curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYPEER, t->insecure ? 0L : 1L);
	curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYHOST, t->insecure ? 0L : 2L);
	return 0;
}

static int setup_handle(struct http_source *s, struct curl_slist **headers, char *curl_err)
{
	CURL *h = s->curl;
	bool https = strncasecmp(s->cfg->location, "https://", 8) == 0;
	int r;

	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, https ? "https" : "http,https");
	/* attempt() follows redirects itself, so that the user's headers and credentials reach
	 * SRC's own server only; it also refuses a downgrade from https to http */
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_HTTP_CONTENT_DECODING, 0L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "reimage/" REIMAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)s->cfg->connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 512L * 1024);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, s);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
	r = setup_tls(s);
	if (r < 0)
		return r;
	for (size_t i = 0; i < s->cfg->n_headers; i++) {
		struct curl_slist *n = curl_slist_append(*headers, s->cfg->headers[i]);
		if (!n)
			return -ENOMEM;
		*headers = n;
	}
	return 0;
}

/* What one request came to, after its redirects: see attempt(). */
static int classify(struct http_source *s, CURLcode cc, const char *curl_err, char *reason,
		    size_t reasonlen)
{
	int r;

	if (cc == CURLE_OK && !s->resp_checked) {
		/* an empty body: the status still counts */
		r = check_response(s);
		if (r < 0)
			return r;
		s->resp_checked = true;
	}
	if (s->http_error) {
		snprintf(reason, reasonlen, "HTTP %u %s", s->status, status_text(s->status));
		if (is_transient_status(s->status))
			return 1;
		r = client_cert_refusal(s);
		if (r < 0)
			return r;
		snprintf(s->errbuf, s->errlen, "HTTP %u %s from %s", s->status,
			 status_text(s->status), s->display_url);
		if (s->status == 404 || s->status == 410)
			return -ENOENT;
		if (s->status == 401 || s->status == 403)
			return -EACCES;
		return -EPROTO;
	}
	if (s->stalled) {
		snprintf(reason, reasonlen, "transfer stalled (below %llu bytes/s for %llu s)",
			 (unsigned long long)s->cfg->low_speed,
			 (unsigned long long)(s->cfg->stall_timeout_ms / 1000));
		return 1;
	}
	if (cc != CURLE_OK) {
		snprintf(reason, reasonlen, "%s", curl_reason(cc));
		r = tls_failure(s, cc, curl_err);
		if (r < 0)
			return r;
		if (is_transient_curl(cc))
			return 1;
		snprintf(s->errbuf, s->errlen, "fetching %s failed: %s%s%s", s->display_url,
			 curl_reason(cc), curl_err[0] ? ": " : "", curl_err);
		return errno_for_curl(cc);
	}
	if (s->total_reported && s->pos < s->total) {
		snprintf(reason, reasonlen, "connection closed after %llu of %llu bytes",
			 (unsigned long long)s->pos, (unsigned long long)s->total);
		return 1;
	}
	return 0;
}

/* A copy of list with line appended (line may be NULL), or NULL with *ret_r = -ENOMEM. */
static struct curl_slist *slist_copy_append(const struct curl_slist *list, const char *line, int *ret_r)
{
	struct curl_slist *out = NULL, *n;

	for (; list; list = list->next) {
		n = curl_slist_append(out, list->data);
		if (!n)
			goto oom;
		out = n;
	}
	if (line) {
		n = curl_slist_append(out, line);
		if (!n)
			goto oom;
		out = n;
	}
	return out;
oom:
	curl_slist_free_all(out);
	*ret_r = -ENOMEM;
	return NULL;
}

/* The URL of the next hop of a redirect, malloc'ed. The user's credentials (the userinfo of
 * SRC) go with it only when it is on SRC's own server, as its custom headers do; a Location on
 * another server loses any userinfo libcurl carried over from the URL it was resolved against. */
static char *hop_url(const struct http_source *s, const char *redirect, bool *ret_same)
{
	CURLU *src, *u;
	char *user = NULL, *pw = NULL, *out = NULL, *ret = NULL;
	bool same = url_same_origin(redirect, s->cfg->location);

	*ret_same = same;
	if (!same)
		return url_without_userinfo(redirect);
	src = curl_url();
	u = curl_url();
	if (src && u && curl_url_set(src, CURLUPART_URL, s->cfg->location, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_URL, redirect, 0) == CURLUE_OK) {
		(void)curl_url_get(src, CURLUPART_USER, &user, 0);
		(void)curl_url_get(src, CURLUPART_PASSWORD, &pw, 0);
		if (curl_url_set(u, CURLUPART_USER, user, 0) == CURLUE_OK &&
		    curl_url_set(u, CURLUPART_PASSWORD, pw, 0) == CURLUE_OK &&
		    curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK)
			ret = strdup(out);
	}
	if (user)
		explicit_bzero(user, strlen(user));
	if (pw)
		explicit_bzero(pw, strlen(pw));
	curl_free(user);
	curl_free(pw);
	curl_free(out);
	curl_url_cleanup(src);
	curl_url_cleanup(u);
	return ret;
}

static void reset_response(struct http_source *s)
{
	s->status = 0;
	s->resp_checked = false;
	s->stop_error = 0;
	s->http_error = s->stalled = s->canceled = false;
	s->skip = 0;
}

/* One request from s->pos on, following redirects ourselves: libcurl would send the custom
 * headers to every host a redirect names (it drops only Authorization and Cookie), and they are
 * the user's secrets for SRC's server. Returns 0 at the end of the stream, 1 for a transient
 * failure (reason set), or a negative errno for a fatal one (message in errbuf). */
static int attempt(struct http_source *s, struct curl_slist *user_headers, char *curl_err,
		   char *reason, size_t reasonlen)
{
	_cleanup_free_ char *url = NULL;
	struct curl_slist *same_list = NULL, *other_list = NULL;
	char range[64], ifrange[VALIDATOR_MAX + 16];
	const char *ifr = NULL;
	bool https = strncasecmp(s->cfg->location, "https://", 8) == 0, same = true;
	CURLcode cc;
	int r = 0;

	reset_response(s);
	s->window_start_ms = now_ms();
	s->window_bytes = 0;
	curl_err[0] = 0;

	if (s->pos > 0 && !s->etag[0] && !s->last_modified[0] && !s->cfg->end_verified) {
		/* nothing tells the next answer's bytes from another version's */
		snprintf(s->errbuf, s->errlen,
			 "fetching %s broke off after %llu bytes (%s), and the server gave no ETag or "
			 "Last-Modified to resume against: a resumed download could splice two "
			 "versions of the file, so it is not resumed. Give --sha256, --sums or "
			 "--minisig so that the result is checked, then it may resume",
			 s->display_url, (unsigned long long)s->pos,
			 s->last_reason[0] ? s->last_reason : "connection lost");
		return -ESTALE;
	}
	if (s->pos > 0 || s->cfg->range_len > 0) {
		if (s->cfg->range_len > 0) /* source_read_range: just these bytes */
			snprintf(range, sizeof(range), "%llu-%llu", (unsigned long long)s->pos,
				 (unsigned long long)(s->cfg->range_start + s->cfg->range_len - 1));
		else
			snprintf(range, sizeof(range), "%llu-", (unsigned long long)s->pos);
		curl_easy_setopt(s->curl, CURLOPT_RANGE, range);
		if (s->etag[0] || s->last_modified[0]) {
			snprintf(ifrange, sizeof(ifrange), "If-Range: %s",
				 s->etag[0] ? s->etag : s->last_modified);
			ifr = ifrange;
		}
	} else
		curl_easy_setopt(s->curl, CURLOPT_RANGE, NULL);
	/* private lists: the user's list stays owned by the caller */
	same_list = slist_copy_append(user_headers, ifr, &r);
	if (r >= 0)
		other_list = slist_copy_append(NULL, ifr, &r);
	if (r < 0)
		goto out;
	url = strdup(s->cfg->location);
	if (!url) {
		r = -ENOMEM;
		goto out;
	}

	for (unsigned hops = 0;; hops++) {
		char *next = NULL, shown[2048];

		curl_easy_setopt(s->curl, CURLOPT_URL, url);
		curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, same ? same_list : other_list);
		cc = curl_easy_perform(s->curl);
		curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, NULL);
		if (cc != CURLE_OK || s->canceled || s->stop_error || !is_redirect_status(s->status) ||
		    curl_easy_getinfo(s->curl, CURLINFO_REDIRECT_URL, &next) != CURLE_OK || !next)
			break;
		if (hops >= MAX_REDIRECTS) {
			r = fail(s, -EPROTO,
				 "more than %d redirects: the server sends the request round in circles; "
				 "fix the redirects on the server, or give the final URL",
				 MAX_REDIRECTS);
			goto out;
		}
		if (!url_is_http(next) || (https && strncasecmp(next, "https://", 8) != 0)) {
			url_redact(next, shown, sizeof(shown));
			if (https && strncasecmp(next, "http://", 7) == 0)
				r = fail(s, -EPROTO,
					 "the server redirected to %s, from https to plain http: refused, a "
					 "download that starts on https never goes on over plain http; fix "
					 "the redirect on the server, or give the http:// URL yourself if "
					 "plain http is acceptable",
					 shown);
			else
				r = fail(s, -EPROTO,
					 "the server redirected to %s, which is not an http(s) URL: refused",
					 shown);
			goto out;
		}
		free(url);
		url = hop_url(s, next, &same);
		if (!url) {
			r = -ENOMEM;
			goto out;
		}
		reset_response(s);
		curl_err[0] = 0;
	}

	if (s->canceled) {
		r = -ECANCELED;
		goto out;
	}
	if (s->stop_error) {
		r = s->stop_error;
		goto out;
	}
	r = classify(s, cc, curl_err, reason, reasonlen);
out:
	curl_slist_free_all(same_list);
	curl_slist_free_all(other_list);
	return r;
}

int source_http_run(const struct source_config *cfg, const struct source_callbacks *cb,
		    char *errbuf, size_t errlen)
{
	struct http_source s = {
		.cfg = cfg,
		.cb = cb,
		.total = UINT64_MAX,
		.errbuf = errbuf,
		.errlen = errlen,
		.pos = cfg->range_start,
	};
	struct curl_slist *headers = NULL;
	char curl_err[CURL_ERROR_SIZE], reason[256];
	unsigned failures = 0;
	uint64_t first_failure_ms = 0, pos_at_failure = 0;
	int r;

	url_redact(cfg->location, s.display_url, sizeof(s.display_url));
	s.curl = curl_easy_init();
	if (!s.curl)
		return -ENOMEM;
	r = setup_handle(&s, &headers, curl_err);
	if (r < 0)
		goto out;

	for (;;) {
		uint64_t delay, remaining;
		uint32_t rnd = 0;

		r = attempt(&s, headers, curl_err, reason, sizeof(reason));
		if (r <= 0)
			break;
		snprintf(s.last_reason, sizeof(s.last_reason), "%s", reason);
		/* transient: a retry that made progress starts a new row of failures */
		if (failures > 0 && s.pos > pos_at_failure)
			failures = 0;
		if (failures == 0)
			first_failure_ms = now_ms();
		pos_at_failure = s.pos;
		failures++;
		remaining = now_ms() - first_failure_ms;
		if (failures > cfg->retries || remaining >= cfg->retry_for_ms) {
			snprintf(errbuf, errlen,
				 "fetching %s failed: %s; gave up after %u %s in %llu s "
				 "(see --retries, --retry-for)",
				 s.display_url, reason, failures, failures == 1 ? "attempt" : "attempts",
				 (unsigned long long)(remaining / 1000));
			r = strstr(reason, "timed out") || strstr(reason, "stalled") ? -ETIMEDOUT
			    : strstr(reason, "refused") || strstr(reason, "resolve") ? -EHOSTUNREACH
										    : -ECONNRESET;
			break;
		}
		rnd = (uint32_t)random_u64();
		delay = retry_delay_ms(failures, s.retry_after_s * 1000, rnd);
		if (delay > cfg->retry_for_ms - remaining)
			delay = cfg->retry_for_ms - remaining;
		if (cb->retrying)
			cb->retrying(cb->userdata, failures, delay, s.pos, reason);
		for (uint64_t t0 = now_ms(); now_ms() - t0 < delay;) {
			if (cb->should_stop && cb->should_stop(cb->userdata)) {
				r = -ECANCELED;
				goto out;
			}
			sleep_ms(MIN(delay - (now_ms() - t0), (uint64_t)100), NULL);
		}
	}
out:
	curl_slist_free_all(headers);
	curl_easy_cleanup(s.curl);
	return r;
}

int source_http_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -ENOMEM;
}

void source_http_global_cleanup(void)
{
	curl_global_cleanup();
}
