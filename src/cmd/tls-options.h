/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The TLS options shared by reimage flash and reimage go (and carried into the flasher's job):
 * --cacert, --pin, --client-cert, --client-key, --insecure. */
#pragma once

#include "flash/source.h"
#include "format/job.h"

#define TLS_OPTIONS_HELP                                                                           \
	"TLS (https; the server's certificate is verified against the system's CAs):\n"            \
	"      --cacert FILE         trust only the CA certificates in FILE (PEM)\n"                \
	"      --pin sha256//BASE64  also require this server public key (SHA-256 of its\n"         \
	"                            SubjectPublicKeyInfo); several separated by ';'\n"            \
	"      --client-cert FILE    present this client certificate (PEM), with --client-key\n"    \
	"      --client-key FILE     its private key (PEM, not encrypted)\n"                        \
	"      --insecure            do not verify the server's certificate (prints a warning)\n"

#define TLS_INSECURE_WARNING                                                                       \
	"TLS certificate verification is OFF (--insecure): anyone on the network path can serve "  \
	"a forged image; only the digest and signature checks protect you"

enum {
	OPT_TLS_CACERT = 0x300,
	OPT_TLS_PIN,
	OPT_TLS_CLIENT_CERT,
	OPT_TLS_CLIENT_KEY,
	OPT_TLS_INSECURE,
};

#define TLS_LONG_OPTIONS                                                                           \
	{ "cacert", required_argument, NULL, OPT_TLS_CACERT },                                     \
	{ "pin", required_argument, NULL, OPT_TLS_PIN },                                           \
	{ "client-cert", required_argument, NULL, OPT_TLS_CLIENT_CERT },                           \
	{ "client-key", required_argument, NULL, OPT_TLS_CLIENT_KEY },                             \
	{ "insecure", no_argument, NULL, OPT_TLS_INSECURE }

/* Take one option c (with its argument) into t: 1 when c is a TLS option, else 0. */
int tls_option_apply(struct source_tls *t, int c, const char *arg);

/* Options that go together, pin syntax, files readable. 0 or -EINVAL/-errno (logged). */
int tls_options_check(const struct source_tls *t);

/* Copy the files' PEM text, the pin and --insecure into the job for the flasher. 0 or -errno
 * (logged). */
int tls_options_to_job(const struct source_tls *t, struct job *j);

/* Read a PEM file (at most 64 KiB) for the job; opt names the option in errors. 0 or -errno
 * (logged). */
int tls_options_read_pem(const char *path, const char *opt, char **ret);

/* For the plan and logs: "system CAs", "CA FILE", "+ pin", "client certificate ..." */
void tls_options_describe(const struct source_tls *t, char *buf, size_t n);
