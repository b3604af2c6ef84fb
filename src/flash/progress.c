// SPDX-License-Identifier: GPL-2.0-or-later
/* Rendering of progress and events for people (bar, lines) and programs (JSON lines). */
#include "flash/progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "basic/escape.h"
#include "basic/log.h"
#include "basic/parse-util.h"
#include "basic/time-util.h"
#include "format/json.h"

void progress_init(struct progress *p, enum progress_mode mode, bool quiet)
{
	*p = (struct progress){ .mode = mode, .quiet = quiet };
	pthread_mutex_init(&p->lock, NULL);
	p->start_ms = p->rate_ms = p->last_print_ms = p->report_last_ms = now_ms();
}

void progress_destroy(struct progress *p)
{
	pthread_mutex_destroy(&p->lock);
}

static bool human(const struct progress *p)
{
	return (p->mode == PROGRESS_BAR || p->mode == PROGRESS_LINE) && !p->quiet;
}

/* End a bar line before printing anything else on stderr. */
static void clear_bar(struct progress *p)
{
	if (p->bar_drawn) {
		fputs("\r\033[K", stderr);
		p->bar_drawn = false;
	}
}

static void json_str(char *buf, size_t n, const char *s)
{
	char clean[2048];

	log_redact(s ? s : "", clean, sizeof(clean));
	json_quote(clean, buf, n);
}

static void json_u64_or_null(char *buf, size_t n, uint64_t v)
{
	if (v == UINT64_MAX)
		snprintf(buf, n, "null");
	else
		snprintf(buf, n, "%llu", (unsigned long long)v);
}

static double elapsed_s(const struct progress *p)
{
	return (double)(now_ms() - p->start_ms) / 1000.0;
}

void progress_start(struct progress *p, const char *src, const char *dst)
{
	char jsrc[4200], jdst[4200];

	pthread_mutex_lock(&p->lock);
	if (p->mode == PROGRESS_JSON) {
		json_str(jsrc, sizeof(jsrc), src);
		json_str(jdst, sizeof(jdst), dst);
		printf("{\"event\":\"start\",\"src\":%s,\"dst\":%s}\n", jsrc, jdst);
		fflush(stdout);
	} else if (human(p)) {
		log_redact(src, jsrc, sizeof(jsrc));
		log_redact(dst, jdst, sizeof(jdst));
		fprintf(stderr, "Writing %s to %s\n", jsrc, jdst);
	}
	pthread_mutex_unlock(&p->lock);
}

void progress_format(struct progress *p, const char *format, uint64_t size_in)
{
	char sz[32];

	if (!human(p))
		return;
	pthread_mutex_lock(&p->lock);
	clear_bar(p);
	if (size_in != UINT64_MAX)
		fprintf(stderr, "Reading a %s stream of %s\n", format, format_bytes(sz, sizeof(sz), size_in));
	else
		fprintf(stderr, "Reading a %s stream of unknown size\n", format);
	pthread_mutex_unlock(&p->lock);
}

static void format_eta(char *buf, size_t n, double seconds)
{
	unsigned long s = (unsigned long)(seconds + 0.5);
	if (seconds < 0 || seconds > 360000)
		snprintf(buf, n, "--:--");
	else if (s >= 3600)
		snprintf(buf, n, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, n, "%lu:%02lu", s / 60, s % 60);
}

