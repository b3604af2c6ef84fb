// SPDX-License-Identifier: GPL-2.0-or-later
/* Proxies carried from the environment (or --proxy) into the job (the flasher exports them
 * again for libcurl: src/init/worker.c). */
#include "cmd/proxy-options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/log.h"
#include "format/url.h"

/* The first of the variables that is set and not empty. */
static const char *env_first(const char *const *names, const char **ret_name)
{
	for (; *names; names++) {
		const char *v = getenv(*names);
		if (v && *v) {
			*ret_name = *names;
			return v;
		}
	}
	return NULL;
}

static int take(char **dst, const char *v, const char *origin)
{
	const char *why = NULL;

	if (!v)
		return 0;
	if (job_proxy_check(v, &why) < 0) {
		char shown[512];
		url_redact(v, shown, sizeof(shown));
		log_error("%s is not a usable proxy (%s): %s", origin, shown, why);
		return -EINVAL;
	}
	(void)url_foreach_secret(v, log_add_secret);
	*dst = strdup(v);
	return *dst ? 0 : -ENOMEM;
}

int proxy_options_to_job(const char *option, struct job *j, char *desc, size_t n)
{
	/* libcurl ignores HTTP_PROXY in capitals (a CGI program's environment could set it) */
	static const char *const http_names[] = { "http_proxy", "all_proxy", "ALL_PROXY", NULL };
	static const char *const https_names[] = { "https_proxy", "HTTPS_PROXY", "all_proxy",
						   "ALL_PROXY", NULL };
	static const char *const no_names[] = { "no_proxy", "NO_PROXY", NULL };
	const char *hn = "--proxy", *hsn = "--proxy", *nn = NULL;
	const char *http = option, *https = option, *no;
	char a[512], b[512];
	int r;

	if (!option) {
		http = env_first(http_names, &hn);
		https = env_first(https_names, &hsn);
	}
	no = env_first(no_names, &nn);
	r = take(&j->http_proxy, http, hn);
	if (r >= 0)
		r = take(&j->https_proxy, https, hsn);
	if (r >= 0 && no)
		r = (j->no_proxy = strdup(no)) ? 0 : -ENOMEM;
	if (r < 0)
		return r;
	if (option) {
		/* our own checks (source, checksum list, signature) go the same way */
		setenv("http_proxy", option, 1);
		setenv("https_proxy", option, 1);
	}
	if (!http && !https) {
		snprintf(desc, n, "none%s%s", no ? " (no_proxy is set: " : "", no ? no : "");
		if (no)
			strncat(desc, ")", n - strlen(desc) - 1);
		return 0;
	}
	url_redact(http ? http : "", a, sizeof(a));
	url_redact(https ? https : "", b, sizeof(b));
	if (http && https && !strcmp(http, https))
		snprintf(desc, n, "%s (from %s)%s%s", a, option ? "--proxy" : hn,
			 no ? "; not for " : "", no ? no : "");
	else
		snprintf(desc, n, "http: %s%s%s, https: %s%s%s%s%s", http ? a : "direct",
			 http ? " from " : "", http ? hn : "", https ? b : "direct",
			 https ? " from " : "", https ? hsn : "", no ? "; not for " : "",
			 no ? no : "");
	return 0;
}
