/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Logging to stderr with secret redaction; log_*_errno() return the negative errno given. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "basic/macro.h"

enum log_level {
	LOG_LEVEL_ERR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_NOTICE = 5,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

void log_set_max_level(int level);
int log_get_max_level(void);
void log_set_prefix(const char *prefix);
/* Also copy every line to this fd (the flasher's /dev/kmsg) at debug priority, so it is in the
 * kernel log without being printed twice on the console. -1 turns it off. */
void log_set_kmsg_fd(int fd);

/* Register a string that must never be printed; every log line replaces it by "***".
 * Strings shorter than 3 bytes are ignored (they would mangle ordinary text). Returns 0 or
 * -ENOMEM. */
int log_add_secret(const char *secret);
void log_forget_secrets(void);

/* Copy msg into buf (size n) with registered secrets and URL credentials replaced by "***". */
void log_redact(const char *msg, char *buf, size_t n);

int log_internal(int level, int error, const char *fmt, ...) _printf_(3, 4);

#define log_full_errno(level, error, ...) log_internal((level), (error), __VA_ARGS__)
#define log_error_errno(error, ...) log_internal(LOG_LEVEL_ERR, (error), __VA_ARGS__)
#define log_warning_errno(error, ...) log_internal(LOG_LEVEL_WARNING, (error), __VA_ARGS__)
#define log_debug_errno(error, ...) log_internal(LOG_LEVEL_DEBUG, (error), __VA_ARGS__)
#define log_error(...) (void)log_internal(LOG_LEVEL_ERR, 0, __VA_ARGS__)
#define log_warning(...) (void)log_internal(LOG_LEVEL_WARNING, 0, __VA_ARGS__)
#define log_notice(...) (void)log_internal(LOG_LEVEL_NOTICE, 0, __VA_ARGS__)
#define log_info(...) (void)log_internal(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_debug(...) (void)log_internal(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
