/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Progress and event output: a bar on a terminal, a plain line every few seconds for serial
 * consoles and logs, or one JSON object per line for programs. Every string passes the secret
 * filter of the logger before it is printed. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "flash/report.h"

enum progress_mode {
	PROGRESS_NONE,
	PROGRESS_BAR,
	PROGRESS_LINE,
	PROGRESS_JSON,
};

#define PROGRESS_LINE_INTERVAL_MS 5000
#define PROGRESS_BAR_INTERVAL_MS 250

struct progress {
	enum progress_mode mode;
	bool quiet; /* human mode: errors only */
	pthread_mutex_t lock;
	uint64_t start_ms, last_print_ms;
	uint64_t rate_ms, rate_in; /* sample for the transfer rate */
	double rate;		   /* bytes in per second, smoothed */
	bool bar_drawn;
	/* line mode: also handed each progress line (the flasher's `reimage status` shows it) */
	void (*on_line)(void *userdata, const char *line);
	void *on_line_userdata;
	/* --report: "progress" every REPORT_PROGRESS_INTERVAL_MS, "retry" and "verified" events go
	 * to the collector too, whatever the mode (NULL: none) */
	struct report *report;
	uint64_t report_last_ms;
};

void progress_init(struct progress *p, enum progress_mode mode, bool quiet);
void progress_destroy(struct progress *p);

void progress_start(struct progress *p, const char *src, const char *dst);
/* The source's first bytes arrived: its format and, when known, its size. */
void progress_format(struct progress *p, const char *format, uint64_t size_in);
/* Called often; prints only when the interval passed (or force). total_in may be UINT64_MAX. */
void progress_update(struct progress *p, uint64_t in, uint64_t out, uint64_t total_in,
		     bool force);
void progress_retry(struct progress *p, unsigned attempt, uint64_t delay_ms, uint64_t offset,
		    const char *reason);
void progress_verified(struct progress *p, const char *check, const char *hex);
void progress_note(struct progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void progress_done(struct progress *p, const char *format, uint64_t in, uint64_t out,
		   uint64_t written, uint64_t zeroed);
void progress_error(struct progress *p, int exit_code, const char *message);
