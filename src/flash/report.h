/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Progress reports to the operator's collector (--report URL): JSON event objects, one per
 * HTTP POST (Content-Type: application/json), sent by a thread of their own from a bounded
 * queue, retried with backoff. Nothing here ever blocks or fails the write: a collector that
 * is down, slow or refusing only loses events. The event schema is in docs/fleet.md. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/macro.h"
#include "flash/source.h"

#define REPORT_SCHEMA 1
#define REPORT_QUEUE_MAX 256		/* events waiting; beyond it the oldest progress goes */
#define REPORT_EVENT_MAX (16U << 10)	/* one event object, bytes */
#define REPORT_PROGRESS_INTERVAL_MS 10000
#define REPORT_FLUSH_MS 10000		/* the last events get this long before reboot/kexec */
#define REPORT_REQUEST_TIMEOUT_MS 5000	/* one POST, connect included */
#define REPORT_BACKOFF_MAX_MS 5000
#define REPORT_EVENTS_KEEP (1U << 20)	/* the events file is cut back to its newest half above */

struct report_config {
	const char *url;	   /* http(s) URL of the collector; NULL: events file only */
	char *const *headers;	   /* "Name: value" (secrets: never printed) */
	size_t n_headers;
	struct source_tls tls;	   /* cacert/client certificate/insecure for the collector */
	const char *origin;	   /* who sends: "go", "flash", "flasher" */
	const char *run_id;	   /* NULL: a new random one */
	const char *hostname;	   /* NULL: gethostname() */
	const char *machine_id;	   /* NULL: /etc/machine-id */
	const char *serial;	   /* the target's serial (or WWN), NULL if unknown */
	const char *events_file;   /* also append every event there as a JSON line, or NULL */
};

struct report;

/* Start the sender thread. 0, -ENOMEM, or -EINVAL for a URL that is not http(s). */
int report_new(const struct report_config *c, struct report **ret);

/* Queue one event: the envelope (schema, run, seq, time, origin, event, machine) plus the
 * members in fields, a JSON fragment without braces ("\"in\":5,\"out\":7") or NULL. Never
 * blocks on the network. r may be NULL (no report configured): then nothing happens. */
void report_event(struct report *r, const char *event, const char *fields_fmt, ...)
	_printf_(3, 4);
void report_eventv(struct report *r, const char *event, const char *fields_fmt, va_list ap);

/* Wait until every queued event was delivered or given up, at most timeout_ms. 0 when the
 * queue is empty, -ETIMEDOUT otherwise. */
int report_flush(struct report *r, uint64_t timeout_ms);

/* Counters, for the tests and the log at the end. */
struct report_stats {
	uint64_t queued, sent, failed_attempts, dropped;
};
void report_get_stats(struct report *r, struct report_stats *ret);

/* The run id (a UUID), for the job that goes to the flasher. */
const char *report_run_id(const struct report *r);

/* Stop the thread (events still queued are lost: flush first) and free everything. */
void report_free(struct report *r);

/* A random time in [0, max_ms] (uniform, from getrandom) for --start-jitter. */
uint64_t report_jitter_ms(uint64_t max_ms);

/* A random RFC 4122 version 4 UUID into buf (at least 37 bytes). */
void report_new_run_id(char *buf, size_t n);

/* The machine's identity as JSON members: "hostname", "machine_id", "macs" (every non-loopback
 * link's address, from sysfs under sysfs_net, normally "/sys/class/net"), "serial". Returns
 * the length written (truncated output stays NUL-terminated). */
size_t report_identity_json(const char *sysfs_net, const char *hostname, const char *machine_id,
			    const char *serial, char *buf, size_t n);
