// SPDX-License-Identifier: GPL-2.0-or-later
/* Parsing --report, --report-header, --report-cacert and --start-jitter, and starting and
 * ending a reporter on this machine. */
#include "cmd/report-options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "basic/parse-util.h"
#include "basic/time-util.h"
#include "cmd/tls-options.h"
#include "format/http-header.h"
#include "format/json.h"
#include "format/url.h"

static bool is_http_url(const char *s)
{
	return strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0;
}

int report_option_apply(struct report_options *o, int c, const char *arg)
{
	uint64_t v;
	const char *val;

	switch (c) {
	case OPT_REPORT_URL:
		if (!is_http_url(arg) || strpbrk(arg, " \t\r\n")) {
			log_error("--report wants the collector's http:// or https:// URL");
			return -EINVAL;
		}
		(void)url_foreach_secret(arg, log_add_secret);
		o->url = arg;
		return 1;
	case OPT_REPORT_HEADER:
		if (http_request_header_validate(arg) < 0) {
			/* never echo it: it may hold a token */
			log_error("malformed --report-header: expected 'Name: value' on one line");
			return -EINVAL;
		}
		if (o->n_headers >= REPORT_OPTIONS_MAX_HEADERS) {
			log_error("too many --report-header options (at most %d)",
				  REPORT_OPTIONS_MAX_HEADERS);
			return -E2BIG;
		}
		val = strchr(arg, ':') + 1;
		(void)log_add_secret(val + strspn(val, " \t"));
		o->headers[o->n_headers] = strdup(arg);
		if (!o->headers[o->n_headers])
			return log_error_errno(-ENOMEM, "out of memory");
		o->n_headers++;
		return 1;
	case OPT_REPORT_HEADER_FILE: {
		/* a file keeps the secrets out of the process list */
		_cleanup_fclose_ FILE *f = fopen(arg, "re");
		_cleanup_free_ char *line = NULL;
		size_t cap = 0;
		int r;

		if (!f)
			return log_error_errno(negative_errno(), "cannot read --report-header-file %s: %m",
					       arg);
		while (getline(&line, &cap, f) > 0) {
			line[strcspn(line, "\r\n")] = 0;
			if (!line[0] || line[0] == '#')
				continue;
			r = report_option_apply(o, OPT_REPORT_HEADER, line);
			explicit_bzero(line, strlen(line));
			if (r < 0)
				return r;
		}
		return 1;
	}
	case OPT_REPORT_CACERT:
		o->cacert = arg;
		return 1;
	case OPT_START_JITTER:
		if (parse_duration_ms(arg, &v) < 0 || v > 24ULL * 3600 * 1000) {
			log_error("--start-jitter wants a duration up to 24h such as 30s or 5m, got '%s'",
				  arg);
			return -EINVAL;
		}
		o->start_jitter_ms = v;
		return 1;
	default:
		return 0;
	}
}

int report_options_check(const struct report_options *o)
{
	if (!o->url && (o->n_headers || o->cacert)) {
		log_error("--report-header and --report-cacert are for the collector: give --report URL");
		return -EINVAL;
	}
	return 0;
}

int report_options_to_job(const struct report_options *o, struct job *j)
{
	int r;

	if (o->url && !(j->report_url = strdup(o->url)))
		return log_error_errno(-ENOMEM, "out of memory");
	for (size_t i = 0; i < o->n_headers; i++) {
		if (j->n_report_headers >= JOB_MAX_HEADERS) {
			log_error("too many --report-header options");
			return -E2BIG;
		}
		j->report_headers[j->n_report_headers] = strdup(o->headers[i]);
		if (!j->report_headers[j->n_report_headers])
			return log_error_errno(-ENOMEM, "out of memory");
		j->n_report_headers++;
	}
	if (o->cacert && (r = tls_options_read_pem(o->cacert, "--report-cacert", &j->report_cacert)) < 0)
		return r;
	if (o->start_jitter_ms)
		j->start_jitter_ms = o->start_jitter_ms;
	return 0;
}

int report_options_start(const struct report_options *o, const struct source_tls *shared,
			 const char *origin, const char *run_id, const char *serial,
			 struct report **ret)
{
	struct report_config c = {
		.url = o->url,
		.headers = o->headers,
		.n_headers = o->n_headers,
		.origin = origin,
		.run_id = run_id,
		.serial = serial,
	};
	int r;

