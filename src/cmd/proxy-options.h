/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Proxies for the job: --proxy URL, or the environment of the command that makes the job
 * (http_proxy, https_proxy, all_proxy, no_proxy, as libcurl reads them), carried into the job so
 * that the flasher reaches the source the way this system's own checks did. */
#pragma once

#include <stddef.h>

#include "format/job.h"

/* Fill j's proxies from option (both schemes) or else from the environment; when option is
 * given, also point this process's own transfers at it. Registers user info as secrets. A
 * redacted one-line description goes into desc ("none" without a proxy). 0, or -EINVAL after
 * logging which variable or option was malformed. */
int proxy_options_to_job(const char *option, struct job *j, char *desc, size_t n);