void progress_update(struct progress *p, uint64_t in, uint64_t out, uint64_t total_in, bool force)
{
	uint64_t now = now_ms();
	uint64_t interval = p->mode == PROGRESS_BAR ? PROGRESS_BAR_INTERVAL_MS
						    : PROGRESS_LINE_INTERVAL_MS;
	char a[32], b[32], c[32], rate[32], eta[32];

	if (p->report) {
		char total[32];
		double secs = 0;
		bool due;

		pthread_mutex_lock(&p->lock);
		due = now - p->report_last_ms >= REPORT_PROGRESS_INTERVAL_MS;
		if (due) {
			secs = elapsed_s(p);
			p->report_last_ms = now;
		}
		pthread_mutex_unlock(&p->lock);
		if (due) {
		json_u64_or_null(total, sizeof(total), total_in);
		report_event(p->report, "progress",
			     "\"in\":%llu,\"out\":%llu,\"total_in\":%s,\"seconds\":%.1f",
			     (unsigned long long)in, (unsigned long long)out, total, secs);
		}
	}
	if (p->mode == PROGRESS_NONE || p->quiet)
		return;
	pthread_mutex_lock(&p->lock);
	if (!force && now - p->last_print_ms < interval) {
		pthread_mutex_unlock(&p->lock);
		return;
	}
	if (now - p->rate_ms >= 1000) {
		double dt = (double)(now - p->rate_ms) / 1000.0;
		{
			double r = (double)(in - p->rate_in) / dt;
			p->rate = p->rate == 0 ? r : 0.6 * p->rate + 0.4 * r;
			p->rate_ms = now;
			p->rate_in = in;
		}
	}
	p->last_print_ms = now;
	if (p->rate == 0 && now > p->start_ms)
		p->rate = (double)in * 1000.0 / (double)(now - p->start_ms);
	format_bytes(a, sizeof(a), in);
	format_bytes(b, sizeof(b), out);
	format_bytes(rate, sizeof(rate), (uint64_t)p->rate);
	if (total_in != UINT64_MAX && p->rate > 0)
		format_eta(eta, sizeof(eta), (double)(total_in - MIN(in, total_in)) / p->rate);
	else
		snprintf(eta, sizeof(eta), "--:--");

	if (p->mode == PROGRESS_JSON) {
		char total[32];
		json_u64_or_null(total, sizeof(total), total_in);
		printf("{\"event\":\"progress\",\"in\":%llu,\"out\":%llu,\"total_in\":%s,"
		       "\"rate_in\":%llu,\"seconds\":%.1f}\n",
		       (unsigned long long)in, (unsigned long long)out, total, (unsigned long long)p->rate,
		       elapsed_s(p));
		fflush(stdout);
	} else if (p->mode == PROGRESS_BAR) {
		char bar[32];
		unsigned pct = total_in && total_in != UINT64_MAX
				       ? (unsigned)(MIN(in, total_in) * 100 / total_in)
				       : 0;
		unsigned fill = pct / 5;
		for (unsigned i = 0; i < 20; i++)
			bar[i] = i < fill ? '#' : (total_in == UINT64_MAX ? '?' : '.');
		bar[20] = 0;
		if (total_in != UINT64_MAX)
			snprintf(c, sizeof(c), "%3u%%", pct);
		else
			snprintf(c, sizeof(c), "  ?%%");
		fprintf(stderr, "\r[%s] %s  in %s at %s/s  out %s  ETA %s\033[K", bar, c, a, rate, b,
			eta);
		fflush(stderr);
		p->bar_drawn = true;
	} else {
		char t[32];
		if (total_in != UINT64_MAX)
			snprintf(c, sizeof(c), " of %s (%u%%)", format_bytes(t, sizeof(t), total_in),
				 total_in ? (unsigned)(MIN(in, total_in) * 100 / total_in) : 100);
		else
			c[0] = 0;
		char line[256];
		snprintf(line, sizeof(line), "progress: in %s%s at %s/s, out %s, ETA %s", a, c, rate, b,
			 eta);
		fprintf(stderr, "%s\n", line);
		if (p->on_line)
			p->on_line(p->on_line_userdata, line);
	}
	pthread_mutex_unlock(&p->lock);
}

