// SPDX-License-Identifier: GPL-2.0-or-later
/* The report sender: a queue of JSON events and one thread that POSTs them to the collector. */
#include "flash/report.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/random-util.h"
#include "basic/time-util.h"
#include "format/json.h"

struct report_ev {
	char *json;
	size_t len;
	bool progress; /* may be dropped first when the queue is full */
};

struct report {
	pthread_mutex_t lock;
	pthread_cond_t wake; /* new event, or stop */
	pthread_cond_t idle; /* queue empty */
	pthread_t thread;
	bool thread_started, stop, busy;

	struct report_ev q[REPORT_QUEUE_MAX];
	size_t head, count;
	uint64_t seq;
	struct report_stats stats;

	char run_id[40];
	char *origin_json, *hostname_json, *machine_id_json, *serial_json;
	char *url;
	char **headers;
	size_t n_headers;
	char *cacert, *cacert_pem, *client_cert, *client_key, *client_cert_pem, *client_key_pem;
	bool insecure;
	int events_fd;
	uint64_t events_size;
};

void report_new_run_id(char *buf, size_t n)
{
	uint8_t b[16];

	random_bytes(b, sizeof(b));
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(buf, n,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
}

uint64_t report_jitter_ms(uint64_t max_ms)
{
	if (max_ms == 0)
		return 0;
	return random_u64() % (max_ms + 1);
}

static char *json_dup(const char *s)
{
	size_t n;
	char *buf;

	if (!s)
		return strdup("null");
	n = json_quote(s, NULL, 0) + 1;
	buf = malloc(n);
	if (buf)
		json_quote(s, buf, n);
	return buf;
}

static bool is_mac(const char *s)
{
	unsigned b[6];
	char end;

	return strlen(s) == 17 &&
	       sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &end) ==
		       6 &&
	       (b[0] | b[1] | b[2] | b[3] | b[4] | b[5]) != 0;
}

/* ["mac",...] of every link but loopback, in name order, into buf. */
static void macs_json(const char *sysfs_net, char *buf, size_t n)
{
	struct dirent **names = NULL;
	int count = sysfs_net ? scandir(sysfs_net, &names, NULL, alphasort) : -1;
	size_t o = 0;

	o += (size_t)snprintf(buf, n, "[");
	for (int i = 0; i < count; i++) {
		char path[512], mac[64] = "";
		FILE *f;

		if (names[i]->d_name[0] == '.' || !strcmp(names[i]->d_name, "lo"))
			goto next;
		snprintf(path, sizeof(path), "%s/%s/address", sysfs_net, names[i]->d_name);
		f = fopen(path, "re");
		if (!f)
			goto next;
		if (!fgets(mac, sizeof(mac), f))
			mac[0] = 0;
		fclose(f);
		mac[strcspn(mac, "\n")] = 0;
		/* 20 bytes each: a full buffer keeps the list well-formed, just shorter */
		if (is_mac(mac) && o + 24 < n)
			o += (size_t)snprintf(buf + o, n - o, "%s\"%s\"", o > 1 ? "," : "", mac);
	next:
		free(names[i]);
	}
	free(names);
	snprintf(buf + o, n - o, "]");
}

size_t report_identity_json(const char *sysfs_net, const char *hostname, const char *machine_id,
			    const char *serial, char *buf, size_t n)
{
	char h[600], m[300], s[600], macs[2048];

	json_quote(hostname ? hostname : "", h, sizeof(h));
	json_quote(machine_id ? machine_id : "", m, sizeof(m));
	json_quote(serial ? serial : "", s, sizeof(s));
	macs_json(sysfs_net, macs, sizeof(macs));
	return (size_t)snprintf(buf, n, "\"hostname\":%s,\"machine_id\":%s,\"macs\":%s,\"serial\":%s",
				hostname ? h : "null", machine_id ? m : "null", macs,
				serial && *serial ? s : "null");
}

static void ev_free(struct report_ev *e)
{
	free(e->json);
	*e = (struct report_ev){ 0 };
}

/* Queue is full: make room by dropping the oldest progress event, else the oldest event that
 * is not being sent right now. Called with the lock held. */
