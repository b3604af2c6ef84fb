// SPDX-License-Identifier: GPL-2.0-or-later
/* Logging to stderr; every line passes through the secret filter before it is printed. */
#include "basic/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SECRETS 64

static int max_level = LOG_LEVEL_INFO;
static const char *log_prefix = "reimage";
static int kmsg_fd = -1;
static char *secrets[MAX_SECRETS];
static size_t n_secrets;
static pthread_mutex_t secrets_lock = PTHREAD_MUTEX_INITIALIZER;

void log_set_max_level(int level)
{
	max_level = level;
}

int log_get_max_level(void)
{
	return max_level;
}

void log_set_kmsg_fd(int fd)
{
	kmsg_fd = fd;
}

void log_set_prefix(const char *prefix)
{
	log_prefix = prefix;
}

int log_add_secret(const char *secret)
{
	int r = 0;

	if (!secret || strlen(secret) < 3)
		return 0;
	pthread_mutex_lock(&secrets_lock);
	for (size_t i = 0; i < n_secrets; i++)
		if (strcmp(secrets[i], secret) == 0)
			goto out;
	if (n_secrets >= MAX_SECRETS) {
		r = -ENOSPC;
		goto out;
	}
	secrets[n_secrets] = strdup(secret);
	if (!secrets[n_secrets])
		r = -ENOMEM;
	else
		n_secrets++;
out:
	pthread_mutex_unlock(&secrets_lock);
	return r;
}

void log_forget_secrets(void)
{
	pthread_mutex_lock(&secrets_lock);
	for (size_t i = 0; i < n_secrets; i++) {
		explicit_bzero(secrets[i], strlen(secrets[i]));
		free(secrets[i]);
		secrets[i] = NULL;
	}
	n_secrets = 0;
	pthread_mutex_unlock(&secrets_lock);
}

void log_redact(const char *msg, char *buf, size_t n)
{
	size_t o = 0;

	if (n == 0)
		return;
	pthread_mutex_lock(&secrets_lock);
	while (*msg && o + 1 < n) {
		size_t hit = 0;

		for (size_t i = 0; i < n_secrets; i++) {
			size_t l = strlen(secrets[i]);
			if (l > hit && strncmp(msg, secrets[i], l) == 0)
				hit = l;
		}
		if (hit) {
			for (const char *s = "***"; *s && o + 1 < n; s++)
				buf[o++] = *s;
			msg += hit;
		} else
			buf[o++] = *msg++;
	}
	buf[o] = 0;
	pthread_mutex_unlock(&secrets_lock);
}

int log_internal(int level, int error, const char *fmt, ...)
{
	char raw[2048], clean[2048];
	int saved = errno;
	va_list ap;

	if (level > max_level)
		return error < 0 ? error : -abs(error);
	if (error)
		errno = abs(error); /* so that %m in fmt names the error */
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	errno = saved;
	log_redact(raw, clean, sizeof(clean));
	fprintf(stderr, "%s: %s%s\n", log_prefix,
		level <= LOG_LEVEL_ERR	       ? "error: "
		: level == LOG_LEVEL_WARNING ? "warning: "
					     : "",
		clean);
	if (kmsg_fd >= 0) {
		/* one write() per record: /dev/kmsg takes each write as one message */
		char rec[2200];
		int n = snprintf(rec, sizeof(rec), "<7>%s: %s\n", log_prefix, clean);
		if (n > 0 && write(kmsg_fd, rec, MIN((size_t)n, sizeof(rec) - 1)) < 0)
			kmsg_fd = -1; /* e.g. rate-limited or gone: stop trying */
	}
	return error < 0 ? error : -abs(error);
}