	*ret = NULL;
	if (!o->url)
		return 0;
	if (o->cacert)
		c.tls.cacert = o->cacert;
	else if (shared) {
		/* the collector is usually on the same internal CA as the image server */
		c.tls = *shared;
		c.tls.pin = NULL; /* a pin names the image server's key */
	}
	if (shared) {
		c.tls.client_cert = shared->client_cert;
		c.tls.client_key = shared->client_key;
	}
	r = report_new(&c, ret);
	if (r < 0)
		return log_error_errno(r, "cannot start the reports to the collector: %m");
	return 0;
}

void report_options_jitter(uint64_t max_ms, bool quiet, const volatile int *stop)
{
	uint64_t d = report_jitter_ms(max_ms);

	if (!max_ms)
		return;
	if (!quiet)
		log_info("waiting %.1f s before the first request (--start-jitter %.1f s)",
			 (double)d / 1000.0, (double)max_ms / 1000.0);
	sleep_ms(d, stop);
}

void report_finish(struct report *r)
{
	struct report_stats st;

	if (!r)
		return;
	if (report_flush(r, REPORT_FLUSH_MS) < 0) {
		report_get_stats(r, &st);
		log_warning("the collector did not take every report within %d s: %llu of %llu "
			    "events delivered",
			    REPORT_FLUSH_MS / 1000, (unsigned long long)st.sent,
			    (unsigned long long)st.queued);
	} else {
		report_get_stats(r, &st);
		if (st.sent < st.queued)
			log_warning("the collector refused %llu of %llu report events",
				    (unsigned long long)(st.queued - st.sent),
				    (unsigned long long)st.queued);
	}
	report_free(r);
}

void report_options_done(struct report_options *o)
{
	for (size_t i = 0; i < o->n_headers; i++) {
		explicit_bzero(o->headers[i], strlen(o->headers[i]));
		free(o->headers[i]);
	}
	o->n_headers = 0;
}

void report_options_result(struct report *r, int exit_code, const char *message,
			   const char *next, const char *extra)
{
	char clean[2048], reason[4200], nx[64];

	if (!r)
		return;
	log_redact(message ? message : "", clean, sizeof(clean));
	json_quote(clean, reason, sizeof(reason));
	json_quote(next, nx, sizeof(nx));
	if (exit_code == 0)
		report_event(r, "done", "\"exit\":0,\"next\":%s%s%s", nx, extra ? "," : "",
			     extra ? extra : "");
	else
		report_event(r, "failed", "\"exit\":%d,\"reason\":%s,\"next\":%s%s%s", exit_code,
			     reason, nx, extra ? "," : "", extra ? extra : "");
}

int report_options_go(const struct report_options *o, const struct source_tls *shared,
		      struct job *j, struct report **ret)
{
	char host[256] = "", mid[128] = "", run[40];
	_cleanup_fclose_ FILE *f = NULL;
	int r;

	*ret = NULL;
	r = report_options_to_job(o, j);
	if (r < 0 || !o->url)
		return r;
	report_new_run_id(run, sizeof(run));
	if (gethostname(host, sizeof(host) - 1) < 0)
		host[0] = 0;
	f = fopen("/etc/machine-id", "re");
	if (f && fgets(mid, sizeof(mid), f))
		mid[strcspn(mid, "\n")] = 0;
	if (!(j->report_run_id = strdup(run)) || (host[0] && !(j->report_hostname = strdup(host))) ||
	    (mid[0] && !(j->report_machine_id = strdup(mid))))
		return log_error_errno(-ENOMEM, "out of memory");
	return report_options_start(o, shared, "go", run,
				    j->dst_serial ? j->dst_serial : j->dst_wwn, ret);
}

void report_options_plan(struct report *r, const struct job *j, bool dry_run, const char *network)
{
	char shown[2048], clean[2048], src[4200], dst[1024], net[2048];

	if (!r)
		return;
	if (j->src) {
		url_redact(j->src, shown, sizeof(shown));
		log_redact(shown, clean, sizeof(clean));
		json_quote(clean, src, sizeof(src));
	}
	json_quote(j->dst ? j->dst : "", dst, sizeof(dst));
	json_quote(network ? network : "", net, sizeof(net));
	report_event(r, "plan",
		     "\"src\":%s,\"dst\":%s,\"then\":\"%s\",\"hold\":%s,\"dry_run\":%s,"
		     "\"verify\":{\"sha256\":%s,\"image_sha256\":%s,\"minisign\":%s},\"network\":%s",
		     j->src ? src : "null", j->dst ? dst : "null", job_then_to_string(j->then),
		     j->hold ? "true" : "false", dry_run ? "true" : "false",
		     j->have_sha256 ? "true" : "false", j->have_image_sha256 ? "true" : "false",
		     j->have_minisig ? "true" : "false", net);
}