void progress_retry(struct progress *p, unsigned attempt, uint64_t delay_ms, uint64_t offset,
		    const char *reason)
{
	if (p->report) {
		char r[1024];
		json_str(r, sizeof(r), reason);
		report_event(p->report, "retry",
			     "\"attempt\":%u,\"delay_ms\":%llu,\"offset\":%llu,\"reason\":%s", attempt,
			     (unsigned long long)delay_ms, (unsigned long long)offset, r);
	}
	pthread_mutex_lock(&p->lock);
	if (p->mode == PROGRESS_JSON) {
		char r[1024];
		json_str(r, sizeof(r), reason);
		printf("{\"event\":\"retry\",\"attempt\":%u,\"delay_ms\":%llu,\"offset\":%llu,"
		       "\"reason\":%s}\n",
		       attempt, (unsigned long long)delay_ms, (unsigned long long)offset, r);
		fflush(stdout);
	} else if (!p->quiet && p->mode != PROGRESS_NONE) {
		char clean[512];
		clear_bar(p);
		log_redact(reason, clean, sizeof(clean));
		fprintf(stderr, "retry %u in %.1f s, resuming at byte %llu: %s\n", attempt,
			(double)delay_ms / 1000.0, (unsigned long long)offset, clean);
	}
	pthread_mutex_unlock(&p->lock);
}

void progress_verified(struct progress *p, const char *check, const char *hex)
{
	if (p->report) {
		char c[64], h[160];
		json_str(c, sizeof(c), check);
		json_str(h, sizeof(h), hex);
		report_event(p->report, "verified", "\"check\":%s,\"digest\":%s", c, h);
	}
	pthread_mutex_lock(&p->lock);
	if (p->mode == PROGRESS_JSON) {
		char c[64], h[160];
		json_str(c, sizeof(c), check);
		json_str(h, sizeof(h), hex);
		printf("{\"event\":\"verified\",\"check\":%s,\"digest\":%s}\n", c, h);
		fflush(stdout);
	} else if (!p->quiet && p->mode != PROGRESS_NONE) {
		clear_bar(p);
		fprintf(stderr, "verified %s: %s\n", check, hex);
	}
	pthread_mutex_unlock(&p->lock);
}

void progress_note(struct progress *p, const char *fmt, ...)
{
	char raw[2048], clean[2048];
	va_list ap;

	if (!human(p))
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	log_redact(raw, clean, sizeof(clean));
	/* notes carry outside text (a verified signature's trusted comment): no terminal control */
	escape_controls(clean, raw, sizeof(raw));
	pthread_mutex_lock(&p->lock);
	clear_bar(p);
	fprintf(stderr, "%s\n", raw);
	pthread_mutex_unlock(&p->lock);
}

void progress_done(struct progress *p, const char *format, uint64_t in, uint64_t out,
		   uint64_t written, uint64_t zeroed)
{
	double t = elapsed_s(p);

	pthread_mutex_lock(&p->lock);
	if (p->mode == PROGRESS_JSON) {
		char f[64];
		json_str(f, sizeof(f), format);
		printf("{\"event\":\"done\",\"format\":%s,\"in\":%llu,\"out\":%llu,"
		       "\"written\":%llu,\"zeroed\":%llu,\"seconds\":%.2f}\n",
		       f, (unsigned long long)in, (unsigned long long)out, (unsigned long long)written,
		       (unsigned long long)zeroed, t);
		fflush(stdout);
	} else if (human(p)) {
		char a[32], b[32], c[32], r[32], z[32];
		clear_bar(p);
		fprintf(stderr, "Done: %s in, %s image, %s written", format_bytes(a, sizeof(a), in),
			format_bytes(b, sizeof(b), out), format_bytes(c, sizeof(c), written));
		if (zeroed)
			fprintf(stderr, ", %s zeroed", format_bytes(z, sizeof(z), zeroed));
		fprintf(stderr, " in %.1f s (%s/s)\n", t,
			format_bytes(r, sizeof(r), t > 0 ? (uint64_t)((double)out / t) : out));
	}
	pthread_mutex_unlock(&p->lock);
}

void progress_error(struct progress *p, int exit_code, const char *message)
{
	char clean[2048];

	pthread_mutex_lock(&p->lock);
	clear_bar(p);
	log_redact(message, clean, sizeof(clean));
	if (p->mode == PROGRESS_JSON) {
		char m[4200];
		json_quote(clean, m, sizeof(m));
		printf("{\"event\":\"error\",\"exit\":%d,\"message\":%s}\n", exit_code, m);
		fflush(stdout);
	}
	fprintf(stderr, "reimage flash: error: %s\n", clean);
	pthread_mutex_unlock(&p->lock);
}