static void drop_one(struct report *r)
{
	size_t victim = SIZE_MAX;

	for (size_t i = r->busy ? 1 : 0; i < r->count; i++)
		if (r->q[(r->head + i) % REPORT_QUEUE_MAX].progress) {
			victim = i;
			break;
		}
	if (victim == SIZE_MAX)
		victim = r->busy ? 1 : 0;
	ev_free(&r->q[(r->head + victim) % REPORT_QUEUE_MAX]);
	for (size_t i = victim; i + 1 < r->count; i++)
		r->q[(r->head + i) % REPORT_QUEUE_MAX] = r->q[(r->head + i + 1) % REPORT_QUEUE_MAX];
	r->q[(r->head + r->count - 1) % REPORT_QUEUE_MAX] = (struct report_ev){ 0 };
	r->count--;
	r->stats.dropped++;
}

static int abort_on_stop(void *userdata, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	struct report *r = userdata;
	bool stop;

	pthread_mutex_lock(&r->lock);
	stop = r->stop;
	pthread_mutex_unlock(&r->lock);
	return stop ? 1 : 0;
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	return size * nmemb;
}

static void set_blob(CURL *h, CURLoption opt, const char *pem)
{
	struct curl_blob b = { .data = (void *)pem, .len = strlen(pem), .flags = CURL_BLOB_NOCOPY };
	curl_easy_setopt(h, opt, &b);
}

static CURL *make_handle(struct report *r, struct curl_slist **ret_headers)
{
	struct curl_slist *hl = NULL, *n;
	CURL *h = curl_easy_init();

	if (!h)
		return NULL;
	curl_easy_setopt(h, CURLOPT_URL, r->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "reimage/" REIMAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)REPORT_REQUEST_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)REPORT_REQUEST_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, abort_on_stop);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, r);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	if (r->cacert_pem) {
		set_blob(h, CURLOPT_CAINFO_BLOB, r->cacert_pem);
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	} else if (r->cacert) {
		curl_easy_setopt(h, CURLOPT_CAINFO, r->cacert);
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	}
	if (r->client_cert_pem && r->client_key_pem) {
		set_blob(h, CURLOPT_SSLCERT_BLOB, r->client_cert_pem);
		curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
		set_blob(h, CURLOPT_SSLKEY_BLOB, r->client_key_pem);
		curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
		curl_easy_setopt(h, CURLOPT_KEYPASSWD, "");
	} else if (r->client_cert && r->client_key) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, r->client_cert);
		curl_easy_setopt(h, CURLOPT_SSLKEY, r->client_key);
		curl_easy_setopt(h, CURLOPT_KEYPASSWD, "");
	}
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, r->insecure ? 0L : 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, r->insecure ? 0L : 2L);
	hl = curl_slist_append(NULL, "Content-Type: application/json");
	/* libcurl would wait for "100 Continue" on larger bodies: one round trip less */
	n = hl ? curl_slist_append(hl, "Expect:") : NULL;
	hl = n ? n : hl;
	for (size_t i = 0; hl && n && i < r->n_headers; i++) {
		n = curl_slist_append(hl, r->headers[i]);
		if (n)
			hl = n;
	}
	if (!hl || !n) {
		curl_slist_free_all(hl);
		curl_easy_cleanup(h);
		return NULL;
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	*ret_headers = hl;
	return h;
}

/* 0 delivered, 1 try again later, -1 the collector refused it for good. */
static int post(CURL *h, const struct report_ev *e)
{
	char err[CURL_ERROR_SIZE] = "";
	long code = 0;
	CURLcode cc;

	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, e->json);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)e->len);
	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		log_debug("report: %s", err[0] ? err : curl_easy_strerror(cc));
		return 1;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 200 && code < 300)
		return 0;
	log_debug("report: the collector answered HTTP %ld", code);
	if (code == 408 || code == 425 || code == 429 || code >= 500)
		return 1;
	return -1;
}

static void *sender(void *userdata)
{
	struct report *r = userdata;
	struct curl_slist *hl = NULL;
	CURL *h;
	uint64_t backoff = 0;
	sigset_t pipe;

	/* a collector that hangs up raises SIGPIPE on this thread's socket: not the program's */
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, NULL);
	h = make_handle(r, &hl);

	pthread_mutex_lock(&r->lock);
	for (;;) {
		struct report_ev e;
		int k;

		while (!r->stop && r->count == 0)
			pthread_cond_wait(&r->wake, &r->lock);
		if (r->stop)
			break;
		e = r->q[r->head];
		r->busy = true;
		pthread_mutex_unlock(&r->lock);
		k = h ? post(h, &e) : -1;
		pthread_mutex_lock(&r->lock);
		r->busy = false;
		if (k <= 0) {
			ev_free(&r->q[r->head]);
			r->head = (r->head + 1) % REPORT_QUEUE_MAX;
			r->count--;
			if (k == 0)
				r->stats.sent++;
			else
				r->stats.dropped++;
			backoff = 0;
			if (r->count == 0)
				pthread_cond_broadcast(&r->idle);
			continue;
		}
		r->stats.failed_attempts++;
		backoff = backoff ? MIN(backoff * 2, (uint64_t)REPORT_BACKOFF_MAX_MS) : 250;
		{
			struct timespec ts;
			uint64_t ns;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			ns = (uint64_t)ts.tv_nsec + backoff * 1000000ULL;
			ts.tv_sec += (time_t)(ns / 1000000000ULL);
			ts.tv_nsec = (long)(ns % 1000000000ULL);
			while (!r->stop && pthread_cond_timedwait(&r->wake, &r->lock, &ts) == 0)
				; /* new events do not cut the backoff short */
		}
	}
	pthread_mutex_unlock(&r->lock);
	curl_slist_free_all(hl);
	if (h)
		curl_easy_cleanup(h);
	return NULL;
}

