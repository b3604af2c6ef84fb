/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Byte sources for the pipeline: an http(s) URL (libcurl, with retry and Range resume), a file,
 * or standard input. A source delivers every byte of the published stream exactly once, in
 * order, however many connections that takes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* TLS settings of an https source (libcurl's CURLOPT_CAINFO, PINNEDPUBLICKEY, SSLCERT, SSLKEY,
 * SSL_VERIFYPEER/VERIFYHOST). Paths are not secrets; the files' contents are never printed. */
struct source_tls {
	const char *cacert;	 /* CA bundle (PEM); NULL: libcurl's default bundle */
	const char *pin;	 /* "sha256//BASE64[;sha256//BASE64...]" (RFC 7469 pins), or NULL */
	const char *client_cert; /* PEM certificate for the server to check, with client_key */
	const char *client_key;	 /* its private key (PEM, not encrypted) */
	bool insecure;		 /* no certificate or host name verification (a pin still holds) */
	/* The same as PEM text in memory, for the flasher, whose job carries them (used instead
	 * of the file names when set; the memory must outlive the source) */
	const char *cacert_pem, *client_cert_pem, *client_key_pem;
};

struct source_config {
	const char *location; /* URL, path, or "-" for stdin */
	char *const *headers; /* "Name: value" request headers (http only) */
	size_t n_headers;
	unsigned retries;	    /* retries in a row without progress */
	uint64_t retry_for_ms;	    /* give up when failing for this long */
	uint64_t connect_timeout_ms;
	uint64_t stall_timeout_ms;  /* below low_speed for this long = stalled */
	uint64_t low_speed;	    /* bytes per second */
	struct source_tls tls;
	/* http only: fetch [range_start, range_start + range_len) instead of the whole file
	 * (range_len 0: to the end); used by source_read_range */
	uint64_t range_start, range_len;
	/* The stream is checked against a digest or signature at its end, so a resume may go on
	 * where the server gives no validator (ETag, Last-Modified) to prove that the bytes are of
	 * the same version: a splice of two versions then fails that check. false: such a resume
	 * is refused (-ESTALE). */
	bool end_verified;
};

struct source_callbacks {
	void *userdata;
	/* Consume n bytes at the current stream position. *ret_waited tells the source the call
	 * blocked on a full pipeline (that time is not a network stall). A negative return stops
	 * the source, which then returns that value. */
	int (*deliver)(void *userdata, const uint8_t *buf, size_t n, bool *ret_waited);
	/* The total size of the stream, once known (Content-Length, file size). */
	void (*size_known)(void *userdata, uint64_t size);
	/* A transient failure; the source waits delay_ms and resumes at offset. */
	void (*retrying)(void *userdata, unsigned attempt, uint64_t delay_ms, uint64_t offset,
			 const char *reason);
	/* Polled regularly; true stops the source with -ECANCELED. */
	bool (*should_stop)(void *userdata);
};

/* Run the source to its end. Returns 0 at the end of the stream; the deliver callback's error;
 * -ECANCELED when should_stop said so; or, with a message in errbuf (secrets redacted by the
 * logger, never copied into the message by us):
 *   -ENOENT      file not found, HTTP 404/410
 *   -EACCES      permission denied, HTTP 401/403, a client certificate required or refused
 *   -EKEYREJECTED  TLS: the server's certificate failed verification (unknown CA, expired,
 *                  another host name, --pin mismatch), or the CA file or the client
 *                  certificate cannot be used; never retried
 *   -EOPNOTSUPP  this libcurl lacks a TLS feature asked for (pinning, say)
 *   -EPROTO      another HTTP error status, or a server answer we cannot use (a redirect
 *                from https to plain http among them)
 *   -ESTALE      the file changed on the server between two requests, or a resume could
 *                not be shown to continue the same version (see end_verified)
 *   -EHOSTUNREACH / -ETIMEDOUT / -ECONNRESET  network failure after all retries
 *   -EIO         read error */
int source_run(const struct source_config *c, const struct source_callbacks *cb, char *errbuf,
	       size_t errlen);

/* Read a small source (a checksum list, a key) into memory, at most cap bytes, NUL-terminated.
 * Same errors as source_run, plus -EFBIG when it is larger than cap. */
int source_read_all(const struct source_config *c, size_t cap, char **ret_buf, size_t *ret_len,
		    char *errbuf, size_t errlen);

/* Fetch the first bytes of a source and its size, without reading all of it: up to head_cap
 * bytes into head (the rest of the transfer is abandoned). *ret_size is UINT64_MAX when the
 * server does not say. Same errors as source_run. */
int source_probe(const struct source_config *c, uint8_t *head, size_t head_cap, size_t *ret_len,
		 uint64_t *ret_size, char *errbuf, size_t errlen);

/* Read len bytes at offset off of a file or an http(s) URL (a Range request, retried like the
 * stream); *ret_len is less than len only when the source ends first. -ESPIPE for standard
 * input; otherwise the errors of source_run. */
int source_read_range(const struct source_config *c, uint64_t off, uint8_t *buf, size_t len,
		      size_t *ret_len, char *errbuf, size_t errlen);

/* Check the syntax of a --pin value: one or more "sha256//" + the base64 (RFC 4648) of 32 bytes,
 * separated by ';' (the format of CURLOPT_PINNEDPUBLICKEY). Returns 0 or -EINVAL. */
int source_tls_pin_validate(const char *pin);

/* The HTTP implementation (source-http.c); source_run dispatches to it for http(s) URLs. */
int source_http_run(const struct source_config *c, const struct source_callbacks *cb,
		    char *errbuf, size_t errlen);
/* Call once before threads start, and the cleanup at exit. */
int source_http_global_init(void);
void source_http_global_cleanup(void);
