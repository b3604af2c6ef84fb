/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The options that say what goes into a flasher (kernel modules, files, compression) and the
 * job it runs, shared by `reimage initrd` and `reimage bundle`: one parser, one help text. */
#pragma once

#include <getopt.h>
#include <stdbool.h>

#include "cmd/identity-options.h"
#include "cmd/report-options.h"
#include "cmd/tls-options.h"
#include "format/job.h"
#include "initrd/flasher.h"
#include "initrd/hold.h"

#define FLASHER_ARGS_MAX_LIST 64

enum {
	FLASHER_OPT_COMPRESSION = 0x200,
	FLASHER_OPT_KVER,
	FLASHER_OPT_SYSROOT,
	FLASHER_OPT_MODULES,
	FLASHER_OPT_ADD_MODULE,
	FLASHER_OPT_INCLUDE,
	FLASHER_OPT_BINARY,
	FLASHER_OPT_JOB,
	FLASHER_OPT_SRC,
	FLASHER_OPT_DST,
	FLASHER_OPT_SHA256,
	FLASHER_OPT_IMAGE_SHA256,
	FLASHER_OPT_VERIFY,
	FLASHER_OPT_HEADER,
	FLASHER_OPT_HEADER_FILE,
	FLASHER_OPT_THEN,
	FLASHER_OPT_HOLD,
	FLASHER_OPT_HOLD_TIMEOUT,
	FLASHER_OPT_SSH_PORT,
	FLASHER_OPT_AUTHORIZED_KEYS,
	FLASHER_OPT_MEMBER,
	FLASHER_OPT_PROXY,
};

/* Entries for a command's getopt_long table. */
#define FLASHER_ARGS_LONG_OPTIONS                                                                  \
	{ "compression", required_argument, NULL, FLASHER_OPT_COMPRESSION },                       \
		{ "kernel-version", required_argument, NULL, FLASHER_OPT_KVER },                   \
		{ "sysroot", required_argument, NULL, FLASHER_OPT_SYSROOT },                       \
		{ "modules", required_argument, NULL, FLASHER_OPT_MODULES },                       \
		{ "add-module", required_argument, NULL, FLASHER_OPT_ADD_MODULE },                 \
		{ "include", required_argument, NULL, FLASHER_OPT_INCLUDE },                       \
		{ "binary", required_argument, NULL, FLASHER_OPT_BINARY },                         \
		{ "job", required_argument, NULL, FLASHER_OPT_JOB },                               \
		{ "src", required_argument, NULL, FLASHER_OPT_SRC },                               \
		{ "dst", required_argument, NULL, FLASHER_OPT_DST },                               \
		{ "to", required_argument, NULL, FLASHER_OPT_DST },                                \
		{ "sha256", required_argument, NULL, FLASHER_OPT_SHA256 },                         \
		{ "image-sha256", required_argument, NULL, FLASHER_OPT_IMAGE_SHA256 },             \
		{ "verify", no_argument, NULL, FLASHER_OPT_VERIFY },                               \
		{ "header", required_argument, NULL, FLASHER_OPT_HEADER },                         \
		{ "header-file", required_argument, NULL, FLASHER_OPT_HEADER_FILE },               \
		{ "then", required_argument, NULL, FLASHER_OPT_THEN },                             \
		{ "hold", no_argument, NULL, FLASHER_OPT_HOLD },                                   \
		{ "hold-timeout", required_argument, NULL, FLASHER_OPT_HOLD_TIMEOUT },             \
		{ "ssh-port", required_argument, NULL, FLASHER_OPT_SSH_PORT },                     \
		{ "authorized-keys", required_argument, NULL, FLASHER_OPT_AUTHORIZED_KEYS },       \
		{ "member", required_argument, NULL, FLASHER_OPT_MEMBER },                         \
		{ "proxy", required_argument, NULL, FLASHER_OPT_PROXY },                           \
		TLS_LONG_OPTIONS, IDENTITY_LONG_OPTIONS, REPORT_LONG_OPTIONS