static char *dup_or_null(const char *s, bool *oom)
{
	char *c;

	if (!s)
		return NULL;
	c = strdup(s);
	if (!c)
		*oom = true;
	return c;
}

static void read_machine_id(char *buf, size_t n)
{
	FILE *f = fopen("/etc/machine-id", "re");

	buf[0] = 0;
	if (!f)
		return;
	if (!fgets(buf, (int)n, f))
		buf[0] = 0;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
}

int report_new(const struct report_config *c, struct report **ret)
{
	struct report *r;
	char host[256] = "", mid[128] = "";
	bool oom = false;
	pthread_condattr_t ca;

	if (c->url && strncasecmp(c->url, "http://", 7) != 0 && strncasecmp(c->url, "https://", 8) != 0)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->events_fd = -1;
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->wake, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&r->idle, NULL);
	if (c->run_id)
		snprintf(r->run_id, sizeof(r->run_id), "%s", c->run_id);
	else
		report_new_run_id(r->run_id, sizeof(r->run_id));
	if (!c->hostname && gethostname(host, sizeof(host) - 1) < 0)
		host[0] = 0;
	if (!c->machine_id)
		read_machine_id(mid, sizeof(mid));
	r->origin_json = json_dup(c->origin ? c->origin : "reimage");
	r->hostname_json = json_dup(c->hostname ? c->hostname : host[0] ? host : NULL);
	r->machine_id_json = json_dup(c->machine_id ? c->machine_id : mid[0] ? mid : NULL);
	r->serial_json = json_dup(c->serial && *c->serial ? c->serial : NULL);
	oom = !r->origin_json || !r->hostname_json || !r->machine_id_json || !r->serial_json;
	r->url = dup_or_null(c->url, &oom);
	r->cacert = dup_or_null(c->tls.cacert, &oom);
	r->cacert_pem = dup_or_null(c->tls.cacert_pem, &oom);
	r->client_cert = dup_or_null(c->tls.client_cert, &oom);
	r->client_key = dup_or_null(c->tls.client_key, &oom);
	r->client_cert_pem = dup_or_null(c->tls.client_cert_pem, &oom);
	r->client_key_pem = dup_or_null(c->tls.client_key_pem, &oom);
	r->insecure = c->tls.insecure;
	if (c->n_headers) {
		r->headers = calloc(c->n_headers, sizeof(char *));
		oom = oom || !r->headers;
		for (size_t i = 0; r->headers && i < c->n_headers; i++, r->n_headers++)
			r->headers[i] = dup_or_null(c->headers[i], &oom);
	}
	if (oom) {
		report_free(r);
		return -ENOMEM;
	}
	if (c->events_file) {
		struct stat st;
		r->events_fd = open(c->events_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (r->events_fd >= 0 && fstat(r->events_fd, &st) == 0)
			r->events_size = (uint64_t)st.st_size;
	}
	if (r->url) {
		if (pthread_create(&r->thread, NULL, sender, r) != 0) {
			report_free(r);
			return -ENOMEM;
		}
		r->thread_started = true;
	}
	*ret = r;
	return 0;
}

const char *report_run_id(const struct report *r)
{
	return r->run_id;
}

