/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fleet options shared by reimage flash, go, initrd and bundle: --report URL,
 * --report-header 'N: V', --report-cacert FILE (the collector, docs/fleet.md) and
 * --start-jitter TIME. */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "flash/report.h"
#include "flash/source.h"
#include "format/job.h"

#define REPORT_OPTIONS_HELP                                                                        \
	"Fleet (see docs/fleet.md):\n"                                                             \
	"      --report URL          POST JSON progress events to this collector (http/https)\n"  \
	"      --report-header 'N: V'  extra header for the collector (repeatable; a secret)\n"    \
	"      --report-header-file FILE  collector headers, one per line\n"                      \
	"      --report-cacert FILE  CA certificates for the collector (default: --cacert, else\n"  \
	"                            the system's CAs)\n"                                            \
	"      --start-jitter TIME   wait a random time up to TIME before the first request, so\n" \
	"                            that a fleet started at once does not stampede the server\n"

enum {
	OPT_REPORT_URL = 0x500, /* option groups: 0x200 flasher-args, 0x300 TLS, 0x400 identity */
	OPT_REPORT_HEADER,
	OPT_REPORT_CACERT,
	OPT_START_JITTER,
	OPT_REPORT_HEADER_FILE,
};

#define REPORT_LONG_OPTIONS                                                                        \
	{ "report", required_argument, NULL, OPT_REPORT_URL },                                     \
	{ "report-header", required_argument, NULL, OPT_REPORT_HEADER },                           \
	{ "report-cacert", required_argument, NULL, OPT_REPORT_CACERT },                           \
	{ "start-jitter", required_argument, NULL, OPT_START_JITTER },                             \
	{ "report-header-file", required_argument, NULL, OPT_REPORT_HEADER_FILE }

#define REPORT_OPTIONS_MAX_HEADERS 32

struct report_options {
	const char *url;
	char *headers[REPORT_OPTIONS_MAX_HEADERS]; /* copies; secrets */
	size_t n_headers;
	const char *cacert;
	uint64_t start_jitter_ms;
};

/* Take option c: 1 when taken, 0 when c is not one of these, -errno after logging what was
 * wrong. Header values and URL credentials are registered as secrets with the logger. */
int report_option_apply(struct report_options *o, int c, const char *arg);

/* Options that need --report. 0 or -EINVAL (logged). */
int report_options_check(const struct report_options *o);

/* Into the flasher's job: the URL, headers, the CA file's PEM text, the jitter. 0 or -errno
 * (logged). */
int report_options_to_job(const struct report_options *o, struct job *j);

/* Start a reporter on this machine (reimage flash, go): the collector's TLS is --report-cacert,
 * else the shared TLS options. *ret stays NULL without --report. 0 or -errno (logged). */
int report_options_start(const struct report_options *o, const struct source_tls *shared,
			 const char *origin, const char *run_id, const char *serial,
			 struct report **ret);

/* --start-jitter: sleep a random time in [0, max_ms], saying so on stderr (not with quiet);
 * stops early when *stop is set. */
void report_options_jitter(uint64_t max_ms, bool quiet, const volatile int *stop);

/* The end of a run on this machine: give the queued events up to REPORT_FLUSH_MS, say what
 * could not be delivered, free. */
void report_finish(struct report *r);

void report_options_done(struct report_options *o);

/* "done" (exit_code 0) or "failed" with the exit code, the reason (redacted) and what comes
 * next ("exit", "reboot", "kexec", "hold", ...), plus extra JSON members (or NULL). */
void report_options_result(struct report *r, int exit_code, const char *message,
			   const char *next, const char *extra);

/* reimage go: the report settings into the job, with a new run id and this machine's hostname
 * and machine id (the flasher has neither), and the reporter for the host's own events. 0 or
 * -errno (logged); *ret stays NULL without --report. */
int report_options_go(const struct report_options *o, const struct source_tls *shared,
		      struct job *j, struct report **ret);

/* The "plan" event of reimage go. */
void report_options_plan(struct report *r, const struct job *j, bool dry_run, const char *network);