/* The help lines for those options, with the command's defaults for --kernel-version and
 * --modules. */
#define FLASHER_ARGS_HELP(kver_default, modules_default)                                           \
	"      --compression C       zstd (default), xz, gzip or none\n"                           \
	"      --kernel-version V    modules for this kernel (default: " kver_default ")\n"       \
	"      --sysroot DIR         take /lib/modules from DIR (default /)\n"                     \
	"      --modules SET         host (loaded now), net-storage (all network and storage\n"    \
	"                            drivers) or none; default:\n"                                 \
	"                            " modules_default "\n"                                        \
	"      --add-module NAME     add a module and its dependencies (repeatable)\n"             \
	"      --include PATH        add a file, or a program with its libraries\n"                \
	"      --binary PATH         the reimage binary to use as /init (default: this one)\n"     \
	"Job (or --job FILE):\n"                                                                   \
	"      --job FILE            a job file (see docs/job-file.md)\n"                          \
	"      --src URL --to DEV    what to write where (--dst DEV is the same)\n"                                        \
	"      --sha256 HEX  --image-sha256 HEX  --verify\n"                                       \
	"      --member NAME         the tar member holding the disk image\n"                     \
	"      --header 'N: V'  --header-file FILE   (secrets: only root may read the output)\n"    \
	"      --then reboot|poweroff|hold|kexec   (kexec also adds file system drivers)\n"         \
	"      --hold  --hold-timeout TIME  --ssh-port N   hold mode (see reimage go --help)\n"    \
	"      --authorized-keys FILE  keys that may log in to a hold (repeatable)\n"             \
	"      --proxy URL           the flasher fetches through this proxy (http and https)\n"  \
	"      --cacert FILE  --pin sha256//BASE64  --client-cert FILE --client-key FILE\n"      \
	"      --insecure            TLS for the job's source, as reimage flash (the files'\n"   \
	"                            contents go into the job; the key is a secret)\n"          \
	IDENTITY_OPTIONS_HELP                                                                      \
	"      --report URL  --report-header 'N: V'  --report-cacert FILE  --start-jitter TIME\n" \
	"                            the flasher's reports to a collector (docs/fleet.md)\n"

struct flasher_args {
	struct flasher_options o; /* what flasher_build() gets */
	char *extra[FLASHER_ARGS_MAX_LIST], *includes[FLASHER_ARGS_MAX_LIST];
	size_t n_extra, n_includes;
	const char *job_file;
	char *jobtext; /* job options as job-file lines */
	size_t jobtext_len;
	bool modules_set, kver_set;
	struct source_tls tls; /* TLS options, for the job */
	bool tls_set;
	struct report_options report; /* --report and friends, for the job */
	bool report_set;
	char *key_files[FLASHER_ARGS_MAX_LIST]; /* --authorized-keys */
	size_t n_key_files;
	bool no_hold; /* set by the caller: hold mode makes no sense for it (a bundle) */
	struct hold_keys *hold;
	struct identity_options ido; /* the new system's identity */
	struct identity_collected *idc;
	struct flasher_secret all_secrets[IDENTITY_MAX_FILES + 8];
	char running[256]; /* uname -r */
	/* after flasher_args_finish() */
	bool have_job;
	struct job job;
	char *job_formatted;
	bool secrets; /* the job holds request headers, a client key, URL credentials, SSH keys */
};

void flasher_args_init(struct flasher_args *a);
/* Take option c (a FLASHER_OPT_*) with its argument. 1 when taken, 0 when c is not one of
 * these, -errno after logging what was wrong with the value. */
int flasher_args_option(struct flasher_args *a, int c, const char *arg);
/* After the last option: check the combination, parse the job (registering its secrets with
 * the logger) and pick the modules default (host for the running kernel when host_default,
 * else net-storage). 0, or -errno after logging. */
int flasher_args_finish(struct flasher_args *a, bool host_default);
/* Free, wiping the job text. */
void flasher_args_done(struct flasher_args *a);