void report_eventv(struct report *r, const char *event, const char *fields_fmt, va_list ap)
{
	char macs[2048], when[64], fields[REPORT_EVENT_MAX / 2] = "", ev[256];
	struct timespec ts;
	struct tm tm;
	struct report_ev e = { 0 };
	int n;

	if (!r)
		return;
	if (fields_fmt)
		vsnprintf(fields, sizeof(fields), fields_fmt, ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = (int)strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + n, sizeof(when) - (size_t)n, ".%03ldZ", ts.tv_nsec / 1000000);
	json_quote(event, ev, sizeof(ev));
	e.json = malloc(REPORT_EVENT_MAX);
	if (!e.json)
		return;
	pthread_mutex_lock(&r->lock);
	/* read now: in the flasher, links appear once their drivers are loaded */
	macs_json("/sys/class/net", macs, sizeof(macs));
	n = snprintf(e.json, REPORT_EVENT_MAX,
		     "{\"schema\":%d,\"run\":\"%s\",\"seq\":%llu,\"time\":\"%s\",\"origin\":%s,"
		     "\"event\":%s,\"machine\":{\"hostname\":%s,\"machine_id\":%s,\"macs\":%s,"
		     "\"serial\":%s}%s%s}",
		     REPORT_SCHEMA, r->run_id, (unsigned long long)++r->seq, when, r->origin_json, ev,
		     r->hostname_json, r->machine_id_json, macs, r->serial_json, fields[0] ? "," : "", fields);
	if (n < 0 || (size_t)n >= REPORT_EVENT_MAX) {
		/* a cut event is not JSON: say so in one that is */
		n = snprintf(e.json, REPORT_EVENT_MAX,
			     "{\"schema\":%d,\"run\":\"%s\",\"seq\":%llu,\"time\":\"%s\",\"origin\":%s,"
			     "\"event\":%s,\"truncated\":true}",
			     REPORT_SCHEMA, r->run_id, (unsigned long long)r->seq, when, r->origin_json,
			     ev);
	}
	e.len = (size_t)n;
	e.progress = !strcmp(event, "progress");
	r->stats.queued++;
	if (r->events_fd >= 0 && (!e.progress || r->events_size < REPORT_EVENTS_KEEP)) {
		e.json[e.len] = '\n';
		if (write(r->events_fd, e.json, e.len + 1) == (ssize_t)(e.len + 1))
			r->events_size += e.len + 1;
		e.json[e.len] = 0;
	}
	if (!r->thread_started) {
		pthread_mutex_unlock(&r->lock);
		free(e.json);
		return;
	}
	if (r->count == REPORT_QUEUE_MAX)
		drop_one(r);
	r->q[(r->head + r->count) % REPORT_QUEUE_MAX] = e;
	r->count++;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
}

void report_event(struct report *r, const char *event, const char *fields_fmt, ...)
{
	va_list ap;

	va_start(ap, fields_fmt);
	report_eventv(r, event, fields_fmt, ap);
	va_end(ap);
}

int report_flush(struct report *r, uint64_t timeout_ms)
{
	struct timespec ts;
	uint64_t ns;
	int k = 0;

	if (!r || !r->thread_started)
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	ns = (uint64_t)ts.tv_nsec + timeout_ms * 1000000ULL;
	ts.tv_sec += (time_t)(ns / 1000000000ULL);
	ts.tv_nsec = (long)(ns % 1000000000ULL);
	pthread_mutex_lock(&r->lock);
	while (r->count > 0 && k == 0)
		k = pthread_cond_timedwait(&r->idle, &r->lock, &ts);
	k = r->count > 0 ? -ETIMEDOUT : 0;
	pthread_mutex_unlock(&r->lock);
	return k;
}

void report_get_stats(struct report *r, struct report_stats *ret)
{
	pthread_mutex_lock(&r->lock);
	*ret = r->stats;
	pthread_mutex_unlock(&r->lock);
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void report_free(struct report *r)
{
	if (!r)
		return;
	if (r->thread_started) {
		pthread_mutex_lock(&r->lock);
		r->stop = true;
		pthread_cond_broadcast(&r->wake);
		pthread_mutex_unlock(&r->lock);
		pthread_join(r->thread, NULL);
	}
	for (size_t i = 0; i < r->count; i++)
		ev_free(&r->q[(r->head + i) % REPORT_QUEUE_MAX]);
	for (size_t i = 0; i < r->n_headers; i++)
		wipe_free(r->headers[i]);
	free(r->headers);
	free(r->origin_json);
	free(r->hostname_json);
	free(r->machine_id_json);
	free(r->serial_json);
	free(r->url);
	free(r->cacert);
	free(r->cacert_pem);
	free(r->client_cert);
	free(r->client_key);
	free(r->client_cert_pem);
	wipe_free(r->client_key_pem);
	safe_close(r->events_fd);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->wake);
	pthread_cond_destroy(&r->idle);
	free(r);
}
