// SPDX-License-Identifier: GPL-2.0-or-later
/* TLS command-line options, checked before any connection and copied into a job. */
#include "cmd/tls-options.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "initrd/initrd.h"

#define PEM_MAX (JOB_MAX_SIZE / 2)

int tls_option_apply(struct source_tls *t, int c, const char *arg)
{
	switch (c) {
	case OPT_TLS_CACERT: t->cacert = arg; return 1;
	case OPT_TLS_PIN: t->pin = arg; return 1;
	case OPT_TLS_CLIENT_CERT: t->client_cert = arg; return 1;
	case OPT_TLS_CLIENT_KEY: t->client_key = arg; return 1;
	case OPT_TLS_INSECURE: t->insecure = true; return 1;
	default: return 0;
	}
}

/* Unreadable TLS files are bad usage, found before any connection (libcurl would say less). The
 * contents are never printed: a key is a secret. */
static int check_readable(const char *path, const char *opt)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return log_error_errno(negative_errno(), "cannot read %s %s: %m", opt, path);
	close(fd);
	return 0;
}

int tls_options_check(const struct source_tls *t)
{
	int r;

	if (t->pin && source_tls_pin_validate(t->pin) < 0) {
		log_error("--pin wants sha256// and the base64 SHA-256 of the server's public key (44 "
			  "characters ending in '='), several separated by ';', got '%s'",
			  t->pin);
		return -EINVAL;
	}
	if (!t->client_cert != !t->client_key) {
		log_error("--client-cert and --client-key go together: give both or neither");
		return -EINVAL;
	}
	if (t->cacert && (r = check_readable(t->cacert, "--cacert")) < 0)
		return r;
	if (t->client_cert && (r = check_readable(t->client_cert, "--client-cert")) < 0)
		return r;
	if (t->client_key && (r = check_readable(t->client_key, "--client-key")) < 0)
		return r;
	return 0;
}

/* The file as text for the job: PEM only (a DER file or anything with NUL bytes would not
 * survive the line-based job file, and libcurl takes PEM from memory). */
static int read_pem(const char *path, const char *opt, char **ret)
{
	_cleanup_free_ uint8_t *data = NULL;
	size_t len;
	int r = read_full_file(path, PEM_MAX, &data, &len);

	if (r == -EFBIG)
		return log_error_errno(r, "%s %s is larger than %u bytes, too large for the job", opt,
				       path, PEM_MAX);
	if (r < 0)
		return log_error_errno(r, "cannot read %s %s: %m", opt, path);
	if (memchr(data, 0, len) || !memmem(data, len, "-----BEGIN ", 11)) {
		explicit_bzero(data, len);
		log_error("%s %s is not PEM text (-----BEGIN ...); convert it, e.g. with "
			  "'openssl x509 -inform der -in FILE'",
			  opt, path);
		return -EINVAL;
	}
	*ret = (char *)TAKE_PTR(data);
	return 0;
}

int tls_options_read_pem(const char *path, const char *opt, char **ret)
{
	return read_pem(path, opt, ret);
}

int tls_options_to_job(const struct source_tls *t, struct job *j)
{
	int r;

	if (t->cacert && (r = read_pem(t->cacert, "--cacert", &j->tls_cacert)) < 0)
		return r;
	if (t->client_cert && (r = read_pem(t->client_cert, "--client-cert", &j->tls_client_cert)) < 0)
		return r;
	if (t->client_key && (r = read_pem(t->client_key, "--client-key", &j->tls_client_key)) < 0)
		return r;
	if (t->pin && !(j->tls_pin = strdup(t->pin)))
		return log_error_errno(-ENOMEM, "out of memory");
	j->tls_insecure = t->insecure;
	return 0;
}

void tls_options_describe(const struct source_tls *t, char *buf, size_t n)
{
	size_t o = 0;

	if (t->insecure)
		o += (size_t)snprintf(buf, n, "VERIFICATION OFF (--insecure)");
	else
		o += (size_t)snprintf(buf, n, "%s%s", t->cacert ? "CA certificates from " : "the system's CAs",
				      t->cacert ? t->cacert : "");
	if (o < n && t->pin)
		o += (size_t)snprintf(buf + o, n - o, ", public key pinned");
	if (o < n && t->client_cert)
		snprintf(buf + o, n - o, ", client certificate %s (key ***)", t->client_cert);
}
